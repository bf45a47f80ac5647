/*
 * remote.h - the framed messages of remote use: a client's command and
 * its files to the broker over ssh (`breakglass --broker ssh://...`), the
 * broker's answer back (`breakglass serve`).  Nothing in them is handed
 * to a shell: the arguments become an argv, files are written under
 * fresh names in a private directory.
 *
 *   message  = magic record* end
 *   magic    = "BGRQ1\n" (request) | "BGRS1\n" (response)
 *   record   = type (1 byte) length (4 bytes, big-endian) payload
 *
 * Request records: 'A' an argument (no NUL); 'I' an input file: the index
 * of the argument that named it (4 bytes), its base name (1..128 of
 * [A-Za-z0-9._+-], not starting with '.'), a NUL, its bytes; 'O' an
 * output file: the index of the argument naming it (4 bytes).  Response
 * records: 'O' standard output bytes, 'E' standard error bytes, 'F' an
 * output file (argument index, bytes), 'X' the exit status (1 byte, once).
 * Both end with 'Z' (length 0), the last bytes.  An argument index is
 * below the number of arguments and named by one file record at most.
 */
#ifndef BG_REMOTE_H
#define BG_REMOTE_H

#include "buf.h"
#include "err.h"

#include <stddef.h>
#include <stdint.h>

#define REMOTE_MAGIC_REQ "BGRQ1\n"
#define REMOTE_MAGIC_RES "BGRS1\n"
#define REMOTE_MAX_ARGS 64
#define REMOTE_MAX_ARG 8192
#define REMOTE_MAX_FILES 16
#define REMOTE_MAX_NAME 128
#define REMOTE_MAX_FILE (16u * 1024 * 1024)
#define REMOTE_MAX_MSG (64u * 1024 * 1024)

typedef struct remote_file {
	uint32_t arg;
	char name[REMOTE_MAX_NAME + 1];    /* input files only */
	const unsigned char *data;         /* points into the parsed message */
	size_t len;
} remote_file;

typedef struct remote_msg {
	int response;
	char *argv[REMOTE_MAX_ARGS + 1];   /* request: NULL-terminated */
	size_t argc;
	uint32_t outs[REMOTE_MAX_FILES];   /* request: arguments naming output files */
	size_t nouts;
	remote_file files[REMOTE_MAX_FILES]; /* request: inputs; response: outputs */
	size_t nfiles;
	const unsigned char *out, *err;    /* response: output, concatenated */
	buf outb, errb;
	int status;                        /* response: the exit status */
} remote_msg;

/* Parse a whole message (response != 0: a response).  Strict: anything
 * not described above is BG_ERR_INVALID. */
int remote_parse(const void *p, size_t n, int response, remote_msg *m, bg_error *e);
void remote_release(remote_msg *m);

/* Append one record to b (which starts with the magic: buf_puts). */
int remote_put(buf *b, char type, const void *p, size_t n);
/* An 'I' or 'F' record (name NULL for 'F'), or an 'O' record (data NULL). */
int remote_put_file(buf *b, char type, uint32_t arg, const char *name, const void *data,
    size_t n);
/* 1 if name may name an input file. */
int remote_name_ok(const char *name);

#endif
