/*
 * sshsig.c - PROTOCOL.sshsig: the blob
 *     "SSHSIG" uint32(1) string(publickey) string(namespace)
 *     string(reserved) string(hash_algorithm) string(signature)
 * signs
 *     "SSHSIG" string(namespace) string(reserved) string(hash_algorithm)
 *     string(H(message))
 */
#include "sshsig.h"
#include "proc.h"
#include "wire.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define ARMOUR_BEGIN "-----BEGIN SSH SIGNATURE-----"
#define ARMOUR_END "-----END SSH SIGNATURE-----"

void
sshsig_release(sshsig *s)
{
	sshkey_pub_release(&s->key);
	free(s->ns);
	free(s->hashalg);
	free(s->sig);
	free(s->armoured);
	memset(s, 0, sizeof(*s));
}

int
sshsig_parse(const char *text, size_t len, sshsig *out, bg_error *e)
{
	buf raw, body;
	wire w;
	const unsigned char *pk, *res, *sg;
	size_t pkn, resn, sgn, i;
	uint32_t ver;
	const char *p, *end;
	int r;

	memset(out, 0, sizeof(*out));
	if (len > SSHSIG_MAX_ARMOURED)
		return bg_fail(e, BG_ERR_TOOLARGE, "signature larger than %u bytes",
		    SSHSIG_MAX_ARMOURED);
	if (memchr(text, '\0', len) != NULL)
		return bg_fail(e, BG_ERR_INVALID, "signature contains a NUL byte");
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	if (len < sizeof(ARMOUR_BEGIN) || memcmp(text, ARMOUR_BEGIN "\n",
	    sizeof(ARMOUR_BEGIN)) != 0)
		return bg_fail(e, BG_ERR_INVALID,
		    "line 1: expected '" ARMOUR_BEGIN "'");
	p = text + sizeof(ARMOUR_BEGIN);
	end = text + len;
	if ((size_t)(end - p) < sizeof(ARMOUR_END) - 1 ||
	    memcmp(end - (sizeof(ARMOUR_END) - 1), ARMOUR_END, sizeof(ARMOUR_END) - 1) != 0)
		return bg_fail(e, BG_ERR_INVALID, "last line: expected '" ARMOUR_END "'");
	end -= sizeof(ARMOUR_END) - 1;
	buf_init(&body, SSHSIG_MAX_ARMOURED);
	buf_init(&raw, SSHSIG_MAX_ARMOURED);
	for (i = 0; p + i < end; i++) {
		char c = p[i];

		if (c == '\n')
			continue;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=')) {
			r = bg_fail(e, BG_ERR_INVALID,
			    "invalid character in signature body at byte %zu",
			    (size_t)(p - text) + i + 1);
			goto out;
		}
		if ((r = buf_putc(&body, c)) != 0)
			goto out;
	}
	if (sshkey_b64_decode(body.data ? body.data : "", body.len, &raw) != 0) {
		r = bg_fail(e, BG_ERR_INVALID, "signature body is not valid base64");
		goto out;
	}
	wire_init(&w, raw.data, raw.len);
	r = BG_ERR_INVALID;
	if (raw.len < 6 || memcmp(raw.data, "SSHSIG", 6) != 0) {
		bg_fail(e, r, "signature lacks the SSHSIG preamble");
		goto out;
	}
	w.off = 6;
	if (wire_get_u32(&w, &ver) != 0 || ver != 1) {
		bg_fail(e, r, "unsupported SSHSIG version");
		goto out;
	}
	if (wire_get_string(&w, &pk, &pkn) != 0 ||
	    wire_get_cstring(&w, &out->ns) != 0 ||
	    wire_get_string(&w, &res, &resn) != 0 ||
	    wire_get_cstring(&w, &out->hashalg) != 0 ||
	    wire_get_string(&w, &sg, &sgn) != 0 || wire_end(&w) != 0) {
		bg_fail(e, r, "malformed SSHSIG blob");
		goto out;
	}
	if (resn != 0) {
		bg_fail(e, r, "SSHSIG reserved field is not empty");
		goto out;
	}
	if (strcmp(out->hashalg, "sha512") != 0 && strcmp(out->hashalg, "sha256") != 0) {
		bg_fail(e, r, "unsupported SSHSIG hash algorithm");
		goto out;
	}
	if ((r = sshkey_from_blob(pk, pkn, &out->key, e)) != 0)
		goto out;
	if (sgn == 0 || sgn > 4096 || (out->sig = malloc(sgn)) == NULL) {
		r = bg_fail(e, BG_ERR_INVALID, "malformed SSHSIG signature");
		goto out;
	}
	memcpy(out->sig, sg, sgn);
	out->siglen = sgn;
	if ((out->armoured = strndup(text, len)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	r = 0;
out:
	buf_release(&body);
	buf_release(&raw);
	if (r != 0)
		sshsig_release(out);
	return r;
}

static int
signed_data(const char *ns, const char *hashalg, const void *msg, size_t len, buf *out)
{
	unsigned char h[crypto_hash_sha512_BYTES];
	size_t hn;
	int r;

	if (strcmp(hashalg, "sha512") == 0) {
		crypto_hash_sha512(h, msg, len);
		hn = crypto_hash_sha512_BYTES;
	} else {
		crypto_hash_sha256(h, msg, len);
		hn = crypto_hash_sha256_BYTES;
	}
	if ((r = buf_append(out, "SSHSIG", 6)) != 0 ||
	    (r = buf_put_cstring(out, ns)) != 0 ||
	    (r = buf_put_cstring(out, "")) != 0 ||
	    (r = buf_put_cstring(out, hashalg)) != 0 ||
	    (r = buf_put_string(out, h, hn)) != 0)
		return r;
	return 0;
}

int
sshsig_verify(const sshsig *s, const void *msg, size_t len, const char *ns,
    bg_error *e)
{
	buf sd;
	wire w;
	const unsigned char *sig;
	size_t sign;
	int r;

	if (strcmp(s->ns, ns) != 0)
		return bg_fail(e, BG_ERR_SIGNATURE,
		    "signature is for namespace '%.64s', not '%s'", s->ns, ns);
	if (!s->key.is_ed25519)
		return bg_fail(e, BG_ERR_UNSUPPORTED,
		    "native verification supports ed25519 keys only");
	wire_init(&w, s->sig, s->siglen);
	if (wire_expect_cstring(&w, "ssh-ed25519") != 0 ||
	    wire_get_string(&w, &sig, &sign) != 0 || sign != 64 || wire_end(&w) != 0)
		return bg_fail(e, BG_ERR_SIGNATURE, "malformed ed25519 signature");
	buf_init(&sd, 4096);
	if ((r = signed_data(s->ns, s->hashalg, msg, len, &sd)) != 0) {
		buf_release(&sd);
		return r;
	}
	r = crypto_sign_verify_detached(sig, (unsigned char *)sd.data, sd.len,
	    s->key.ed25519);
	buf_release(&sd);
	if (r != 0)
		return bg_fail(e, BG_ERR_SIGNATURE,
		    "signature does not match the statement");
	return 0;
}

int
sshsig_sign(const sshkey_priv *k, const void *msg, size_t len, const char *ns,
    buf *out)
{
	buf sd, blob, inner, pub;
	unsigned char sig[64];
	int r;

	buf_init(&sd, 4096);
	buf_init(&blob, 4096);
	buf_init(&inner, 256);
	buf_init(&pub, 256);
	if ((r = signed_data(ns, "sha512", msg, len, &sd)) != 0)
		goto out;
	crypto_sign_detached(sig, NULL, (unsigned char *)sd.data, sd.len, k->sk);
	if ((r = buf_put_cstring(&pub, "ssh-ed25519")) != 0 ||
	    (r = buf_put_string(&pub, k->pk, 32)) != 0 ||
	    (r = buf_put_cstring(&inner, "ssh-ed25519")) != 0 ||
	    (r = buf_put_string(&inner, sig, 64)) != 0 ||
	    (r = buf_append(&blob, "SSHSIG", 6)) != 0 ||
	    (r = buf_put_u32(&blob, 1)) != 0 ||
	    (r = buf_put_string(&blob, pub.data, pub.len)) != 0 ||
	    (r = buf_put_cstring(&blob, ns)) != 0 ||
	    (r = buf_put_cstring(&blob, "")) != 0 ||
	    (r = buf_put_cstring(&blob, "sha512")) != 0 ||
	    (r = buf_put_string(&blob, inner.data, inner.len)) != 0)
		goto out;
	r = sshkey_armour("SSH SIGNATURE", blob.data, blob.len, out);
out:
	buf_release(&sd);
	buf_release(&blob);
	buf_release(&inner);
	buf_release(&pub);
	return r;
}

static int
write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	int r;

	if (fd < 0)
		return BG_ERR_IO;
	r = 0;
	{
		const char *q = p;

		while (n > 0) {
			ssize_t w = write(fd, q, n);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				r = BG_ERR_IO;
				break;
			}
			q += w;
			n -= (size_t)w;
		}
	}
	if (close(fd) != 0)
		r = BG_ERR_IO;
	return r;
}

int
sshsig_verify_external(const sshsig *s, const void *msg, size_t len,
    const char *ns, const char *principal, bg_error *e)
{
	char dir[] = "/tmp/breakglass-verify.XXXXXX";
	buf signers, sigpath, signerspath;
	int status, r;
	const char *keygen = "/usr/bin/ssh-keygen";

	if (strcmp(s->ns, ns) != 0)
		return bg_fail(e, BG_ERR_SIGNATURE,
		    "signature is for namespace '%.64s', not '%s'", s->ns, ns);
	if (strpbrk(principal, " \t\n\",*?!") != NULL)
		return bg_fail(e, BG_ERR_INVALID, "principal unusable with ssh-keygen");
	if (access(keygen, X_OK) != 0)
		return bg_fail(e, BG_ERR_UNSUPPORTED,
		    "verifying %s signatures needs %s", s->key.type, keygen);
	if (mkdtemp(dir) == NULL)
		return bg_fail(e, BG_ERR_IO, "cannot create temporary directory");
	buf_init(&signers, 64 * 1024);
	buf_init(&sigpath, 4096);
	buf_init(&signerspath, 4096);
	r = BG_ERR_NOMEM;
	if (buf_printf(&signers, "%s namespaces=\"%s\" ", principal, ns) != 0 ||
	    sshkey_pub_format(&s->key, &signers) != 0 || buf_putc(&signers, '\n') != 0 ||
	    buf_printf(&sigpath, "%s/sig", dir) != 0 ||
	    buf_printf(&signerspath, "%s/allowed_signers", dir) != 0)
		goto out;
	if (write_file(signerspath.data, signers.data, signers.len) != 0 ||
	    write_file(sigpath.data, s->armoured, strlen(s->armoured)) != 0) {
		r = bg_fail(e, BG_ERR_IO, "cannot write temporary files");
		goto out;
	}
	{
		char *const argv[] = {
			(char *)keygen, "-q", "-Y", "verify", "-f", signerspath.data,
			"-I", (char *)principal, "-n", (char *)ns, "-s", sigpath.data, NULL
		};

		if ((r = proc_run(argv, msg, len, NULL, &status, e)) != 0)
			goto out;
	}
	r = status == 0 ? 0 : bg_fail(e, BG_ERR_SIGNATURE, "signature does not match the statement");
out:
	if (sigpath.data)
		unlink(sigpath.data);
	if (signerspath.data)
		unlink(signerspath.data);
	rmdir(dir);
	buf_release(&signers);
	buf_release(&sigpath);
	buf_release(&signerspath);
	return r;
}
