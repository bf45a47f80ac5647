/*
 * cfgfmt.h - just enough of the common configuration formats to find keys
 * and values: INI (php.ini and the like), .env, JSON, a YAML subset, PHP
 * config (define() and array config), and `php -i` output.
 *
 * The parsers are strict and conservative: a line they cannot read is
 * handed over whole (CFG_WHOLE, path "#LINE"), never split into a key and
 * a value by guessing, so that the caller hashes it rather than copies
 * it.  JSON is all or nothing: a file that is not valid JSON is refused
 * (the caller then hashes the whole file).
 */
#ifndef BG_CFGFMT_H
#define BG_CFGFMT_H

#include "err.h"

#include <stddef.h>

enum { CFG_INI, CFG_ENV, CFG_JSON, CFG_YAML, CFG_PHP, CFG_PHPINFO, CFG_LINES, CFG_NFMT };

#define CFG_WHOLE   0x01 /* a line that was not parsed: value is the line */
#define CFG_RUNTIME 0x02 /* a runtime's own setting (php -i "directive => local => master") */

#define CFG_MAX_INPUT (4u * 1024 * 1024)
#define CFG_MAX_DEPTH 64
#define CFG_MAX_PATH 1024

/*
 * Called for each key found: path is the flattened key (a.b[0].c), value
 * the value (quotes removed, escapes decoded for JSON).  A non-zero return
 * stops the parse and is returned.
 */
typedef int (*cfg_emit_fn)(void *ctx, const char *path, const char *value, size_t line,
    int flags);

/* The format for a file name (".json", ".yml", ".php", ".env", ...): CFG_*. */
int cfg_format_for(const char *filename);
/* The format named ("ini", "env", "json", "yaml", "php", "phpinfo", "lines") or -1. */
int cfg_format_named(const char *name);
const char *cfg_format_name(int fmt);

/*
 * Parse text[0..len) as fmt, calling fn for every key.  0, or
 * BG_ERR_INVALID (NUL byte, invalid JSON: e says where), BG_ERR_TOOLARGE,
 * BG_ERR_NOMEM, or what fn returned.
 */
int cfg_parse(int fmt, const char *text, size_t len, cfg_emit_fn fn, void *ctx, bg_error *e);

#endif
