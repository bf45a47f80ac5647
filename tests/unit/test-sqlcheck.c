/* test-sqlcheck.c - SQL patches read with the PostgreSQL parser, and the
 * strict JSON reader under it. */
#include "unit.h"
#include "err.h"
#include "json.h"
#include "sqlcheck.h"

static const char *const granted[] = { "public.orders", "shop.items" };

static void
check(const char *sql, sqlcheck *c)
{
	bg_error e;
	int r = sqlcheck_pg(sql, strlen(sql), NULL, granted, 2, c, &e);

	if (r != 0)
		fail_msg("%s: %s", sql, e.msg);
}

static void
classifies(void **state)
{
	const char *sql =
	    "SELECT * FROM orders o JOIN shop.items i ON i.id = o.item WHERE o.id = 3;"
	    "UPDATE orders SET status = 'paid' WHERE id = 7;"
	    "INSERT INTO shop.items (id) VALUES (1);"
	    "DELETE FROM public.orders WHERE id = 9";
	sqlcheck c;

	check(sql, &c);
	assert_int_equal(c.n, 4);
	assert_int_equal(c.v[0].kind, SQLCHECK_SELECT);
	assert_int_equal(c.v[0].ntables, 2);
	assert_string_equal(c.v[0].tables[0], "public.orders");
	assert_string_equal(c.v[0].tables[1], "shop.items");
	assert_int_equal(c.v[1].kind, SQLCHECK_UPDATE);
	assert_true(c.v[1].has_where);
	/* the modified table comes first */
	assert_int_equal(c.v[1].ntables, 1);
	assert_string_equal(c.v[1].tables[0], "public.orders");
	assert_string_equal(c.v[2].tables[0], "shop.items");
	assert_string_equal(c.v[3].tables[0], "public.orders");
	assert_int_equal(c.v[2].kind, SQLCHECK_INSERT);
	assert_int_equal(c.v[3].kind, SQLCHECK_DELETE);
	assert_int_equal(c.ndestructive, 0);
	assert_int_equal(c.nrefused, 0);
	/* the offsets cut the patch into its statements */
	assert_int_equal(strncmp(sql + c.v[1].off, "UPDATE orders", 13), 0);
	assert_int_equal(c.v[1].len, strlen("UPDATE orders SET status = 'paid' WHERE id = 7"));
	assert_int_equal(strncmp(sql + c.v[3].off, "DELETE FROM public.orders WHERE id = 9",
	    c.v[3].len), 0);
	sqlcheck_release(&c);
}

static void
destructive(void **state)
{
	static const struct { const char *sql; const char *why; } v[] = {
		{ "DELETE FROM orders", "DELETE without WHERE" },
		{ "UPDATE orders SET status = 'x'", "UPDATE without WHERE" },
		{ "TRUNCATE orders", "TRUNCATE" },
		{ "DROP TABLE orders", "DROP TABLE" },
		{ "DROP INDEX orders_idx", "DROP INDEX" },
		{ "ALTER TABLE orders DROP COLUMN note", "DropColumn" },
		{ "ALTER TABLE orders DROP CONSTRAINT c", "DropConstraint" },
		{ "SELECT * FROM customers", "'public.customers' is outside" },
		{ "UPDATE customers SET a = 1 WHERE id = 2", "'public.customers' is outside" },
		{ "DELETE FROM public.customers WHERE id = 2", "'public.customers' is outside" },
		{ "INSERT INTO billing.cards VALUES (1)", "'billing.cards' is outside" },
		{ "UPDATE orders SET a = 1 WHERE id IN (SELECT id FROM customers)",
		  "'public.customers' is outside" },
		{ "CREATE INDEX i ON customers (id)", "'public.customers' is outside" },
		{ "UPDATE orders SET x = 1 FROM secret.keys k WHERE k.id = orders.id",
		  "'secret.keys' is outside" },
		{ "SELECT * FROM orders WHERE id IN (SELECT id FROM \"Other\")",
		  "'public.Other' is outside" },
		{ "WITH gone AS (DELETE FROM orders WHERE id = 1 RETURNING *) SELECT * FROM gone",
		  "hidden inside" },
		{ "WITH x AS (UPDATE orders SET a = 1 RETURNING *) SELECT 1", "hidden inside" },
		{ "MERGE INTO orders o USING shop.items i ON o.id = i.id WHEN MATCHED THEN DELETE",
		  "MERGE" },
		{ NULL, NULL }
	};
	sqlcheck c;
	buf b;

	for (int i = 0; v[i].sql != NULL; i++) {
		check(v[i].sql, &c);
		assert_int_equal(c.n, 1);
		if (!c.v[0].destructive || c.v[0].refused || strstr(c.v[0].why, v[i].why) == NULL)
			fail_msg("%s: destructive %d refused %d why '%s'", v[i].sql,
			    c.v[0].destructive, c.v[0].refused, c.v[0].why);
		assert_int_equal(c.ndestructive, 1);
		buf_init(&b, 0);
		assert_int_equal(sqlcheck_describe(&c, &b), 0);
		assert_non_null(strstr(buf_cstr(&b), "statement 1 ("));
		assert_non_null(strstr(buf_cstr(&b), "destructive"));
		buf_release(&b);
		sqlcheck_release(&c);
	}
}

static void
refused(void **state)
{
	static const char *const v[] = {
		"COPY orders TO PROGRAM 'id'",
		"COPY orders FROM '/etc/passwd'",
		"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT a",
		"SET ROLE postgres", "RESET ROLE", "SET default_transaction_read_only = off",
		"SET SESSION AUTHORIZATION postgres",
		"DO $$ BEGIN DELETE FROM orders; END $$",
		"CALL p()",
		"GRANT ALL ON orders TO PUBLIC", "CREATE ROLE x SUPERUSER",
		"ALTER ROLE x CREATEROLE", "CREATE EXTENSION dblink",
		"CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'select 1'",
		"SELECT lo_import('/etc/passwd')", "SELECT lo_create(0)",
		"SELECT pg_read_file('/etc/passwd')", "SELECT set_config('role', 'x', false)",
		"SELECT pg_terminate_backend(1)",
		"SELECT * FROM orders WHERE pg_catalog.pg_cancel_backend(1)",
		"SELECT * INTO newtab FROM orders", "LOAD 'x'", "VACUUM orders",
		"ALTER SYSTEM SET fsync = off", "CREATE DATABASE x", "LISTEN x", "NOTIFY x",
		"PREPARE p AS DELETE FROM orders", "EXECUTE p", "DISCARD ALL", "SHOW ALL",
		NULL
	};
	sqlcheck c;

	for (int i = 0; v[i] != NULL; i++) {
		check(v[i], &c);
		if (c.n != 1 || !c.v[0].refused || c.nrefused != 1)
			fail_msg("not refused: %s (%s)", v[i], c.n ? c.v[0].why : "");
		sqlcheck_release(&c);
	}
	/* a refusal's reason is the one shown, even after a destructive one */
	check("DELETE FROM other WHERE lo_unlink(3) = 1", &c);
	assert_true(c.v[0].refused);
	assert_non_null(strstr(c.v[0].why, "lo_unlink"));
	sqlcheck_release(&c);
}

static void
parser_refuses(void **state)
{
	static const char *const v[] = {
		"", "   ", ";", "SELEC 1", "SELECT 'unterminated", "UPDATE orders SET",
		"DELETE FROM orders WHERE id = 1; DROP", NULL
	};
	sqlcheck c;
	bg_error e;

	for (int i = 0; v[i] != NULL; i++)
		assert_int_equal(sqlcheck_pg(v[i], strlen(v[i]), NULL, granted, 2, &c, &e),
		    BG_ERR_INVALID);
	assert_int_equal(sqlcheck_pg("SELECT 1\0; DROP TABLE x", 24, NULL, NULL, 0, &c, &e),
	    BG_ERR_INVALID);
	/* the position is reported */
	assert_int_equal(sqlcheck_pg("SELECT FROM WHERE;;", 19, NULL, NULL, 0, &c, &e),
	    BG_ERR_INVALID);
	assert_non_null(strstr(e.msg, "at byte"));
}

static void
before_image_shape(void **state)
{
	static const struct { const char *sql; const char *rel; const char *where; } v[] = {
		{ "UPDATE orders SET status = 'paid' WHERE id = 7", " orders ", " id = 7" },
		{ "  update ONLY public.orders o set a = (select 1 where true) where (o.id) in (1, 2)",
		  " ONLY public.orders o ", " (o.id) in (1, 2)" },
		{ "DELETE FROM orders WHERE \"where\" = 'set' -- note", " orders ",
		  " \"where\" = 'set' -- note" },
		{ "SELECT 1; UPDATE orders SET a = 1 WHERE b = 2", " orders ", " b = 2" },
		{ NULL, NULL, NULL }
	};
	static const char *const no[] = {
		"UPDATE orders SET a = 1 FROM shop.items WHERE a = 2",
		"DELETE FROM orders USING shop.items WHERE orders.id = items.id",
		"UPDATE orders SET a = 1 WHERE b = 2 RETURNING *",
		"WITH x AS (SELECT 1) UPDATE orders SET a = 1 WHERE b = 2",
		"UPDATE orders SET a = 1", "INSERT INTO orders VALUES (1)", NULL
	};
	sqlcheck c;

	for (int i = 0; v[i].sql != NULL; i++) {
		const sqlcheck_stmt *s;

		check(v[i].sql, &c);
		s = &c.v[c.n - 1];
		assert_true(s->imageable);
		assert_int_equal(s->rel_len, strlen(v[i].rel));
		assert_memory_equal(v[i].sql + s->rel_off, v[i].rel, s->rel_len);
		assert_int_equal(s->where_len, strlen(v[i].where));
		assert_memory_equal(v[i].sql + s->where_off, v[i].where, s->where_len);
		sqlcheck_release(&c);
	}
	for (int i = 0; no[i] != NULL; i++) {
		check(no[i], &c);
		if (c.v[0].imageable)
			fail_msg("imageable: %s", no[i]);
		sqlcheck_release(&c);
	}
}

static void
mariadb(void **state)
{
	static const char *const mg[] = { "shop.orders", "shop.items" };
	static const struct { const char *sql; int kind; int d, rf; const char *why; } v[] = {
		{ "SELECT * FROM orders o JOIN `items` i ON i.id = o.item WHERE o.id = 3",
		  SQLCHECK_SELECT, 0, 0, "" },
		{ "UPDATE orders SET status = 'it''s paid' WHERE id = 7", SQLCHECK_UPDATE, 0, 0, "" },
		{ "update shop.orders set a = 1 # note\n where b = 2", SQLCHECK_UPDATE, 0, 0, "" },
		{ "DELETE FROM orders", SQLCHECK_DELETE, 1, 0, "without WHERE" },
		{ "UPDATE orders SET a = (SELECT 1 FROM items WHERE x = 1)", SQLCHECK_UPDATE, 1, 0,
		  "without WHERE" },
		{ "TRUNCATE orders", SQLCHECK_TRUNCATE, 1, 0, "TRUNCATE" },
		{ "DROP TABLE IF EXISTS orders", SQLCHECK_DDL, 1, 0, "DROP" },
		{ "ALTER TABLE orders DROP COLUMN c", SQLCHECK_DDL, 1, 0, "DROP" },
		{ "REPLACE INTO orders VALUES (1)", SQLCHECK_INSERT, 1, 0, "REPLACE" },
		{ "SELECT * FROM customers", SQLCHECK_SELECT, 1, 0, "'shop.customers' is outside" },
		{ "SELECT * FROM orders WHERE id IN (SELECT id FROM mysql.user)", SQLCHECK_SELECT, 1,
		  0, "'mysql.user' is outside" },
		{ "SELECT * FROM orders INTO OUTFILE '/tmp/x'", SQLCHECK_SELECT, 0, 1, "outfile" },
		{ "SELECT LOAD_FILE('/etc/passwd')", SQLCHECK_SELECT, 0, 1, "load_file" },
		{ "UPDATE orders, items SET a = 1 WHERE b = 2", SQLCHECK_UPDATE, 0, 1, "multi-table" },
		{ "DELETE o FROM orders o JOIN items i WHERE 1", SQLCHECK_DELETE, 0, 1, "multi-table" },
		{ "SET GLOBAL general_log = 0", SQLCHECK_OTHER, 0, 1, "not a statement" },
		{ "GRANT ALL ON *.* TO x", SQLCHECK_OTHER, 0, 1, "not a statement" },
		{ "LOAD DATA INFILE '/etc/passwd' INTO TABLE orders", SQLCHECK_OTHER, 0, 1, "not a statement" },
		{ "CALL p()", SQLCHECK_OTHER, 0, 1, "not a statement" },
		{ "KILL 3", SQLCHECK_OTHER, 0, 1, "not a statement" },
		{ NULL, 0, 0, 0, NULL }
	};
	static const char *const bad[] = {
		"SELECT 'a\\' ; DROP TABLE orders; -- '", "SELECT /*! 1; DROP TABLE x */ 1",
		"SELECT /*M!100000 1 */", "SELECT 1 --x", "SELECT 'open", "SELECT (1",
		"SELECT 1)", "SELECT \x01", "", " ; ; ", "SELECT (1; 2)", NULL
	};
	sqlcheck c;
	bg_error e;

	for (int i = 0; v[i].sql != NULL; i++) {
		if (sqlcheck_mariadb(v[i].sql, strlen(v[i].sql), "shop", mg, 2, &c, &e) != 0)
			fail_msg("%s: %s", v[i].sql, e.msg);
		if (c.n != 1 || c.v[0].kind != v[i].kind || c.v[0].destructive != v[i].d ||
		    c.v[0].refused != v[i].rf || strstr(c.v[0].why, v[i].why) == NULL)
			fail_msg("%s: n %zu kind %d destructive %d refused %d why '%s'", v[i].sql, c.n,
			    c.v[0].kind, c.v[0].destructive, c.v[0].refused, c.v[0].why);
		sqlcheck_release(&c);
	}
	for (int i = 0; bad[i] != NULL; i++)
		if (sqlcheck_mariadb(bad[i], strlen(bad[i]), "shop", mg, 2, &c, &e) == 0)
			fail_msg("accepted: %s", bad[i]);
	assert_int_equal(sqlcheck_mariadb("SELECT 1; SELECT 2;", 19, "shop", mg, 2, &c, &e), 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(strncmp("SELECT 1; SELECT 2;" + c.v[1].off, "SELECT 2", c.v[1].len), 0);
	sqlcheck_release(&c);
}

/* MariaDB before-image offsets: the target and the condition, verbatim,
 * only for the shapes mariapatch can image */
static void
mariadb_image(void **state)
{
	static const struct { const char *sql; const char *rel, *where; } v[] = {
		{ "UPDATE orders SET status = 'paid' WHERE id = 7", " orders ", " id = 7" },
		{ "UPDATE shop.orders o SET o.a = 1 WHERE o.id IN (1, 2)", " shop.orders o ",
		  " o.id IN (1, 2)" },
		{ "update `orders` as o set a = (select 1 from items where x = 1 limit 1) where b = 2",
		  " `orders` as o ", " b = 2" },
		{ "DELETE FROM orders WHERE id < 3", " orders ", " id < 3" },
		{ "UPDATE orders SET a = 1 WHERE b = 2 LIMIT 1", NULL, NULL },
		{ "UPDATE orders SET a = 1 WHERE b = 2 ORDER BY id", NULL, NULL },
		{ "DELETE FROM orders WHERE b = 2 RETURNING id", NULL, NULL },
		{ "UPDATE IGNORE orders SET a = 1 WHERE b = 2", NULL, NULL },
		{ "UPDATE orders PARTITION (p0) SET a = 1 WHERE b = 2", NULL, NULL },
		{ "DELETE FROM orders", NULL, NULL },
		{ "SELECT * FROM orders WHERE id = 1", NULL, NULL },
		{ NULL, NULL, NULL }
	};
	static const char *const mg[] = { "shop.orders", "shop.items", "shop.ignore" };
	sqlcheck c;
	bg_error e;

	(void)state;
	for (int i = 0; v[i].sql != NULL; i++) {
		const sqlcheck_stmt *st;

		if (sqlcheck_mariadb(v[i].sql, strlen(v[i].sql), "shop", mg, 3, &c, &e) != 0)
			fail_msg("%s: %s", v[i].sql, e.msg);
		st = &c.v[0];
		if (v[i].rel == NULL) {
			if (st->imageable && !st->refused)
				fail_msg("imageable: %s", v[i].sql);
		} else if (!st->imageable || st->rel_len != strlen(v[i].rel) ||
		    strncmp(v[i].sql + st->rel_off, v[i].rel, st->rel_len) != 0 ||
		    st->where_len != strlen(v[i].where) ||
		    strncmp(v[i].sql + st->where_off, v[i].where, st->where_len) != 0) {
			fail_msg("%s: imageable %d rel '%.*s' where '%.*s'", v[i].sql, st->imageable,
			    (int)st->rel_len, v[i].sql + st->rel_off, (int)st->where_len,
			    v[i].sql + st->where_off);
		}
		sqlcheck_release(&c);
	}
}

/* the columns a MariaDB UPDATE's SET assigns ("" : not known, the image
 * then holds every column) */
static void
mariadb_set_targets(void **state)
{
	static const struct { const char *sql, *cols; } v[] = {
		{ "UPDATE orders SET status = 'paid' WHERE id = 7", "status" },
		{ "UPDATE shop.orders o SET o.Total = o.total + 1, `Sta``tus` = IF(a, b, c) WHERE id = 1",
		  "total,Sta`tus" },
		{ "UPDATE orders SET shop.orders.a = 1, A = 2, b = a = 3 WHERE id = 1", "a,b" },
		{ "UPDATE orders SET a = (SELECT x FROM items WHERE y = 1), b = CASE WHEN c = 1 "
		  "THEN 2 ELSE 3 END WHERE id = 1", "a,b" },
		{ "UPDATE orders SET a := 1 WHERE id = 1", "" },
		{ "UPDATE orders SET \"a\" = 1 WHERE id = 1", "" },
		{ "UPDATE orders SET a = 1, WHERE id = 1", "" },
		{ "UPDATE orders SET a = WHERE id = 1", "" },
		{ "UPDATE orders SET (a) = 1 WHERE id = 1", "" },
		{ "UPDATE orders SET a.b.c.d = 1 WHERE id = 1", "" },
		{ "UPDATE orders SET a01 = 1, a02 = 1, a03 = 1, a04 = 1, a05 = 1, a06 = 1, a07 = 1, "
		  "a08 = 1, a09 = 1, a10 = 1, a11 = 1, a12 = 1, a13 = 1, a14 = 1, a15 = 1, a16 = 1, "
		  "a17 = 1 WHERE id = 1", "" },
		{ "UPDATE orders SET `aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa` = 1 "
		  "WHERE id = 1", "" },
		{ "DELETE FROM orders WHERE id = 1", "" },
		{ NULL, NULL }
	};
	static const char *const mg[] = { "shop.orders", "shop.items" };
	sqlcheck c;
	bg_error e;

	(void)state;
	for (int i = 0; v[i].sql != NULL; i++) {
		char got[1024] = "";

		if (sqlcheck_mariadb(v[i].sql, strlen(v[i].sql), "shop", mg, 2, &c, &e) != 0)
			fail_msg("%s: %s", v[i].sql, e.msg);
		if (c.v[0].setcols_known)
			for (size_t j = 0; j < c.v[0].nsetcols; j++)
				snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s",
				    j ? "," : "", c.v[0].setcols[j]);
		if (strcmp(got, v[i].cols) != 0)
			fail_msg("%s: set columns '%s', want '%s'", v[i].sql, got, v[i].cols);
		sqlcheck_release(&c);
	}
}

static void
json_reader(void **state)
{
	static const char *const bad[] = {
		"", "{", "[1,]", "{\"a\":1,}", "{\"a\":1,\"a\":2}", "01", "1.", "-",
		"\"\\u0000\"", "\"\\ud800\"", "\"\\udc00x\"", "\"a\nb\"", "[1] x", "nul",
		"{\"a\" 1}", "\"\\x\"", "1e", NULL
	};
	json_val *v;
	bg_error e;
	char deep[600];
	const char *ok = "{\"a\":[1,-2.5e3,true,null,\"\\u00e9\\ud83d\\ude00\"]}";

	for (int i = 0; bad[i] != NULL; i++)
		if (json_parse(bad[i], strlen(bad[i]), &v, &e) == 0)
			fail_msg("accepted: %s", bad[i]);
	memset(deep, '[', sizeof(deep));
	assert_int_equal(json_parse(deep, sizeof(deep), &v, &e), BG_ERR_TOOLARGE);
	assert_int_equal(json_parse(ok, strlen(ok), &v, &e), 0);
	assert_int_equal(json_get(v, "a")->n, 5);
	assert_string_equal(json_get(v, "a")->v[1].s, "-2.5e3");
	assert_string_equal(json_get(v, "a")->v[4].s, "\xc3\xa9\xf0\x9f\x98\x80");
	assert_null(json_get(v, "b"));
	json_val_free(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(classifies),
		cmocka_unit_test(destructive),
		cmocka_unit_test(refused),
		cmocka_unit_test(parser_refuses),
		cmocka_unit_test(before_image_shape),
		cmocka_unit_test(mariadb),
		cmocka_unit_test(mariadb_image),
		cmocka_unit_test(mariadb_set_targets),
		cmocka_unit_test(json_reader),
	};

	return cmocka_run_group_tests_name("sqlcheck", tests, NULL, NULL);
}
