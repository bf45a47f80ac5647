/*
 * bench-runbook.c - client-executed mode: what a runbook step costs over
 * running its program bare, and how fast output is redacted as it streams.
 *
 * usage: bench-runbook step N
 *          N runs of /bin/true each way, alternating: bare (fork, execve,
 *          wait, output to a pipe that is drained) and as a runbook step
 *          (rbstep_command: the streaming redaction, timing, and the record
 *          written into a result bundle).  Medians, p90, and the difference.
 *        bench-runbook redact FILE ROUNDS
 *          FILE fed through scan_stream in 64 KiB writes (as a program's
 *          output arrives), one core, best of ROUNDS; the same bytes through
 *          scan_redact in one call as the baseline.
 */
#include "bench.h"
#include "fileio.h"
#include "proc.h"
#include "rbresult.h"
#include "rbstep.h"
#include "scan.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

static int
discard(void *ctx, const char *p, size_t n)
{
	(void)ctx; (void)p; (void)n;
	return 0;
}

static int
step(int n)
{
	double *bare = calloc((size_t)n, sizeof(double)), *rb = calloc((size_t)n, sizeof(double));
	char *argv[] = { "/bin/true", NULL };
	argv_list a = { argv, 1 };
	rbresult_writer w;
	char sha[65];
	bg_error e;
	buf rec, body;
	int i, st;

	memset(sha, 'a', 64);
	sha[64] = '\0';
	rbresult_begin(&w, 1, sha, "web1", "ops");
	buf_init(&rec, RBSTEP_MAX_OUTPUT + 1024);
	buf_init(&body, 64 * 1024);
	for (i = 0; i < n; i++) {
		double t0 = utc_mono();
		rbstep_run res;

		if (proc_run_stream(argv, NULL, 0, discard, NULL, &st, &e) != 0 || st != 0)
			return 1;
		bare[i] = utc_mono() - t0;
		t0 = utc_mono();
		buf_reset(&rec);
		buf_reset(&body);
		if (rbstep_command(&a, -1, &rec, &res, &e) != 0 || res.status != 0)
			return 1;
		buf_printf(&body, "{\"exit\":%d,\"duration_ms\":%d,\"output\":\"%s\"}", res.status,
		    (int)(res.seconds * 1000), rec.data ? rec.data : "");
		if (rbresult_add(&w, "step", 1, "ok", body.data, body.len) != 0) {
			rbresult_writer_release(&w); /* the bundle holds 256 records: start another */
			rbresult_begin(&w, 1, sha, "web1", "ops");
		}
		rb[i] = utc_mono() - t0;
	}
	bench_sort(bare, n);
	bench_sort(rb, n);
	printf("runbook step overhead (%d runs of /bin/true each, alternating)\n"
	    "  bare exec:     median %.3f ms  p90 %.3f ms\n"
	    "  runbook step:  median %.3f ms  p90 %.3f ms\n"
	    "  overhead per step: %.3f ms (target <= 5 ms)\n", n,
	    bare[n / 2] * 1e3, bare[n * 9 / 10] * 1e3, rb[n / 2] * 1e3, rb[n * 9 / 10] * 1e3,
	    (rb[n / 2] - bare[n / 2]) * 1e3);
	rbresult_writer_release(&w);
	buf_release(&rec);
	buf_release(&body);
	free(bare);
	free(rb);
	return 0;
}

static int
redact(const char *path, int rounds)
{
	buf in, out;
	bg_error e;
	double best_s = 1e9, best_w = 1e9, mib;
	size_t found = 0;

	buf_init(&in, 1024u * 1024 * 1024);
	buf_init(&out, 1200u * 1024 * 1024);
	if (fileio_read(path, in.max, &in, &e) != 0) {
		fprintf(stderr, "bench-runbook: %s\n", e.msg);
		return 1;
	}
	mib = (double)in.len / (1024.0 * 1024.0);
	if (scan_builtin(&e) == NULL)
		return 1;
	for (int r = 0; r < rounds; r++) {
		scan_stream s;
		double t0 = utc_mono();

		buf_reset(&out);
		scan_stream_init(&s);
		for (size_t off = 0; off < in.len; off += 65536) {
			size_t n = in.len - off < 65536 ? in.len - off : 65536;

			if (scan_stream_write(&s, in.data + off, n, &out) != 0)
				return 1;
			buf_reset(&out); /* a sink that writes it out */
		}
		scan_stream_finish(&s, &out);
		found = s.found;
		scan_stream_release(&s);
		if (utc_mono() - t0 < best_s)
			best_s = utc_mono() - t0;
		buf_reset(&out);
		t0 = utc_mono();
		scan_redact(in.data, in.len, &out, NULL);
		if (utc_mono() - t0 < best_w)
			best_w = utc_mono() - t0;
	}
	printf("output redaction, one core, %.0f MiB, best of %d\n"
	    "  streaming (64 KiB writes): %.0f MiB/s, %zu secrets redacted (target >= 500 MiB/s)\n"
	    "  one call on the whole text (baseline): %.0f MiB/s\n"
	    "  streaming / baseline: %.2f\n", mib, rounds, mib / best_s, found, mib / best_w,
	    best_w / best_s);
	buf_release(&in);
	buf_release(&out);
	return 0;
}

int
main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	if (argc == 3 && strcmp(argv[1], "step") == 0)
		return step(atoi(argv[2]) > 10 ? atoi(argv[2]) : 10);
	if (argc == 4 && strcmp(argv[1], "redact") == 0)
		return redact(argv[2], atoi(argv[3]) > 0 ? atoi(argv[3]) : 1);
	fprintf(stderr, "usage: bench-runbook step N | redact FILE ROUNDS\n");
	return 2;
}
