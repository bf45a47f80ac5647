/*
 * record.c - asciicast v2 writer with redaction and a rate cap on output
 * (input is never dropped, nor the echo of it: see record.h).
 */
#include "record.h"
#include "fileio.h"
#include "hash.h"
#include "json.h"
#include "scan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double
record_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
emit(recorder *r, const char *line, size_t n)
{
	if (r->err)
		return;
	if (fileio_write_full(r->fd, line, n) != 0) {
		r->err = BG_ERR_IO;
		return;
	}
	crypto_hash_sha256_update(&r->hs, (const unsigned char *)line, n);
	r->written += n;
}

/* Length of the longest prefix of p that does not end inside a UTF-8
 * sequence (an incomplete tail is carried to the next chunk). */
static size_t
utf8_complete(const unsigned char *p, size_t n)
{
	size_t i = n, k;

	for (k = 0; k < 3 && i > 0; k++) {
		unsigned char c = p[i - 1];

		if ((c & 0xc0) == 0x80) {
			i--;
			continue;
		}
		if (c >= 0xc0) {
			size_t need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;

			return n - (i - 1) < need ? i - 1 : n;
		}
		return n;
	}
	return n;
}

/* Append s as valid UTF-8 (invalid bytes become U+FFFD). */
static int
utf8_clean(buf *out, const unsigned char *s, size_t n)
{
	size_t i = 0;
	int r = 0;

	while (i < n && r == 0) {
		unsigned char c = s[i];
		size_t len = c < 0x80 ? 1 : (c >= 0xc2 && c <= 0xdf) ? 2 :
		    (c >= 0xe0 && c <= 0xef) ? 3 : (c >= 0xf0 && c <= 0xf4) ? 4 : 0;
		size_t k;
		int ok = len > 0 && n - i >= len;

		for (k = 1; ok && k < len; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				ok = 0;
		if (ok && len == 3 && ((c == 0xe0 && s[i + 1] < 0xa0) || (c == 0xed && s[i + 1] >= 0xa0)))
			ok = 0;
		if (ok && len == 4 && ((c == 0xf0 && s[i + 1] < 0x90) || (c == 0xf4 && s[i + 1] >= 0x90)))
			ok = 0;
		if (ok) {
			r = buf_append(out, s + i, len);
			i += len;
		} else {
			r = buf_puts(out, "\xef\xbf\xbd");
			i++;
		}
	}
	return r;
}

static void
event(recorder *r, double t, const char *code, const char *data, size_t n)
{
	buf clean, line;
	char head[64];

	buf_init(&clean, 4 * RECORD_CHUNK + 64);
	buf_init(&line, 8 * RECORD_CHUNK + 128);
	if (utf8_clean(&clean, (const unsigned char *)data, n) == 0) {
		snprintf(head, sizeof(head), "[%.6f, \"%s\", ", t < 0 ? 0 : t, code);
		if (buf_puts(&line, head) == 0 &&
		    json_escape(&line, buf_cstr(&clean), clean.len) == 0 &&
		    buf_puts(&line, "]\n") == 0)
			emit(r, line.data, line.len);
	}
	buf_release(&clean);
	buf_release(&line);
}

int
record_open(recorder *r, int fd, int width, int height, int64_t timestamp,
    const char *title, const char *term)
{
	buf h;
	json j;

	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->start = record_clock();
	r->window_start = r->start;
	r->rate_cap = RECORD_RATE_CAP;
	buf_init(&r->pending, 2 * RECORD_CHUNK);
	buf_init_secret(&r->inpending, 2 * RECORD_CHUNK);
	buf_init(&r->outline, 512);
	buf_init_secret(&r->masked, RECORD_MASK_MAX + 1);
	buf_init_secret(&r->echo, RECORD_ECHO_MAX + 2);
	crypto_hash_sha256_init(&r->hs);
	buf_init(&h, 4096);
	json_init(&j, &h);
	json_obj_begin(&j);
	json_kv_int(&j, "version", 2);
	json_kv_int(&j, "width", width > 0 ? width : 80);
	json_kv_int(&j, "height", height > 0 ? height : 24);
	json_kv_int(&j, "timestamp", timestamp);
	if (title)
		json_kv_str(&j, "title", title);
	json_key(&j, "env");
	json_obj_begin(&j);
	json_kv_str(&j, "TERM", term ? term : "dumb");
	json_kv_str(&j, "SHELL", "/bin/sh");
	json_obj_end(&j);
	json_obj_end(&j);
	if (json_error(&j) == 0 && buf_putc(&h, '\n') == 0)
		emit(r, h.data, h.len);
	buf_release(&h);
	return r->err;
}

static void
flush_output(recorder *r, int all)
{
	size_t n = r->pending.len, cut;
	buf red;

	if (n == 0)
		return;
	if (!all) {
		/* up to the last newline, or everything if the chunk is full */
		const char *nl = NULL;

		for (size_t i = n; i > 0; i--)
			if (r->pending.data[i - 1] == '\n') {
				nl = r->pending.data + i;
				break;
			}
		if (nl != NULL)
			n = (size_t)(nl - r->pending.data);
		else if (r->pending.len < RECORD_CHUNK)
			return;
	}
	cut = utf8_complete((unsigned char *)r->pending.data, n);
	if (cut == 0 && !all)
		cut = n;
	if (all)
		cut = r->pending.len;
	buf_init(&red, 8 * RECORD_CHUNK);
	if (scan_redact(r->pending.data, cut, &red, NULL) == 0)
		event(r, r->pending_since - r->start, "o", red.data ? red.data : "", red.len);
	buf_release(&red);
	memmove(r->pending.data, r->pending.data + cut, r->pending.len - cut);
	r->pending.len -= cut;
	r->pending.data[r->pending.len] = '\0';
	r->pending_since = record_clock();
}

static int
rate_ok(recorder *r, size_t n, double now)
{
	if (now - r->window_start >= 1.0) {
		if (r->dropped > 0) {
			char msg[96];

			snprintf(msg, sizeof(msg), "breakglass: %llu bytes of output not recorded "
			    "(over %llu bytes/s)", (unsigned long long)r->dropped,
			    (unsigned long long)r->rate_cap);
			flush_output(r, 1);
			event(r, now - r->start, "m", msg, strlen(msg));
			r->dropped = 0;
		}
		r->window_start = now;
		r->window_bytes = 0;
	}
	if (r->window_bytes + n > r->rate_cap) {
		r->dropped += n;
		return 0;
	}
	r->window_bytes += n;
	return 1;
}

/*
 * The echo of typed input in output s[0..n): the expected bytes (r->echo)
 * are matched in order (a typed control byte, echoed as ^X or not at all,
 * is passed over); each output byte matched is appended to kept (when not
 * NULL) and leaves the expectation.
 */
static void
echo_match(recorder *r, const char *s, size_t n, buf *kept)
{
	size_t i, k = 0;

	for (i = 0; i < n && k < r->echo.len; i++) {
		unsigned char c;

		while (k < r->echo.len && (c = (unsigned char)r->echo.data[k]) < 0x20 &&
		    c != '\r' && c != '\n' && c != '\t')
			k++;
		if (k < r->echo.len && s[i] == r->echo.data[k]) {
			if (kept != NULL && buf_append(kept, s + i, 1) != 0)
				break;
			k++;
		}
	}
	memmove(r->echo.data, r->echo.data + k, r->echo.len - k);
	r->echo.len -= k;
}

/* Typed bytes whose echo is expected (the last RECORD_ECHO_MAX). */
static void
echo_expect(recorder *r, unsigned char c)
{
	size_t add = c == '\r' ? 2 : 1; /* CR comes back as CR LF */

	if (r->echo.len + add > RECORD_ECHO_MAX) {
		memmove(r->echo.data, r->echo.data + add, r->echo.len - add);
		r->echo.len -= add;
	}
	(void)buf_putc(&r->echo, (char)c);
	if (c == '\r')
		(void)buf_putc(&r->echo, '\n');
}

void
record_output(recorder *r, const void *p, size_t n)
{
	const char *s = p;
	double now = record_clock();
	buf kept;

	/* the last line of output, for prompts (before the rate cap: a
	 * flood does not make a prompt out of old text) */
	for (size_t k = 0; k < n; k++) {
		if (s[k] == '\n' || s[k] == '\r' || r->outline.len >= 256)
			buf_reset(&r->outline);
		if (s[k] != '\n' && s[k] != '\r')
			(void)buf_append(&r->outline, s + k, 1);
	}
	if (r->err)
		return;
	buf_init(&kept, RECORD_ECHO_MAX + 2);
	if (!rate_ok(r, n, now)) {
		/* over the cap: what echoes typed input is kept all the same */
		if (r->echo.len == 0) {
			buf_release(&kept);
			return;
		}
		echo_match(r, s, n, &kept);
		r->dropped -= kept.len;
		s = kept.data;
		n = kept.len;
	} else if (r->echo.len > 0)
		echo_match(r, s, n, NULL);
	while (n > 0) {
		size_t room = 2 * RECORD_CHUNK - r->pending.len;
		size_t take = n < room ? n : room;

		if (r->pending.len == 0)
			r->pending_since = now;
		if (buf_append(&r->pending, s, take) != 0) {
			r->err = BG_ERR_NOMEM;
			break;
		}
		s += take;
		n -= take;
		flush_output(r, 0);
	}
	buf_release(&kept);
}

/*
 * Input is held back until a line end (Enter sends CR on a raw terminal)
 * so a secret typed or pasted in pieces is redacted whole; a line longer
 * than RECORD_CHUNK is cut at a space or tab at least RECORD_INPUT_TAIL
 * bytes before its end (a token never spans the cut), failing that there.
 */
static void
flush_input(recorder *r, size_t cut)
{
	buf red;

	if (cut == 0 || r->err)
		return;
	buf_init(&red, 8 * RECORD_CHUNK);
	if (scan_redact(r->inpending.data, cut, &red, NULL) == 0)
		event(r, record_clock() - r->start, "i", red.data ? red.data : "", red.len);
	else
		r->err = BG_ERR_NOMEM;
	buf_release(&red);
	memmove(r->inpending.data, r->inpending.data + cut, r->inpending.len - cut);
	r->inpending.len -= cut;
	r->inpending.data[r->inpending.len] = '\0';
}

void
record_mask_after_prompts(recorder *r, const unsigned char x25519_pk[32],
    record_prompt_fn fn, void *ctx)
{
	memcpy(r->seal_pk, x25519_pk, 32);
	r->is_prompt = fn;
	r->prompt_ctx = ctx;
}

/* The masked line ends (term: the byte that ended it, or 0): an "i" event
 * saying so, and the line sealed in an "m" event. */
static void
seal_masked(recorder *r, unsigned char term)
{
	size_t clen = r->masked.len + crypto_box_SEALBYTES;
	unsigned char *ct = malloc(clen);
	char *b64 = malloc(sodium_base64_ENCODED_LEN(clen, sodium_base64_VARIANT_ORIGINAL) +
	    sizeof(RECORD_SEALED_PREFIX));
	char note[128];
	double now = record_clock();

	r->masking = 0;
	buf_reset(&r->outline); /* the prompt is answered */
	if (ct == NULL || b64 == NULL ||
	    crypto_box_seal(ct, (const unsigned char *)(r->masked.data ? r->masked.data : ""),
	    r->masked.len, r->seal_pk) != 0) {
		r->err = BG_ERR_NOMEM;
	} else {
		snprintf(note, sizeof(note), "[masked: %zu bytes typed after a password prompt, sealed "
		    "to the host key]%s", r->masked.len, term == '\r' ? "\r" : term == '\n' ? "\n" : "");
		event(r, now - r->start, "i", note, strlen(note));
		memcpy(b64, RECORD_SEALED_PREFIX, sizeof(RECORD_SEALED_PREFIX) - 1);
		sodium_bin2base64(b64 + sizeof(RECORD_SEALED_PREFIX) - 1,
		    sodium_base64_ENCODED_LEN(clen, sodium_base64_VARIANT_ORIGINAL), ct, clen,
		    sodium_base64_VARIANT_ORIGINAL);
		event(r, now - r->start, "m", b64, strlen(b64));
	}
	free(ct);
	free(b64);
	buf_reset(&r->masked);
}

void
record_input(recorder *r, const void *p, size_t n, int echo_off)
{
	const unsigned char *s = p;

	while (n > 0 && !r->err) {
		size_t i, end = 0;

		if (!r->masking && r->is_prompt != NULL && echo_off && r->inpending.len == 0 &&
		    r->outline.len > 0 && r->is_prompt(r->prompt_ctx, r->outline.data, r->outline.len)) {
			flush_output(r, 1);
			r->masking = 1;
			buf_reset(&r->masked);
		}
		if (r->masking) {
			if (*s == '\r' || *s == '\n') {
				seal_masked(r, *s);
				s++;
				n--;
				continue;
			}
			if (r->masked.len < RECORD_MASK_MAX) {
				if (buf_append(&r->masked, s, 1) != 0)
					r->err = BG_ERR_NOMEM;
				s++;
				n--;
				continue;
			}
			/* too long for a password: the line is recorded in clear */
			r->masking = 0;
			if (buf_append(&r->inpending, r->masked.data, r->masked.len) != 0)
				r->err = BG_ERR_NOMEM;
			buf_reset(&r->masked);
		}

		if (buf_append(&r->inpending, s, 1) != 0) {
			r->err = BG_ERR_NOMEM;
			return;
		}
		if (!echo_off) /* the terminal echoes it: expect it back */
			echo_expect(r, *s);
		if (*s == '\r' || *s == '\n')
			end = r->inpending.len;
		else if (r->inpending.len >= RECORD_CHUNK) {
			end = r->inpending.len - RECORD_INPUT_TAIL;
			for (i = end; i > 0; i--)
				if (r->inpending.data[i - 1] == ' ' || r->inpending.data[i - 1] == '\t') {
					end = i;
					break;
				}
		}
		if (end > 0) {
			/* output so far first: the events stay in time order */
			flush_output(r, 1);
			size_t whole = utf8_complete((unsigned char *)r->inpending.data, end);

			flush_input(r, whole > 0 ? whole : end);
		}
		s++;
		n--;
	}
}

void
record_resize(recorder *r, int width, int height)
{
	char s[32];

	flush_output(r, 1);
	snprintf(s, sizeof(s), "%dx%d", width, height);
	event(r, record_clock() - r->start, "r", s, strlen(s));
}

void
record_marker(recorder *r, const char *label)
{
	flush_output(r, 1);
	flush_input(r, r->inpending.len);
	event(r, record_clock() - r->start, "m", label, strlen(label));
}

void
record_tick(recorder *r)
{
	if (r->pending.len > 0 && record_clock() - r->pending_since >= 1.0)
		flush_output(r, 1);
}

int
record_close(recorder *r, char hex[65])
{
	unsigned char h[32];

	flush_output(r, 1);
	if (r->masking)
		seal_masked(r, 0);
	flush_input(r, r->inpending.len);
	if (r->dropped > 0) {
		r->window_start = 0;
		(void)rate_ok(r, 0, record_clock());
	}
	if (!r->err && fsync(r->fd) != 0)
		r->err = BG_ERR_IO;
	crypto_hash_sha256_final(&r->hs, h);
	hash_hex(h, 32, hex);
	buf_release(&r->pending);
	buf_release(&r->inpending);
	buf_release(&r->outline);
	buf_release(&r->masked);
	buf_release(&r->echo);
	return r->err;
}
