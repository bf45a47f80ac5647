/* test-audit.c - the hash chain, the signed head and checkpoints. */
#include "unit.h"
#include "audit.h"
#include "fileio.h"
#include "sshkey.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct fx {
	char dir[64];
	sshkey_priv key;
	audit_log log;
} fx;

static int
setup(void **state)
{
	fx *f = calloc(1, sizeof(*f));
	bg_error e;

	if (sodium_init() < 0 || f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/bg-unit-audit.XXXXXX");
	if (mkdtemp(f->dir) == NULL || sshkey_priv_generate(&f->key) != 0 ||
	    audit_create(f->dir, &f->key, &e) != 0 ||
	    audit_open(&f->log, f->dir, &f->key, f->key.pk, &e) != 0)
		return -1;
	f->log.checkpoint_every = 4;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fx *f = *state;
	char p[128];

	snprintf(p, sizeof(p), "%s/audit.log", f->dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/audit.head", f->dir);
	unlink(p);
	rmdir(f->dir);
	audit_close(&f->log);
	sshkey_priv_release(&f->key);
	free(f);
	return 0;
}

static void
fill(fx *f, int n)
{
	bg_error e;

	for (int i = 0; i < n; i++)
		assert_int_equal(audit_append(&f->log, 1800000000 + i, "alice \"the\" admin",
		    "ticket.comment", 1, "{\"n\":1}", &e), 0);
}

static void
rewrite(fx *f, const char *from, const char *to)
{
	buf b, nb;
	bg_error e;
	char *p;

	buf_init(&b, 0);
	buf_init(&nb, 0);
	assert_int_equal(fileio_read(f->log.path, 1 << 20, &b, &e), 0);
	p = strstr(b.data, from);
	assert_non_null(p);
	buf_append(&nb, b.data, (size_t)(p - b.data));
	buf_puts(&nb, to);
	buf_puts(&nb, p + strlen(from));
	assert_int_equal(fileio_write_atomic(f->log.path, nb.data, nb.len, 0640, 0, &e), 0);
	buf_release(&b);
	buf_release(&nb);
}

static void
intact_log_verifies(void **state)
{
	fx *f = *state;
	audit_report rep;
	bg_error e;

	fill(f, 9);
	assert_int_equal(audit_verify(&f->log, &rep, &e), 0);
	assert_int_equal(rep.records, 9 + 2); /* two periodic checkpoints */
	assert_int_equal(rep.checkpoints, 2);
}

static void
modified_record_named(void **state)
{
	fx *f = *state;
	audit_report rep;
	bg_error e;

	fill(f, 3);
	rewrite(f, "{\"seq\":2,\"time\":\"2027-01-15T08:00:01Z\"", "{\"seq\":2,\"time\":\"2027-01-15T08:00:09Z\"");
	assert_int_equal(audit_verify(&f->log, &rep, &e), BG_ERR_TAMPER);
	assert_int_equal(rep.bad_seq, 2);
	assert_non_null(strstr(e.msg, "record 2"));
	/* appending to a tampered log is refused too */
	assert_int_equal(audit_append(&f->log, 1800000100, "x", "ticket.comment", 1, NULL, &e), 0);
	assert_int_equal(audit_verify(&f->log, &rep, &e), BG_ERR_TAMPER);
}

static void
truncation_detected(void **state)
{
	fx *f = *state;
	audit_report rep;
	bg_error e;
	buf b;
	char *last;

	fill(f, 3);
	buf_init(&b, 0);
	assert_int_equal(fileio_read(f->log.path, 1 << 20, &b, &e), 0);
	b.data[b.len - 1] = '\0';
	last = strrchr(b.data, '\n');
	assert_int_equal(fileio_write_atomic(f->log.path, b.data, (size_t)(last - b.data) + 1,
	    0640, 0, &e), 0);
	assert_int_equal(audit_verify(&f->log, &rep, &e), BG_ERR_TAMPER);
	assert_non_null(strstr(e.msg, "truncated"));
	assert_int_equal(rep.bad_seq, 3);
	/* an append now refuses: the log does not end at its signed head */
	assert_int_equal(audit_append(&f->log, 1800000100, "x", "ticket.comment", 1, NULL, &e),
	    BG_ERR_TAMPER);
	buf_release(&b);
}

/* a batch: every record (and the periodic checkpoints among them) under
 * one head; the head keeps its length and its inode (rewritten in place) */
static void
batch_appends_under_one_head(void **state)
{
	fx *f = *state;
	audit_rec r[6];
	audit_report rep;
	struct stat a, b;
	bg_error e;

	fill(f, 1);
	assert_int_equal(stat(f->log.headpath, &a), 0);
	for (int i = 0; i < 6; i++) {
		r[i].now = 1800000010 + i;
		r[i].actor = "hostd";
		r[i].event = "gate.sql";
		r[i].ticket = 2;
		r[i].detail_json = "{\"sql\":\"SELECT 1\"}";
	}
	assert_int_equal(audit_append_many(&f->log, r, 6, &e), 0);
	assert_int_equal(audit_verify(&f->log, &rep, &e), 0);
	/* checkpoints (every 4) after records 4 and 8: 1 + 6 + 2 */
	assert_int_equal(rep.records, 9);
	assert_int_equal(rep.checkpoints, 2);
	assert_int_equal(stat(f->log.headpath, &b), 0);
	assert_int_equal(a.st_ino, b.st_ino);
	assert_int_equal(a.st_size, b.st_size);
	/* a bad event name refuses the whole batch: nothing appended */
	r[3].event = "Bad Event";
	assert_int_equal(audit_append_many(&f->log, r, 6, &e), BG_ERR_USAGE);
	assert_int_equal(audit_verify(&f->log, &rep, &e), 0);
	assert_int_equal(rep.records, 9);
}

/* a head an older version wrote (SEQ not padded) is read, and replaced by
 * a padded one at the next append */
static void
unpadded_head_still_read(void **state)
{
	fx *f = *state;
	audit_report rep;
	bg_error e;
	buf h;
	char *p;

	fill(f, 2);
	buf_init(&h, 0);
	assert_int_equal(fileio_read(f->log.headpath, 4096, &h, &e), 0);
	p = strstr(h.data, " 00000000000000000002 ");
	assert_non_null(p);
	memmove(p + 1, p + 20, strlen(p + 20) + 1); /* " 2 HASH SIG" */
	assert_int_equal(fileio_write_atomic(f->log.headpath, h.data, strlen(h.data), 0640, 0, &e), 0);
	assert_int_equal(audit_verify(&f->log, &rep, &e), 0);
	fill(f, 1);
	assert_int_equal(audit_verify(&f->log, &rep, &e), 0);
	buf_reset(&h);
	assert_int_equal(fileio_read(f->log.headpath, 4096, &h, &e), 0);
	assert_non_null(strstr(h.data, " 00000000000000000003 "));
	buf_release(&h);
}

static void
forged_head_refused(void **state)
{
	fx *f = *state;
	audit_report rep;
	bg_error e;
	sshkey_priv other;
	audit_log forged;

	fill(f, 2);
	/* a head signed by another key does not verify */
	assert_int_equal(sshkey_priv_generate(&other), 0);
	assert_int_equal(audit_open(&forged, f->dir, &other, other.pk, &e), 0);
	assert_int_equal(audit_verify(&forged, &rep, &e), BG_ERR_TAMPER);
	assert_non_null(strstr(e.msg, "signature"));
	audit_close(&forged);
	sshkey_priv_release(&other);
	assert_int_equal(audit_verify(&f->log, &rep, &e), 0);
	/* a handle that appended (and so knows the head it wrote) still checks
	 * a head whose bytes changed: one character of the signature */
	{
		audit_rec r = { 1800000040, "hostd", "gate.end", 3, "{}" };
		buf h;
		char *sig;
		int fd;

		buf_init(&h, 1024);
		assert_int_equal(fileio_read(f->log.headpath, 1000, &h, &e), 0);
		assert_non_null(sig = strrchr(h.data, ' '));
		sig[1] = sig[1] == 'A' ? 'B' : 'A';
		assert_true((fd = open(f->log.headpath, O_WRONLY)) >= 0);
		assert_int_equal(pwrite(fd, h.data, h.len, 0), (ssize_t)h.len);
		close(fd);
		assert_int_equal(audit_append_many(&f->log, &r, 1, &e), BG_ERR_TAMPER);
		assert_non_null(strstr(e.msg, "signature"));
		buf_release(&h);
	}
}

/* AUDIT_NOSYNC: the records and the head are written at once (verify sees
 * them), audit_sync makes them durable; appends after it go on as usual */
static void
unsynced_append_visible_then_synced(void **state)
{
	fx *f = *state;
	audit_rec r = { 1800000020, "hostd", "gate.end", 3, "{\"status\":0}" };
	audit_report rep;
	bg_error e;

	fill(f, 1);
	assert_int_equal(audit_append_many_ex(&f->log, &r, 1, AUDIT_NOSYNC, &e), 0);
	assert_int_equal(audit_verify(&f->log, &rep, &e), 0);
	assert_int_equal(rep.records, 2);
	assert_int_equal(audit_sync(&f->log, &e), 0);
	assert_int_equal(audit_verify(&f->log, &rep, &e), 0);
	fill(f, 1);
	assert_int_equal(audit_append_many_ex(&f->log, &r, 1, AUDIT_NOSYNC, &e), 0);
	fill(f, 1);
	assert_int_equal(audit_verify(&f->log, &rep, &e), 0);
	assert_int_equal(rep.records, 6); /* 5 and a checkpoint after the 4th */
	/* a read-only handle cannot sync (it cannot lock for writing) */
	{
		audit_log ro;

		assert_int_equal(audit_open(&ro, f->dir, NULL, f->key.pk, &e), 0);
		assert_int_not_equal(audit_sync(&ro, &e), 0);
		audit_close(&ro);
	}
}

/* audit_sync_start/audit_sync_wait: the flush made by a child while this
 * process goes on; the wait says whether it succeeded, and a log whose
 * head is gone (nothing to flush, nothing to trust) fails at the wait */
static void
sync_in_two_halves(void **state)
{
	fx *f = *state;
	audit_rec r = { 1800000030, "hostd", "gate.start", 3, "{\"decision\":\"allow\"}" };
	audit_syncing ss;
	audit_report rep;
	bg_error e;
	char head[4200], gone[4210];

	fill(f, 1);
	assert_int_equal(audit_append_many_ex(&f->log, &r, 1, AUDIT_NOSYNC, &e), 0);
	assert_int_equal(audit_sync_start(&f->log, &ss, -1, 0), 0);
	assert_true(ss.pid > 0); /* a child flushes */
	fill(f, 1);              /* this process appends meanwhile */
	assert_int_equal(audit_sync_wait(&f->log, &ss, &e), 0);
	assert_int_equal(audit_verify(&f->log, &rep, &e), 0);
	assert_int_equal(rep.records, 3);
	/* waiting twice, or for nothing started, is a no-op */
	assert_int_equal(audit_sync_wait(&f->log, &ss, &e), 0);
	/* the head gone: the start cannot open it, the wait syncs in full and fails */
	assert_int_equal(audit_append_many_ex(&f->log, &r, 1, AUDIT_NOSYNC, &e), 0);
	snprintf(head, sizeof(head), "%s", f->log.headpath);
	snprintf(gone, sizeof(gone), "%s.gone", head);
	assert_int_equal(rename(head, gone), 0);
	assert_int_equal(audit_sync_start(&f->log, &ss, -1, 0), 0);
	assert_int_equal(ss.pid, 0);
	assert_int_not_equal(audit_sync_wait(&f->log, &ss, &e), 0);
	assert_int_equal(rename(gone, head), 0);
}

/* the notify byte: written by the flush once it succeeded, before this
 * process waits; not written when the flush failed; a reader that is
 * gone does not make a durable record a failure */
static void
sync_notifies(void **state)
{
	fx *f = *state;
	audit_rec r = { 1800000040, "hostd", "gate.start", 3, "{\"decision\":\"allow\"}" };
	audit_syncing ss;
	bg_error e;
	char head[4200], gone[4210], b = 0;
	int p[2];

	fill(f, 1);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(audit_append_many_ex(&f->log, &r, 1, AUDIT_NOSYNC, &e), 0);
	assert_int_equal(audit_sync_start(&f->log, &ss, p[1], 'R'), 0);
	assert_true(ss.pid > 0);
	/* the byte arrives without this process reaping the child */
	assert_int_equal(read(p[0], &b, 1), 1);
	assert_int_equal(b, 'R');
	assert_int_equal(audit_sync_wait(&f->log, &ss, &e), 0);
	assert_true(ss.notified);
	/* a flush that fails writes nothing */
	assert_int_equal(audit_append_many_ex(&f->log, &r, 1, AUDIT_NOSYNC, &e), 0);
	snprintf(head, sizeof(head), "%s", f->log.headpath);
	snprintf(gone, sizeof(gone), "%s.gone", head);
	assert_int_equal(rename(head, gone), 0);
	assert_int_equal(audit_sync_start(&f->log, &ss, p[1], 'R'), 0);
	assert_int_not_equal(audit_sync_wait(&f->log, &ss, &e), 0);
	assert_false(ss.notified);
	assert_int_equal(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(read(p[0], &b, 1), -1);
	assert_int_equal(rename(gone, head), 0);
	/* nobody reads: durable all the same, not notified */
	close(p[0]);
	signal(SIGPIPE, SIG_DFL); /* the child blocks it: EPIPE, not death */
	assert_int_equal(audit_append_many_ex(&f->log, &r, 1, AUDIT_NOSYNC, &e), 0);
	assert_int_equal(audit_sync_start(&f->log, &ss, p[1], 'R'), 0);
	assert_true(ss.pid > 0);
	assert_int_equal(audit_sync_wait(&f->log, &ss, &e), 0);
	assert_false(ss.notified);
	close(p[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(intact_log_verifies, setup, teardown),
		cmocka_unit_test_setup_teardown(modified_record_named, setup, teardown),
		cmocka_unit_test_setup_teardown(truncation_detected, setup, teardown),
		cmocka_unit_test_setup_teardown(forged_head_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(batch_appends_under_one_head, setup, teardown),
		cmocka_unit_test_setup_teardown(unpadded_head_still_read, setup, teardown),
		cmocka_unit_test_setup_teardown(unsynced_append_visible_then_synced, setup, teardown),
		cmocka_unit_test_setup_teardown(sync_in_two_halves, setup, teardown),
		cmocka_unit_test_setup_teardown(sync_notifies, setup, teardown),
	};

	return cmocka_run_group_tests_name("audit", tests, NULL, NULL);
}
