/*
 * users.h - who uses a broker: users, their SSH keys and roles, and the
 * identity a command acts under.
 *
 * A user has an email (how intake's requester and approver-email lines
 * name them), a name and one or more SSH keys; a key belongs to one user
 * only.  Roles: admin (adds projects, users and approvers), responder
 * (opens tickets, requests grants, submits plans), operator (runs
 * client-executed runbooks); approver is a user's role in one project
 * (the approvers table, approval.h).
 *
 * Identity: on the broker host root and the home's owner act as a local
 * admin under their login name; remotely, the key that logged in over ssh
 * (the forced command `serve --as EMAIL --key FP` in the service account's
 * authorized_keys, which users_write_authorized_keys keeps in step with
 * the users).  Every audit record names the user and that key.
 */
#ifndef BG_USERS_H
#define BG_USERS_H

#include "buf.h"
#include "err.h"
#include "home.h"
#include "sshkey.h"

#include <stdint.h>

#define USERS_ROLE_ADMIN 1u
#define USERS_ROLE_RESPONDER 2u
#define USERS_ROLE_OPERATOR 4u
#define USERS_MAX_KEYS 16

/* "admin", "responder" or "operator" into *bit; BG_ERR_INVALID otherwise. */
int users_role_parse(const char *s, unsigned *bit);

/* Act as a local admin named h->actor (root or the home's owner). */
void users_act_local(home *h);
/*
 * Act as the user with email who (or name, for the test builds' hook)
 * authenticated with the key whose fingerprint is fp; fp NULL (test
 * builds only) takes the user's first key.  A user removed, or a key no
 * longer the user's, is refused: the authorized_keys line is stale.
 */
int users_act_as(home *h, const char *who, const char *fp, bg_error *e);
/* 1 if who names a current user (email or name). */
int users_exists(home *h, const char *who);
/*
 * 0 if the actor holds one of roles (an admin holds every role), else
 * BG_ERR_PERM saying what: "only an admin may WHAT".
 */
int users_require(home *h, unsigned roles, const char *what, bg_error *e);

/*
 * Inside a state change: the user with email (made, with name, when there
 * is none: an admin's approver add registers its user) holding key k (the
 * key registered to them when no one holds it; refused when it is
 * another user's).  *uid gets the user's id.
 */
int users_hold_key(home *h, const char *email, const char *name, const sshkey_pub *k,
    int64_t *uid, bg_error *e);
/*
 * *yes = 1 when the key with fingerprint fp belongs to the user whose
 * email is requester (under whatever principal it is registered elsewhere).
 */
int users_key_is_requesters(home *h, const char *requester, const char *fp, int *yes,
    bg_error *e);

/* A whole change each (admin only): add a user with keys (public key
 * lines) and roles; give or take a role; add a key; remove a user. */
int users_add(home *h, const char *email, const char *name, const char *const *keys,
    size_t nkeys, unsigned roles, bg_error *e);
int users_key_add(home *h, const char *email, const char *keyline, bg_error *e);
int users_role_set(home *h, const char *email, unsigned role, int on, bg_error *e);
int users_remove(home *h, const char *email, bg_error *e);
/* Append the keys of current users holding role to out, as allowed_signers
 * lines ("EMAIL KEY"). */
int users_role_signers(home *h, unsigned role, buf *out, bg_error *e);
/* The users, one a line (or a JSON array). */
int users_list(home *h, int as_json, buf *out, bg_error *e);

/*
 * Remote use: remember where the service account's authorized_keys is and
 * the command sshd runs (the absolute path of breakglass), then write it
 * (admin only; a whole change).
 */
int users_setup_remote(home *h, const char *authorized_keys, const char *command,
    bg_error *e);
/*
 * Inside a state change: rewrite the authorized_keys file from the users
 * (one restricted forced-command line per key), when remote use is set up.
 */
int users_write_authorized_keys(home *h, bg_error *e);

#endif
