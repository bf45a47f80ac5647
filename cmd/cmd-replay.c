/*
 * cmd-replay.c - breakglass replay: play a session recording safely.
 */
#include "cmd.h"
#include "sshkey.h"
#include "fileio.h"
#include "replay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage_text[] =
	"usage: breakglass replay FILE|- [--speed N] [--idle-limit SECONDS] [--instant]\n"
	"                         [--plain] [--markers]\n"
	"       breakglass replay FILE --unseal HOSTKEY\n\n"
	"Play a shell-tier recording (asciicast v2, also playable with 'asciinema\n"
	"play') to the terminal.  Escape sequences a terminal would obey beyond\n"
	"colours and cursor movement - window titles, clipboard writes, hyperlinks,\n"
	"mode switches, device queries - are stripped, so a recording cannot act on\n"
	"the terminal that replays it.  --plain prints text only (for grep), --instant\n"
	"does not wait, --markers shows notes such as dropped output and cut sessions.\n"
	"A line typed with echo off right after a password prompt (gate.conf's\n"
	"password-prompt) is masked in the recording and sealed to the host key;\n"
	"--unseal HOSTKEY (the host log's AUDIT_DIR/host.key, as root or its group)\n"
	"prints each such line, escaped, with its time: nothing typed is hidden\n"
	"from the owner.\n";

static const opt_def defs[] = {
	{ "--speed", OPT_ARG },
	{ "--idle-limit", OPT_ARG },
	{ "--instant", 0 },
	{ "--plain", 0 },
	{ "--markers", 0 },
	{ "--unseal", OPT_ARG },
	{ NULL, 0 }
};

static int
positive(const char *s, double *v)
{
	char *end;

	*v = strtod(s, &end);
	return *s != '\0' && *end == '\0' && *v > 0 && *v <= 1000 ? 0 : -1;
}

/* --unseal: the masked lines of a recording, opened with the host key */
static int
unseal(const char *file, const char *keyfile)
{
	buf text, key, out;
	sshkey_priv k;
	bg_error e;
	size_t n = 0;
	int r;

	memset(&k, 0, sizeof(k));
	bg_error_clear(&e);
	buf_init(&text, 512u * 1024 * 1024);
	buf_init_secret(&key, 16384);
	buf_init(&out, 64u * 1024 * 1024);
	if ((r = fileio_read(keyfile, key.max, &key, &e)) != 0 ||
	    (r = sshkey_priv_parse(buf_cstr(&key), key.len, &k, &e)) != 0 ||
	    (r = fileio_read(file, text.max, &text, &e)) != 0 ||
	    (r = replay_unseal(buf_cstr(&text), text.len, k.sk, &out, &n, &e)) != 0)
		r = cmd_fail(r, &e);
	else if (n == 0)
		printf("no masked input in %s\n", file);
	else
		r = cmd_write_out(&out);
	sshkey_priv_release(&k);
	buf_release(&text);
	buf_release(&key);
	buf_release(&out);
	return r;
}

int
cmd_replay(int argc, char **argv)
{
	cmd_args a;
	replay_opts o;
	buf text;
	bg_error e;
	int r;

	if ((r = cmd_parse("replay", argc, argv, defs, &a)) != 0)
		return r;
	if (a.help)
		return cmd_usage(usage_text);
	if (a.json)
		return cmd_failf(EXIT_USAGE, "replay: --json is not supported (the recording is "
		    "asciicast v2 JSON already)");
	if (a.npos != 1)
		return cmd_failf(EXIT_USAGE, "replay: name one recording");
	o.speed = 1;
	o.idle_limit = 2;
	if (cmd_opt(&a, 0) && positive(cmd_opt(&a, 0), &o.speed) != 0)
		return cmd_failf(EXIT_USAGE, "replay: --speed takes a number above 0");
	if (cmd_opt(&a, 1) && positive(cmd_opt(&a, 1), &o.idle_limit) != 0)
		return cmd_failf(EXIT_USAGE, "replay: --idle-limit takes seconds above 0");
	if (cmd_opt(&a, 5) != NULL)
		return unseal(a.pos[0], cmd_opt(&a, 5));
	o.instant = a.val[2].set;
	o.plain = a.val[3].set;
	o.markers = a.val[4].set;
	bg_error_clear(&e);
	buf_init(&text, 512u * 1024 * 1024);
	if ((r = fileio_read(a.pos[0], text.max, &text, &e)) != 0 ||
	    (r = replay_play(buf_cstr(&text), text.len, STDOUT_FILENO, &o, &e)) != 0)
		r = cmd_fail(r, &e);
	buf_release(&text);
	return r;
}
