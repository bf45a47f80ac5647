/*
 * remote.c - the framed messages of remote use (remote.h).
 */
#include "remote.h"

#include <stdlib.h>
#include <string.h>

int
remote_name_ok(const char *name)
{
	size_t n = strlen(name), i;

	if (n == 0 || n > REMOTE_MAX_NAME || name[0] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '+' || c == '-'))
			return 0;
	}
	return 1;
}

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int
put32(buf *b, uint32_t v)
{
	unsigned char p[4] = { v >> 24, v >> 16, v >> 8, v };

	return buf_append(b, p, 4);
}

int
remote_put(buf *b, char type, const void *p, size_t n)
{
	int r;

	if (n > REMOTE_MAX_MSG)
		return BG_ERR_TOOLARGE;
	if ((r = buf_putc(b, type)) != 0 || (r = put32(b, (uint32_t)n)) != 0)
		return r;
	return n ? buf_append(b, p, n) : 0;
}

int
remote_put_file(buf *b, char type, uint32_t arg, const char *name, const void *data,
    size_t n)
{
	size_t nl = name ? strlen(name) + 1 : 0, len = 4 + nl + (data ? n : 0);
	int r;

	if (n > REMOTE_MAX_FILE)
		return BG_ERR_TOOLARGE;
	if ((r = buf_putc(b, type)) != 0 || (r = put32(b, (uint32_t)len)) != 0 ||
	    (r = put32(b, arg)) != 0)
		return r;
	if (name && (r = buf_append(b, name, nl)) != 0)
		return r;
	return data && n ? buf_append(b, data, n) : 0;
}

void
remote_release(remote_msg *m)
{
	size_t i;

	for (i = 0; i < m->argc; i++)
		free(m->argv[i]);
	buf_release(&m->outb);
	buf_release(&m->errb);
	memset(m, 0, sizeof(*m));
}

/* an argument index not named by another file record */
static int
arg_free(const remote_msg *m, uint32_t arg)
{
	size_t i;

	for (i = 0; i < m->nouts; i++)
		if (m->outs[i] == arg)
			return 0;
	for (i = 0; i < m->nfiles; i++)
		if (m->files[i].arg == arg)
			return 0;
	return 1;
}

int
remote_parse(const void *data, size_t n, int response, remote_msg *m, bg_error *e)
{
	const unsigned char *p = data, *end = p + n;
	int ended = 0, have_status = 0, r = 0;
	size_t i;

	memset(m, 0, sizeof(*m));
	m->response = response;
	buf_init(&m->outb, REMOTE_MAX_FILE);
	buf_init(&m->errb, REMOTE_MAX_FILE);
	if (n > REMOTE_MAX_MSG)
		return bg_fail(e, BG_ERR_TOOLARGE, "remote message larger than %u bytes",
		    REMOTE_MAX_MSG);
	if (n < 6 || memcmp(p, response ? REMOTE_MAGIC_RES : REMOTE_MAGIC_REQ, 6) != 0)
		return bg_fail(e, BG_ERR_INVALID, "not a breakglass remote %s (bad magic)",
		    response ? "response" : "request");
	p += 6;
	while (p < end) {
		unsigned char type;
		uint32_t len;

		if (ended)
			return bg_fail(e, BG_ERR_INVALID, "remote message: bytes after the end");
		if (end - p < 5)
			return bg_fail(e, BG_ERR_INVALID, "remote message: truncated record");
		type = p[0];
		len = be32(p + 1);
		p += 5;
		if ((size_t)(end - p) < len)
			return bg_fail(e, BG_ERR_INVALID, "remote message: truncated record");
		if (type == 'Z') {
			if (len != 0)
				return bg_fail(e, BG_ERR_INVALID, "remote message: bad end record");
			ended = 1;
		} else if (!response && type == 'A') {
			if (m->argc == REMOTE_MAX_ARGS || len > REMOTE_MAX_ARG ||
			    memchr(p, '\0', len) != NULL)
				return bg_fail(e, BG_ERR_INVALID, "remote request: too many arguments, "
				    "or one too long or with a NUL byte");
			if ((m->argv[m->argc] = malloc(len + 1)) == NULL)
				return BG_ERR_NOMEM;
			memcpy(m->argv[m->argc], p, len);
			m->argv[m->argc++][len] = '\0';
		} else if ((!response && type == 'I') || (response && type == 'F')) {
			remote_file *f = &m->files[m->nfiles];
			const unsigned char *q = p + 4, *z;

			if (len < 4 || m->nfiles == REMOTE_MAX_FILES || !arg_free(m, be32(p)))
				return bg_fail(e, BG_ERR_INVALID, "remote message: bad file record");
			f->arg = be32(p);
			if (!response) {
				if ((z = memchr(q, '\0', len - 4)) == NULL ||
				    (size_t)(z - q) > REMOTE_MAX_NAME)
					return bg_fail(e, BG_ERR_INVALID, "remote request: bad file name");
				memcpy(f->name, q, (size_t)(z - q));
				f->name[z - q] = '\0';
				if (!remote_name_ok(f->name))
					return bg_fail(e, BG_ERR_INVALID, "remote request: file name "
					    "'%.64s' is not a plain base name", f->name);
				q = z + 1;
			}
			f->data = q;
			f->len = (size_t)(p + len - q);
			if (f->len > REMOTE_MAX_FILE)
				return bg_fail(e, BG_ERR_TOOLARGE, "remote message: a file larger "
				    "than %u bytes", REMOTE_MAX_FILE);
			m->nfiles++;
		} else if (!response && type == 'O') {
			if (len != 4 || m->nouts == REMOTE_MAX_FILES || !arg_free(m, be32(p)))
				return bg_fail(e, BG_ERR_INVALID, "remote request: bad output record");
			m->outs[m->nouts++] = be32(p);
		} else if (response && (type == 'O' || type == 'E')) {
			if ((r = buf_append(type == 'O' ? &m->outb : &m->errb, p, len)) != 0)
				return bg_fail(e, BG_ERR_TOOLARGE, "remote response: too much output");
		} else if (response && type == 'X') {
			if (len != 1 || have_status)
				return bg_fail(e, BG_ERR_INVALID, "remote response: bad exit record");
			m->status = p[0];
			have_status = 1;
		} else
			return bg_fail(e, BG_ERR_INVALID, "remote message: unknown record type %u",
			    (unsigned)type);
		p += len;
	}
	if (!ended)
		return bg_fail(e, BG_ERR_INVALID, "remote message: no end record (cut short?)");
	if (response && !have_status)
		return bg_fail(e, BG_ERR_INVALID, "remote response: no exit status");
	if (!response) {
		if (m->argc == 0)
			return bg_fail(e, BG_ERR_INVALID, "remote request: no command");
		for (i = 0; i < m->nfiles; i++)
			if (m->files[i].arg >= m->argc)
				return bg_fail(e, BG_ERR_INVALID, "remote request: a file names no "
				    "argument");
		for (i = 0; i < m->nouts; i++)
			if (m->outs[i] >= m->argc)
				return bg_fail(e, BG_ERR_INVALID, "remote request: an output names no "
				    "argument");
	}
	m->out = (const unsigned char *)buf_cstr(&m->outb);
	m->err = (const unsigned char *)buf_cstr(&m->errb);
	return 0;
}
