/*
 * bench-sigverify.c - verifying an approval signature in process (libcrypto)
 * against what it replaced: one `ssh-keygen -Y verify` run per check (a
 * fork and exec, an allowed_signers file and the signature written to a
 * temporary directory).  OpenSSH's ECDSA P-256 and RSA-3072 test vectors
 * (tests/unit/data/openssh-sshsig), each verified N times both ways.
 *
 * usage: bench-sigverify [N]   (default 200; run from the source tree)
 */
#include "bench.h"
#include "fileio.h"
#include "proc.h"
#include "sshsig.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define VEC "tests/unit/data/openssh-sshsig/"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
slurp(const char *path, buf *out)
{
	bg_error e;

	buf_init(out, 64 * 1024);
	if (fileio_read(path, 64 * 1024, out, &e) != 0) {
		fprintf(stderr, "bench-sigverify: %s\n", e.msg);
		return -1;
	}
	return 0;
}

static int
fork_verify(const char *sigpath, const char *signers, const buf *msg)
{
	char *const argv[] = {
		"/usr/bin/ssh-keygen", "-q", "-Y", "verify", "-f", (char *)signers,
		"-I", "bench@example", "-n", "unittest", "-s", (char *)sigpath, NULL
	};
	int status;
	bg_error e;

	if (proc_run(argv, msg->data, msg->len, NULL, &status, &e) != 0 || status != 0)
		return -1;
	return 0;
}

static int
one(const char *name, int n)
{
	char path[256], dir[] = "/tmp/bg-bench-sig.XXXXXX", sigpath[300], signers[300];
	buf pub, sigtext, msg;
	sshsig s;
	bg_error e;
	double t0, native, forked;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), VEC "%s.pub", name);
	if (slurp(path, &pub) != 0)
		return -1;
	snprintf(path, sizeof(path), VEC "%s.sig", name);
	if (slurp(path, &sigtext) != 0 || slurp(VEC "signed-data", &msg) != 0)
		return -1;
	if (sshsig_parse(buf_cstr(&sigtext), sigtext.len, &s, &e) != 0) {
		fprintf(stderr, "bench-sigverify: %s\n", e.msg);
		return -1;
	}
	t0 = now();
	for (i = 0; i < n; i++)
		if (sshsig_verify(&s, msg.data, msg.len, "unittest", &e) != 0) {
			fprintf(stderr, "bench-sigverify: %s: %s\n", name, e.msg);
			return -1;
		}
	native = (now() - t0) / n;
	/* the replaced path: files in a temporary directory, then ssh-keygen */
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(sigpath, sizeof(sigpath), "%s/sig", dir);
	snprintf(signers, sizeof(signers), "%s/allowed_signers", dir);
	t0 = now();
	for (i = 0; i < n; i++) {
		if ((f = fopen(signers, "w")) == NULL)
			return -1;
		fprintf(f, "bench@example namespaces=\"unittest\" %s", buf_cstr(&pub));
		fclose(f);
		if ((f = fopen(sigpath, "w")) == NULL)
			return -1;
		fwrite(sigtext.data, 1, sigtext.len, f);
		fclose(f);
		if (fork_verify(sigpath, signers, &msg) != 0) {
			fprintf(stderr, "bench-sigverify: ssh-keygen refused %s\n", name);
			return -1;
		}
		unlink(sigpath);
		unlink(signers);
	}
	forked = (now() - t0) / n;
	rmdir(dir);
	printf("sigverify %-6s native %8.1f us  ssh-keygen fork %8.1f us  ratio fork/native %.1fx\n",
	    name, native * 1e6, forked * 1e6, forked / native);
	sshsig_release(&s);
	buf_release(&pub);
	buf_release(&sigtext);
	buf_release(&msg);
	return 0;
}

int
main(int argc, char **argv)
{
	int n = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 200;

	if (sodium_init() < 0 || n < 1)
		return 1;
	if (one("ecdsa", n) != 0 || one("rsa", n) != 0)
		return 1;
	return 0;
}
