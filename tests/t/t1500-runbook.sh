#!/bin/sh
# t1500-runbook: client-executed mode.  A plan approved on the broker is
# exported as a signed runbook and run on a second "client" host (its own
# directory tree, configuration and home; no broker), then the result bundle
# is imported back.  Refusals before anything runs: tampered step, swapped
# order, bad signature, unknown signers, another system, already run; a
# failing step stops the rest; secrets in output are redacted, one split
# across two writes and a multi-line PEM key; rollback restores.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-runbook.sh"
[ "$(id -u)" -eq 0 ] || { echo "1..0 # needs root (the client configuration is root-owned)"; exit 1; }

runbook_client srv/app
confirmed 1

# --- the client's host: its own tree, configuration and operator key --------
i=1; while [ $i -le 12 ]; do
	if [ $i -eq 10 ]; then echo "    \$c = \$order['currency'];"; else echo "line $i"; fi
	i=$((i + 1))
done >"$C/srv/app/Payment.php"
printf 'keep me\n' >"$C/srv/app/other.txt"
cp "$C/srv/app/Payment.php" "$T/Payment.orig"
# the operator's output: a token split across two writes, then a PEM key
# written a line at a time (the scanner must see each whole)
cat >"$C/emit" <<'EOF'
printf 'deploying... GITHUB_TOKEN=gh'
sleep 0.3
printf 's_y5oiFIMVgoVbslS11fEz7v1Mw04G4r3s691P done\n'
printf -- '-----BEGIN OPENSSH PRIVATE KEY-----\n'
sleep 0.3
printf 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQI5aSA6SMyGoW9rteZI1jglexA0So40\n'
sleep 0.3
printf -- '-----END OPENSSH PRIVATE KEY-----\nafter the key\n'
EOF
conf "$C/etc/runbook.conf" "$C/state"

# --- the plan: a diff with its pre-image (git's index line), commands -------
PRE=$(git hash-object "$C/srv/app/Payment.php")
cat >"$T/fix.diff" <<EOF
diff --git a/app/Payment.php b/app/Payment.php
index ${PRE}..0000000 100644
--- a/app/Payment.php
+++ b/app/Payment.php
@@ -10,1 +10,1 @@
-    \$c = \$order['currency'];
+    \$c = \$order['currency'] ?? 'EUR';
EOF
cat >"$T/restart.cmds" <<EOF
# reload the application
echo reloading php-fpm
/bin/sh $C/emit
EOF
cat >"$T/plan.txt" <<EOF
summary: default the currency when the gateway omits it
diagnosis: release 4.2.1 reads the currency without a default
change: apply fix.diff, reload php-fpm
rollback: put app/Payment.php back as it was (breakglass runbook rollback)
impact: php-fpm reload, no downtime
smoke-test: grep -q EUR $C/srv/app/Payment.php
EOF
expect 0 "plan with a diff and commands submitted" bg plan T-1 --from "$T/plan.txt" \
	--diff "$T/fix.diff" --commands "$T/restart.cmds"
expect 1 "export refused while the plan is not approved" bg runbook export T-1 -o "$T/rb"
err_has "not approved" "says the plan is not approved"
approved 1
expect 0 "runbook exported" bg runbook export T-1 -o "$T/rb"
out_has "2 steps, 2 signatures" "with both steps and both signatures"
grep -q '^step: 1 diff ' "$T/rb" && grep -q '^step: 2 commands ' "$T/rb" && ok "steps in the plan's order" \
	|| not_ok "steps in the plan's order"

# --- refused before anything runs -------------------------------------------
unchanged() { if cmp -s "$C/srv/app/Payment.php" "$T/Payment.orig" && [ -z "$(ls "$C/state" | grep -v snapshots)" ]; then ok "$1: nothing ran"; else not_ok "$1: nothing ran"; fi; }
run() { bg runbook run "$@" --config "$C/etc/runbook.conf" --yes; }

sed 's/currency.. ?? .EUR.;/currency"] ?? "USD";/' "$T/rb" >"$T/rb-tampered"
cmp -s "$T/rb" "$T/rb-tampered" && not_ok "tampered copy differs" || ok "tampered copy differs"
expect 1 "a tampered step is refused" run "$T/rb-tampered"
err_has "step 1 ('fix.diff') was altered" "names the altered step"
unchanged "tampered"

perl -0pe 's/(step: 1 diff \S+ (\d+) \S+\n)(.*?\n)(step: 2 commands \S+ (\d+) \S+\n)(.*?\n)end\n/SWAP/s' "$T/rb" >/dev/null
perl -0e '
	local $/; my $t = <STDIN>;
	my ($head, $rest) = $t =~ /\A(.*?\n)(step: 1 .*)\z/s or die;
	my @s; while ($rest =~ /\Gstep: (\d+) (\S+) (\S+) (\d+) (\S+)\n/gc) {
		my ($n, $k, $h, $l, $nm) = ($1, $2, $3, $4, $5); my $b = substr($rest, pos($rest), $l + 1);
		pos($rest) += $l + 1; push @s, [$k, $h, $l, $nm, $b]; }
	@s = reverse @s; my $i = 0;
	print $head, (map { $i++; "step: $i $_->[0] $_->[1] $_->[2] $_->[3]\n$_->[4]" } @s), "end\n";
' <"$T/rb" >"$T/rb-swapped"
expect 1 "a swapped step order is refused" run "$T/rb-swapped"
err_has "steps were changed or reordered" "says the order changed"
unchanged "swapped"

# a signature that does not verify: flip a byte inside the first signature
perl -0pe 's/(signature: \d+\n-----BEGIN SSH SIGNATURE-----\n.{40})(.)/$1 . ($2 eq "A" ? "B" : "A")/se' "$T/rb" >"$T/rb-badsig"
expect 1 "a bad signature is refused" run "$T/rb-badsig"
err_has "refused, nothing was run" "refused before running"
unchanged "bad signature"

# signers the client does not know: only 'dev' is trusted here
mkdir -p "$C/etc2"; { printf 'dev@agency.example '; cat "$T/dev.pub"; } >"$C/etc2/approvers"
sed "s#$C/etc/approvers#$C/etc2/approvers#" "$C/etc/runbook.conf" >"$C/etc2/runbook.conf"
expect 1 "approvers this host does not trust count for nothing" \
	bg runbook run "$T/rb" --config "$C/etc2/runbook.conf" --yes
err_has "0 of 2 required approvers" "says how many known approvers signed"
conf "$C/etc2/runbook.conf" "$C/state" "quorum: 3"
expect 1 "a quorum the signatures do not reach is refused" \
	bg runbook run "$T/rb" --config "$C/etc2/runbook.conf" --yes
conf "$C/etc2/runbook.conf" "$C/state" "system: db1"
expect 1 "a runbook for another system is refused" \
	bg runbook run "$T/rb" --config "$C/etc2/runbook.conf" --yes
err_has "for system 'web1'; this host is 'db1'" "names both systems"
chmod 0666 "$C/etc2/runbook.conf"
expect 1 "a world-writable configuration is refused" \
	bg runbook run "$T/rb" --config "$C/etc2/runbook.conf" --yes
err_has "not group- or world-writable" "says why"
expect 1 "an expired runbook is refused" env BREAKGLASS_TESTING=1 BREAKGLASS_NOW=2099-01-01T00:00:00Z \
	"$BREAKGLASS" runbook run "$T/rb" --config "$C/etc/runbook.conf" --yes
unchanged "refusals"

# --- the run ----------------------------------------------------------------
expect 0 "the runbook runs on the client host" run "$T/rb" -o "$T/bundle"
out_has "1. apply the diff 'fix.diff'" "steps shown in plain words"
out_has "2.2. run the program /bin/sh" "commands numbered inside their step"
out_has "run the program /bin/sh with the arguments" "commands shown as what they run"
out_has "changed app/Payment.php" "the diff was applied"
grep -q "currency'] ?? 'EUR'" "$C/srv/app/Payment.php" && ok "target file changed" || not_ok "target file changed"
out_has "REDACTED:github-token\|REDACTED:github" "a token split across two writes is redacted on screen"
grep -q 'y5oiFIMV' "$T/out" "$T/bundle" && not_ok "no part of the token anywhere" || ok "no part of the token anywhere"
grep -q 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUA' "$T/out" "$T/bundle" && not_ok "the PEM key is redacted" || ok "the PEM key is redacted"
out_has "after the key" "output after the key is kept"
out_has "(the plan's smoke check)" "the smoke test runs as a step"
grep -q '^record: [0-9]* [0-9a-f]* end 0 ok ' "$T/bundle" && ok "bundle ends ok" || not_ok "bundle ends ok"
grep -q '"changes"' "$T/bundle" && ok "bundle holds the change set" || not_ok "bundle holds the change set"
grep -q '"duration_ms"' "$T/bundle" && ok "and durations" || not_ok "and durations"

expect 1 "the same runbook twice is refused" run "$T/rb"
err_has "already run on this host" "says it already ran"

# --- import on the broker -----------------------------------------------------
expect 1 "a bundle signed by a key the project does not know is refused" bg runbook import T-1 "$T/bundle"
err_has "does not know" "says the key is unknown"
bg user add ops@client.example --key "$C/operator.pub" --role operator >/dev/null || exit 1
head -c 2000 "$T/bundle" >"$T/bundle-trunc"
expect 2 "a truncated bundle is refused" bg runbook import T-1 "$T/bundle-trunc"
err_has "truncated\|ends early\|cut short" "says it is truncated"
sed 's/exit\\":0/exit\\":1/; s/"exit":0/"exit":1/' "$T/bundle" >"$T/bundle-tampered"
cmp -s "$T/bundle" "$T/bundle-tampered" && not_ok "tampered bundle differs" || ok "tampered bundle differs"
expect 1 "a tampered bundle is refused" bg runbook import T-1 "$T/bundle-tampered"
# a bundle for a runbook this broker never exported for the ticket, chained
# and signed properly by the (known) operator key
perl -MDigest::SHA=sha256_hex -0777 -ne '
	my ($head, $rest) = /\A(breakglass runbook result v1\n.*?\noperator: [^\n]*\n)(.*)\z/s or die;
	$head =~ s/^runbook: [0-9a-f]{64}$/"runbook: " . ("0" x 64)/me;
	my $prev = sha256_hex($head); my $out = $head;
	while ($rest =~ /\Grecord: (\d+) [0-9a-f]{64} (\S+ \S+ \S+) (\d+)\n/gc) {
		my $r = "record: $1 $prev $2 $3\n" . substr($rest, pos($rest), $3 + 1);
		pos($rest) += $3 + 1; $prev = sha256_hex($r); $out .= $r; }
	print $out;' "$T/bundle" >"$T/forged"
ssh-keygen -q -Y sign -n breakglass-runbook -f "$C/operator" "$T/forged" </dev/null >/dev/null 2>&1
{ printf 'signature: %s\n' "$(wc -c <"$T/forged.sig")"; cat "$T/forged.sig"; printf '\nend\n'; } >>"$T/forged"
expect 1 "a signed bundle of a runbook never exported for the ticket is refused" bg runbook import T-1 "$T/forged"
err_has "which was not exported for T-1" "says the runbook was not exported"
expect 1 "a bundle for another ticket is refused" bg runbook import T-2 "$T/bundle"
expect 0 "the bundle is imported" bg runbook import T-1 "$T/bundle"
out_has "step 1: ok" "each step's outcome shown"
out_has "step 2: ok" "including the commands"
expect 1 "importing it twice is refused" bg runbook import T-1 "$T/bundle"
expect 0 "the report" bg report T-1
out_has "runbook.import" "the report's timeline has the imported result"
bg report T-1 >"$T/out"
out_has "## Run by the client" "the report has the client's runs"
out_has "step 1 ok, step 2 ok, step 3 ok, outcome ok" "with each step's outcome"

# --- rollback on the client host ----------------------------------------------
expect 0 "runbook rollback" bg runbook rollback "$T/bundle" --config "$C/etc/runbook.conf" --yes
cmp -s "$C/srv/app/Payment.php" "$T/Payment.orig" && ok "rollback restored the file" || not_ok "rollback restored the file"

# --- a failing step stops the rest; a changed pre-image is refused --------------
confirmed 2 # the same intake, another ticket
cat >"$T/fail.cmds" <<EOF
/bin/echo first
/bin/false
/usr/bin/touch $C/srv/should-not-exist
EOF
grep -v '^smoke-test' "$T/plan.txt" >"$T/plan2.txt"
bg plan T-2 --from "$T/plan2.txt" --commands "$T/fail.cmds" >/dev/null || exit 1
approved 2
expect 0 "second runbook exported" bg runbook export T-2 -o "$T/rb2"
expect 1 "a failing step fails the run" run "$T/rb2" -o "$T/bundle2"
out_has "step 1.2 failed: the run stops here" "says where it stopped"
[ -e "$C/srv/should-not-exist" ] && not_ok "the steps after it did not run" || ok "the steps after it did not run"
grep -q '^record: [0-9]* [0-9a-f]* end 0 failed ' "$T/bundle2" && ok "the bundle records the failure" || not_ok "the bundle records the failure"
expect 0 "the failed run's bundle imports" bg runbook import T-2 "$T/bundle2"
out_has "step 1: failed" "with the failed step"

confirmed 3 # the same intake, another ticket
bg plan T-3 --from "$T/plan2.txt" --diff "$T/fix.diff" >/dev/null || exit 1
approved 3
expect 0 "third runbook exported" bg runbook export T-3 -o "$T/rb3"
echo "# edited since" >>"$C/srv/app/Payment.php"
expect 1 "a target changed since the plan was made is refused" run "$T/rb3" -o "$T/bundle3"
out_has "has changed since the plan was made" "names the pre-image mismatch"
grep -q "?? 'EUR'" "$C/srv/app/Payment.php" && not_ok "nothing was written" || ok "nothing was written"

# --- SQL is operator-reported; the operator is asked before each step -------------
confirmed 4 # the same intake, another ticket
printf "UPDATE orders SET currency = 'EUR' WHERE currency IS NULL;\n" >"$T/fix.sql"
printf '/bin/echo second step ran\n' >"$T/after.cmds"
bg plan T-4 --from "$T/plan2.txt" --sql "$T/fix.sql" --commands "$T/after.cmds" >/dev/null || exit 1
approved 4
expect 0 "fourth runbook exported" bg runbook export T-4 -o "$T/rb4"
printf 'UPDATE 3\npassword for the report: AZURE_CLIENT_SECRET=mnw8Q~SR5u1jN7ttWRXmibdT5wsUdvkZXwv0BR78\n' >"$C/sql-output.txt"
printf 'y\n' >"$T/yes"
expect_in 0 "asked before the step, the operator says yes" "$T/yes" bg runbook run "$T/rb4" \
	--config "$C/etc/runbook.conf" --attach "2=$C/sql-output.txt" -o "$T/bundle4"
out_has "run step 1.1? \[y/N\]" "the operator is asked"
out_has "second step ran" "the program ran"
out_has "the SQL script 'fix.sql': run it by hand" "the SQL step is shown as a manual one"
out_has "recorded as operator-reported" "its attached output is recorded as operator-reported"
grep -q 'UPDATE 3' "$T/bundle4" && ok "the attachment is in the bundle" || not_ok "the attachment is in the bundle"
grep -q 'mnw8Q~SR5u1jN7' "$T/bundle4" && not_ok "a secret in an attachment is redacted" || ok "a secret in an attachment is redacted"
expect 0 "its bundle imports" bg runbook import T-4 "$T/bundle4"
out_has "step 2: reported" "the SQL step: operator-reported"

confirmed 5 # the same intake, another ticket
bg plan T-5 --from "$T/plan2.txt" --commands "$T/after.cmds" >/dev/null || exit 1
approved 5
expect 0 "fifth runbook exported" bg runbook export T-5 -o "$T/rb5"
printf 'n\n' >"$T/no"
expect_in 1 "declining a step stops the run" "$T/no" bg runbook run "$T/rb5" \
	--config "$C/etc/runbook.conf" -o "$T/bundle5"
out_has "not run: the run stops here" "the declined step is not run"
grep -q "second step ran" "$T/out" && not_ok "the declined program did not run" || ok "the declined program did not run"
expect 0 "its bundle imports" bg runbook import T-5 "$T/bundle5"
out_has "step 1: skipped" "the declined step: skipped"
out_has "outcome: stopped by the operator" "the outcome says the operator stopped it"

done_testing
