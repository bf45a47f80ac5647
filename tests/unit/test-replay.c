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
	record_input(&r, "ls hunter2\r", 11);                /* echo off or not: recorded */
	{
		/* a secret typed a key at a time is still redacted whole */
		static const char typed[] = "export DB_PASSWORD=Typ3dS3cret!\r";

		for (size_t k = 0; k < sizeof(typed) - 1; k++)
			record_input(&r, typed + k, 1);
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
		record_input(&r, i == 9 ? "typed-during-flood\r" : "k", i == 9 ? 19 : 1);
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(filter_keeps_and_strips),
		cmocka_unit_test(filter_state_carries),
		cmocka_unit_test(events),
		cmocka_unit_test(recorder_redacts_and_stays_valid),
		cmocka_unit_test(recorder_rate_cap_drops_and_marks),
	};

	return cmocka_run_group_tests_name("replay", tests, unit_setup_sodium, NULL);
}
