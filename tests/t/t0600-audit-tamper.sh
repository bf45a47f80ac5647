#!/bin/sh
# t0600-audit-tamper: every modification, deletion, reordering and
# truncation of the audit log is found and the first bad record named;
# a damaged log stops every state change.
. "$(dirname "$0")/lib.sh"
setup_home
ticket_with_grants
bg ticket comment T-1 --text "first" >/dev/null
bg ticket comment T-1 --text "second" >/dev/null
LOG=$BREAKGLASS_HOME/audit.log
HEAD=$BREAKGLASS_HOME/audit.head
cp "$LOG" "$T/log.good"; cp "$HEAD" "$T/head.good"
restore() { cp "$T/log.good" "$LOG"; cp "$T/head.good" "$HEAD"; }
records=$(wc -l <"$LOG")

expect 0 "intact log verifies" bg audit verify
out_has "audit log intact: $records records" "counts the records"
expect 0 "verify --json" bg audit verify --json
out_has '"ok":true' "json says ok"

# modify one record's content
sed -i '5s/"actor":"tester"/"actor":"mallory"/' "$LOG"
expect 1 "modified record detected" bg audit verify
err_has "record 5 (line 5): hash mismatch" "names record 5"
expect 1 "no state change on a damaged log" bg ticket comment T-1 --text "after tamper"
expect 0 "reads still work on a damaged log" bg ticket show T-1
restore

# modify and re-hash the record (no key): the next record no longer chains
perl -ne 'use Digest::SHA qw(sha256_hex);
	if ($. == 4) { s/"actor":"tester"/"actor":"mallory"/; /^(.*),"hash":"[0-9a-f]{64}"\}$/ or die;
	  my $b = $1; $_ = $b . ",\"hash\":\"" . sha256_hex($b) . "\"}\n"; }
	print' "$T/log.good" >"$LOG"
expect 1 "re-hashed record detected" bg audit verify
err_has "record 5 (line 5): does not chain" "names the next record"
restore

# delete a record in the middle
sed -i '3d' "$LOG"
expect 1 "deleted record detected" bg audit verify
err_has "record 3 (line 3)" "names record 3"
err_has "deleted or reordered" "says deleted or reordered"
restore

# reorder two records
awk 'NR==6{l=$0; next} NR==7{print; print l; next} {print}' "$T/log.good" >"$LOG"
expect 1 "reordered records detected" bg audit verify
err_has "record 6 (line 6)" "names record 6"
restore

# truncate the tail
head -n $((records - 2)) "$T/log.good" >"$LOG"
expect 1 "truncated log detected" bg audit verify
err_has "log truncated" "says truncated"
err_has "record $((records - 1)): missing" "names the first missing record"
expect 1 "no state change on a truncated log" bg ticket comment T-1 --text x
err_has "audit log damaged, refusing" "says why"
restore

# cut the last record in half
head -c -20 "$T/log.good" >"$LOG"
expect 1 "half-written record detected" bg audit verify
restore

# truncate to nothing, and remove the head
: >"$LOG"
expect 1 "emptied log detected" bg audit verify
restore
rm "$HEAD"
expect 3 "missing head: home refused" bg audit verify
restore

# forge the head with another key
ssh-keygen -q -t ed25519 -N '' -f "$T/fake"
sed -i 's/ [A-Za-z0-9+\/=]*$/ AAAA/' "$HEAD"
expect 1 "forged head signature detected" bg audit verify
err_has "signature on the audit head is not valid" "names the head signature"
restore

# append a forged record (re-hashed, chained) after the head
perl -e 'use Digest::SHA qw(sha256_hex);
	open my $f, "<", $ARGV[0] or die; my @l = <$f>; my $last = $l[-1];
	my ($seq) = $last =~ /^\{"seq":(\d+)/; my ($h) = $last =~ /"hash":"([0-9a-f]{64})"\}$/;
	my $b = sprintf("{\"seq\":%d,\"time\":\"2026-11-21T06:00:00Z\",\"prev\":\"%s\",\"ticket\":1,\"event\":\"grant.activate\",\"actor\":\"mallory\",\"detail\":{}", $seq + 1, $h);
	print @l, $b, ",\"hash\":\"", sha256_hex($b), "\"}\n";' "$T/log.good" >"$LOG"
expect 1 "forged appended record detected" bg audit verify
err_has "not covered by the signed head" "says it is not covered"
restore

expect 0 "restored log verifies again" bg audit verify
expect 0 "export is a JSON array" bg audit export
perl -MJSON::PP -e 'local $/; my $j = decode_json(<STDIN>); exit(@$j > 5 ? 0 : 1)' <"$T/out" \
	&& ok "export parses" || not_ok "export parses"
expect 0 "export one ticket" bg audit export --ticket T-1
perl -MJSON::PP -e 'local $/; my $j = decode_json(<STDIN>); for (@$j) { exit 1 if ($_->{ticket} // 0) != 1 } exit 0' <"$T/out" \
	&& ok "ticket export holds only T-1 records" || not_ok "ticket export holds only T-1 records"
done_testing
