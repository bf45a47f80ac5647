/*
 * grantscope.c - the field lists of a grant request and of the scope a
 * grant certificate carries (see grantscope.h).  One list of fields,
 * used twice, so that what the broker checks and what the host reads
 * cannot drift apart.
 */
#include "grantscope.h"

#include "err.h"

#include <ctype.h>
#include <sodium.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define GRANT_FIELDS \
	{ "kind", KV_REQUIRED, 16 }, \
	{ "system", KV_REQUIRED, 128 }, \
	{ "account", 0, 64 }, \
	{ "tier", 0, 16 }, \
	{ "access", 0, 16 }, \
	{ "read", KV_MULTI, 1024 }, \
	{ "write", KV_MULTI, 1024 }, \
	{ "command", KV_MULTI, 4096 }, \
	{ "sudo", KV_MULTI, 4096 }, \
	{ "sudo-intercept", KV_MULTI, 4096 }, \
	{ "source-address", 0, 512 }, \
	{ "engine", 0, 32 }, \
	{ "database", 0, 128 }, \
	{ "schema", KV_MULTI, 128 }, \
	{ "table", KV_MULTI, 160 }, \
	{ "branch", 0, 256 }, \
	{ "bypass-protection", 0, 8 }, \
	{ "superuser", 0, 8 }, \
	{ "role", 0, 256 }, \
	{ "resource", 0, 512 }, \
	{ "granted-by", 0, 256 }, \
	{ "ttl", KV_REQUIRED, 16 }, \
	{ "reason", 0, 1024 },

const kv_key grantscope_request_schema[] = {
	GRANT_FIELDS
	{ NULL, 0, 0 }
};

const kv_key grantscope_cert_schema[] = {
	{ "ticket", KV_REQUIRED, 32 },
	{ "grant", KV_REQUIRED, 32 },
	GRANT_FIELDS
	{ "artifact", KV_MULTI, 128 },
	{ NULL, 0, 0 }
};

int
grantscope_writes(const kv_doc *d)
{
	const char *kind = kv_get(d, "kind"), *v;

	if (kind == NULL)
		return 1; /* unknown: treat as writing (fail closed) */
	if (strcmp(kind, "ssh") == 0) {
		v = kv_get(d, "tier");
		return (v != NULL && strcmp(v, "read") != 0) || kv_get(d, "write") != NULL ||
		    kv_get(d, "command") != NULL || kv_get(d, "sudo") != NULL ||
		    kv_get(d, "sudo-intercept") != NULL;
	}
	if (strcmp(kind, "sftp") == 0)
		return kv_get(d, "write") != NULL;
	v = kv_get(d, "access");
	return v != NULL && strcmp(v, "read-write") == 0;
}

int
grantscope_parse_id(const char *s, char prefix, int64_t *id)
{
	char *end;
	long long v;

	if (s == NULL)
		return BG_ERR_INVALID;
	if ((s[0] == prefix || s[0] == tolower((unsigned char)prefix)) && s[1] == '-')
		s += 2;
	if (*s < '1' || *s > '9')
		return BG_ERR_INVALID;
	v = strtoll(s, &end, 10);
	if (*end != '\0' || v <= 0 || v > 1000000000LL)
		return BG_ERR_INVALID;
	*id = v;
	return 0;
}

int
grantscope_ids(const kv_doc *scope, int64_t *ticket, int64_t *grant)
{
	if (grantscope_parse_id(kv_get(scope, "ticket"), 'T', ticket) != 0 ||
	    grantscope_parse_id(kv_get(scope, "grant"), 'G', grant) != 0)
		return BG_ERR_INVALID;
	return 0;
}

uint32_t
grantscope_sudo_gid(const unsigned char ca_pk[32], int64_t grant)
{
	static const char label[] = "breakglass sudo group v1";
	crypto_hash_sha256_state st;
	unsigned char h[32], id[8];
	uint32_t v;
	int k;

	for (k = 0; k < 8; k++)
		id[k] = (unsigned char)((uint64_t)grant >> (56 - 8 * k));
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const unsigned char *)label, sizeof(label) - 1);
	crypto_hash_sha256_update(&st, ca_pk, 32);
	crypto_hash_sha256_update(&st, id, sizeof(id));
	crypto_hash_sha256_final(&st, h);
	v = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
	return GRANTSCOPE_SUDO_GID_BASE + (v & 0x0fffffffu);
}
