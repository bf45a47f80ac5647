/*
 * hash.h - SHA-256 helpers (libsodium) and hex encoding.
 */
#ifndef BG_HASH_H
#define BG_HASH_H

#include <stddef.h>

#define HASH_HEXLEN 65 /* 64 hex digits + NUL */

/* SHA-256 of data as lowercase hex. */
void hash_sha256_hex(const void *data, size_t len, char out[HASH_HEXLEN]);
/* Lowercase hex of n bytes into out (2n+1 bytes). */
void hash_hex(const unsigned char *p, size_t n, char *out);
/* 1 if s is exactly 64 lowercase hex digits. */
int hash_is_hex64(const char *s);
/* SHA-256 of a file's content as hex. 0 or a BG_ERR code. */
int hash_file_sha256(const char *path, char out[HASH_HEXLEN]);
/* SHA-256 of everything in fd from offset 0 (pread: the file offset does
 * not move) as hex.  0 or BG_ERR_IO. */
int hash_fd_sha256(int fd, char out[HASH_HEXLEN]);

/*
 * Git's blob id of data (SHA-1 over "blob LEN\0" and the bytes, libcrypto)
 * as 40 hex digits: what a git diff's "index" line names.  0 or a BG_ERR.
 */
int hash_git_blob_hex(const void *data, size_t len, char out[41]);

#endif
