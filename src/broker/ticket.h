/*
 * ticket.h - emergency tickets: the intake form and its storage.
 *
 * The intake is a kv document (see kv.h) with the fields of the support
 * guide.  It is validated strictly (enums, emails, URLs, UTC times, sizes)
 * and every free-text field is passed through the secret detector before
 * anything is stored.  The stored form is canonical (schema order) and is
 * hashed; approvals of the confirmation sign that hash.
 */
#ifndef BG_TICKET_H
#define BG_TICKET_H

#include "buf.h"
#include "err.h"
#include "home.h"
#include "kv.h"

#include <stdint.h>

extern const kv_key ticket_schema[];

typedef struct ticket {
	int64_t id;
	char *project;
	char *requester;
	char *summary;
	char *status;     /* open, closed, withdrawn */
	int64_t created;
	int64_t closed;
	char *close_note;
	char *intake;     /* canonical text */
	char intake_hash[65];
	kv_doc fields;
} ticket;

/* Print the commented intake template. */
int ticket_template(buf *out);

/*
 * Validate d (strict types, secrets).  Sets e to every problem, one
 * "line N: field 'x': ..." a line (a secret: that alone) on failure.
 */
int ticket_validate(const kv_doc *d, bg_error *e);

/*
 * Write what people type in its one form, where that is unambiguous:
 * times with a zone or offset in UTC ("2026-12-02 00:58 +01:00" ->
 * "2026-12-01T23:58:00Z"), known deploy and rollback methods by their
 * names ("GitHub Actions" -> "github-actions"); other methods are free
 * text and stay as typed.  0 or BG_ERR_NOMEM.
 */
int ticket_normalise(kv_doc *d);

/* The known rollback method v names ("Redeploy previous"), or NULL. */
const char *ticket_rollback_method(const char *v);

/* Canonical text of d, in schema order. */
int ticket_canonical(const kv_doc *d, buf *out);

/* Parse, normalise and validate intake text: every problem at once. */
int ticket_parse(const char *text, size_t len, kv_doc *out, bg_error *e);

/*
 * Store a new ticket (inside its own state change); *id set on success.
 * An intake identical to an open ticket's is refused (BG_ERR_EXISTS,
 * naming it) unless duplicate is set.
 */
int ticket_open(home *h, const kv_doc *d, int duplicate, int64_t *id, bg_error *e);

int ticket_load(home *h, int64_t id, ticket **out, bg_error *e);
void ticket_free(ticket *t);

/* "T-12" or "12" -> 12. */
int ticket_parse_id(const char *s, int64_t *id);

/* Change one intake field (re-validated, audited). */
int ticket_set(home *h, int64_t id, const char *key, const char *value, bg_error *e);

/* Add a comment (scanned for secrets, audited). */
int ticket_comment(home *h, int64_t id, const char *body, bg_error *e);

/* Refuse unless the ticket is open. */
int ticket_require_open(const ticket *t, bg_error *e);

/*
 * Inside a state change on ticket t: refuse (BG_ERR_PERM, naming what)
 * unless the acting user is a party to it - its requester, a responder,
 * an operator, an admin or an approver of its project.  A user known to
 * the broker for another project's sake touches nothing here.
 */
int ticket_require_party(home *h, const ticket *t, const char *what, bg_error *e);

/*
 * Inside a state change: ticket id loaded (ticket_load), open
 * (ticket_require_open) and the acting user a party to it
 * (ticket_require_party with what).  *out, the caller's to free, is set
 * only on success; on failure it is NULL and the error is the first
 * check's.
 */
int ticket_load_for_change(home *h, int64_t id, const char *what, ticket **out, bg_error *e);

/* Names of the intake fields the confirmation statement needs. */
extern const char *const ticket_confirm_fields[];

#endif
