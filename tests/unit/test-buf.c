/* test-buf.c - the capped buffer and the wire reader. */
#include "unit.h"
#include "buf.h"
#include "err.h"
#include "wire.h"

static void
cap_is_enforced(void **state)
{
	buf b;

	buf_init(&b, 8);
	assert_int_equal(buf_puts(&b, "12345678"), 0);
	assert_int_equal(buf_putc(&b, 'x'), BG_ERR_TOOLARGE);
	assert_string_equal(buf_cstr(&b), "12345678"); /* unchanged on failure */
	assert_int_equal(buf_printf(&b, "%d", 1), BG_ERR_TOOLARGE);
	buf_release(&b);
}

/* an error that wraps the message it had (bg_fail(e, r, "...: %s", e->msg)) */
static void
fail_wraps_its_own_message(void **state)
{
	bg_error e;

	bg_fail(&e, BG_ERR_IO, "cannot read 'x'");
	assert_int_equal(bg_fail(&e, BG_ERR_INVALID, "host log '%s': %s", "/var/log/bg", e.msg),
	    BG_ERR_INVALID);
	assert_string_equal(e.msg, "host log '/var/log/bg': cannot read 'x'");
}

static void
printf_and_detach(void **state)
{
	buf b;
	char *s;
	size_t n;

	buf_init(&b, 0);
	assert_string_equal(buf_cstr(&b), "");
	assert_int_equal(buf_printf(&b, "%s-%d", "G", 12), 0);
	assert_int_equal(buf_printf(&b, "/%0128d", 7), 0);
	assert_int_equal(b.len, 4 + 129);
	s = buf_detach(&b, &n);
	assert_non_null(s);
	assert_int_equal(n, 133);
	assert_int_equal(strncmp(s, "G-12/000", 8), 0);
	assert_null(b.data);
	free(s);
}

static void
nul_detection(void **state)
{
	buf b;

	buf_init(&b, 0);
	buf_append(&b, "a\0b", 3);
	assert_true(buf_has_nul(&b));
	buf_reset(&b);
	buf_puts(&b, "ab");
	assert_false(buf_has_nul(&b));
	buf_release(&b);
}

static void
wire_roundtrip_and_strictness(void **state)
{
	buf b;
	wire w;
	uint32_t v;
	uint64_t v64;
	char *s;
	const unsigned char *p;
	size_t n;

	buf_init(&b, 0);
	buf_put_u32(&b, 0xdeadbeef);
	buf_put_u64(&b, 0x0102030405060708ULL);
	buf_put_cstring(&b, "ssh-ed25519");
	wire_init(&w, b.data, b.len);
	assert_int_equal(wire_get_u32(&w, &v), 0);
	assert_int_equal(v, 0xdeadbeef);
	assert_int_equal(wire_get_u64(&w, &v64), 0);
	assert_true(v64 == 0x0102030405060708ULL);
	assert_int_equal(wire_get_cstring(&w, &s), 0);
	assert_string_equal(s, "ssh-ed25519");
	free(s);
	assert_int_equal(wire_end(&w), 0);
	/* a length past the end is refused, and the reader does not move */
	buf_reset(&b);
	buf_put_u32(&b, 100);
	buf_append(&b, "abc", 3);
	wire_init(&w, b.data, b.len);
	assert_int_equal(wire_get_string(&w, &p, &n), BG_ERR_INVALID);
	assert_int_equal(w.off, 0);
	/* embedded NUL refused as a C string */
	buf_reset(&b);
	buf_put_string(&b, "a\0b", 3);
	wire_init(&w, b.data, b.len);
	assert_int_equal(wire_get_cstring(&w, &s), BG_ERR_INVALID);
	/* trailing bytes are noticed */
	buf_reset(&b);
	buf_put_u32(&b, 1);
	buf_putc(&b, 'x');
	wire_init(&w, b.data, b.len);
	wire_get_u32(&w, &v);
	assert_int_equal(wire_end(&w), BG_ERR_INVALID);
	buf_release(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cap_is_enforced),
		cmocka_unit_test(printf_and_detach),
		cmocka_unit_test(fail_wraps_its_own_message),
		cmocka_unit_test(nul_detection),
		cmocka_unit_test(wire_roundtrip_and_strictness),
	};

	return cmocka_run_group_tests_name("buf", tests, unit_setup_sodium, NULL);
}
