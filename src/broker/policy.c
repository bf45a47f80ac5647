/*
 * policy.c - rules parser and evaluator.
 *
 * The evaluator is a loop over rules with one small function per check
 * type; everything specific (field names, forbidden values, limits, the
 * words of the refusal) comes from the rules text.
 */
#include "policy.h"
#include "argv.h"
#include "buf.h"
#include "text.h"
#include "utc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char policy_default_rules[] =
"# breakglass minimum-access policy (shipped defaults)\n"
"#\n"
"# Each rule refuses requests that are broader than an emergency fix needs.\n"
"# Edit this file to tighten it; put per-project changes in\n"
"# policy.d/PROJECT.rules (a rule with the same name replaces this one).\n"
"\n"
"rule no-privileged-account\n"
"  applies ssh sftp db cms cloud repo manual\n"
"  check deny-values account\n"
"  values root toor admin administrator owner superuser sa postgres rdsadmin mysql.sys org-owner billing\n"
"  reason privileged, owner and billing accounts are never handed out\n"
"  suggest request a dedicated unprivileged account instead of '{value}', e.g. --account hotfix\n"
"\n"
"rule no-owner-role\n"
"  applies cms cloud repo db manual\n"
"  check deny-substring role\n"
"  values owner admin billing superuser root organization-owner org-owner fullaccess full-access *\n"
"  reason owner, administrator and billing roles are never handed out\n"
"  suggest request a role limited to the affected resource instead of '{value}'\n"
"\n"
"rule no-db-superuser\n"
"  applies db\n"
"  check deny-flag superuser\n"
"  reason database superuser rights are never handed out\n"
"  suggest drop --superuser and request read-only or read-write on the affected database and schemas\n"
"\n"
"rule db-named-tables\n"
"  applies db\n"
"  check require-field table\n"
"  reason a database grant reaches the tables it names and nothing else\n"
"  suggest add --table SCHEMA.TABLE for each table the diagnosis or fix reads (e.g. --table public.orders)\n"
"\n"
"rule no-db-server-roles\n"
"  applies db\n"
"  check deny-substring role\n"
"  values pg_read_server_files pg_write_server_files pg_execute_server_program pg_read_all_data pg_write_all_data pg_signal_backend createrole createdb replication bypassrls super\n"
"  reason roles that reach the server's files, programs, other sessions or every table, or make roles and databases, are never handed out (PostgreSQL pg_*_server_*, CREATEROLE, CREATEDB; MariaDB SUPER)\n"
"  suggest drop --role '{value}': the host makes a role with privileges on the named tables only\n"
"\n"
"rule keep-branch-protection\n"
"  applies repo\n"
"  check deny-flag bypass-protection\n"
"  reason protected branches stay protected; fixes go through a branch and review\n"
"  suggest drop --bypass-protection and push to an emergency branch\n"
"\n"
"rule ttl-cap\n"
"  check max-ttl\n"
"  limit 4h\n"
"  reason access is time-boxed in hours\n"
"  suggest --ttl {limit} or less (extend later with a new request)\n"
"\n"
"rule exact-commands\n"
"  applies ssh\n"
"  check deny-wildcards command\n"
"  reason allowed commands are exact argv, never patterns\n"
"  suggest list each command exactly as it will be run instead of '{value}'\n"
"\n"
"rule exact-privileged-commands\n"
"  applies ssh\n"
"  check deny-wildcards sudo\n"
"  reason unrestricted sudo is never handed out; privileged commands are exact argv\n"
"  suggest list each privileged command exactly, e.g. --sudo '/usr/bin/systemctl restart php-fpm'\n"
"\n"
"rule no-shell-metachar\n"
"  applies ssh\n"
"  check deny-metachar command\n"
"  values ; | & $ ` < > ( ) { } \\n ~ !\n"
"  reason commands run without a shell, so shell syntax has no place in them\n"
"  suggest split '{value}' into separate exact commands without shell syntax\n"
"\n"
"rule no-shell-metachar-privileged\n"
"  applies ssh\n"
"  check deny-metachar sudo\n"
"  values ; | & $ ` < > ( ) { } \\n ~ !\n"
"  reason privileged commands run without a shell, so shell syntax has no place in them\n"
"  suggest split '{value}' into separate exact commands without shell syntax\n"
"\n"
"rule no-launchers\n"
"  applies ssh\n"
"  check deny-launchers command\n"
"  reason an allowed command must not be able to start another program (the launcher list: rules/launchers.rules)\n"
"  suggest {value}\n"
"\n"
"rule no-launchers-privileged\n"
"  applies ssh\n"
"  check deny-launchers sudo\n"
"  reason a privileged command that can start another program is unrestricted root (the launcher list: rules/launchers.rules)\n"
"  suggest {value}\n"
"\n"
"rule no-unrestricted-sudo\n"
"  applies ssh\n"
"  check deny-programs sudo\n"
"  values chmod chown chgrp chattr cp mv dd tee install ln rm passwd chpasswd useradd usermod userdel groupadd gpasswd visudo mount umount insmod modprobe sysctl iptables nft\n"
"  reason privileged file, account and kernel tools amount to unrestricted root\n"
"  suggest name the one privileged operation needed instead of '{value}', e.g. /usr/bin/systemctl restart SERVICE\n"
"\n"
"rule absolute-commands\n"
"  applies ssh\n"
"  check require-absolute command\n"
"  reason commands must name their program by absolute path, so PATH cannot change what runs\n"
"  suggest use the full path of '{value}', e.g. /usr/bin/{value}\n"
"\n"
"rule absolute-privileged-commands\n"
"  applies ssh\n"
"  check require-absolute sudo\n"
"  reason privileged commands must name their program by absolute path\n"
"  suggest use the full path of '{value}'\n"
"\n"
"rule no-broad-read\n"
"  applies ssh sftp\n"
"  check deny-paths read\n"
"  values / /etc /var /usr /home /srv /opt /var/lib /var/log /tmp\n"
"  reason whole system trees are broader than any diagnosis needs\n"
"  suggest name the application's own directory instead of '{value}', e.g. /var/log/nginx or /srv/app\n"
"\n"
"rule no-broad-write\n"
"  applies ssh sftp\n"
"  check deny-paths write\n"
"  values / /etc /var /usr /home /srv /opt /var/lib /var/log /tmp /var/www\n"
"  reason write access is limited to the directories the fix touches\n"
"  suggest name the directory the fix changes instead of '{value}', e.g. /srv/app/current\n"
"\n"
"rule no-sensitive-read\n"
"  applies ssh sftp\n"
"  check deny-under read\n"
"  values /root /etc/shadow /etc/gshadow /etc/sudoers /etc/sudoers.d /etc/ssh /proc /sys /dev /boot /var/lib/breakglass /etc/breakglass\n"
"  reason credentials, the host's identity and breakglass itself are off limits\n"
"  suggest request a directory that does not contain or lie under '{value}'\n"
"\n"
"rule no-sensitive-write\n"
"  applies ssh sftp\n"
"  check deny-under write\n"
"  values /root /etc/shadow /etc/gshadow /etc/passwd /etc/group /etc/sudoers /etc/sudoers.d /etc/ssh /etc/pam.d /etc/security /etc/cron.d /etc/systemd /proc /sys /dev /boot /usr /bin /sbin /lib /var/lib/breakglass /etc/breakglass\n"
"  reason system, authentication and breakglass files are never writable by a hotfix\n"
"  suggest request a directory that does not contain or lie under '{value}'\n"
"\n"
"rule absolute-paths\n"
"  applies ssh sftp\n"
"  check require-absolute read\n"
"  reason scoped paths must be absolute and normalised\n"
"  suggest use an absolute path without '..' instead of '{value}'\n"
"\n"
"rule absolute-write-paths\n"
"  applies ssh sftp\n"
"  check require-absolute write\n"
"  reason scoped paths must be absolute and normalised\n"
"  suggest use an absolute path without '..' instead of '{value}'\n"
"\n"
"rule named-account\n"
"  applies ssh sftp db\n"
"  check require-field account\n"
"  reason access is given to a named account, never 'whatever works'\n"
"  suggest add --account NAME (a dedicated hotfix account)\n"
"\n"
"rule stated-reason\n"
"  check require-field reason\n"
"  reason every grant says why it is needed\n"
"  suggest add --reason 'what this access is for'\n"
"\n"
"rule related-systems-only\n"
"  check known-systems\n"
"  reason access is limited to the systems registered for the ticket's project\n"
"  suggest request one of the project's systems ({value} is not one), or register it with 'breakglass project set PROJECT --systems ...'\n";

static const char *const kind_names[] = {
	"ssh", "db", "repo", "sftp", "cms", "cloud", "manual", NULL
};

static const struct {
	const char *name;
	policy_check check;
	int needs_field, needs_values, needs_limit;
} checks[] = {
	{ "deny-values", PC_DENY_VALUES, 1, 1, 0 },
	{ "deny-substring", PC_DENY_SUBSTRING, 1, 1, 0 },
	{ "deny-paths", PC_DENY_PATHS, 1, 1, 0 },
	{ "deny-under", PC_DENY_UNDER, 1, 1, 0 },
	{ "deny-wildcards", PC_DENY_WILDCARDS, 1, 0, 0 },
	{ "deny-metachar", PC_DENY_METACHAR, 1, 1, 0 },
	{ "deny-programs", PC_DENY_PROGRAMS, 1, 1, 0 },
	{ "require-absolute", PC_REQUIRE_ABSOLUTE, 1, 0, 0 },
	{ "require-field", PC_REQUIRE_FIELD, 1, 0, 0 },
	{ "deny-flag", PC_DENY_FLAG, 1, 0, 0 },
	{ "max-ttl", PC_MAX_TTL, 0, 0, 1 },
	{ "known-systems", PC_KNOWN_SYSTEMS, 0, 0, 0 },
	{ "deny-launchers", PC_DENY_LAUNCHERS, 1, 2, 0 }, /* values optional */
	{ NULL, 0, 0, 0, 0 }
};

int
policy_kind_bit(const char *kind, unsigned *bit)
{
	for (int i = 0; kind_names[i]; i++) {
		if (strcmp(kind_names[i], kind) == 0) {
			*bit = 1u << i;
			return 0;
		}
	}
	return BG_ERR_INVALID;
}

static void
rule_release(policy_rule *r)
{
	size_t i;

	free(r->name);
	free(r->field);
	for (i = 0; i < r->nvalues; i++)
		free(r->values[i]);
	free(r->values);
	free(r->reason);
	free(r->suggest);
	memset(r, 0, sizeof(*r));
}

void
policy_release(policy *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		rule_release(&p->r[i]);
	p->n = 0;
}

static int
finish_rule(policy *p, policy_rule *cur, const char *source, bg_error *e)
{
	size_t i;
	int k;

	for (k = 0; checks[k].name; k++)
		if (checks[k].check == cur->check)
			break;
	if (checks[k].name == NULL)
		return bg_fail(e, BG_ERR_INVALID, "%s:%zu: rule '%s' has no check", source,
		    cur->line, cur->name);
	if (cur->reason == NULL)
		return bg_fail(e, BG_ERR_INVALID, "%s:%zu: rule '%s' has no reason", source,
		    cur->line, cur->name);
	if (checks[k].needs_values == 1 && cur->nvalues == 0)
		return bg_fail(e, BG_ERR_INVALID, "%s:%zu: rule '%s' needs 'values'", source,
		    cur->line, cur->name);
	if (checks[k].needs_values == 0 && cur->nvalues != 0)
		return bg_fail(e, BG_ERR_INVALID, "%s:%zu: rule '%s' takes no 'values'",
		    source, cur->line, cur->name);
	if (checks[k].needs_limit != (cur->limit != 0))
		return bg_fail(e, BG_ERR_INVALID, "%s:%zu: rule '%s': 'limit' %s", source,
		    cur->line, cur->name, checks[k].needs_limit ? "is required" : "is not used");
	for (i = 0; i < p->n; i++) {
		if (strcmp(p->r[i].name, cur->name) == 0) {
			rule_release(&p->r[i]);
			p->r[i] = *cur;
			memset(cur, 0, sizeof(*cur));
			return 0;
		}
	}
	if (p->n == POLICY_MAX_RULES)
		return bg_fail(e, BG_ERR_TOOLARGE, "%s: more than %d rules", source,
		    POLICY_MAX_RULES);
	p->r[p->n++] = *cur;
	memset(cur, 0, sizeof(*cur));
	return 0;
}

/* Split the rest of a line into words (on spaces). */
static int
words(const char *s, char ***out, size_t *n)
{
	char *copy = strdup(s), *save = NULL, *w;
	char **v = NULL;

	*out = NULL;
	*n = 0;
	if (copy == NULL)
		return BG_ERR_NOMEM;
	for (w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		char **nv;

		if (*n >= POLICY_MAX_VALUES || (nv = realloc(v, (*n + 1) * sizeof(*v))) == NULL)
			goto fail;
		v = nv;
		/* "\n" in a values list stands for a newline character */
		if ((v[*n] = strdup(strcmp(w, "\\n") == 0 ? "\n" : w)) == NULL)
			goto fail;
		(*n)++;
	}
	free(copy);
	*out = v;
	return 0;
fail:
	while (*n > 0)
		free(v[--(*n)]);
	free(v);
	free(copy);
	return BG_ERR_TOOLARGE;
}

/*
 * The line format the policy and the launcher list share: the whole text
 * checked first (a size cap, UTF-8 without control characters), then one
 * line at a time, trimmed, blank lines and '#' comments skipped.
 */
typedef struct lines {
	const char *text, *source;
	size_t len, off, line;
	char ln[4096];
} lines;

/* 0, or an error naming the source (and the offending position). */
static int
lines_start(lines *it, const char *text, size_t len, size_t cap, const char *cap_name,
    const char *source, bg_error *e)
{
	size_t bad;

	memset(it, 0, sizeof(*it));
	it->text = text;
	it->len = len;
	it->source = source;
	if (len > cap)
		return bg_fail(e, BG_ERR_TOOLARGE, "%s: larger than %s", source, cap_name);
	if (text_check(text, len, 1, &bad) != 0) {
		size_t l, c;

		text_position(text, bad, &l, &c);
		return bg_fail(e, BG_ERR_INVALID,
		    "%s:%zu:%zu: invalid UTF-8 or control character", source, l, c);
	}
	return 0;
}

/*
 * The next line that says something: 1 with *t (trimmed, inside it->ln)
 * and *indented set and it->line its number; 0 at the end; an error for
 * a line longer than it->ln holds.
 */
static int
lines_next(lines *it, char **t, int *indented, bg_error *e)
{
	while (it->off < it->len) {
		const char *s = it->text + it->off, *nl = memchr(s, '\n', it->len - it->off);
		size_t n = nl ? (size_t)(nl - s) : it->len - it->off;

		it->off += n + (nl != NULL);
		it->line++;
		if (n >= sizeof(it->ln))
			return bg_fail(e, BG_ERR_TOOLARGE, "%s:%zu: line too long", it->source,
			    it->line);
		memcpy(it->ln, s, n);
		it->ln[n] = '\0';
		*indented = it->ln[0] == ' ' || it->ln[0] == '\t';
		*t = text_trim(it->ln);
		if (**t != '\0' && **t != '#')
			return 1;
	}
	return 0;
}

int
policy_parse(policy *p, const char *text, size_t len, const char *source, bg_error *e)
{
	policy_rule cur;
	lines it;
	size_t line = 0;
	unsigned seen = 0;
	int have = 0, indented, r = 0;
	char *t;

	memset(&cur, 0, sizeof(cur));
	if ((r = lines_start(&it, text, len, 1024 * 1024, "1 MiB", source, e)) != 0)
		return r;
	while ((r = lines_next(&it, &t, &indented, e)) > 0) {
		char *key, *rest;

		line = it.line;
		key = t;
		rest = t + strcspn(t, " \t");
		if (*rest != '\0') {
			*rest++ = '\0';
			rest = text_trim(rest);
		}
		if (!indented) {
			if (strcmp(key, "rule") != 0) {
				r = bg_fail(e, BG_ERR_INVALID,
				    "%s:%zu: expected 'rule NAME' (settings are indented)", source, line);
				goto fail;
			}
			if (have && (r = finish_rule(p, &cur, source, e)) != 0)
				goto fail;
			if (!text_is_ident(rest, 63)) {
				r = bg_fail(e, BG_ERR_INVALID, "%s:%zu: invalid rule name", source, line);
				goto fail;
			}
			rule_release(&cur);
			if ((cur.name = strdup(rest)) == NULL) {
				r = BG_ERR_NOMEM;
				goto fail;
			}
			cur.line = line;
			cur.enabled = 1;
			cur.check = (policy_check)-1;
			have = 1;
			seen = 0;
			continue;
		}
		if (!have) {
			r = bg_fail(e, BG_ERR_INVALID, "%s:%zu: setting outside a rule", source, line);
			goto fail;
		}
		{
			static const char *const keys[] = {
				"applies", "check", "values", "limit", "when", "reason",
				"suggest", "enabled", NULL
			};
			int k;

			for (k = 0; keys[k] && strcmp(keys[k], key) != 0; k++)
				;
			if (keys[k] == NULL) {
				r = bg_fail(e, BG_ERR_INVALID, "%s:%zu: unknown setting '%.32s'",
				    source, line, key);
				goto fail;
			}
			if (seen & (1u << k)) {
				r = bg_fail(e, BG_ERR_INVALID, "%s:%zu: duplicate setting '%s'",
				    source, line, key);
				goto fail;
			}
			seen |= 1u << k;
			if (*rest == '\0') {
				r = bg_fail(e, BG_ERR_INVALID, "%s:%zu: '%s' needs a value", source,
				    line, key);
				goto fail;
			}
		}
		if (strcmp(key, "applies") == 0) {
			char **w;
			size_t nw;

			if ((r = words(rest, &w, &nw)) != 0)
				goto fail_r;
			for (size_t i = 0; i < nw; i++) {
				unsigned bit;

				if (policy_kind_bit(w[i], &bit) != 0) {
					r = bg_fail(e, BG_ERR_INVALID, "%s:%zu: unknown kind '%.32s'",
					    source, line, w[i]);
					for (; i < nw; i++)
						free(w[i]);
					free(w);
					goto fail;
				}
				cur.kinds |= bit;
				free(w[i]);
			}
			free(w);
		} else if (strcmp(key, "check") == 0) {
			char *field = rest + strcspn(rest, " \t");
			int k;

			if (*field != '\0') {
				*field++ = '\0';
				field = text_trim(field);
			}
			for (k = 0; checks[k].name && strcmp(checks[k].name, rest) != 0; k++)
				;
			if (checks[k].name == NULL) {
				r = bg_fail(e, BG_ERR_INVALID, "%s:%zu: unknown check '%.32s'", source,
				    line, rest);
				goto fail;
			}
			if (checks[k].needs_field != (*field != '\0') ||
			    (*field && !text_is_ident(field, 32))) {
				r = bg_fail(e, BG_ERR_INVALID, "%s:%zu: check '%s' %s", source, line,
				    checks[k].name, checks[k].needs_field ? "needs one field name" :
				    "takes no field");
				goto fail;
			}
			cur.check = checks[k].check;
			if (*field && (cur.field = strdup(field)) == NULL) {
				r = BG_ERR_NOMEM;
				goto fail;
			}
		} else if (strcmp(key, "values") == 0) {
			if ((r = words(rest, &cur.values, &cur.nvalues)) != 0)
				goto fail_r;
		} else if (strcmp(key, "limit") == 0) {
			if (utc_parse_duration(rest, &cur.limit) != 0) {
				r = bg_fail(e, BG_ERR_INVALID, "%s:%zu: invalid duration '%.32s'",
				    source, line, rest);
				goto fail;
			}
		} else if (strcmp(key, "when") == 0) {
			if (strcmp(rest, "always") == 0)
				cur.write_only = 0;
			else if (strcmp(rest, "write") == 0)
				cur.write_only = 1;
			else {
				r = bg_fail(e, BG_ERR_INVALID, "%s:%zu: 'when' is always or write",
				    source, line);
				goto fail;
			}
		} else if (strcmp(key, "enabled") == 0) {
			if (strcmp(rest, "yes") == 0)
				cur.enabled = 1;
			else if (strcmp(rest, "no") == 0)
				cur.enabled = 0;
			else {
				r = bg_fail(e, BG_ERR_INVALID, "%s:%zu: 'enabled' is yes or no",
				    source, line);
				goto fail;
			}
		} else {
			char **dst = strcmp(key, "reason") == 0 ? &cur.reason : &cur.suggest;

			if (strlen(rest) > 300) {
				r = bg_fail(e, BG_ERR_TOOLARGE, "%s:%zu: '%s' longer than 300 bytes",
				    source, line, key);
				goto fail;
			}
			if ((*dst = strdup(rest)) == NULL) {
				r = BG_ERR_NOMEM;
				goto fail;
			}
		}
	}
	if (r < 0 || (have && (r = finish_rule(p, &cur, source, e)) != 0))
		goto fail;
	return 0;
fail_r:
	r = bg_fail(e, r, "%s:%zu: too many values", source, line);
fail:
	rule_release(&cur);
	return r;
}

/* ---- the launcher list ---- */

void
policy_launchers_release(policy_launchers *l)
{
	size_t i;

	for (i = 0; i < l->ncat; i++) {
		free(l->cat[i].name);
		free(l->cat[i].why);
	}
	for (i = 0; i < l->nprog; i++)
		free(l->prog[i].name);
	memset(l, 0, sizeof(*l));
}

/* A program name: letters, digits and . _ + - (no '/'), 1..63 bytes. */
static int
program_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < 64 && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._+-") == n && s[0] != '.' && s[0] != '-';
}

static const struct policy_launcher *
find_exact(const policy_launchers *l, const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < l->nprog; i++)
		if (strlen(l->prog[i].name) == n && memcmp(l->prog[i].name, name, n) == 0)
			return &l->prog[i];
	return NULL;
}

int
policy_launchers_parse(policy_launchers *l, const char *text, size_t len, const char *source,
    bg_error *e)
{
	lines it;
	size_t line;
	char *t;
	int indented, r;

	memset(l, 0, sizeof(*l));
	if ((r = lines_start(&it, text, len, 256 * 1024, "256 KiB", source, e)) != 0)
		return r;
	while ((r = lines_next(&it, &t, &indented, e)) > 0) {
		char *w, *save = NULL;

		line = it.line;
		if (!indented) {
			char *name, *why;

			if (strncmp(t, "category ", 9) != 0) {
				r = bg_fail(e, BG_ERR_INVALID, "%s:%zu: expected 'category NAME WHY' "
				    "(programs are indented)", source, line);
				goto fail;
			}
			name = text_trim(t + 9);
			why = name + strcspn(name, " \t");
			if (*why != '\0')
				*why++ = '\0';
			why = text_trim(why);
			if (!text_is_ident(name, 31) || *why == '\0' || strlen(why) > 200) {
				r = bg_fail(e, BG_ERR_INVALID, "%s:%zu: a category needs a name and a "
				    "reason of at most 200 bytes", source, line);
				goto fail;
			}
			for (size_t i = 0; i < l->ncat; i++) {
				if (strcmp(l->cat[i].name, name) == 0) {
					r = bg_fail(e, BG_ERR_INVALID, "%s:%zu: category '%s' given twice",
					    source, line, name);
					goto fail;
				}
			}
			if (l->ncat == POLICY_MAX_CATEGORIES) {
				r = bg_fail(e, BG_ERR_TOOLARGE, "%s:%zu: more than %d categories",
				    source, line, POLICY_MAX_CATEGORIES);
				goto fail;
			}
			if ((l->cat[l->ncat].name = strdup(name)) == NULL ||
			    (l->cat[l->ncat].why = strdup(why)) == NULL) {
				l->ncat++;
				r = BG_ERR_NOMEM;
				goto fail;
			}
			l->ncat++;
			continue;
		}
		if (l->ncat == 0) {
			r = bg_fail(e, BG_ERR_INVALID, "%s:%zu: programs before any category", source,
			    line);
			goto fail;
		}
		for (w = strtok_r(t, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
			if (!program_name_ok(w)) {
				r = bg_fail(e, BG_ERR_INVALID, "%s:%zu: '%.64s' is not a program name",
				    source, line, w);
				goto fail;
			}
			if (find_exact(l, w, strlen(w)) != NULL) {
				r = bg_fail(e, BG_ERR_INVALID, "%s:%zu: '%s' is listed twice", source,
				    line, w);
				goto fail;
			}
			if (l->nprog == POLICY_MAX_LAUNCHERS) {
				r = bg_fail(e, BG_ERR_TOOLARGE, "%s:%zu: more than %d programs", source,
				    line, POLICY_MAX_LAUNCHERS);
				goto fail;
			}
			if ((l->prog[l->nprog].name = strdup(w)) == NULL) {
				r = BG_ERR_NOMEM;
				goto fail;
			}
			l->prog[l->nprog++].cat = l->ncat - 1;
		}
	}
	if (r < 0)
		goto fail;
	if (l->nprog == 0) {
		r = bg_fail(e, BG_ERR_INVALID, "%s: lists no programs", source);
		goto fail;
	}
	return 0;
fail:
	policy_launchers_release(l);
	return r;
}

/* n = the length of base without a version suffix ("python3.11" -> 7 for
 * "python3", then 6 for "python"): tried longest first by the caller. */
const struct policy_launcher *
policy_launcher_find(const policy_launchers *l, const char *base)
{
	size_t n = strlen(base);
	const struct policy_launcher *p;

	if ((p = find_exact(l, base, n)) != NULL)
		return p;
	/* a version suffix: digits and dots after the name (python3.11,
	 * perl5.36, php8.2) */
	while (n > 0 && ((base[n - 1] >= '0' && base[n - 1] <= '9') || base[n - 1] == '.')) {
		n--;
		if (n > 0 && (p = find_exact(l, base, n)) != NULL)
			return p;
	}
	return NULL;
}

/* ---- evaluation ---- */

static void
violate(policy_verdict *out, const policy_rule *r, const char *value, const char *detail)
{
	policy_violation *v;
	buf s, sug;
	char lim[32];
	const char *p;

	if (out->n == sizeof(out->v) / sizeof(out->v[0]))
		return;
	v = &out->v[out->n++];
	snprintf(v->rule, sizeof(v->rule), "%s", r->name);
	buf_init(&sug, 1024);
	utc_format_duration(r->limit, lim, sizeof(lim));
	for (p = r->suggest ? r->suggest : ""; *p; p++) {
		if (strncmp(p, "{value}", 7) == 0) {
			buf_puts(&sug, value ? value : "");
			p += 6;
		} else if (strncmp(p, "{field}", 7) == 0) {
			buf_puts(&sug, r->field ? r->field : "");
			p += 6;
		} else if (strncmp(p, "{limit}", 7) == 0) {
			buf_puts(&sug, lim);
			p += 6;
		} else
			buf_putc(&sug, *p);
	}
	buf_init(&s, sizeof(v->text));
	buf_printf(&s, "rule '%s': %s (%s)", r->name, r->reason, detail);
	if (sug.len > 0)
		buf_printf(&s, "; narrower: %s", sug.data);
	snprintf(v->text, sizeof(v->text), "%s", buf_cstr(&s));
	buf_release(&s);
	buf_release(&sug);
}

static int
path_under(const char *path, const char *base)
{
	size_t n = strlen(base);

	if (strcmp(base, "/") == 0)
		return 1;
	return strncmp(path, base, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static int
normalised_absolute(const char *p)
{
	const char *s;

	if (p[0] != '/')
		return 0;
	if (strcmp(p, "/") != 0 && p[strlen(p) - 1] == '/')
		return 0;
	if (strstr(p, "//") != NULL)
		return 0;
	for (s = p; (s = strchr(s, '/')) != NULL; s++) {
		if (strncmp(s, "/..", 3) == 0 && (s[3] == '/' || s[3] == '\0'))
			return 0;
		if (strncmp(s, "/.", 2) == 0 && (s[2] == '/' || s[2] == '\0'))
			return 0;
	}
	return 1;
}

static void
check_value(const policy_rule *r, const char *val, const policy_ctx *ctx,
    policy_verdict *out)
{
	char detail[512];
	size_t i;

	switch (r->check) {
	case PC_DENY_VALUES:
		for (i = 0; i < r->nvalues; i++) {
			if (strcasecmp(val, r->values[i]) == 0) {
				snprintf(detail, sizeof(detail), "%s '%s'", r->field, val);
				violate(out, r, val, detail);
				return;
			}
		}
		break;
	case PC_DENY_SUBSTRING:
		for (i = 0; i < r->nvalues; i++) {
			if (strcasestr(val, r->values[i]) != NULL) {
				snprintf(detail, sizeof(detail), "%s '%s' contains '%s'", r->field,
				    val, r->values[i]);
				violate(out, r, val, detail);
				return;
			}
		}
		break;
	case PC_DENY_PATHS:
		for (i = 0; i < r->nvalues; i++) {
			if (strcmp(val, r->values[i]) == 0) {
				snprintf(detail, sizeof(detail), "%s '%s' is too broad", r->field, val);
				violate(out, r, val, detail);
				return;
			}
		}
		break;
	case PC_DENY_UNDER:
		for (i = 0; i < r->nvalues; i++) {
			if (path_under(val, r->values[i]) || path_under(r->values[i], val)) {
				snprintf(detail, sizeof(detail), "%s '%s' reaches '%s'", r->field,
				    val, r->values[i]);
				violate(out, r, r->values[i], detail);
				return;
			}
		}
		break;
	case PC_REQUIRE_ABSOLUTE:
		if (!normalised_absolute(val)) {
			snprintf(detail, sizeof(detail), "%s '%s' is not an absolute normalised path",
			    r->field, val);
			violate(out, r, val, detail);
		}
		break;
	case PC_DENY_FLAG:
		if (strcasecmp(val, "no") != 0 && strcasecmp(val, "false") != 0) {
			snprintf(detail, sizeof(detail), "%s: %s", r->field, val);
			violate(out, r, val, detail);
		}
		break;
	default:
		(void)ctx;
		break;
	}
}

static int
is_command_field(const char *f)
{
	return strcmp(f, "command") == 0 || strcmp(f, "sudo") == 0 ||
	    strcmp(f, "sudo-intercept") == 0;
}

/* The last path component of s. */
static const char *
base_of(const char *s)
{
	const char *b = strrchr(s, '/');

	return b ? b + 1 : s;
}

/*
 * Why base is refused as a launcher: the list's category reason, the
 * rule's own values (a project's additions), or NULL.
 */
static const char *
launcher_why(const policy_rule *r, const policy_launchers *l, const char *base)
{
	const struct policy_launcher *p = policy_launcher_find(l, base);
	size_t i;

	if (p != NULL)
		return l->cat[p->cat].why;
	for (i = 0; i < r->nvalues; i++)
		if (strcmp(r->values[i], base) == 0)
			return "is on this project's launcher list";
	return NULL;
}

/*
 * deny-launchers: refuse when argv[0], or an argument that names a
 * program (a path - or OPTION=PATH - whose last component is listed), is
 * a launcher.  The suggestion is the narrower request: the command
 * without the launcher when what it would start is a plain program.
 */
static void
check_launchers(const policy_rule *r, const policy_launchers *l, const char *cmd,
    const argv_list *a, policy_verdict *out)
{
	char detail[700];
	size_t i, k;
	buf sug;

	for (i = 0; i < a->n; i++) {
		const char *cand[2] = { a->v[i], NULL }, *eq = strchr(a->v[i], '=');

		if (eq != NULL && i > 0)
			cand[1] = eq + 1;
		for (k = 0; k < 2; k++) {
			const char *c = cand[k], *why, *base;

			if (c == NULL || *c == '\0' || (i > 0 && strchr(c, '/') == NULL))
				continue;
			base = base_of(c);
			if ((why = launcher_why(r, l, base)) == NULL)
				continue;
			if (i == 0)
				snprintf(detail, sizeof(detail), "%s '%s': '%s' %s", r->field, cmd, base, why);
			else
				snprintf(detail, sizeof(detail), "%s '%s': argument %zu names '%s', which "
				    "%s", r->field, cmd, i, base, why);
			buf_init(&sug, 1024);
			if (i == 0) {
				/* the program it would start: the first later absolute path */
				size_t j;

				for (j = 1; j < a->n && a->v[j][0] != '/'; j++)
					;
				if (j < a->n && launcher_why(r, l, base_of(a->v[j])) == NULL) {
					argv_list rest = { a->v + j, a->n - j };

					buf_puts(&sug, "request the command without the launcher: --");
					buf_puts(&sug, r->field);
					buf_puts(&sug, " '");
					argv_join(&rest, &sug);
					buf_puts(&sug, "'");
				} else {
					buf_puts(&sug, "name the exact program that does the repair, or "
					    "request the shell tier (--tier shell, recorded) for interactive work");
				}
			} else {
				buf_printf(&sug, "drop the argument that names '%s' and name the exact "
				    "program instead", base);
			}
			violate(out, r, buf_cstr(&sug), detail);
			buf_release(&sug);
			return;
		}
	}
}

static void
check_command(const policy_rule *r, const policy_launchers *l, const char *cmd,
    policy_verdict *out)
{
	argv_list a;
	bg_error e;
	char detail[600];
	size_t i, k;

	if (argv_split(cmd, &a, &e) != 0 || a.n == 0) {
		snprintf(detail, sizeof(detail), "%s '%s' cannot be split into arguments",
		    r->field, cmd);
		violate(out, r, cmd, detail);
		return;
	}
	switch (r->check) {
	case PC_DENY_WILDCARDS:
		for (i = 0; i < a.n; i++) {
			if (strpbrk(a.v[i], "*?[") != NULL || strcmp(a.v[i], "ALL") == 0) {
				snprintf(detail, sizeof(detail), "%s '%s' has the pattern '%s'",
				    r->field, cmd, a.v[i]);
				violate(out, r, cmd, detail);
				break;
			}
		}
		break;
	case PC_DENY_METACHAR:
		for (i = 0; i < a.n; i++) {
			for (k = 0; k < r->nvalues; k++) {
				if (strstr(a.v[i], r->values[k]) != NULL) {
					snprintf(detail, sizeof(detail),
					    "%s '%s' contains shell syntax '%s'", r->field, cmd,
					    strcmp(r->values[k], "\n") == 0 ? "\\n" : r->values[k]);
					violate(out, r, cmd, detail);
					goto done;
				}
			}
		}
		break;
	case PC_DENY_PROGRAMS: {
		const char *base = strrchr(a.v[0], '/');

		base = base ? base + 1 : a.v[0];
		for (k = 0; k < r->nvalues; k++) {
			size_t bl = strlen(r->values[k]);

			/* python3.11, perl5.36: versioned names count too */
			if (strncmp(base, r->values[k], bl) == 0 &&
			    (base[bl] == '\0' || (base[bl] == '.' || (base[bl] >= '0' && base[bl] <= '9')))) {
				snprintf(detail, sizeof(detail), "%s '%s' runs '%s'", r->field, cmd,
				    base);
				violate(out, r, base, detail);
				break;
			}
		}
		break;
	}
	case PC_DENY_LAUNCHERS:
		check_launchers(r, l, cmd, &a, out);
		break;
	case PC_REQUIRE_ABSOLUTE:
		if (!normalised_absolute(a.v[0])) {
			snprintf(detail, sizeof(detail), "%s '%s' does not start with an absolute path",
			    r->field, cmd);
			violate(out, r, a.v[0], detail);
		}
		break;
	default:
		break;
	}
done:
	argv_release(&a);
}

int
policy_check_request(const policy *p, const kv_doc *req, const policy_ctx *ctx,
    policy_verdict *out, bg_error *e)
{
	policy_launchers l;
	unsigned kbit = 0;
	size_t i, j;
	char detail[512];

	memset(out, 0, sizeof(*out));
	if (policy_kind_bit(ctx->kind, &kbit) != 0)
		return bg_fail(e, BG_ERR_INVALID, "unknown grant kind '%s'", ctx->kind);
	/* the built-in launcher list; if it cannot be read, nothing passes */
	if (policy_launchers_parse(&l, policy_launchers_builtin, policy_launchers_builtin_len,
	    "rules/launchers.rules", e) != 0)
		return BG_ERR_CORRUPT;
	for (i = 0; i < p->n; i++) {
		const policy_rule *r = &p->r[i];
		int found = 0;

		if (!r->enabled || (r->kinds && !(r->kinds & kbit)) ||
		    (r->write_only && !ctx->writes))
			continue;
		switch (r->check) {
		case PC_MAX_TTL: {
			const char *v = kv_get(req, "ttl");
			int64_t t = 0;
			char have[32], lim[32];

			if (v == NULL || utc_parse_duration(v, &t) != 0) {
				violate(out, r, v, "the request has no valid ttl");
				break;
			}
			if (t > r->limit) {
				utc_format_duration(t, have, sizeof(have));
				utc_format_duration(r->limit, lim, sizeof(lim));
				snprintf(detail, sizeof(detail), "ttl %s exceeds %s", have, lim);
				violate(out, r, v, detail);
			}
			break;
		}
		case PC_KNOWN_SYSTEMS: {
			const char *sys = kv_get(req, "system");

			if (sys == NULL) {
				violate(out, r, "", "the request names no system");
				break;
			}
			for (j = 0; j < ctx->nsystems; j++)
				if (strcmp(ctx->systems[j], sys) == 0)
					found = 1;
			if (!found) {
				snprintf(detail, sizeof(detail), "system '%s' is not registered for "
				    "this project", sys);
				violate(out, r, sys, detail);
			}
			break;
		}
		case PC_REQUIRE_FIELD:
			if (kv_get(req, r->field) == NULL) {
				snprintf(detail, sizeof(detail), "no %s given", r->field);
				violate(out, r, "", detail);
			}
			break;
		default:
			for (j = 0; j < req->n; j++) {
				/* a rule on sudo holds for every privileged command,
				 * marked sudo-intercept or not */
				if (strcmp(req->items[j].key, r->field) != 0 &&
				    !(strcmp(r->field, "sudo") == 0 &&
				    strcmp(req->items[j].key, "sudo-intercept") == 0))
					continue;
				if (is_command_field(r->field) || r->check == PC_DENY_WILDCARDS ||
				    r->check == PC_DENY_METACHAR || r->check == PC_DENY_PROGRAMS ||
				    r->check == PC_DENY_LAUNCHERS)
					check_command(r, &l, req->items[j].value, out);
				else
					check_value(r, req->items[j].value, ctx, out);
			}
		}
	}
	policy_launchers_release(&l);
	if (out->n > 0)
		return bg_fail(e, BG_ERR_POLICY, "%s", out->v[0].text);
	return 0;
}
