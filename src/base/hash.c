/*
 * hash.c - SHA-256 via libsodium's crypto_hash_sha256; git blob ids (SHA-1)
 * via libcrypto, only to check a diff's pre-images.
 */
#include "hash.h"
#include "err.h"

#include <openssl/evp.h>
#include <stdio.h>

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <unistd.h>

void
hash_hex(const unsigned char *p, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hx[p[i] >> 4];
		out[2 * i + 1] = hx[p[i] & 15];
	}
	out[2 * n] = '\0';
}

void
hash_sha256_hex(const void *data, size_t len, char out[HASH_HEXLEN])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, data, len);
	hash_hex(h, sizeof(h), out);
}

int
hash_is_hex64(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[64] == '\0';
}

int
hash_fd_sha256(int fd, char out[HASH_HEXLEN])
{
	crypto_hash_sha256_state st;
	unsigned char h[crypto_hash_sha256_BYTES], b[65536];
	off_t off = 0;
	ssize_t n;

	crypto_hash_sha256_init(&st);
	for (;;) {
		n = pread(fd, b, sizeof(b), off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return BG_ERR_IO;
		if (n == 0)
			break;
		crypto_hash_sha256_update(&st, b, (size_t)n);
		off += n;
	}
	crypto_hash_sha256_final(&st, h);
	hash_hex(h, sizeof(h), out);
	return 0;
}

int
hash_file_sha256(const char *path, char out[HASH_HEXLEN])
{
	int fd, r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return errno == ENOENT ? BG_ERR_NOTFOUND : BG_ERR_IO;
	r = hash_fd_sha256(fd, out);
	close(fd);
	return r;
}

int
hash_git_blob_hex(const void *data, size_t len, char out[41])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char head[32];
	int hn = snprintf(head, sizeof(head), "blob %zu", len);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok;

	out[0] = '\0';
	if (c == NULL)
		return BG_ERR_NOMEM;
	ok = EVP_DigestInit_ex(c, EVP_sha1(), NULL) == 1 &&
	    EVP_DigestUpdate(c, head, (size_t)hn + 1) == 1 && /* with its NUL */
	    EVP_DigestUpdate(c, data, len) == 1 &&
	    EVP_DigestFinal_ex(c, md, &mdlen) == 1 && mdlen == 20;
	EVP_MD_CTX_free(c);
	if (!ok)
		return BG_ERR_IO;
	hash_hex(md, 20, out);
	return 0;
}
