/*
 * notify.h - telling approvers a statement awaits their signature.
 *
 * "notify: webhook URL" lines in HOME/config (one per hook): when
 * 'approve --statement' issues a new statement, each URL gets a JSON POST
 * (Slack-compatible: a "text" field, plus a "breakglass" object with the
 * ticket, project, kind, requester, the statement's SHA-256 and its
 * valid-until).  "notify: mail ADDRESS" lines: the same text as a mail
 * handed to the local /usr/sbin/sendmail (argv, message on stdin; subject
 * "breakglass: T-N KIND statement awaits your signature").  Never the
 * statement's text and never a secret.
 */
#ifndef BG_NOTIFY_H
#define BG_NOTIFY_H

#include "approval.h"
#include "home.h"

/*
 * Send the notification for statement s of ticket tid to every configured
 * webhook.  0 when every hook answered 2xx (or none is configured); else
 * the first error, with the failing URL in e (the statement stands).
 */
int notify_statement(const home *h, const statement *s, bg_error *e);

#endif
