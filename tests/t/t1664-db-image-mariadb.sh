#!/bin/sh
# t1664-db-image-mariadb: what a MariaDB UPDATE's rollback restores and
# checks (src/db/mariapatch.c, driven by tests/db/dbtool against a real
# MariaDB 10.11).  The image holds, and the rollback restores
# and compares, the primary key, the columns the SET assigns and those the
# server changes on every UPDATE (ON UPDATE CURRENT_TIMESTAMP) - every
# column when the SET cannot be read.  A later change by others to one of
# them refuses the rollback (nothing restored); a later change to a
# column the patch did not touch is neither undone nor a refusal: the
# rollback restores the patch's columns and keeps the other change.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-db.sh"
DBTOOL=$(dirname "$BREAKGLASS")/tests/dbtool
[ -x "$DBTOOL" ] || { echo "Bail out! $DBTOOL missing (make integration builds it)"; exit 1; }
db_local mariadb img "server account"
M -e "CREATE DATABASE shop;
CREATE TABLE shop.orders (id int PRIMARY KEY, status varchar(20), note varchar(20), total int,
  changed timestamp NOT NULL DEFAULT '2020-01-01 00:00:00' ON UPDATE CURRENT_TIMESTAMP);
INSERT INTO shop.orders (id, status, note, total) VALUES (1, 'paid', 'a', 10), (2, 'stuck', 'b', 20),
  (3, 'stuck', 'c', 30), (4, 'paid', 'd', 40);" >/dev/null
rows() { M -e "SELECT group_concat(id, ':', status, ':', note, ':', total, ':', changed ORDER BY id) FROM shop.orders"; }
imgcols() { M -e "SELECT group_concat(column_name ORDER BY ordinal_position) FROM information_schema.columns
WHERE table_schema = 'breakglass' AND table_name = '$1_1'"; }
restcols() { M -e "SELECT c FROM breakglass.$1_after WHERE n = 1"; }
APPLY() { printf '%s\n' "$1" >"$T/p.sql"; "$DBTOOL" maria-dbapply "$MARIA_SOCK" shop "$T/p.sql" "$2" "$3"; }
RB() { "$DBTOOL" maria-rollback "$MARIA_SOCK" shop "$1"; }
DROP() { "$DBTOOL" maria-drop "$MARIA_SOCK" shop "$1" >/dev/null; }
BEFORE=$(rows)

# --- restored and checked: the key, the SET's columns, the ON UPDATE column ---
expect 0 "an UPDATE of two rows applies" APPLY "UPDATE shop.orders o SET o.Status = 'paid' WHERE o.id IN (2, 3)" 2 t1
[ "$(imgcols t1)" = "id,status,changed" ] && ok "its image holds the key, status and the ON UPDATE column, nothing else" ||
	not_ok "image columns: $(imgcols t1)"
[ "$(restcols t1)" = '`id`,`status`,`changed`' ] && ok "its rollback restores and checks the key, status and the ON UPDATE column" ||
	not_ok "restore columns: $(restcols t1)"
[ "$(M -e "SELECT count(*) FROM shop.orders WHERE changed > '2020-01-01'")" = 2 ] &&
	ok "the server changed the ON UPDATE column of the two rows" || not_ok "rows: $(rows)"
expect 0 "its rollback restores them" RB t1
out_has "restored rows=2" "two rows"
[ "$(rows)" = "$BEFORE" ] && ok "every column is as before, the ON UPDATE column too" ||
	not_ok "rows: $(rows) want $BEFORE"
DROP t1

# --- a change to a column the patch did not touch: kept, not a refusal ----------
expect 0 "the UPDATE applies again" APPLY "UPDATE shop.orders SET status = 'paid' WHERE id IN (2, 3)" 2 t2
M -e "UPDATE shop.orders SET note = 'later', total = 99, changed = changed WHERE id = 2" >/dev/null
expect 0 "a rollback after others changed columns the patch did not touch runs" RB t2
out_has "restored rows=2" "two rows restored"
[ "$(M -e "SELECT group_concat(id, ':', status, ':', note, ':', total ORDER BY id) FROM shop.orders")" = \
	"1:paid:a:10,2:stuck:later:99,3:stuck:c:30,4:paid:d:40" ] &&
	ok "the patch's column is restored, the other change is kept" || not_ok "rows: $(rows)"
DROP t2
M -e "UPDATE shop.orders SET note = 'b', total = 20, changed = '2020-01-01 00:00:00' WHERE id = 2" >/dev/null
[ "$(rows)" = "$BEFORE" ] && ok "(set back)" || not_ok "rows: $(rows)"

# --- a change to an imaged column: refused, nothing restored ------------------
expect 0 "the UPDATE applies a third time" APPLY "UPDATE shop.orders SET status = 'paid' WHERE id IN (2, 3)" 2 t3
M -e "UPDATE shop.orders SET status = 'shipped', changed = changed WHERE id = 3" >/dev/null
expect 1 "a rollback over a patched column changed since is refused" RB t3
err_has "changed or deleted by others since the patch" "and says why"
[ "$(M -e "SELECT group_concat(id, ':', status ORDER BY id) FROM shop.orders")" = "1:paid,2:paid,3:shipped,4:paid" ] &&
	ok "nothing restored, the other change kept" || not_ok "rows: $(rows)"
M -e "UPDATE shop.orders SET status = 'paid', changed = '2021-01-01 00:00:00' WHERE id = 3" >/dev/null
expect 1 "a change to the ON UPDATE column alone is one too" RB t3
err_has "changed or deleted by others since the patch" "the same refusal"
M -e "UPDATE shop.orders SET status = 'stuck' WHERE id = 3; DELETE FROM shop.orders WHERE id = 2" >/dev/null
expect 1 "so is a patched row deleted since" RB t3
err_has "(some deleted)" "and says so"
DROP t3
M -e "DELETE FROM shop.orders; INSERT INTO shop.orders (id, status, note, total) VALUES (1, 'paid', 'a', 10),
(2, 'stuck', 'b', 20), (3, 'stuck', 'c', 30), (4, 'paid', 'd', 40)" >/dev/null
[ "$(rows)" = "$BEFORE" ] && ok "(set back)" || not_ok "rows: $(rows)"

# --- a SET it cannot read: every column, the other change is then refused -----
expect 0 "an UPDATE whose SET is not of the plain shape applies" \
	APPLY "UPDATE shop.orders SET \`status\` = 'paid', note := 'x' WHERE id = 2" 1 t4
[ "$(restcols t4)" = '`id`,`status`,`note`,`total`,`changed`' ] && ok "its rollback restores and checks every column" ||
	not_ok "restore columns: $(restcols t4)"
[ "$(imgcols t4)" = "id,status,note,total,changed" ] && ok "its image holds the whole rows" ||
	not_ok "image columns: $(imgcols t4)"
M -e "UPDATE shop.orders SET total = 21, changed = changed WHERE id = 2" >/dev/null
expect 1 "and a later change to any column refuses its rollback" RB t4
M -e "UPDATE shop.orders SET total = 20, changed = changed WHERE id = 2" >/dev/null
expect 0 "set back, it restores" RB t4
DROP t4
M -e "UPDATE shop.orders SET changed = '2020-01-01 00:00:00' WHERE id = 2" >/dev/null
[ "$(rows)" = "$BEFORE" ] && ok "every row as before" || not_ok "rows: $(rows)"

# --- a DELETE: its image holds the whole rows, its rollback inserts them again ---
expect 0 "a DELETE of one row applies" APPLY "DELETE FROM shop.orders WHERE id = 4" 1 t6
[ "$(imgcols t6)" = "id,status,note,total,changed" ] && ok "its image holds the whole row" ||
	not_ok "image columns: $(imgcols t6)"
expect 0 "its rollback restores it" RB t6
[ "$(rows)" = "$BEFORE" ] && ok "the row is back, every column as before" || not_ok "rows: $(rows)"
DROP t6

# --- a SET naming no column of the table: every column, the server refuses ------
expect 1 "an UPDATE of a column the table lacks fails and nothing changes" \
	APPLY "UPDATE shop.orders SET nosuch = 1 WHERE id = 2" 1 t5
[ "$(rows)" = "$BEFORE" ] && ok "no row changed" || not_ok "rows: $(rows)"
[ "$(M -e "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'breakglass'")" = 0 ] &&
	ok "no before-image is left" || not_ok "images left"

done_testing
