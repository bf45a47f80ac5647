/*
 * gen-corpus.c - a deterministic corpus for the secret-scanner bench.
 *
 * usage: gen-corpus DIR MIB [SEED]
 *
 * Writes DIR/corpus/ (source, logs, config and JSON, 8 kinds of file) of
 * about MIB mebibytes, with every positive example of every rule seeded
 * several times and every counter-example plus a set of extra traps
 * (identifiers, hashes, UUIDs, placeholders, public keys) seeded too.
 * DIR/seeds.tsv and DIR/traps.tsv list them: file, first line, lines,
 * rule.  The filler itself is meant to be clean: code that handles tokens
 * and passwords without holding any, logs full of ids and hashes.
 */
#include "rules.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static uint64_t rng = 88172645463325252ull;

static uint64_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static unsigned
pick(unsigned n)
{
	return (unsigned)(next() % n);
}

static void
hex(FILE *f, int n)
{
	while (n-- > 0)
		fputc("0123456789abcdef"[pick(16)], f);
}

static const char *const words[] = {
	"order", "cart", "checkout", "payment", "invoice", "customer", "session", "cache",
	"queue", "worker", "retry", "timeout", "handler", "request", "response", "user",
	"account", "product", "price", "stock", "shipping", "refund", "webhook", "event",
	"index", "count", "total", "status", "result", "config", "client", "server",
};
#define W words[pick(sizeof(words) / sizeof(words[0]))]

/* One line of filler of kind k (0..7); returns the number of lines. */
static int
filler(FILE *f, int k)
{
	/* code that handles tokens and passwords, now and then */
	static const char *const code_traps[] = {
		"\tconst char *token = get_header(req, \"Authorization\");\n",
		"const int kApiTaggedSize = kApiInt32Size;\n",
		"\tpassword_len = strlen(password);\n",
		"    token = request.headers.get('X-Token')\n",
		"    password = os.environ[\"DB_PASSWORD\"]\n",
		"    secret_key = settings.SECRET_KEY\n",
		"  const apiKey = process.env.API_KEY;\n",
		"  if (!token) throw new Error('missing token');\n",
		"  password: ${DB_PASSWORD}\n",
		"  token: {{ .Values.api.token }}\n",
		"DB_PASSWORD=changeme\n",
		"API_TOKEN=<your-token-here>\n",
		"password_min_length = 12\n",
	};

	if (pick(60) == 0) {
		fputs(code_traps[pick(sizeof(code_traps) / sizeof(code_traps[0]))], f);
		return 1;
	}
	switch (k) {
	case 0: /* C */
		switch (pick(8)) {
		case 0: fprintf(f, "static int %s_%s(struct %s *p, size_t n)\n", W, W, W); break;
		case 1: fprintf(f, "\tif (p->%s == NULL || n > MAX_%s)\n\t\treturn -EINVAL;\n", W, "LEN"); return 2;
		case 2: fprintf(f, "\tconst char *%s = get_%s(req, \"X-%s\");\n", W, W, W); break;
		case 3: fprintf(f, "\tmemcpy(buf + off, %s->data, %s_len);\n", W, W); break;
		case 4: fprintf(f, "\t/* %s the %s before the %s is freed */\n", W, W, W); break;
		case 5: fprintf(f, "#define %s_MAX %u\n", "BUF", pick(4096)); break;
		case 6: fprintf(f, "\t%s_len = strlen(%s);\n", W, W); break;
		default: fprintf(f, "\tfor (i = 0; i < %s_count; i++) %s[i] = %u;\n", W, W, pick(1000)); break;
		}
		return 1;
	case 1: /* Python */
		switch (pick(7)) {
		case 0: fprintf(f, "def %s_%s(self, %s, %s=None):\n", W, W, W, W); break;
		case 1: fprintf(f, "    %s = request.args.get('%s')\n", W, W); break;
		case 2: fprintf(f, "    for %s in self.%s:\n", W, W); break;
		case 3: fprintf(f, "    self.%s = %s.%s(%s)\n", W, W, W, W); break;
		case 4: fprintf(f, "    # %s %s %s\n", W, W, W); break;
		case 5: fprintf(f, "    log.info(\"%s %%s\", %s)\n", W, W); break;
		default: fprintf(f, "    return {\"%s\": %s, \"%s\": %u}\n", W, W, W, pick(99999)); break;
		}
		return 1;
	case 2: /* JavaScript */
		switch (pick(6)) {
		case 0: fprintf(f, "export async function %s%s(%s) {\n", W, "Handler", W); break;
		case 1: fprintf(f, "  const %s = props.%s ?? %u;\n", W, W, pick(100)); break;
		case 2: fprintf(f, "  const %s = await fetch(`/api/%s/${id}`);\n", W, W); break;
		case 3: fprintf(f, "  if (!%s) throw new Error('missing %s');\n", W, W); break;
		case 4: fprintf(f, "  \"integrity\": \"sha512-"); hex(f, 86); fprintf(f, "\",\n"); break;
		default: fprintf(f, "  return %s.map((x) => x.%s + %u);\n", W, W, pick(100)); break;
		}
		return 1;
	case 3: /* logs */
		fprintf(f, "2026-11-%02uT%02u:%02u:%02u.%03uZ %s %s request_id=", 1 + pick(28), pick(24),
		    pick(60), pick(60), pick(1000), pick(5) ? "INFO" : "WARN", W);
		hex(f, 8); fputc('-', f); hex(f, 4); fputs("-4", f); hex(f, 3); fputs("-a", f);
		hex(f, 3); fputc('-', f); hex(f, 12);
		fprintf(f, " path=/api/%s/%u status=%u dur=%ums commit=", W, pick(100000),
		    pick(4) ? 200 : 500, pick(3000));
		hex(f, 40);
		fputc('\n', f);
		return 1;
	case 4: /* YAML */
		switch (pick(6)) {
		case 0: fprintf(f, "%s:\n  %s: %u\n", W, W, pick(1000)); return 2;
		case 1: fprintf(f, "  image: registry.shop.internal/%s:%u.%u.%u\n", W, pick(9), pick(20), pick(50)); break;
		case 2: fprintf(f, "  replicas: %u\n", 1 + pick(9)); break;
		case 3: fprintf(f, "  %s: {{ .Values.%s.%s }}\n", W, W, W); break;
		case 4: fprintf(f, "  checksum/config: "); hex(f, 64); fputc('\n', f); break;
		default: fprintf(f, "  %s_%s: %s\n", W, W, pick(2) ? "true" : "false"); break;
		}
		return 1;
	case 5: /* .env / shell */
		switch (pick(5)) {
		case 0: fprintf(f, "%s_%s_URL=https://%s.shop.internal/%s\n", "SHOP", "API", W, W); break;
		case 1: fprintf(f, "%s_POOL_SIZE=%u\n", "DB", pick(64)); break;
		case 2: fprintf(f, "FEATURE_%s=%s\n", "CHECKOUT_V2", pick(2) ? "on" : "off"); break;
		case 3: fprintf(f, "export %s_TIMEOUT=%u\n", "WORKER", pick(600)); break;
		default: fprintf(f, "LOG_LEVEL=%s\n", pick(2) ? "info" : "debug"); break;
		}
		return 1;
	case 6: /* JSON */
		fprintf(f, "{\"id\": \"");
		hex(f, 8); fputc('-', f); hex(f, 4); fputs("-4", f); hex(f, 3); fputs("-8", f);
		hex(f, 3); fputc('-', f); hex(f, 12);
		fprintf(f, "\", \"%s\": \"%s\", \"sha256\": \"", W, W);
		hex(f, 64);
		fprintf(f, "\", %s\"%s\": %u, \"tags\": [\"%s\", \"%s\"]}\n",
		    pick(8) ? "" : "\"token_type\": \"Bearer\", ", W, pick(100000), W, W);
		return 1;
	default: /* INI / properties */
		switch (pick(4)) {
		case 0: fprintf(f, "[%s]\n", W); break;
		case 1: fprintf(f, "%s.%s = %u\n", W, W, pick(10000)); break;
		case 2: fprintf(f, "%s_retries = %u\n", W, pick(8)); break;
		default: fprintf(f, "ssh_host_key = ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI"); hex(f, 43); fputc('\n', f); break;
		}
		return 1;
	}
}

static const char *const ext[] = { "c", "py", "js", "log", "yaml", "env", "json", "ini" };

/* Extra traps beyond the rules' own counter-examples. */
static const char *const traps[] = {
	"const int kApiTaggedSize = kApiInt32Size;",
	"AKIAIOSFODNN7EXAMPLE",
	"aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	"password = \"changeme\"",
	"api_key: <your-key>",
	"token: ${SECRET}",
	"SECRET_KEY=xxxxxxxxxxxxxxxxxxxxxxxx",
	"uuid = 123e4567-e89b-12d3-a456-426614174000",
	"commit 9fceb02d0ae598e95dc970b74767f19372d61af8",
	"sha256:3b38eb6a4e046ecee9cc4f025d2da0d12223a04aea7ee86731b523825a815f7f",
	"-----BEGIN PUBLIC KEY-----",
	"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 ops@bastion",
	"postgres://shop@db1:5432/shop",
	"https://user:password@example.com/",
	"STRIPE_KEY=sk_test_4eC39HqLyjWDarjtT1zdp7dc",
};

typedef struct seed {
	const char *text;
	size_t len;
	const char *rule; /* NULL for a trap */
} seed;

int
main(int argc, char **argv)
{
	rule_set rs;
	bg_error e;
	seed *seeds;
	size_t nseeds = 0, i, r, files = 512, per_file, total_mib;
	FILE *sf, *tf;
	char path[4096];
	int copies = 4;

	if (argc < 3) {
		fprintf(stderr, "usage: gen-corpus DIR MIB [SEED]\n");
		return 2;
	}
	total_mib = strtoul(argv[2], NULL, 10);
	if (argc > 3)
		rng ^= strtoull(argv[3], NULL, 10) * 0x9e3779b97f4a7c15ull;
	if (rules_parse(rules_builtin_text, rules_builtin_len, "rules", &rs, &e) != 0) {
		fprintf(stderr, "gen-corpus: %s\n", e.msg);
		return 1;
	}
	seeds = calloc(rs.n * 64 + 64, sizeof(*seeds));
	for (r = 0; r < rs.n; r++) {
		for (i = 0; i < rs.r[r].nexamples; i++)
			seeds[nseeds++] = (seed){ rs.r[r].examples[i].s, rs.r[r].examples[i].len, rs.r[r].id };
		for (i = 0; i < rs.r[r].nnots; i++)
			seeds[nseeds++] = (seed){ rs.r[r].nots[i].s, rs.r[r].nots[i].len, NULL };
	}
	for (i = 0; i < sizeof(traps) / sizeof(traps[0]); i++)
		seeds[nseeds++] = (seed){ traps[i], strlen(traps[i]), NULL };
	snprintf(path, sizeof(path), "%s/corpus", argv[1]);
	if (mkdir(argv[1], 0755) != 0 && errno != EEXIST)
		return 1;
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		return 1;
	snprintf(path, sizeof(path), "%s/seeds.tsv", argv[1]);
	sf = fopen(path, "w");
	snprintf(path, sizeof(path), "%s/traps.tsv", argv[1]);
	tf = fopen(path, "w");
	if (sf == NULL || tf == NULL)
		return 1;
	per_file = total_mib * 1024 * 1024 / files;
	for (i = 0; i < files; i++) {
		int k = (int)(i % 8);
		char name[64];
		FILE *f;
		long line = 1;
		/* which seeds land in this file: copies of each, spread evenly */
		size_t s;

		snprintf(name, sizeof(name), "f%04zu.%s", i, ext[k]);
		snprintf(path, sizeof(path), "%s/corpus/%s", argv[1], name);
		if ((f = fopen(path, "w")) == NULL)
			return 1;
		for (s = 0; s < nseeds * (size_t)copies; s++) {
			if (s % files != i)
				continue;
			/* filler up to this seed's share of the file */
			while ((size_t)ftell(f) < per_file * (s / files + 1) / ((nseeds * copies) / files + 2))
				line += filler(f, k);
			{
				const seed *sd = &seeds[s % nseeds];
				long nl = 1;
				size_t c;

				for (c = 0; c < sd->len; c++)
					nl += sd->text[c] == '\n';
				if (sd->len > 0 && sd->text[sd->len - 1] == '\n')
					nl--;
				fwrite(sd->text, 1, sd->len, f);
				if (sd->len == 0 || sd->text[sd->len - 1] != '\n')
					fputc('\n', f);
				fprintf(sd->rule ? sf : tf, "%s\t%ld\t%ld\t%s\n", name, line, nl,
				    sd->rule ? sd->rule : "-");
				line += nl;
				/* a blank line keeps trigger windows from reaching the next seed */
				fputs("\n\n\n\n", f);
				line += 4;
			}
		}
		while ((size_t)ftell(f) < per_file)
			line += filler(f, k);
		fclose(f);
	}
	fclose(sf);
	fclose(tf);
	rules_release(&rs);
	free(seeds);
	return 0;
}
