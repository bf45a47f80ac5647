/*
 * bench-audit.c - what the audit log costs, as ratios against baselines
 * measured side by side in the same run:
 *
 *   append:  audit_append (hash, chain check, write, fsync, signed head
 *            written atomically) vs. the baseline of write+fsync of a line
 *            of the same size to a plain file;
 *   verify:  audit_verify over the whole log (every state change runs it)
 *            vs. the baseline of reading the file and SHA-256 over it.
 *
 * usage: bench-audit [RECORDS]   (default 3000)
 */
#include "audit.h"
#include "bench.h"
#include "fileio.h"
#include "sshkey.h"

#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double
median(double *v, int n)
{
	bench_sort(v, n);
	return v[n / 2];
}

int
main(int argc, char **argv)
{
	int n = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 3000, i, fd;
	char dir[] = "/tmp/bg-bench.XXXXXX", path[256], base[256];
	sshkey_priv key;
	audit_log log;
	bg_error e;
	double *ta, *tb, va[7], vb[7];
	const char *detail = "{\"grant\":12,\"kind\":\"ssh\",\"writes\":true,\"spec_sha256\":"
	    "\"1ad73925b73c5ca39c9ecc60a74982e8e1944e0c0a7a2af9b8d66d005b879105\"}";
	char line[512];
	size_t linelen;

	if (sodium_init() < 0 || n < 10 || mkdtemp(dir) == NULL || sshkey_priv_generate(&key) != 0)
		return 1;
	if (audit_create(dir, &key, &e) != 0 || audit_open(&log, dir, &key, key.pk, &e) != 0) {
		fprintf(stderr, "bench: %s\n", e.msg);
		return 1;
	}
	ta = calloc((size_t)n, sizeof(*ta));
	tb = calloc((size_t)n, sizeof(*tb));
	snprintf(base, sizeof(base), "%s/baseline.log", dir);
	fd = open(base, O_WRONLY | O_CREAT | O_APPEND, 0600);
	linelen = (size_t)snprintf(line, sizeof(line), "{\"seq\":1,\"time\":\"2026-11-21T06:00:00Z\","
	    "\"prev\":\"%064d\",\"ticket\":1,\"event\":\"grant.request\",\"actor\":\"dev@agency.example\","
	    "\"detail\":%s,\"hash\":\"%064d\"}\n", 0, detail, 0);
	for (i = 0; i < n; i++) {
		/* interleave candidate and baseline so drift hits both alike */
		double t0 = utc_mono();

		if (audit_append(&log, 1800000000 + i, "dev@agency.example", "grant.request", 1,
		    detail, &e) != 0) {
			fprintf(stderr, "bench: %s\n", e.msg);
			return 1;
		}
		ta[i] = utc_mono() - t0;
		t0 = utc_mono();
		if (fileio_write_full(fd, line, linelen) != 0 || fsync(fd) != 0)
			return 1;
		tb[i] = utc_mono() - t0;
	}
	close(fd);
	for (i = 0; i < 7; i++) {
		audit_report rep;
		buf b;
		unsigned char h[32];
		double t0 = utc_mono();

		if (audit_verify(&log, &rep, &e) != 0) {
			fprintf(stderr, "bench: %s\n", e.msg);
			return 1;
		}
		va[i] = utc_mono() - t0;
		t0 = utc_mono();
		buf_init(&b, 1u << 30);
		if (fileio_read(log.path, b.max, &b, &e) != 0)
			return 1;
		crypto_hash_sha256(h, (unsigned char *)b.data, b.len);
		buf_release(&b);
		vb[i] = utc_mono() - t0;
	}
	{
		double a = median(ta, n), bb = median(tb, n), v = median(va, 7), vbm = median(vb, 7);
		long records = n + n / 64;

		printf("audit append  (n=%d): median %.3f ms vs write+fsync baseline %.3f ms  "
		    "ratio %.2fx\n", n, a * 1e3, bb * 1e3, a / bb);
		printf("audit verify (%ld records): median %.2f ms vs read+sha256 baseline %.2f ms  "
		    "ratio %.2fx  (%.1f ms per 10,000 records)\n", records, v * 1e3, vbm * 1e3,
		    v / vbm, v * 1e3 * 10000.0 / (double)records);
	}
	snprintf(path, sizeof(path), "%s/audit.log", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/audit.head", dir);
	unlink(path);
	unlink(base);
	rmdir(dir);
	audit_close(&log);
	sshkey_priv_release(&key);
	free(ta);
	free(tb);
	return 0;
}
