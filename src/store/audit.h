/*
 * audit.h - the append-only, hash-chained, signed audit log.
 *
 * The log is a file of JSON lines.  Every record starts with a fixed
 * prefix so it can be checked without a general JSON parser:
 *
 *   {"seq":N,"time":"T","prev":"H","ticket":N|null,"event":"E",
 *    "actor":"A","detail":{...},"hash":"H"}
 *
 * hash = SHA-256 of the record's bytes up to (not including) ',"hash":'.
 * prev is the previous record's hash (64 zeros for the first).  A signed
 * head file (audit.head) names the last record's seq and hash and carries
 * an ed25519 signature by the broker key; it is rewritten after every
 * append (in place: it keeps its length, see audit.c), so truncating or
 * rewriting the log is detected even at the tail.  Every `checkpoint_every` records, and whenever a caller asks, a
 * "checkpoint" record carrying a signature over the previous record's seq
 * and hash is appended into the chain itself.
 *
 * Appends are serialised with flock(), written in full and made durable
 * with the new head (one device flush, see audit.c) before audit_append
 * returns; audit_append_many makes several records durable with the same
 * one flush; an append refuses (BG_ERR_TAMPER) when the log
 * does not end where the signed head says it does.
 */
#ifndef BG_AUDIT_H
#define BG_AUDIT_H

#include "buf.h"
#include "err.h"
#include "sshkey.h"

#include <stdint.h>

#define AUDIT_MAX_RECORD (64u * 1024)

typedef struct audit_log {
	char *path;      /* .../audit.log */
	char *headpath;  /* .../audit.head */
	const sshkey_priv *key; /* signing key; NULL: read-only */
	unsigned char pk[32];
	unsigned checkpoint_every;
	/* a digest of the head text this handle last wrote or verified: an
	 * append that finds the same bytes skips their signature check */
	unsigned char head_known[32];
	int head_known_set;
} audit_log;

/* Create an empty log and its genesis head in dir (refuses to overwrite). */
int audit_create(const char *dir, const sshkey_priv *key, bg_error *e);

/* Set up a handle (no I/O).  key may be NULL for verification only. */
int audit_open(audit_log *a, const char *dir, const sshkey_priv *key,
    const unsigned char pk[32], bg_error *e);
void audit_close(audit_log *a);

/*
 * Append one record.  event: [a-z.-]+; ticket 0 for none; detail_json: a
 * JSON object (NULL for {}).  Returns after the record and the new signed
 * head are on disk.
 */
int audit_append(audit_log *a, int64_t now, const char *actor, const char *event,
    int64_t ticket, const char *detail_json, bg_error *e);

/* One record of audit_append_many (the arguments of audit_append). */
typedef struct audit_rec {
	int64_t now;
	const char *actor;
	const char *event;
	int64_t ticket;
	const char *detail_json;
} audit_rec;

#define AUDIT_MAX_BATCH 1024u

/*
 * Append n records (at most AUDIT_MAX_BATCH) in order, all or none:
 * returns after all of them and the new signed head are on disk (one
 * flush for the whole batch); on failure none is in the log.
 */
int audit_append_many(audit_log *a, const audit_rec *recs, size_t n, bg_error *e);

/*
 * audit_append_many with flags: AUDIT_NOSYNC returns once the records and
 * the new head are written (every reader sees them, the chain verifies)
 * but before they are durable; audit_sync (or any later durable append)
 * makes them durable.  For a record whose writer must answer first
 * (hostd: a request's status before its end record's flush).
 */
#define AUDIT_NOSYNC 1
int audit_append_many_ex(audit_log *a, const audit_rec *recs, size_t n, int flags,
    bg_error *e);
int audit_sync(audit_log *a, bg_error *e);

/*
 * audit_sync in two halves, for a writer with other work to do while the
 * device flushes: audit_sync_start hands audit_sync's flush (the head's
 * block to the device, the log's fdatasync) to a child that shares this
 * process's memory (clone with CLONE_VM: ~30 us, no page tables copied)
 * and returns at once; audit_sync_wait reaps it: 0 only when everything
 * written before audit_sync_start is durable.  When no child can be
 * made, audit_sync_wait is audit_sync; a child that failed (or was lost)
 * is a failure, not tried again: a write error its fdatasync saw may not
 * be reported to a descriptor opened after it.  Every started sync must be waited
 * for (the child runs on ss's stack).  (Linux AIO's IOCB_CMD_FDSYNC was
 * tried first: a process holding an AIO context takes 30-50 ms to exit
 * or io_destroy, an RCU grace period.)  hostd: a program's start record
 * is flushed while its process is made.
 *
 * notify (-1: none) is a descriptor the child writes byte to the moment
 * the flush has succeeded, before it exits: a process waiting on it for
 * "durable" starts then, not after this process has reaped the child.
 * The child writes nothing when the flush failed or this process has
 * died (it dies with it); audit_sync_wait writes the byte itself when it
 * made the flush.  ss->notified says whether the byte was written.
 */
typedef struct audit_syncing {
	int fd, hfd;            /* the log and its head, read-only; -1: none */
	int notify;             /* see above; -1: none */
	unsigned char byte;
	int notified;
	int ppid;               /* this process, as the child checks */
	int pid;                /* the child; 0: audit_sync in audit_sync_wait */
	int started;
	_Alignas(16) unsigned char stack[16384];
} audit_syncing;
int audit_sync_start(audit_log *a, audit_syncing *ss, int notify, unsigned char byte);
int audit_sync_wait(audit_log *a, audit_syncing *ss, bg_error *e);

/* Time of the last record (0 for an empty log); the tail is checked. */
int audit_last_time(const audit_log *a, int64_t *t, bg_error *e);

/* Append a signed checkpoint record now. */
int audit_checkpoint(audit_log *a, int64_t now, const char *actor, int64_t ticket,
    bg_error *e);

typedef struct audit_report {
	uint64_t records;
	uint64_t checkpoints;
	uint64_t bad_seq;   /* first bad record (0: none / the head) */
	size_t bad_line;
} audit_report;

/*
 * Verify the whole log against pk.  0 when intact; BG_ERR_TAMPER with e
 * naming the first bad record ("record 12 (line 12): hash mismatch")
 * otherwise.
 */
int audit_verify(const audit_log *a, audit_report *rep, bg_error *e);

/*
 * Append the records (verified first) as a JSON array to out; ticket 0
 * exports all, otherwise only that ticket's records.
 */
int audit_export(const audit_log *a, int64_t ticket, buf *out, bg_error *e);

/*
 * A host log's key: DIR/host.key (root and the gate group only).  Its
 * public half verifies the log; the private half appends to it.
 */
int audit_host_key(const char *dir, sshkey_priv *k, bg_error *e);

/* Iterate over verified records of one ticket (for reports). */
typedef int (*audit_visit_fn)(void *ctx, uint64_t seq, const char *time,
    const char *event, const char *line, size_t len);
int audit_each(const audit_log *a, int64_t ticket, audit_visit_fn fn, void *ctx,
    bg_error *e);

#endif
