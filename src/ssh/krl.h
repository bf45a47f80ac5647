/*
 * krl.h - OpenSSH key revocation lists (PROTOCOL.krl), written natively
 * for sshd's RevokedKeys and read by the gate.
 *
 * breakglass writes one certificates section for its CA with a sorted
 * serial list.  The reader understands every section type so it can read
 * KRLs made by ssh-keygen too; it refuses signature sections (as OpenSSH
 * 9.4 does), unknown critical extensions, trailing data and oversized input.
 */
#ifndef BG_KRL_H
#define BG_KRL_H

#include "buf.h"
#include "err.h"
#include "sshkey.h"

#include <stdint.h>

#define KRL_MAX_SIZE (16u * 1024 * 1024)

/* Serialise a KRL revoking serials (any order, duplicates allowed) of ca. */
int krl_write(const unsigned char ca_pk[32], const uint64_t *serials, size_t n,
    uint64_t version, int64_t now, buf *out);

typedef struct krl_range {
	uint64_t lo, hi;
} krl_range;

typedef struct krl_ca {
	unsigned char *ca_blob;   /* NULL: applies to any CA */
	size_t ca_len;
	krl_range *ranges;        /* serial lists, ranges and bitmaps, as ranges */
	size_t nranges;
	char **key_ids;
	size_t nkey_ids;
} krl_ca;

typedef struct krl {
	uint64_t version;
	uint64_t generated;
	krl_ca *cas;
	size_t ncas;
	size_t nkeys;             /* explicit keys and fingerprints (not used here) */
} krl;

int krl_parse(const void *p, size_t n, krl *out, bg_error *e);
void krl_release(krl *k);

/* 1 if a certificate from CA blob ca (serial, key_id) is revoked. */
int krl_cert_revoked(const krl *k, const unsigned char *ca, size_t calen, uint64_t serial,
    const char *key_id);

#endif
