/*
 * replay.c - asciicast v2 reader and terminal-output sanitiser.
 */
#include "replay.h"
#include "fileio.h"
#include "record.h"
#include "text.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { S_TEXT, S_ESC, S_CSI, S_STRING, S_STRING_ESC };

void
replay_filter_init(replay_filter *f, int plain)
{
	memset(f, 0, sizeof(f[0]));
	buf_init(&f->seq, 64);
	f->plain = plain;
}

void
replay_filter_release(replay_filter *f)
{
	buf_release(&f->seq);
}

static int
csi_allowed(const buf *seq)
{
	/* seq holds everything after "ESC [" including the final byte */
	size_t i;
	char fin;

	if (seq->len == 0 || seq->len > 32)
		return 0;
	for (i = 0; i + 1 < seq->len; i++)
		if (!((seq->data[i] >= '0' && seq->data[i] <= '9') || seq->data[i] == ';'))
			return 0;
	fin = seq->data[seq->len - 1];
	return strchr("mABCDEFGHJKf", fin) != NULL;
}

int
replay_filter_run(replay_filter *f, const char *str, size_t n, buf *out)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i;
	int r = 0;

	for (i = 0; i < n && r == 0; i++) {
		unsigned char c = s[i];

		switch (f->state) {
		case S_TEXT:
			if (c == 0x1b) {
				f->state = S_ESC;
			} else if (c == 0xc2 && i + 1 < n && s[i + 1] >= 0x80 && s[i + 1] <= 0x9f) {
				/* C1 control as UTF-8: CSI/OSC/DCS... in disguise */
				unsigned char c1 = s[++i];

				if (c1 == 0x9b) {
					buf_reset(&f->seq);
					f->state = S_CSI;
				} else if (c1 == 0x9d || c1 == 0x90 || c1 == 0x98 || c1 == 0x9e || c1 == 0x9f)
					f->state = S_STRING;
			} else if (c >= 0x20 && c != 0x7f) {
				r = buf_putc(out, (char)c);
			} else if (c == '\n' || c == '\t' || (!f->plain && (c == '\r' || c == '\b'))) {
				r = buf_putc(out, (char)c);
			}
			break;
		case S_ESC:
			if (c == '[') {
				buf_reset(&f->seq);
				f->state = S_CSI;
			} else if (c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_') {
				f->state = S_STRING; /* OSC, DCS, SOS, PM, APC: swallow payload */
			} else {
				f->state = S_TEXT; /* two-byte sequences: dropped */
			}
			break;
		case S_CSI:
			if (buf_putc(&f->seq, (char)c) != 0 || f->seq.len > 32) {
				f->state = S_TEXT; /* overlong: dropped */
				break;
			}
			if (c >= 0x40 && c <= 0x7e) {
				if (!f->plain && csi_allowed(&f->seq)) {
					r = buf_puts(out, "\x1b[");
					if (r == 0)
						r = buf_append(out, f->seq.data, f->seq.len);
				}
				f->state = S_TEXT;
			} else if (c < 0x20 || c > 0x3f) {
				if (!(c >= 0x20 && c <= 0x2f))
					f->state = S_TEXT; /* malformed: dropped */
			}
			break;
		case S_STRING:
			if (c == 0x07)
				f->state = S_TEXT;
			else if (c == 0x1b)
				f->state = S_STRING_ESC;
			break;
		case S_STRING_ESC:
			f->state = c == '\\' ? S_TEXT : S_STRING;
			break;
		}
	}
	return r;
}

/* ---- JSON bits ---- */

static void
ws(const char **p, const char *end)
{
	while (*p < end && (**p == ' ' || **p == '\t' || **p == '\r' || **p == '\n'))
		(*p)++;
}

static int
put_utf8(buf *out, unsigned cp)
{
	char b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | cp >> 6);
		b[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | cp >> 12);
		b[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (char)(0xf0 | cp >> 18);
		b[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		b[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return buf_append(out, b, n);
}

static int
hex4(const char *p, const char *end, unsigned *v)
{
	unsigned x = 0;

	if (end - p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		char c = p[i];

		x <<= 4;
		if (c >= '0' && c <= '9') x |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f') x |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F') x |= (unsigned)(c - 'A' + 10);
		else return -1;
	}
	*v = x;
	return 0;
}

/* Parse a JSON string at *p into out (out may be NULL to skip). */
static int
jstring(const char **p, const char *end, buf *out)
{
	const char *s = *p;

	if (s >= end || *s != '"')
		return -1;
	s++;
	while (s < end && *s != '"') {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20)
			return -1;
		if (c != '\\') {
			if (out && buf_putc(out, (char)c) != 0)
				return -1;
			s++;
			continue;
		}
		if (++s >= end)
			return -1;
		switch (*s) {
		case '"': case '\\': case '/':
			if (out && buf_putc(out, *s) != 0) return -1;
			s++;
			break;
		case 'b': if (out && buf_putc(out, '\b')) return -1; s++; break;
		case 'f': if (out && buf_putc(out, '\f')) return -1; s++; break;
		case 'n': if (out && buf_putc(out, '\n')) return -1; s++; break;
		case 'r': if (out && buf_putc(out, '\r')) return -1; s++; break;
		case 't': if (out && buf_putc(out, '\t')) return -1; s++; break;
		case 'u': {
			unsigned cp, lo;

			if (hex4(s + 1, end, &cp) != 0)
				return -1;
			s += 5;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (end - s < 6 || s[0] != '\\' || s[1] != 'u' || hex4(s + 2, end, &lo) != 0 ||
				    lo < 0xdc00 || lo > 0xdfff)
					return -1;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				s += 6;
			} else if (cp >= 0xdc00 && cp <= 0xdfff) {
				return -1;
			}
			if (out && put_utf8(out, cp) != 0)
				return -1;
			break;
		}
		default:
			return -1;
		}
	}
	if (s >= end)
		return -1;
	*p = s + 1;
	return 0;
}

static int
jnumber(const char **p, const char *end, double *v)
{
	char tmp[64];
	const char *s = *p;
	size_t n = 0;
	char *e;

	while (s + n < end && n < sizeof(tmp) - 1 && strchr("0123456789+-.eE", s[n]))
		n++;
	if (n == 0 || n == sizeof(tmp) - 1)
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	*v = strtod(tmp, &e);
	if (*e != '\0' || !isfinite(*v))
		return -1;
	*p = s + n;
	return 0;
}

/* Skip any JSON value (depth-capped). */
static int
jskip(const char **p, const char *end, int depth)
{
	double d;

	ws(p, end);
	if (*p >= end || depth > 16)
		return -1;
	switch (**p) {
	case '"':
		return jstring(p, end, NULL);
	case '{':
	case '[': {
		char close = **p == '{' ? '}' : ']';
		int obj = close == '}', first = 1;

		(*p)++;
		for (;;) {
			ws(p, end);
			if (*p < end && **p == close) {
				(*p)++;
				return 0;
			}
			if (!first) {
				if (*p >= end || **p != ',')
					return -1;
				(*p)++;
				ws(p, end);
			}
			first = 0;
			if (obj) {
				if (jstring(p, end, NULL) != 0)
					return -1;
				ws(p, end);
				if (*p >= end || **p != ':')
					return -1;
				(*p)++;
			}
			if (jskip(p, end, depth + 1) != 0)
				return -1;
		}
	}
	case 't':
		if (end - *p >= 4 && memcmp(*p, "true", 4) == 0) { *p += 4; return 0; }
		return -1;
	case 'f':
		if (end - *p >= 5 && memcmp(*p, "false", 5) == 0) { *p += 5; return 0; }
		return -1;
	case 'n':
		if (end - *p >= 4 && memcmp(*p, "null", 4) == 0) { *p += 4; return 0; }
		return -1;
	default:
		return jnumber(p, end, &d);
	}
}

int
replay_parse_header(const char *line, size_t n, int *width, int *height, bg_error *e)
{
	const char *p = line, *end = line + n;
	int version = 0, first = 1;
	buf key;

	*width = *height = 0;
	buf_init(&key, 256);
	ws(&p, end);
	if (p >= end || *p != '{')
		goto bad;
	p++;
	for (;;) {
		double v;

		ws(&p, end);
		if (p < end && *p == '}') {
			p++;
			break;
		}
		if (!first) {
			if (p >= end || *p != ',')
				goto bad;
			p++;
			ws(&p, end);
		}
		first = 0;
		buf_reset(&key);
		if (jstring(&p, end, &key) != 0)
			goto bad;
		ws(&p, end);
		if (p >= end || *p != ':')
			goto bad;
		p++;
		ws(&p, end);
		if (strcmp(buf_cstr(&key), "version") == 0 || strcmp(buf_cstr(&key), "width") == 0 ||
		    strcmp(buf_cstr(&key), "height") == 0) {
			if (jnumber(&p, end, &v) != 0 || v < 0 || v > 100000 || v != floor(v))
				goto bad;
			if (key.data[0] == 'v')
				version = (int)v;
			else if (key.data[0] == 'w')
				*width = (int)v;
			else
				*height = (int)v;
		} else if (jskip(&p, end, 0) != 0) {
			goto bad;
		}
	}
	ws(&p, end);
	buf_release(&key);
	if (p != end)
		return bg_fail(e, BG_ERR_INVALID, "recording header: trailing data");
	if (version != 2)
		return bg_fail(e, BG_ERR_UNSUPPORTED, "not an asciicast v2 recording");
	if (*width < 1 || *height < 1)
		return bg_fail(e, BG_ERR_INVALID, "recording header: bad width or height");
	return 0;
bad:
	buf_release(&key);
	return bg_fail(e, BG_ERR_INVALID, "recording header is not a JSON object");
}

int
replay_parse_event(const char *line, size_t n, double *t, char *code, buf *out, bg_error *e)
{
	const char *p = line, *end = line + n;
	buf c;
	int r = BG_ERR_INVALID;

	buf_reset(out);
	buf_init(&c, 16);
	ws(&p, end);
	if (p >= end || *p++ != '[')
		goto out;
	ws(&p, end);
	if (jnumber(&p, end, t) != 0 || *t < 0)
		goto out;
	ws(&p, end);
	if (p >= end || *p++ != ',')
		goto out;
	ws(&p, end);
	if (jstring(&p, end, &c) != 0 || c.len != 1 || strchr("oimr", c.data[0]) == NULL)
		goto out;
	ws(&p, end);
	if (p >= end || *p++ != ',')
		goto out;
	ws(&p, end);
	if (jstring(&p, end, out) != 0)
		goto out;
	ws(&p, end);
	if (p >= end || *p++ != ']')
		goto out;
	ws(&p, end);
	if (p != end)
		goto out;
	*code = c.data[0];
	r = 0;
out:
	buf_release(&c);
	if (r != 0)
		bg_fail(e, r, "malformed recording event");
	return r;
}

static void
pause_for(double s)
{
	if (s > 0)
		poll(NULL, 0, (int)(s * 1000));
}

int
replay_unseal(const char *text, size_t len, const unsigned char ed_sk[64], buf *out,
    size_t *nfound, bg_error *e)
{
	unsigned char xsk[32], xpk[32];
	buf data, ct, pt;
	size_t off = 0, lineno = 0, plen = sizeof(RECORD_SEALED_PREFIX) - 1;
	int w, h, r = 0;

	*nfound = 0;
	if (crypto_sign_ed25519_sk_to_curve25519(xsk, ed_sk) != 0)
		return bg_fail(e, BG_ERR_INVALID, "not an ed25519 key");
	crypto_scalarmult_base(xpk, xsk);
	buf_init(&data, REPLAY_MAX_LINE);
	buf_init(&ct, REPLAY_MAX_LINE);
	buf_init_secret(&pt, REPLAY_MAX_LINE);
	while (off < len && r == 0) {
		const char *l = text + off, *nl = memchr(l, '\n', len - off);
		size_t n = nl ? (size_t)(nl - l) : len - off, bl;
		double t;
		char code;

		off += n + (nl != NULL);
		lineno++;
		if (n > REPLAY_MAX_LINE) {
			r = bg_fail(e, BG_ERR_TOOLARGE, "line %zu: longer than %u bytes", lineno,
			    REPLAY_MAX_LINE);
			break;
		}
		if (lineno == 1) {
			r = replay_parse_header(l, n, &w, &h, e);
			continue;
		}
		if (n == 0)
			continue;
		if ((r = replay_parse_event(l, n, &t, &code, &data, e)) != 0) {
			r = bg_fail(e, r, "line %zu: not an event", lineno);
			break;
		}
		if (code != 'm' || data.len < plen || memcmp(data.data, RECORD_SEALED_PREFIX, plen) != 0)
			continue;
		buf_reset(&ct);
		buf_reset(&pt);
		if (buf_reserve(&ct, data.len) != 0 || buf_reserve(&pt, data.len) != 0 ||
		    sodium_base642bin((unsigned char *)ct.data, data.len, data.data + plen,
		    data.len - plen, NULL, &bl, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
		    bl < crypto_box_SEALBYTES ||
		    crypto_box_seal_open((unsigned char *)pt.data, (unsigned char *)ct.data, bl, xpk,
		    xsk) != 0) {
			r = bg_fail(e, BG_ERR_PERM, "line %zu: a sealed input this key cannot open (is it "
			    "the host key of the host that made the recording?)", lineno);
			break;
		}
		pt.len = bl - crypto_box_SEALBYTES;
		if ((r = buf_printf(out, "%.3f s: ", t)) != 0 ||
		    (r = text_visible(out, pt.data, pt.len)) != 0 || (r = buf_putc(out, '\n')) != 0)
			break;
		++*nfound;
	}
	sodium_memzero(xsk, sizeof(xsk));
	buf_release(&data);
	buf_release(&ct);
	buf_release(&pt);
	return r;
}

int
replay_play(const char *text, size_t len, int fd, const replay_opts *o, bg_error *e)
{
	replay_filter f;
	buf data, out;
	size_t off = 0, lineno = 0;
	double last = 0;
	int w, h, r = 0;

	replay_filter_init(&f, o->plain);
	buf_init(&data, REPLAY_MAX_LINE);
	buf_init(&out, 4 * REPLAY_MAX_LINE);
	while (off < len && r == 0) {
		const char *l = text + off, *nl = memchr(l, '\n', len - off);
		size_t n = nl ? (size_t)(nl - l) : len - off;
		double t;
		char code;

		off += n + (nl != NULL);
		lineno++;
		if (n > REPLAY_MAX_LINE) {
			r = bg_fail(e, BG_ERR_TOOLARGE, "line %zu: longer than %u bytes", lineno,
			    REPLAY_MAX_LINE);
			break;
		}
		if (lineno == 1) {
			if ((r = replay_parse_header(l, n, &w, &h, e)) != 0)
				break;
			continue;
		}
		if (n == 0)
			continue;
		if ((r = replay_parse_event(l, n, &t, &code, &data, e)) != 0) {
			char msg[sizeof(e->msg)];

			snprintf(msg, sizeof(msg), "line %zu: %.400s", lineno, e ? e->msg : "");
			r = bg_fail(e, r, "%s", msg);
			break;
		}
		if (code != 'o' && !(code == 'm' && o->markers))
			continue;
		if (!o->instant && t > last) {
			double d = (t - last) / (o->speed > 0 ? o->speed : 1);

			pause_for(d > o->idle_limit ? o->idle_limit : d);
		}
		if (t > last)
			last = t;
		buf_reset(&out);
		if (code == 'm') {
			r = buf_puts(&out, "\r\n[");
			if (r == 0)
				r = replay_filter_run(&f, data.data ? data.data : "", data.len, &out);
			if (r == 0)
				r = buf_puts(&out, "]\r\n");
		} else
			r = replay_filter_run(&f, data.data ? data.data : "", data.len, &out);
		if (r == 0 && out.len > 0 && fileio_write_full(fd, out.data, out.len) != 0)
			r = bg_fail(e, BG_ERR_IO, "cannot write output");
	}
	if (r == 0 && lineno == 0)
		r = bg_fail(e, BG_ERR_INVALID, "empty recording");
	replay_filter_release(&f);
	buf_release(&data);
	buf_release(&out);
	return r;
}
