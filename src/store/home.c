/*
 * home.c - create, check and open a breakglass home.
 *
 * home_init builds the home in a temporary sibling directory and renames
 * it into place, so a failed init never leaves a half-made home behind.
 */
#include "home.h"
#include "fileio.h"
#include "hash.h"
#include "krl.h"
#include "kv.h"
#include "text.h"
#include "utc.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <pwd.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void drop_pending(home *h);

static const kv_key config_schema[] = {
	{ "approval-ttl", 0, 32 },
	{ "clock-skew", 0, 32 },
	{ "checkpoint-every", 0, 16 },
	{ "gate-command", 0, 512 },
	{ "krl-publish", 0, 1024 },
	{ "freeze-publish", 0, 1024 },
	{ "sudoers-dir", 0, 1024 },
	{ "host-log", KV_MULTI, 1024 },
	{ "webauthn-origin", KV_MULTI, 256 },
	{ "notify", KV_MULTI, 1024 },
	{ NULL, 0, 0 }
};

static const char default_config[] =
	"# breakglass broker configuration (key: value)\n"
	"#\n"
	"# How long a signed approval stays usable for activating grants.\n"
	"approval-ttl: 8h\n"
	"# How far the clock may step backwards before breakglass refuses to act.\n"
	"clock-skew: 2m\n"
	"# A signed checkpoint is written into the audit log every N records.\n"
	"checkpoint-every: 64\n"
	"# The forced command written into grant certificates (the host's gate).\n"
	"gate-command: /usr/local/bin/breakglass-gate\n"
	"#\n"
	"# The keys below are unset by default; remove the '#' to set one.\n"
	"# A second place the KRL is written whenever it changes: a host on this\n"
	"# machine (its ETC/revoked.krl) sees a revocation at once.  Unset: copy\n"
	"# HOME/revoked.krl to each host.\n"
	"#krl-publish: /etc/breakglass/revoked.krl\n"
	"# Where activation installs (and revocation removes) a grant's sudoers\n"
	"# drop-in on a one-host setup.  Unset: 'grant sudoers G' prints it.\n"
	"#sudoers-dir: /etc/sudoers.d\n"
	"# A second place the change-freeze state is written, for hosts to read.\n"
	"#freeze-publish: /etc/breakglass/freeze\n"
	"# The host log that changes, rollback, snapshot and the report read: DIR\n"
	"# on a one-host setup, or 'NAME DIR' once per host (NAME as in a grant's\n"
	"# --system, DIR a copy of that host's log).  Unset: the default DIR.\n"
	"#host-log: /var/log/breakglass\n"
	"# Security-key approvals: an origin whose webauthn signatures count (once\n"
	"# per origin).  Unset: none count.\n"
	"#webauthn-origin: https://breakglass.example.com\n"
	"# A webhook told when a statement is issued (Slack-compatible JSON POST;\n"
	"# once per hook).  Unset: none.\n"
	"#notify: webhook https://hooks.example.com/breakglass\n";

/*
 * "host-log: DIR" (the one host) or "host-log: NAME DIR" (one line per
 * host, NAME as in a grant's --system): where a report reads each gate's
 * log.  Names are unique; an unnamed entry is the only one.
 */
static int
add_host_log(home *h, const char *v, bg_error *e)
{
	const char *sp = strchr(v, ' ');
	struct home_host_log *hl;
	size_t i;

	if (h->nhost_logs == HOME_MAX_HOST_LOGS)
		return bg_fail(e, BG_ERR_CORRUPT, "config: more than %d host-log lines",
		    HOME_MAX_HOST_LOGS);
	hl = &h->host_logs[h->nhost_logs];
	if (sp != NULL) {
		if ((hl->name = strndup(v, (size_t)(sp - v))) == NULL)
			return BG_ERR_NOMEM;
		if (!text_is_ident(hl->name, 64) || sp[1] != '/') {
			free(hl->name);
			hl->name = NULL;
			return bg_fail(e, BG_ERR_CORRUPT, "config: host-log is 'DIR' or 'NAME DIR' "
			    "(a host name, then an absolute path)");
		}
		v = sp + 1;
	} else if (v[0] != '/') {
		return bg_fail(e, BG_ERR_CORRUPT, "config: host-log must be an absolute path");
	}
	for (i = 0; i < h->nhost_logs; i++)
		if (hl->name == NULL || h->host_logs[i].name == NULL ||
		    strcmp(hl->name, h->host_logs[i].name) == 0) {
			free(hl->name);
			hl->name = NULL;
			return bg_fail(e, BG_ERR_CORRUPT, "config: with several host-log lines each "
			    "names its host, once ('host-log: NAME DIR')");
		}
	if ((hl->dir = strdup(v)) == NULL) {
		free(hl->name);
		hl->name = NULL;
		return BG_ERR_NOMEM;
	}
	h->nhost_logs++;
	return 0;
}

/* Read and parse the config at path into d; errors name the file. */
static int
read_config(const char *path, buf *text, kv_doc *d, bg_error *e)
{
	int r;

	if ((r = fileio_read(path, 64 * 1024, text, e)) != 0)
		return r;
	if ((r = kv_parse(buf_cstr(text), text->len, config_schema, d, e)) != 0) {
		char msg[sizeof(e->msg)];

		snprintf(msg, sizeof(msg), "config '%.200s': %.1700s", path, e ? e->msg : "");
		return bg_fail(e, BG_ERR_CORRUPT, "%s", msg);
	}
	return 0;
}

int
home_config_host_log(const char *dir, buf *out, bg_error *e)
{
	buf path, text;
	kv_doc d;
	home *h = NULL;
	struct stat sb;
	int r;

	buf_reset(out);
	buf_init(&path, 4096);
	buf_init(&text, 64 * 1024);
	memset(&d, 0, sizeof(d));
	if ((r = buf_printf(&path, "%s/config", dir)) != 0)
		goto out;
	if (stat(path.data, &sb) != 0 && errno == ENOENT)
		goto out; /* no home here: nothing configured */
	if ((r = read_config(path.data, &text, &d, e)) != 0)
		goto out;
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		r = BG_ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; r == 0 && i < d.n; i++)
		if (strcmp(d.items[i].key, "host-log") == 0)
			r = add_host_log(h, d.items[i].value, e);
	if (r != 0) {
		char msg[sizeof(e->msg)];

		snprintf(msg, sizeof(msg), "config '%.200s': %.280s", path.data, e ? e->msg : "");
		r = bg_fail(e, r, "%s", msg);
	} else if (h->nhost_logs > 1) {
		r = bg_fail(e, BG_ERR_USAGE, "config '%.200s' names %zu host logs, one per host: give "
		    "this host's with --audit-dir DIR", path.data, h->nhost_logs);
	} else if (h->nhost_logs == 1) {
		r = buf_puts(out, h->host_logs[0].dir);
	}
out:
	if (h != NULL) {
		for (size_t i = 0; i < h->nhost_logs; i++) {
			free(h->host_logs[i].name);
			free(h->host_logs[i].dir);
		}
		free(h);
	}
	kv_doc_release(&d);
	buf_release(&path);
	buf_release(&text);
	return r;
}

int
home_default_dir(buf *out)
{
	const char *env = getenv("BREAKGLASS_HOME"), *hd;

	buf_reset(out);
	if (env != NULL && *env != '\0')
		return buf_puts(out, env);
	if (geteuid() == 0)
		return buf_puts(out, "/var/lib/breakglass");
	hd = getenv("HOME");
	if (hd == NULL || *hd == '\0')
		return BG_ERR_NOTFOUND;
	return buf_printf(out, "%s/.local/share/breakglass", hd);
}

int
home_path(const home *h, const char *name, buf *out)
{
	return fileio_join(out, h->dir, name);
}

static int
write_key(const char *dir, const char *name, const sshkey_priv *k, bg_error *e)
{
	buf path, text, pub;
	sshkey_pub pk;
	int r;

	buf_init(&path, 4096);
	buf_init_secret(&text, 16384);
	buf_init(&pub, 4096);
	memset(&pk, 0, sizeof(pk));
	if ((r = buf_printf(&path, "%s/%s.key", dir, name)) != 0 ||
	    (r = sshkey_priv_format(k, name, &text)) != 0 ||
	    (r = fileio_write_atomic(path.data, text.data, text.len, 0600, 1, e)) != 0)
		goto out;
	buf_reset(&path);
	if ((r = buf_printf(&path, "%s/%s.pub", dir, name)) != 0 ||
	    (r = sshkey_from_ed25519(k->pk, &pk)) != 0 ||
	    (r = sshkey_pub_format(&pk, &pub)) != 0 ||
	    (r = buf_printf(&pub, " breakglass-%s\n", name)) != 0)
		goto out;
	r = fileio_write_atomic(path.data, pub.data, pub.len, 0644, 1, e);
out:
	sshkey_pub_release(&pk);
	buf_release(&path);
	buf_release(&text);
	buf_release(&pub);
	return r;
}

static int
write_file(const char *dir, const char *name, const char *text, mode_t mode, bg_error *e)
{
	buf p;
	int r;

	buf_init(&p, 4096);
	if ((r = fileio_join(&p, dir, name)) == 0)
		r = fileio_write_atomic(p.data, text, strlen(text), mode, 1, e);
	buf_release(&p);
	return r;
}

static int
remove_tree(const char *dir)
{
	static const char *const files[] = {
		"store.db", "store.db-wal", "store.db-shm", "broker.key", "broker.pub",
		"ca.key", "ca.pub", "config", "policy.rules", "audit.log", "audit.head",
		"revoked.krl", NULL
	};
	static const char *const dirs[] = { "policy.d", "artifacts", "reports", NULL };
	buf p;

	buf_init(&p, 4096);
	for (int i = 0; files[i]; i++)
		if (fileio_join(&p, dir, files[i]) == 0)
			unlink(p.data);
	for (int i = 0; dirs[i]; i++)
		if (fileio_join(&p, dir, dirs[i]) == 0)
			rmdir(p.data);
	buf_release(&p);
	return rmdir(dir);
}

int
home_init(const char *dir, const char *policy_rules, bg_error *e)
{
	buf tmp, p;
	sshkey_priv broker, ca;
	store *st = NULL;
	struct stat sb;
	unsigned char rnd[6];
	int r;

	memset(&broker, 0, sizeof(broker));
	memset(&ca, 0, sizeof(ca));
	if (dir[0] == '\0')
		return bg_fail(e, BG_ERR_USAGE, "empty home directory name");
	if (lstat(dir, &sb) == 0) {
		if (!S_ISDIR(sb.st_mode))
			return bg_fail(e, BG_ERR_EXISTS, "'%s' exists and is not a directory", dir);
		if (rmdir(dir) != 0) /* only an empty directory may be reused */
			return bg_fail(e, BG_ERR_EXISTS,
			    "home '%s' already exists; refusing to overwrite it", dir);
	}
	buf_init(&tmp, 4096);
	buf_init(&p, 4096);
	randombytes_buf(rnd, sizeof(rnd));
	if ((r = buf_printf(&tmp, "%s.init-%02x%02x%02x%02x%02x%02x", dir, rnd[0], rnd[1],
	    rnd[2], rnd[3], rnd[4], rnd[5])) != 0)
		goto out;
	if (mkdir(tmp.data, 0700) != 0) {
		r = bg_fail(e, BG_ERR_IO, "cannot create '%s': %s", dir, strerror(errno));
		goto out;
	}
	if ((r = sshkey_priv_generate(&broker)) != 0 ||
	    (r = sshkey_priv_generate(&ca)) != 0 ||
	    (r = write_key(tmp.data, "broker", &broker, e)) != 0 ||
	    (r = write_key(tmp.data, "ca", &ca, e)) != 0 ||
	    (r = write_file(tmp.data, "config", default_config, 0600, e)) != 0 ||
	    (r = write_file(tmp.data, "policy.rules", policy_rules, 0644, e)) != 0)
		goto fail;
	{
		static const char *const sub[] = { "policy.d", "artifacts", "reports" };

		for (int i = 0; i < 3; i++) {
			if ((r = fileio_join(&p, tmp.data, sub[i])) != 0)
				goto fail;
			if (mkdir(p.data, 0700) != 0) {
				r = bg_fail(e, BG_ERR_IO, "cannot create '%s': %s", p.data,
				    strerror(errno));
				goto fail;
			}
		}
	}
	if ((r = fileio_join(&p, tmp.data, "store.db")) != 0 ||
	    (r = store_open(p.data, 1, &st, e)) != 0)
		goto fail;
	store_close(st);
	st = NULL;
	if ((r = audit_create(tmp.data, &broker, e)) != 0)
		goto fail;
	{
		/* sshd refuses every login while RevokedKeys names a missing file */
		buf kb;

		buf_init(&kb, 4096);
		r = krl_write(ca.pk, NULL, 0, 0, utc_now(), &kb);
		if (r == 0)
			r = fileio_join(&p, tmp.data, "revoked.krl");
		if (r == 0)
			r = fileio_write_atomic(p.data, kb.data, kb.len, 0644, 1, e);
		buf_release(&kb);
		if (r != 0)
			goto fail;
	}
	if (rename(tmp.data, dir) != 0) {
		r = bg_fail(e, BG_ERR_IO, "cannot create home '%s': %s", dir, strerror(errno));
		goto fail;
	}
	fileio_sync_dir(dir);
	r = 0;
	goto out;
fail:
	store_close(st);
	remove_tree(tmp.data);
out:
	sshkey_priv_release(&broker);
	sshkey_priv_release(&ca);
	buf_release(&tmp);
	buf_release(&p);
	return r;
}

/*
 * "webauthn-origin: https://NAME": a web origin whose webauthn security-key
 * signatures (PROTOCOL.u2f) approvals accept.  None by default.
 */
static int
add_webauthn_origin(home *h, const char *v, bg_error *e)
{
	if (h->n_webauthn_origins == HOME_MAX_WEBAUTHN_ORIGINS)
		return bg_fail(e, BG_ERR_CORRUPT, "config: more than %d webauthn-origin lines",
		    HOME_MAX_WEBAUTHN_ORIGINS);
	if (strncmp(v, "https://", 8) != 0 || v[8] == '\0' ||
	    strpbrk(v, " \t\"\\") != NULL)
		return bg_fail(e, BG_ERR_CORRUPT, "config: webauthn-origin must be "
		    "'https://HOST[:PORT]'");
	if ((h->webauthn_origins[h->n_webauthn_origins] = strdup(v)) == NULL)
		return BG_ERR_NOMEM;
	h->n_webauthn_origins++;
	return 0;
}

/*
 * "notify: webhook URL" and "notify: mail ADDRESS": announce statements
 * awaiting signatures (the broker's notify.c).  A URL is http or https
 * with no spaces or control characters; an address one plain email
 * address, kept as "mailto:ADDRESS".
 */
static int
add_notify(home *h, const char *v, bg_error *e)
{
	const char *url;

	if (strncmp(v, "mail ", 5) == 0) {
		const char *a = v + 5;

		const char *at = strchr(a, '@');

		/* local@domain of [A-Za-z0-9._+-]@[A-Za-z0-9.-] (localhost is fine) */
		if (at == NULL || at == a || at[1] == '\0' || a[0] == '-' || strlen(a) > 254 ||
		    strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-") !=
		    (size_t)(at - a) || strspn(at + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS"
		    "TUVWXYZ0123456789.-") != strlen(at + 1))
			return bg_fail(e, BG_ERR_CORRUPT, "config: notify mail needs one plain email "
			    "address, not '%.64s'", a);
		if (h->n_notify == HOME_MAX_NOTIFY)
			return bg_fail(e, BG_ERR_CORRUPT, "config: more than %d notify lines",
			    HOME_MAX_NOTIFY);
		if ((h->notify[h->n_notify] = malloc(strlen(a) + 8)) == NULL)
			return BG_ERR_NOMEM;
		snprintf(h->notify[h->n_notify], strlen(a) + 8, "mailto:%s", a);
		h->n_notify++;
		return 0;
	}
	if (strncmp(v, "webhook ", 8) != 0)
		return bg_fail(e, BG_ERR_CORRUPT, "config: notify is 'webhook URL' or 'mail "
		    "ADDRESS'");
	url = v + 8;
	if ((strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0) ||
	    strlen(url) < 9)
		return bg_fail(e, BG_ERR_CORRUPT, "config: notify webhook needs an http(s):// URL");
	for (const char *p = url; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '"' || *p == '\\')
			return bg_fail(e, BG_ERR_CORRUPT, "config: notify webhook URL has a space, "
			    "quote or control character");
	if (h->n_notify == HOME_MAX_NOTIFY)
		return bg_fail(e, BG_ERR_CORRUPT, "config: more than %d notify lines",
		    HOME_MAX_NOTIFY);
	if ((h->notify[h->n_notify] = strdup(url)) == NULL)
		return BG_ERR_NOMEM;
	h->n_notify++;
	return 0;
}

static int
load_config(home *h, bg_error *e)
{
	buf path, text;
	kv_doc d;
	const char *v;
	int r;

	buf_init(&path, 4096);
	buf_init(&text, 64 * 1024);
	h->approval_ttl = 8 * 3600;
	h->clock_skew = 120;
	if ((r = home_path(h, "config", &path)) != 0 ||
	    (r = read_config(path.data, &text, &d, e)) != 0)
		goto out;
	if ((v = kv_get(&d, "approval-ttl")) != NULL &&
	    utc_parse_duration(v, &h->approval_ttl) != 0)
		r = bg_fail(e, BG_ERR_CORRUPT, "config: invalid approval-ttl '%s'", v);
	if (r == 0 && (v = kv_get(&d, "clock-skew")) != NULL &&
	    utc_parse_duration(v, &h->clock_skew) != 0)
		r = bg_fail(e, BG_ERR_CORRUPT, "config: invalid clock-skew '%s'", v);
	if (r == 0 && (v = kv_get(&d, "checkpoint-every")) != NULL) {
		char *end;
		long n = strtol(v, &end, 10);

		if (*end != '\0' || n < 1 || n > 100000)
			r = bg_fail(e, BG_ERR_CORRUPT, "config: invalid checkpoint-every '%s'", v);
		else
			h->log.checkpoint_every = (unsigned)n;
	}
	if (r == 0 && (v = kv_get(&d, "gate-command")) != NULL &&
	    (v[0] != '/' || strpbrk(v, "\"'`$;|&<>\\") != NULL))
		r = bg_fail(e, BG_ERR_CORRUPT, "config: gate-command must be an absolute path "
		    "and arguments without shell syntax");
	if (r == 0 && (h->gate_command = strdup(v ? v : "/usr/local/bin/breakglass-gate")) == NULL)
		r = BG_ERR_NOMEM;
	if (r == 0 && (v = kv_get(&d, "sudoers-dir")) != NULL) {
		if (v[0] != '/')
			r = bg_fail(e, BG_ERR_CORRUPT, "config: sudoers-dir must be an absolute path");
		else if ((h->sudoers_dir = strdup(v)) == NULL)
			r = BG_ERR_NOMEM;
	}
	for (size_t i = 0; r == 0 && i < d.n; i++)
		if (strcmp(d.items[i].key, "host-log") == 0)
			r = add_host_log(h, d.items[i].value, e);
		else if (strcmp(d.items[i].key, "webauthn-origin") == 0)
			r = add_webauthn_origin(h, d.items[i].value, e);
		else if (strcmp(d.items[i].key, "notify") == 0)
			r = add_notify(h, d.items[i].value, e);
	if (r == 0 && (v = kv_get(&d, "krl-publish")) != NULL) {
		if (v[0] != '/')
			r = bg_fail(e, BG_ERR_CORRUPT, "config: krl-publish must be an absolute path");
		else if ((h->krl_publish = strdup(v)) == NULL)
			r = BG_ERR_NOMEM;
	}
	if (r == 0 && (v = kv_get(&d, "freeze-publish")) != NULL) {
		if (v[0] != '/')
			r = bg_fail(e, BG_ERR_CORRUPT, "config: freeze-publish must be an absolute "
			    "path");
		else if ((h->freeze_publish = strdup(v)) == NULL)
			r = BG_ERR_NOMEM;
	}
	kv_doc_release(&d);
out:
	buf_release(&path);
	buf_release(&text);
	return r;
}

static int
load_key(home *h, const char *name, sshkey_priv *k, bg_error *e)
{
	buf path, text;
	struct stat sb;
	int r;

	buf_init(&path, 4096);
	buf_init_secret(&text, 16384);
	if ((r = home_path(h, name, &path)) != 0)
		goto out;
	if (lstat(path.data, &sb) != 0) {
		r = bg_fail(e, BG_ERR_CORRUPT, "key '%s' is missing", path.data);
		goto out;
	}
	if (!S_ISREG(sb.st_mode) || (sb.st_mode & 077) != 0) {
		r = bg_fail(e, BG_ERR_PERM,
		    "key '%s' must be a regular file readable only by its owner", path.data);
		goto out;
	}
	if ((r = fileio_read(path.data, 16384, &text, e)) != 0)
		goto out;
	if ((r = sshkey_priv_parse(buf_cstr(&text), text.len, k, e)) != 0) {
		r = bg_fail(e, BG_ERR_CORRUPT, "key '%s' is corrupt", path.data);
		goto out;
	}
out:
	buf_release(&path);
	buf_release(&text);
	return r;
}

int
home_open(const char *dir, const char *actor, home **out, bg_error *e)
{
	home *h;
	buf p;
	struct stat sb;
	size_t bad;
	int r;

	*out = NULL;
	if (lstat(dir, &sb) != 0)
		return bg_fail(e, BG_ERR_NOTFOUND,
		    "no breakglass home at '%s' (run 'breakglass init' or set --home)", dir);
	if (!S_ISDIR(sb.st_mode))
		return bg_fail(e, BG_ERR_CORRUPT, "home '%s' is not a directory", dir);
	if (access(dir, R_OK | W_OK | X_OK) != 0)
		return bg_fail(e, BG_ERR_PERM, "home '%s' is not accessible: %s", dir,
		    strerror(errno));
	if (sb.st_mode & 022)
		return bg_fail(e, BG_ERR_PERM,
		    "home '%s' is writable by group or others: refusing", dir);
	if (actor == NULL || actor[0] == '\0' || strlen(actor) >= sizeof(h->actor) ||
	    text_check(actor, strlen(actor), 0, &bad) != 0)
		return bg_fail(e, BG_ERR_USAGE, "invalid actor name");
	if ((h = calloc(1, sizeof(*h))) == NULL || (h->dir = strdup(dir)) == NULL) {
		free(h);
		return BG_ERR_NOMEM;
	}
	memcpy(h->actor, actor, strlen(actor) + 1);
	h->lockfd = -1;
	h->now = utc_now();
	buf_init(&p, 4096);
	if ((r = load_key(h, "broker.key", &h->broker, e)) != 0)
		goto fail;
	{
		char hex[HASH_HEXLEN];

		hash_sha256_hex(h->broker.pk, sizeof(h->broker.pk), hex);
		memcpy(h->id, hex, 16);
		h->id[16] = '\0';
	}
	if ((r = audit_open(&h->log, dir, &h->broker, h->broker.pk, e)) != 0)
		goto fail;
	if ((r = load_config(h, e)) != 0)
		goto fail;
	if ((r = home_path(h, "store.db", &p)) != 0 ||
	    (r = store_open(p.data, 0, &h->st, e)) != 0)
		goto fail;
	if (lstat(h->log.headpath, &sb) != 0 || lstat(h->log.path, &sb) != 0) {
		r = bg_fail(e, BG_ERR_CORRUPT, "audit log of home '%s' is missing", dir);
		goto fail;
	}
	buf_release(&p);
	*out = h;
	return 0;
fail:
	buf_release(&p);
	home_close(h);
	return r;
}

void
home_close(home *h)
{
	if (h == NULL)
		return;
	drop_pending(h);
	if (h->lockfd >= 0)
		close(h->lockfd);
	store_close(h->st);
	audit_close(&h->log);
	sshkey_priv_release(&h->broker);
	free(h->gate_command);
	free(h->krl_publish);
	free(h->freeze_publish);
	free(h->sudoers_dir);
	for (size_t i = 0; i < h->n_webauthn_origins; i++)
		free(h->webauthn_origins[i]);
	for (size_t i = 0; i < h->n_notify; i++)
		free(h->notify[i]);
	for (size_t i = 0; i < h->nhost_logs; i++) {
		free(h->host_logs[i].name);
		free(h->host_logs[i].dir);
	}
	free(h->dir);
	free(h);
}

int
home_load_ca(home *h, sshkey_priv *ca, bg_error *e)
{
	return load_key(h, "ca.key", ca, e);
}

int
home_write_krl(home *h, bg_error *e)
{
	sqlite3_stmt *st = NULL;
	sshkey_priv ca;
	uint64_t *serials = NULL, version;
	size_t n = 0, cap = 0;
	char *v = NULL, num[32];
	buf out, path;
	int r, rc;

	memset(&ca, 0, sizeof(ca));
	buf_init(&out, KRL_MAX_SIZE);
	buf_init(&path, 4096);
	if ((r = home_load_ca(h, &ca, e)) != 0)
		goto out;
	if ((r = store_prepare(h->st, "SELECT c.serial FROM certs c JOIN grants g ON "
	    "g.id = c.grant_id WHERE g.state = 'revoked' AND c.valid_before > ?", &st, e)) != 0)
		goto out;
	store_bind_int(st, 1, h->now);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			uint64_t *ns;

			cap = cap ? cap * 2 : 64;
			if ((ns = realloc(serials, cap * sizeof(*ns))) == NULL) {
				r = BG_ERR_NOMEM;
				goto out;
			}
			serials = ns;
		}
		serials[n++] = (uint64_t)sqlite3_column_int64(st, 0);
	}
	if (rc != SQLITE_DONE) {
		r = store_fail(h->st, e, "cannot list revoked certificates");
		goto out;
	}
	if ((r = store_meta_get(h->st, "krl_version", &v, e)) != 0)
		goto out;
	version = v ? strtoull(v, NULL, 10) + 1 : 1;
	snprintf(num, sizeof(num), "%llu", (unsigned long long)version);
	if ((r = store_meta_set(h->st, "krl_version", num, e)) != 0 ||
	    (r = krl_write(ca.pk, serials, n, version, h->now, &out)) != 0 ||
	    (r = home_path(h, "revoked.krl", &path)) != 0 ||
	    (r = fileio_write_atomic(path.data, out.data, out.len, 0644, 0, e)) != 0)
		goto out;
	/* the copy sshd and the gate read: written before the change commits */
	if (h->krl_publish != NULL &&
	    (r = fileio_write_atomic(h->krl_publish, out.data, out.len, 0644, 0, e)) != 0)
		goto out;
out:
	sqlite3_finalize(st);
	free(serials);
	free(v);
	sshkey_priv_release(&ca);
	buf_release(&out);
	buf_release(&path);
	return r;
}

int
home_begin(home *h, bg_error *e)
{
	audit_report rep;
	int r;

	/*
	 * Writers queue on a blocking flock, woken in turn as each change ends,
	 * rather than on SQLite's busy handler, which sleeps and retries (50
	 * concurrent remote clients spent most of their time asleep).
	 */
	if (h->lockfd < 0) {
		buf p;

		buf_init(&p, 4096);
		if (home_path(h, "store.lock", &p) == 0)
			h->lockfd = open(p.data, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		buf_release(&p);
		if (h->lockfd < 0)
			return bg_fail(e, BG_ERR_IO, "cannot open the home's lock file: %s",
			    strerror(errno));
	}
	while (flock(h->lockfd, LOCK_EX) != 0)
		if (errno != EINTR)
			return bg_fail(e, BG_ERR_IO, "cannot lock the home: %s", strerror(errno));
	h->now = utc_now();
	if ((r = store_begin(h->st, e)) != 0) {
		flock(h->lockfd, LOCK_UN);
		return r;
	}
	if ((r = store_clock_check(h->st, h->now, h->clock_skew, e)) != 0) {
		store_rollback(h->st);
		flock(h->lockfd, LOCK_UN);
		return r;
	}
	/*
	 * Fail closed: no state change on top of a log that does not verify.
	 * The whole chain is re-checked, not just its tail: linear in the
	 * log's size, about 30 ms per 10,000 records (make bench).
	 */
	if ((r = audit_verify(&h->log, &rep, e)) != 0) {
		char msg[sizeof(e->msg)];

		snprintf(msg, sizeof(msg), "audit log damaged, refusing to change anything: %.400s",
		    e ? e->msg : "");
		store_rollback(h->st);
		flock(h->lockfd, LOCK_UN);
		return bg_fail(e, r, "%s", msg);
	}
	return 0;
}

static void
drop_pending(home *h)
{
	for (size_t i = 0; i < h->npending; i++) {
		free(h->pending[i].event);
		free(h->pending[i].detail);
	}
	free(h->pending);
	h->pending = NULL;
	h->npending = 0;
}

static int
queue(home *h, const char *event, int64_t ticket, const char *detail_json)
{
	struct home_pending *p;

	if (h->npending >= 1024)
		return BG_ERR_TOOLARGE;
	if ((p = realloc(h->pending, (h->npending + 1) * sizeof(*p))) == NULL)
		return BG_ERR_NOMEM;
	h->pending = p;
	p = &h->pending[h->npending];
	p->ticket = ticket;
	p->event = NULL;
	p->detail = NULL;
	if ((event != NULL && (p->event = strdup(event)) == NULL) ||
	    (detail_json != NULL && (p->detail = strdup(detail_json)) == NULL)) {
		free(p->event);
		return BG_ERR_NOMEM;
	}
	h->npending++;
	return 0;
}

int
home_record(home *h, const char *event, int64_t ticket, const char *detail_json,
    bg_error *e)
{
	int r;

	if (event == NULL || detail_json == NULL)
		return bg_fail(e, BG_ERR_INVALID, "audit record without event or detail");
	if ((r = queue(h, event, ticket, detail_json)) != 0)
		return bg_fail(e, r, "cannot queue audit record '%.64s'", event);
	return 0;
}

int
home_checkpoint(home *h, int64_t ticket, bg_error *e)
{
	int r;

	if ((r = queue(h, NULL, ticket, NULL)) != 0)
		return bg_fail(e, r, "cannot queue audit checkpoint");
	return 0;
}

int
home_flush(home *h, bg_error *e)
{
	size_t i;
	int r = 0;
	char who[sizeof(h->actor) + sizeof(h->actor_key) + 8];

	/* every record names the authenticated user and the key that logged in */
	if (h->actor_key[0] != '\0')
		snprintf(who, sizeof(who), "%s key=%s", h->actor, h->actor_key);
	else
		snprintf(who, sizeof(who), "%s", h->actor);
	for (i = 0; r == 0 && i < h->npending; i++) {
		const struct home_pending *p = &h->pending[i];

		if (p->event == NULL)
			r = audit_checkpoint(&h->log, h->now, who, p->ticket, e);
		else
			r = audit_append(&h->log, h->now, who, p->event, p->ticket,
			    p->detail, e);
	}
	drop_pending(h);
	return r;
}

int
home_commit(home *h, bg_error *e)
{
	int r;

	if ((r = home_flush(h, e)) != 0)
		return r;
	r = store_commit(h->st, e);
	if (r == 0 && h->lockfd >= 0)
		flock(h->lockfd, LOCK_UN);
	return r;
}

int
home_record_json(home *h, const char *event, int64_t ticket, const json *j,
    bg_error *e)
{
	int r;

	if ((r = json_error(j)) != 0)
		return r;
	return home_record(h, event, ticket, j->out->data, e);
}

int
home_commit_json(home *h, const char *event, int64_t ticket, const json *j,
    bg_error *e)
{
	int r;

	if ((r = home_record_json(h, event, ticket, j, e)) != 0)
		return r;
	return home_commit(h, e);
}

void
home_abort(home *h)
{
	drop_pending(h);
	store_rollback(h->st);
	if (h->lockfd >= 0)
		flock(h->lockfd, LOCK_UN);
}
