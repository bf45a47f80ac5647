/* test-replay.c - the replay filter, the event parser and the recorder. */
#include "unit.h"
#include "record.h"
#include "replay.h"

#include <fcntl.h>
#include <unistd.h>
#include "fileio.h"

static const char *
filter(const char *in, int plain, buf *out)
{
	replay_filter f;

	replay_filter_init(&f, plain);
	buf_reset(out);
	assert_int_equal(replay_filter_run(&f, in, strlen(in), out), 0);
	replay_filter_release(&f);
	return buf_cstr(out);
}

static void
filter_keeps_and_strips(void **state)
{
	buf o;

	buf_init(&o, 0);
	assert_string_equal(filter("plain text\r\n", 0, &o), "plain text\r\n");
	assert_string_equal(filter("\x1b[31mred\x1b[0m", 0, &o), "\x1b[31mred\x1b[0m");
	assert_string_equal(filter("\x1b[2J\x1b[H", 0, &o), "\x1b[2J\x1b[H");
	assert_string_equal(filter("a\x1b]0;evil title\x07" "b", 0, &o), "ab");
	assert_string_equal(filter("a\x1b]52;c;ZXZpbA==\x1b\\b", 0, &o), "ab");
	assert_string_equal(filter("a\x1bP1$r\x1b\\b", 0, &o), "ab");
	assert_string_equal(filter("a\x1b[?1049hb", 0, &o), "ab");
	assert_string_equal(filter("a\x1b[6nb", 0, &o), "ab");        /* device query */
	assert_string_equal(filter("a\x1b" "cb", 0, &o), "ab");        /* reset */
	/* C1 CSI is read as CSI: an allowed sequence comes out in 7-bit form */
	assert_string_equal(filter("a\xc2\x9b" "2Jb", 0, &o), "a\x1b[2Jb");
	assert_string_equal(filter("a\xc2\x9b" "6nb", 0, &o), "ab");
	assert_string_equal(filter("a\xc2\x9d" "0;t\x07" "b", 0, &o), "ab"); /* C1 OSC */
	assert_string_equal(filter("bell\x07 nul\x01", 0, &o), "bell nul");
	assert_string_equal(filter("\x1b[31mred\x1b[0m\r\n", 1, &o), "red\n");
	buf_release(&o);
}

static void
filter_state_carries(void **state)
{
	replay_filter f;
	buf o;

	buf_init(&o, 0);
	replay_filter_init(&f, 0);
	replay_filter_run(&f, "x\x1b]0;ev", 7, &o);
	replay_filter_run(&f, "il\x07y", 4, &o);
	assert_string_equal(buf_cstr(&o), "xy");
	replay_filter_release(&f);
	buf_release(&o);
}

static void
events(void **state)
{
	double t;
	char c;
	buf d;
	bg_error e;
	int w, h;

	buf_init(&d, 0);
	{
		const char *ev = "[1.5, \"o\", \"a\\u00e9\\ud83d\\ude00\\n\"]";

		assert_int_equal(replay_parse_event(ev, strlen(ev), &t, &c, &d, &e), 0);
	}
	assert_true(t == 1.5);
	assert_int_equal(c, 'o');
	assert_string_equal(buf_cstr(&d), "a\xc3\xa9\xf0\x9f\x98\x80\n");
	assert_int_not_equal(replay_parse_event("[1, \"x\", \"a\"]", 13, &t, &c, &d, &e), 0);
	assert_int_not_equal(replay_parse_event("[1, \"o\", \"a\"] x", 15, &t, &c, &d, &e), 0);
	assert_int_not_equal(replay_parse_event("[1, \"o\", \"\\ud800\"]", 18, &t, &c, &d, &e), 0);
	assert_int_not_equal(replay_parse_event("[-1, \"o\", \"a\"]", 14, &t, &c, &d, &e), 0);
	{
		const char *hd = "{\"version\": 2, \"width\": 100, \"height\": 30, "
		    "\"env\": {\"TERM\": \"x\"}, \"idle\": [1, null, true]}";

		assert_int_equal(replay_parse_header(hd, strlen(hd), &w, &h, &e), 0);
	}
	assert_int_equal(w, 100);
	{
		const char *hd = "{\"version\": 1, \"width\": 80, \"height\": 24}";

		assert_int_not_equal(replay_parse_header(hd, strlen(hd), &w, &h, &e), 0);
	}
	buf_release(&d);
}

static void
recorder_redacts_and_stays_valid(void **state)
{
	char path[] = "/tmp/bg-unit-rec.XXXXXX", hex[65];
	recorder r;
	buf text;
	bg_error e;
	int fd = mkstemp(path);
	replay_opts o = { 1, 1, 1, 1, 1 };

	assert_true(fd >= 0);
	assert_int_equal(record_open(&r, fd, 80, 24, 1800000000, "t", "xterm"), 0);
	record_output(&r, "hello DB_PASS", 13);
	record_output(&r, "WORD=Sup3rS3cret!\r\n", 19);      /* a secret split across reads */
	record_output(&r, "caf\xc3", 4);                     /* UTF-8 split across reads */
	record_output(&r, "\xa9 \xff\n", 4);                 /* and an invalid byte */
	record_input(&r, "ls hunter2\r", 11, 1);                /* echo off or not: recorded */
	{
		/* a secret typed a key at a time is still redacted whole */
		static const char typed[] = "export DB_PASSWORD=Typ3dS3cret!\r";

		for (size_t k = 0; k < sizeof(typed) - 1; k++)
			record_input(&r, typed + k, 1, 0);
	}
	assert_int_equal(record_close(&r, hex), 0);
	buf_init(&text, 0);
	assert_int_equal(fileio_read(path, 1 << 20, &text, &e), 0);
	assert_null(strstr(buf_cstr(&text), "Sup3r"));
	assert_non_null(strstr(buf_cstr(&text), "[REDACTED:secret-assignment]"));
	assert_non_null(strstr(buf_cstr(&text), "\"i\", \"ls hunter2\\r\"]"));
	assert_null(strstr(buf_cstr(&text), "Typ3d"));
	assert_non_null(strstr(buf_cstr(&text), "\"i\", \"export DB_PASS"));
	assert_non_null(strstr(buf_cstr(&text), "caf\xc3\xa9 \xef\xbf\xbd"));
	{
		int null = open("/dev/null", O_WRONLY);

		assert_int_equal(replay_play(buf_cstr(&text), text.len, null, &o, &e), 0);
		close(null);
	}
	buf_release(&text);
	close(fd);
	unlink(path);
}

static void
recorder_rate_cap_drops_and_marks(void **state)
{
	char path[] = "/tmp/bg-unit-rate.XXXXXX", hex[65], chunk[1000];
	recorder r;
	buf text;
	bg_error e;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(record_open(&r, fd, 80, 24, 1800000000, NULL, NULL), 0);
	r.rate_cap = 3000;
	memset(chunk, 'x', sizeof(chunk) - 1);
	chunk[sizeof(chunk) - 1] = '\n';
	for (int i = 0; i < 10; i++) {
		record_output(&r, chunk, sizeof(chunk));
		record_input(&r, i == 9 ? "typed-during-flood\r" : "k", i == 9 ? 19 : 1, 0);
	}
	assert_int_equal(record_close(&r, hex), 0);
	buf_init(&text, 0);
	assert_int_equal(fileio_read(path, 1 << 20, &text, &e), 0);
	/* three chunks fit the window; the other seven are dropped and marked */
	assert_non_null(strstr(buf_cstr(&text), "7000 bytes of output not recorded"));
	assert_true(text.len < 5000);
	/* input is never dropped, flood or not */
	assert_non_null(strstr(buf_cstr(&text), "\"i\", \"kkkkkkkkktyped-during-flood\\r\"]"));
	buf_release(&text);
	close(fd);
	unlink(path);
}

/* the echo of what is typed into a flood is kept, only that */
static void
recorder_keeps_echo_in_flood(void **state)
{
	char path[] = "/tmp/bg-unit-echo.XXXXXX", hex[65], chunk[1000];
	recorder r;
	buf text;
	bg_error e;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(record_open(&r, fd, 80, 24, 1800000000, NULL, NULL), 0);
	r.rate_cap = 3000;
	memset(chunk, 'x', sizeof(chunk) - 1);
	chunk[sizeof(chunk) - 1] = '\n';
	for (int i = 0; i < 5; i++)
		record_output(&r, chunk, sizeof(chunk));
	/* typed (echo on) while over the cap: its echo arrives amid the flood */
	record_input(&r, "rm -rf /srv\r", 12, 0);
	record_output(&r, "xxrm -rfxxx", 11);
	record_output(&r, " /srv\r\nxxxx", 12);
	record_output(&r, chunk, sizeof(chunk));
	/* typed with echo off: nothing is expected back, nothing kept */
	record_input(&r, "quiet\r", 6, 1);
	record_output(&r, "quiet", 5);
	assert_int_equal(record_close(&r, hex), 0);
	buf_init(&text, 0);
	assert_int_equal(fileio_read(path, 1 << 20, &text, &e), 0);
	assert_non_null(strstr(buf_cstr(&text), "rm -rf"));
	assert_non_null(strstr(buf_cstr(&text), " /srv\\r\\n"));
	assert_null(strstr(buf_cstr(&text), "\"o\", \"quiet"));
	/* the rest of the flood is dropped and counted without the echo */
	assert_non_null(strstr(buf_cstr(&text), "bytes of output not recorded"));
	assert_true(text.len < 5000);
	buf_release(&text);
	close(fd);
	unlink(path);
}

static int
prompt_is_password(void *ctx, const char *line, size_t n)
{
	(void)ctx;
	return n >= 10 && memcmp(line + n - 10, "Password: ", 10) == 0;
}

/* after a password prompt, with echo off, a line is sealed, not written */
static void
recorder_masks_and_seals(void **state)
{
	char path[] = "/tmp/bg-unit-mask.XXXXXX", hex[65];
	unsigned char pk[32], sk[64], xpk[32];
	recorder r;
	buf text, out;
	bg_error e;
	size_t n;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	crypto_sign_keypair(pk, sk);
	assert_int_equal(crypto_sign_ed25519_pk_to_curve25519(xpk, pk), 0);
	assert_int_equal(record_open(&r, fd, 80, 24, 1800000000, NULL, NULL), 0);
	record_mask_after_prompts(&r, xpk, prompt_is_password, NULL);
	record_output(&r, "$ ", 2);
	record_input(&r, "echo visible\r", 13, 1);         /* echo off, no prompt: clear */
	record_output(&r, "\r\nvisible\r\nPassword: ", 21);
	record_input(&r, "s3cr", 4, 0);                     /* echo on: no masking */
	record_input(&r, "\r", 1, 0);
	record_output(&r, "\r\nPassword: ", 12);
	record_input(&r, "hunt", 4, 1);
	record_input(&r, "er2\r", 4, 1);
	record_input(&r, "after\r", 6, 1);                  /* the prompt was answered */
	assert_int_equal(record_close(&r, hex), 0);
	buf_init(&text, 0);
	assert_int_equal(fileio_read(path, 1 << 20, &text, &e), 0);
	assert_non_null(strstr(buf_cstr(&text), "\"i\", \"echo visible\\r\""));
	assert_non_null(strstr(buf_cstr(&text), "\"i\", \"s3cr\\r\""));
	assert_null(strstr(buf_cstr(&text), "hunt"));
	assert_non_null(strstr(buf_cstr(&text), "[masked: 7 bytes typed after a password prompt"));
	assert_non_null(strstr(buf_cstr(&text), "\"i\", \"after\\r\""));
	buf_init(&out, 0);
	assert_int_equal(replay_unseal(buf_cstr(&text), text.len, sk, &out, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_non_null(strstr(buf_cstr(&out), " s: hunter2\n"));
	buf_release(&out);
	buf_release(&text);
	close(fd);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(filter_keeps_and_strips),
		cmocka_unit_test(filter_state_carries),
		cmocka_unit_test(events),
		cmocka_unit_test(recorder_redacts_and_stays_valid),
		cmocka_unit_test(recorder_rate_cap_drops_and_marks),
		cmocka_unit_test(recorder_keeps_echo_in_flood),
		cmocka_unit_test(recorder_masks_and_seals),
	};

	return cmocka_run_group_tests_name("replay", tests, unit_setup_sodium, NULL);
}
