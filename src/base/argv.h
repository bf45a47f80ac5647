/*
 * argv.h - strict command-line tokeniser; breakglass never hands a string
 * to a shell, so commands are split here and matched as argv.
 *
 * Rules: arguments are separated by spaces or tabs; '...' is literal;
 * "..." allows only \" and \\ escapes; a backslash outside quotes, an
 * unterminated quote, a NUL, any control character (including newline),
 * more than ARGV_MAX_ARGS arguments or an argument over ARGV_MAX_ARG bytes
 * is refused with the byte position.
 */
#ifndef BG_ARGV_H
#define BG_ARGV_H

#include "buf.h"
#include "err.h"

#include <stddef.h>

#define ARGV_MAX_ARGS 256
#define ARGV_MAX_ARG 4096

typedef struct argv_list {
	char **v;   /* NULL-terminated */
	size_t n;
} argv_list;

int argv_split(const char *s, argv_list *out, bg_error *e);
void argv_release(argv_list *a);
/* Canonical quoting of a (re-splits to the same argv). */
int argv_join(const argv_list *a, buf *out);
/* 1 if two argvs are identical. */
int argv_equal(const argv_list *a, const argv_list *b);

#endif
