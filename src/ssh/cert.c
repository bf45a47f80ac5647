/*
 * cert.c - build, sign, parse and verify OpenSSH user certificates.
 *
 *   string  "<keytype>-cert-v01@openssh.com"
 *   string  nonce
 *   ...     the key's own fields (as in its plain wire blob)
 *   uint64  serial
 *   uint32  type (1 = user)
 *   string  key id
 *   string  valid principals   (a sequence of strings)
 *   uint64  valid after
 *   uint64  valid before
 *   string  critical options   (sorted name/data pairs; data is a string)
 *   string  extensions         (sorted name/data pairs)
 *   string  reserved
 *   string  signature key
 *   string  signature          (over everything above)
 */
#include "cert.h"
#include "sigmemo.h"
#include "wire.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static int
cert_type_of(const char *keytype, char *out, size_t n)
{
	if (strcmp(keytype, "ssh-ed25519") && strcmp(keytype, "ssh-rsa") &&
	    strncmp(keytype, "ecdsa-sha2-nistp", 16) != 0)
		return BG_ERR_UNSUPPORTED;
	if ((size_t)snprintf(out, n, "%s-cert-v01@openssh.com", keytype) >= n)
		return BG_ERR_UNSUPPORTED;
	return 0;
}

/* Append one option: string name, string(string data) or string("") */
static int
put_option(buf *b, const char *name, const char *value)
{
	buf d;
	int r;

	if ((r = buf_put_cstring(b, name)) != 0)
		return r;
	if (value == NULL)
		return buf_put_string(b, "", 0);
	buf_init(&d, CERT_MAX_BLOB);
	if ((r = buf_put_cstring(&d, value)) == 0)
		r = buf_put_string(b, d.data, d.len);
	buf_release(&d);
	return r;
}

int
cert_sign(const cert_spec *s, const sshkey_priv *ca, const char *comment, buf *out,
    bg_error *e)
{
	buf c, crit, ext, prin, cakey, sig;
	unsigned char nonce[32], sigbytes[64];
	char ctype[64];
	int r;

	if (s->force_command == NULL || s->principal == NULL || s->key_id == NULL ||
	    s->valid_before <= s->valid_after || s->valid_after < 0)
		return bg_fail(e, BG_ERR_USAGE, "incomplete certificate request");
	if (cert_type_of(s->key->type, ctype, sizeof(ctype)) != 0)
		return bg_fail(e, BG_ERR_UNSUPPORTED, "cannot certify '%s' keys", s->key->type);
	buf_init(&c, CERT_MAX_BLOB);
	buf_init(&crit, CERT_MAX_BLOB);
	buf_init(&ext, CERT_MAX_BLOB);
	buf_init(&prin, 4096);
	buf_init(&cakey, 256);
	buf_init(&sig, 256);
	randombytes_buf(nonce, sizeof(nonce));
	/* options sorted by name, as OpenSSH requires */
	if ((r = put_option(&crit, "force-command", s->force_command)) != 0 ||
	    (s->source_address && (r = put_option(&crit, "source-address", s->source_address)) != 0))
		goto out;
	/* extensions in name order: consent@, grant@, permit-pty */
	if ((s->consent && (r = put_option(&ext, CERT_CONSENT_EXTENSION, s->consent)) != 0) ||
	    (s->scope && (r = put_option(&ext, CERT_SCOPE_EXTENSION, s->scope)) != 0) ||
	    (s->permit_pty && (r = put_option(&ext, "permit-pty", NULL)) != 0))
		goto out;
	if ((r = buf_put_cstring(&prin, s->principal)) != 0 ||
	    (r = buf_put_cstring(&cakey, "ssh-ed25519")) != 0 ||
	    (r = buf_put_string(&cakey, ca->pk, 32)) != 0)
		goto out;
	{
		/* the key's own fields: its blob without the leading type string */
		size_t skip = 4 + strlen(s->key->type);

		if ((r = buf_put_cstring(&c, ctype)) != 0 ||
		    (r = buf_put_string(&c, nonce, sizeof(nonce))) != 0 ||
		    (r = buf_append(&c, s->key->blob + skip, s->key->bloblen - skip)) != 0)
			goto out;
	}
	if ((r = buf_put_u64(&c, s->serial)) != 0 ||
	    (r = buf_put_u32(&c, 1)) != 0 ||
	    (r = buf_put_cstring(&c, s->key_id)) != 0 ||
	    (r = buf_put_string(&c, prin.data, prin.len)) != 0 ||
	    (r = buf_put_u64(&c, (uint64_t)s->valid_after)) != 0 ||
	    (r = buf_put_u64(&c, (uint64_t)s->valid_before)) != 0 ||
	    (r = buf_put_string(&c, crit.data, crit.len)) != 0 ||
	    (r = buf_put_string(&c, ext.data, ext.len)) != 0 ||
	    (r = buf_put_string(&c, "", 0)) != 0 ||
	    (r = buf_put_string(&c, cakey.data, cakey.len)) != 0)
		goto out;
	crypto_sign_detached(sigbytes, NULL, (unsigned char *)c.data, c.len, ca->sk);
	if ((r = buf_put_cstring(&sig, "ssh-ed25519")) != 0 ||
	    (r = buf_put_string(&sig, sigbytes, 64)) != 0 ||
	    (r = buf_put_string(&c, sig.data, sig.len)) != 0)
		goto out;
	if ((r = buf_printf(out, "%s ", ctype)) != 0 ||
	    (r = sshkey_b64_encode((unsigned char *)c.data, c.len, out)) != 0 ||
	    (r = buf_printf(out, " %s\n", comment ? comment : "")) != 0)
		goto out;
out:
	if (r != 0)
		bg_fail(e, r, "cannot build certificate: %s", bg_strerror(r));
	buf_release(&c);
	buf_release(&crit);
	buf_release(&ext);
	buf_release(&prin);
	buf_release(&cakey);
	buf_release(&sig);
	return r;
}

void
cert_release(cert *c)
{
	size_t i;

	sshkey_pub_release(&c->key);
	sshkey_pub_release(&c->ca);
	free(c->key_id);
	for (i = 0; i < c->nprincipals; i++)
		free(c->principals[i]);
	free(c->principals);
	free(c->force_command);
	free(c->source_address);
	free(c->scope);
	free(c->consent);
	free(c->blob);
	memset(c, 0, sizeof(*c));
}

/* Options: names strictly increasing; critical ones must be known. */
static int
parse_options(const unsigned char *p, size_t n, int critical, cert *c, bg_error *e)
{
	wire w, dw;
	char *name = NULL, *prev = NULL;
	const unsigned char *d;
	size_t dn;
	int r = 0;

	wire_init(&w, p, n);
	while (w.off < w.len) {
		if (wire_get_cstring(&w, &name) != 0 || wire_get_string(&w, &d, &dn) != 0) {
			r = bg_fail(e, BG_ERR_INVALID, "malformed certificate options");
			break;
		}
		if (prev != NULL && strcmp(prev, name) >= 0) {
			r = bg_fail(e, BG_ERR_INVALID, "certificate options repeated or not sorted");
			break;
		}
		wire_init(&dw, d, dn);
		if (critical && (strcmp(name, "force-command") == 0 ||
		    strcmp(name, "source-address") == 0)) {
			char **dst = name[0] == 'f' ? &c->force_command : &c->source_address;

			if (wire_get_cstring(&dw, dst) != 0 || wire_end(&dw) != 0) {
				r = bg_fail(e, BG_ERR_INVALID, "malformed critical option '%s'", name);
				break;
			}
		} else if (critical) {
			r = bg_fail(e, BG_ERR_INVALID, "unknown critical option '%.64s'", name);
			break;
		} else if (strcmp(name, CERT_SCOPE_EXTENSION) == 0) {
			if (wire_get_cstring(&dw, &c->scope) != 0 || wire_end(&dw) != 0) {
				r = bg_fail(e, BG_ERR_INVALID, "malformed breakglass scope");
				break;
			}
		} else if (strcmp(name, CERT_CONSENT_EXTENSION) == 0) {
			if (wire_get_cstring(&dw, &c->consent) != 0 || wire_end(&dw) != 0) {
				r = bg_fail(e, BG_ERR_INVALID, "malformed breakglass consent");
				break;
			}
		} else if (strcmp(name, "permit-pty") == 0) {
			if (dn != 0) {
				r = bg_fail(e, BG_ERR_INVALID, "malformed extension '%s'", name);
				break;
			}
			c->permit_pty = 1;
		}
		/* other extensions are not critical: ignored, as sshd does */
		free(prev);
		prev = name;
		name = NULL;
	}
	free(name);
	free(prev);
	return r;
}

int
cert_parse(const unsigned char *p, size_t n, cert *c, bg_error *e)
{
	wire w, pw;
	const unsigned char *nonce, *f1, *f2, *prin, *crit, *ext, *res, *cakey, *tp;
	size_t nn, f1n, f2n, prinn, critn, extn, resn, cakeyn, tpn;
	buf plain;
	char plain_type[48];
	int r = BG_ERR_INVALID;

	memset(c, 0, sizeof(*c));
	if (n > CERT_MAX_BLOB)
		return bg_fail(e, BG_ERR_TOOLARGE, "certificate larger than %u bytes", CERT_MAX_BLOB);
	buf_init(&plain, CERT_MAX_BLOB);
	wire_init(&w, p, n);
	if (wire_get_string(&w, &tp, &tpn) != 0 || tpn >= sizeof(c->type) ||
	    memchr(tp, '\0', tpn) != NULL) {
		bg_fail(e, r, "malformed certificate");
		goto out;
	}
	memcpy(c->type, tp, tpn);
	c->type[tpn] = '\0';
	if (tpn <= 21 || strcmp(c->type + tpn - 21, "-cert-v01@openssh.com") != 0 ||
	    tpn - 21 >= sizeof(plain_type)) {
		bg_fail(e, BG_ERR_UNSUPPORTED, "not an OpenSSH v01 certificate");
		goto out;
	}
	memcpy(plain_type, c->type, tpn - 21);
	plain_type[tpn - 21] = '\0';
	if (wire_get_string(&w, &nonce, &nn) != 0 || nn < 16) {
		bg_fail(e, r, "malformed certificate nonce");
		goto out;
	}
	/* the key's fields, re-wrapped into a plain key blob */
	if (buf_put_cstring(&plain, plain_type) != 0)
		goto out;
	if (strcmp(plain_type, "ssh-ed25519") == 0) {
		if (wire_get_string(&w, &f1, &f1n) != 0 || buf_put_string(&plain, f1, f1n) != 0)
			goto malformed;
	} else if (strcmp(plain_type, "ssh-rsa") == 0 ||
	    strncmp(plain_type, "ecdsa-sha2-nistp", 16) == 0) {
		if (wire_get_string(&w, &f1, &f1n) != 0 || wire_get_string(&w, &f2, &f2n) != 0 ||
		    buf_put_string(&plain, f1, f1n) != 0 || buf_put_string(&plain, f2, f2n) != 0)
			goto malformed;
	} else {
		bg_fail(e, BG_ERR_UNSUPPORTED, "unsupported certificate type '%.48s'", c->type);
		goto out;
	}
	if ((r = sshkey_from_blob((unsigned char *)plain.data, plain.len, &c->key, e)) != 0)
		goto out;
	r = BG_ERR_INVALID;
	if (wire_get_u64(&w, &c->serial) != 0 || wire_get_u32(&w, &c->cert_type) != 0 ||
	    wire_get_cstring(&w, &c->key_id) != 0 ||
	    wire_get_string(&w, &prin, &prinn) != 0 ||
	    wire_get_u64(&w, &c->valid_after) != 0 || wire_get_u64(&w, &c->valid_before) != 0 ||
	    wire_get_string(&w, &crit, &critn) != 0 || wire_get_string(&w, &ext, &extn) != 0 ||
	    wire_get_string(&w, &res, &resn) != 0 || wire_get_string(&w, &cakey, &cakeyn) != 0)
		goto malformed;
	c->signed_len = w.off;
	if (wire_get_string(&w, &c->sig, &c->siglen) != 0 || wire_end(&w) != 0)
		goto malformed;
	if (c->cert_type != 1) {
		bg_fail(e, BG_ERR_INVALID, "not a user certificate");
		goto out;
	}
	wire_init(&pw, prin, prinn);
	while (pw.off < pw.len) {
		char **v;

		if (c->nprincipals >= 256 ||
		    (v = realloc(c->principals, (c->nprincipals + 1) * sizeof(*v))) == NULL)
			goto malformed;
		c->principals = v;
		if (wire_get_cstring(&pw, &c->principals[c->nprincipals]) != 0)
			goto malformed;
		c->nprincipals++;
	}
	if ((r = parse_options(crit, critn, 1, c, e)) != 0 ||
	    (r = parse_options(ext, extn, 0, c, e)) != 0)
		goto out;
	r = BG_ERR_INVALID;
	if ((r = sshkey_from_blob(cakey, cakeyn, &c->ca, e)) != 0)
		goto out;
	if ((c->blob = malloc(n)) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	memcpy(c->blob, p, n);
	c->bloblen = n;
	c->sig = c->blob + (c->sig - p);
	r = 0;
	goto out;
malformed:
	r = bg_fail(e, BG_ERR_INVALID, "malformed certificate");
out:
	buf_release(&plain);
	if (r != 0)
		cert_release(c);
	return r;
}

int
cert_parse_line(const char *line, cert *c, bg_error *e)
{
	const char *p = line, *b;
	buf raw;
	size_t bn;
	int r;

	memset(c, 0, sizeof(*c));
	while (*p && *p != ' ')
		p++;
	while (*p == ' ')
		p++;
	b = p;
	while (*p && *p != ' ' && *p != '\n')
		p++;
	bn = (size_t)(p - b);
	buf_init(&raw, CERT_MAX_BLOB);
	if (bn == 0 || sshkey_b64_decode(b, bn, &raw) != 0) {
		buf_release(&raw);
		return bg_fail(e, BG_ERR_INVALID, "certificate is not valid base64");
	}
	r = cert_parse((unsigned char *)raw.data, raw.len, c, e);
	buf_release(&raw);
	if (r == 0 && strncmp(line, c->type, strlen(c->type)) != 0) {
		cert_release(c);
		return bg_fail(e, BG_ERR_INVALID, "certificate type does not match its blob");
	}
	return r;
}

int
cert_verify(const cert *c, const unsigned char ca_pk[32], int64_t now, bg_error *e)
{
	wire w;
	const unsigned char *s;
	size_t sn;

	if (!c->ca.is_ed25519 || sodium_memcmp(c->ca.ed25519, ca_pk, 32) != 0)
		return bg_fail(e, BG_ERR_SIGNATURE, "certificate is not signed by the breakglass CA");
	wire_init(&w, c->sig, c->siglen);
	if (wire_expect_cstring(&w, "ssh-ed25519") != 0 || wire_get_string(&w, &s, &sn) != 0 ||
	    sn != 64 || wire_end(&w) != 0 ||
	    sigmemo_verify(s, c->blob, c->signed_len, ca_pk) != 0)
		return bg_fail(e, BG_ERR_SIGNATURE, "certificate signature is not valid");
	if (now < 0 || (uint64_t)now < c->valid_after)
		return bg_fail(e, BG_ERR_EXPIRED, "certificate is not valid yet");
	if ((uint64_t)now >= c->valid_before)
		return bg_fail(e, BG_ERR_EXPIRED, "certificate expired");
	return 0;
}
