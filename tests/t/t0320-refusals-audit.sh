#!/bin/sh
# t0320-refusals-audit: the audit log records only what happened.  Every
# refused command leaves the store as it was and adds no record but a
# refusal record (grant.refuse); a refused 'ticket close' no longer writes
# a grant.cancel for a grant that stays approved; the cancel records of a
# close that happens name each grant.
. "$(dirname "$0")/lib.sh"
setup_home
ticket_with_grants
expect 0 "read grant G-1 activated" bg grant activate G-1

log="$BREAKGLASS_HOME/audit.log"
before=$(wc -l <"$log")
bg grant show G-2 --json >"$T/g2-before"

# every refusal this state allows (exit 1 refused, 2 usage/invalid)
expect 1 "close refused (no smoke test)" bg ticket close T-1
err_has "smoke test" "close: says why"
expect 1 "withdraw refused (access was granted)" bg ticket withdraw T-1 --reason "oops"
expect 1 "write grant refused (no backup)" bg grant activate G-2
expect 1 "activating G-1 twice refused" bg grant activate G-1
expect 1 "plan statement refused (no plan)" bg approve T-1 --statement --for plan
echo "not a signature" >"$T/junk.sig"
expect 2 "malformed signature refused" bg approve T-1 --signature "$T/junk.sig"
sign dev "$T/stmt-confirm"
expect 1 "requester's signature refused" bg approve T-1 --signature "$T/stmt-confirm.sig"
expect 2 "future backup refused" bg evidence T-1 backup --what d --where /b --taken 2099-01-01T00:00Z
expect 1 "secret in evidence refused" bg evidence T-1 backup --what "db dump" \
	--where "s3://AKIAZ3MN7XQ2PLRT4WEB@bucket" --taken 2026-11-21T01:00Z
printf 'summary: x\ndiagnosis: y\nchange: z\nimpact: i\n' >"$T/p-norollback.txt"
expect 2 "plan without rollback refused" bg plan T-1 --from "$T/p-norollback.txt"
expect 2 "unknown cleanup item refused" bg cleanup T-1 bogus --done --note x
expect 2 "unknown grant refused" bg grant revoke G-99 --reason x
expect 2 "unknown ticket refused" bg smoke T-99 --result pass --notes x
expect 1 "duplicate project refused" bg project add shop
expect 1 "policy refusal (system outside the project, whole /var/log)" bg grant request T-1 \
	--kind ssh --system mail9 --account hotfix --read /var/log --reason r

after=$(wc -l <"$log")
tail -n +"$((before + 1))" "$log" >"$T/new-records"
perl -MJSON::PP -ne 'my $r = decode_json($_); print "$r->{event}\n"' "$T/new-records" >"$T/new-events"
if grep -qv '\.refuse$' "$T/new-events"; then
	not_ok "only refusal records added (got: $(tr '\n' ' ' <"$T/new-events"))"
else
	ok "only refusal records added ($((after - before)): $(sort -u "$T/new-events" | tr '\n' ' '))"
fi
grep -q '^grant.refuse$' "$T/new-events" && ok "the policy refusal is recorded" \
	|| not_ok "the policy refusal is recorded"
bg grant show G-2 --json >"$T/g2-after"
cmp -s "$T/g2-before" "$T/g2-after" && ok "G-2 unchanged by the refusals" || not_ok "G-2 unchanged by the refusals"
expect 0 "audit log verifies" bg audit verify

# a close that happens: each never-activated grant cancelled by name
open_ticket
bg grant request T-2 --kind ssh --system web1 --account hotfix --read /var/log/nginx \
	--reason "read" >/dev/null
bg grant request T-2 --kind ssh --system web1 --account hotfix --read /var/log/php \
	--reason "read" >/dev/null
expect 0 "unused ticket withdrawn" bg ticket withdraw T-2 --reason "duplicate"
expect 0 "audit export" bg audit export --ticket T-2 --json
perl -MJSON::PP -e 'local $/; my $a = decode_json(<STDIN>);
	my @c = map { $_->{detail}{grant} } grep { $_->{event} eq "grant.cancel" } @$a;
	print join(",", @c), "\n"' <"$T/out" >"$T/cancelled"
[ "$(cat "$T/cancelled")" = "3,4" ] && ok "grant.cancel names G-3 and G-4" \
	|| not_ok "grant.cancel names G-3 and G-4 (got '$(cat "$T/cancelled")')"
done_testing
