#!/bin/sh
# t1430-repo-check: cleanup branch-merged / staging-applied checked with git
# against the change sets a real gate (through sshd) recorded: failing with
# the list while the branch lacks the hotfix, passing once it is committed;
# --reason marks it not verified; a hostile repository (fsmonitor, hooks,
# aliases, a pager, a partial clone) runs nothing.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "1..0 # this test creates an account and runs sshd: run it as root"; exit 1; }
[ -x /usr/sbin/sshd ] || { echo "not ok 1 - sshd is installed (scripts/install-deps)"; echo "1..1"; exit 1; }
[ -x /usr/bin/git ] || { echo "not ok 1 - git is installed (scripts/install-deps)"; echo "1..1"; exit 1; }

ACCT=bgtest${BG_TEST_ID:-}-rchk
GROUP=bgtest${BG_TEST_ID:-}-rchkg
SRV=$T/srv/shop/current
. "$(dirname "$0")/../../scripts/lib-host.sh"
cleanup_host() { host_down "$T" "$ACCT" "$GROUP"; rm -rf "$T"; }
trap cleanup_host EXIT
G() { git -c user.name=t -c user.email=t@example -c init.defaultBranch=main "$@"; }

# production before the hotfix, and the repository that deployed it
mkdir -p "$SRV/app"
printf 'old\n' >"$SRV/app/Payment.php"
printf 'keep\n' >"$SRV/app/Other.php"
printf 'obsolete\n' >"$SRV/app/Gone.php"
R=$T/repo
mkdir -p "$R"; cp -a "$SRV/app" "$R/app"
G init -q "$R" && G -C "$R" add -A && G -C "$R" commit -qm "release 4.2.1" \
	&& ok "repository with release 4.2.1" || not_ok "repository with release 4.2.1"

setup_home
bg approver list --project shop --allowed-signers >"$T/approvers"
if host_up "$T" "$ACCT" "$GROUP" "$BREAKGLASS" "$T/approvers"; then
	ok "host set up, sshd on 127.0.0.1:$HOST_PORT"
else
	not_ok "host set up"; done_testing; exit 1
fi
chmod 755 "$T/srv" "$T/srv/shop"; chown -R "$ACCT" "$SRV"
open_ticket
approve_as owner T-1 confirm || exit 1
echo dump >"$T/dump"
bg evidence T-1 backup --what dump --where /b --taken "$(date -u +%Y-%m-%dT%H:%MZ)" --file "$T/dump" >/dev/null
bg evidence T-1 rollback --method redeploy-previous --what "deploy 4.2.0" >/dev/null
bg grant request T-1 --kind ssh --system web1 --account "$ACCT" --tier plan --read "$SRV" \
	--write "$SRV/app" --command "/bin/rm $SRV/app/Gone.php" --ttl 1h --reason "apply the fix" >/dev/null
write_plan   # (writes its own fix.diff: replaced below)
printf -- '--- a/Payment.php\n+++ b/Payment.php\n@@ -1 +1 @@\n-old\n+fixed\n' >"$T/fix.diff"
printf 'added\n' >"$T/Added.php"
bg plan T-1 --from "$T/plan.txt" --diff "$T/fix.diff" --artifact "$T/Added.php" >/dev/null
approve_as owner T-1 plan || exit 1
expect 0 "write grant activated" bg grant activate G-1
ssh-keygen -q -t ed25519 -N '' -f "$T/user"
bg grant cert G-1 --pubkey "$T/user.pub" -o "$T/cert.pub" 2>/dev/null
as_cert() { $HOST_SSH -i "$T/user" -o CertificateFile="$T/cert.pub" "$ACCT@127.0.0.1" "$@"; }
bg plan artifact T-1 fix.diff >"$T/fix.from-plan"
expect_in 0 "the fix applied through the gate" "$T/fix.from-plan" as_cert apply
expect_in 0 "a file created through the gate" "$T/Added.php" as_cert put "$SRV/app/Added.php"
expect 0 "a file removed through the gate" as_cert "/bin/rm $SRV/app/Gone.php"
[ "$(cat "$SRV/app/Payment.php")" = fixed ] && [ ! -e "$SRV/app/Gone.php" ] && ok "production changed" \
	|| not_ok "production changed"

# the check needs the change sets: from host-log lines or --audit-dir
expect 2 "without a host log: says where the change sets are" bg cleanup T-1 branch-merged \
	--repo "$R" --branch main --path-map "$SRV=."
err_has "host-log" "names the host-log line"
echo "host-log: $T/hostlog" >>"$BREAKGLASS_HOME/config"
expect 2 "without --path-map: says how to map" bg cleanup T-1 branch-merged --repo "$R" --branch main
err_has "--path-map HOSTDIR=REPODIR" "names the option"
expect 2 "a path map leaving the repository refused" bg cleanup T-1 branch-merged --repo "$R" \
	--branch main --path-map "$SRV=../elsewhere"
expect 2 "a relative host directory refused" bg cleanup T-1 branch-merged --repo "$R" \
	--branch main --path-map "srv=."
expect 2 "an unknown branch" bg cleanup T-1 branch-merged --repo "$R" --branch nope --path-map "$SRV=."
err_has "no branch or commit 'nope'" "says so"
expect 2 "--done without --repo needs a reason" bg cleanup T-1 branch-merged --done
err_has "checked against the repository" "says it is checked, and how"

# the branch still has the release: everything the hotfix changed differs
expect 1 "branch-merged refused: main lacks the hotfix" bg cleanup T-1 branch-merged --repo "$R" \
	--branch main --path-map "$SRV=."
err_has "3 of 3 path(s) are not on main" "counts what differs"
err_has "$SRV/app/Payment.php: content differs from production (app/Payment.php on the branch)" "the changed file"
err_has "$SRV/app/Added.php: missing from the branch (looked for app/Added.php)" "the created file"
err_has "$SRV/app/Gone.php: deleted on the host, still in the repository as app/Gone.php" "the deleted file"
expect 0 "cleanup list" bg cleanup T-1
out_has "\[ \] branch-merged" "the item stays open"

# the hotfix committed on a branch: the check passes
G -C "$R" checkout -q -b hotfix/currency
cp "$SRV/app/Payment.php" "$SRV/app/Added.php" "$R/app/"; G -C "$R" rm -q app/Gone.php
G -C "$R" add -A; G -C "$R" commit -qm "hotfix: default the currency"
half=$(G -C "$R" rev-parse --short=12 HEAD)
printf 'other\n' >"$R/app/Payment.php"   # the work tree is not what is checked
expect 0 "branch-merged verified on the hotfix branch" bg cleanup T-1 branch-merged --repo "$R" \
	--branch hotfix/currency --path-map "$SRV=."
out_has "branch-merged verified: hotfix/currency ($half) has all 3 path(s)" "says verified, with the commit"
expect 0 "cleanup list" bg cleanup T-1
out_has "\[x\] branch-merged .* - verified: hotfix/currency at $half" "recorded as verified"
expect 0 "staging-applied with a deeper map, as JSON" bg cleanup T-1 staging-applied --repo "$R/app" \
	--branch hotfix/currency --path-map "$SRV/app=app" --json
out_has '"verified":true' "verified in JSON"
out_has '"checked":3,"differ":0' "with the counts"
expect 0 "the audit log records it" bg audit export --ticket T-1
out_has '"event":"cleanup.mark".*verified: hotfix/currency' "cleanup.mark carries the verification"

# a reason makes it done, marked as not verified
expect 0 "main with a reason: done, NOT VERIFIED" bg cleanup T-1 branch-merged --repo "$R" \
	--branch main --path-map "$SRV=." --reason "main is merged by the release train on Friday"
out_has "3 of 3 path(s) are not on main" "still lists what differs"
out_has "NOT VERIFIED" "says not verified"
expect 0 "cleanup list" bg cleanup T-1
out_has "branch-merged .* - NOT VERIFIED: 3 of 3 path(s) differ on main" "recorded as not verified"
expect 0 "as JSON with a reason: the list on stderr, JSON alone on stdout" bg cleanup T-1 \
	branch-merged --repo "$R" --branch main --path-map "$SRV=." --reason "release train" --json
perl -MJSON::PP -e 'local $/; my $j = decode_json(<STDIN>);
	exit((!$j->{verified} && $j->{differ} == 3 && $j->{checked} == 3) ? 0 : 1)' <"$T/out" \
	&& ok "JSON: not verified, 3 of 3" || not_ok "JSON: not verified, 3 of 3"
err_has "Payment.php: content differs" "the list on stderr"
expect 0 "--done --reason without a check" bg cleanup T-1 staging-applied --done --reason "no staging"
expect 0 "cleanup list" bg cleanup T-1
out_has "staging-applied .* - not verified: no staging" "recorded as not verified"

# a hostile repository: its config would run programs; the check runs none
H=$T/hostile
G clone -q "$R" "$H" && G -C "$H" checkout -q hotfix/currency
mkdir -p "$T/hooks"
printf '#!/bin/sh\ntouch %s/pwned-$(basename "$0")\n' "$T" >"$T/evil"; chmod 755 "$T/evil"
for hk in pre-commit post-checkout post-merge reference-transaction pre-auto-gc post-index-change fsmonitor-watchman; do
	ln -s "$T/evil" "$T/hooks/$hk"; ln -s "$T/evil" "$H/.git/hooks/$hk"
done
G -C "$H" config core.fsmonitor "$T/evil"
G -C "$H" config core.hooksPath "$T/hooks"
G -C "$H" config core.pager "$T/evil"
G -C "$H" config alias.ls-tree "!$T/evil"
G -C "$H" config diff.external "$T/evil"
G -C "$H" config core.sshCommand "$T/evil"
G -C "$H" config uploadpack.packObjectsHook "$T/evil"
# the trap is armed: plain git in that repository does run it
git -C "$H" status >/dev/null 2>&1
ls "$T"/pwned-* >/dev/null 2>&1 && ok "plain git status runs the repository's fsmonitor" \
	|| not_ok "plain git status runs the repository's fsmonitor"
rm -f "$T"/pwned-*
expect 0 "the check on the hostile repository" bg cleanup T-1 staging-applied --repo "$H" \
	--branch hotfix/currency --path-map "$SRV=."
out_has "staging-applied verified" "verified"
ls "$T"/pwned-* >/dev/null 2>&1 && not_ok "nothing from the repository's config ran ($(ls "$T" | grep pwned))" \
	|| ok "nothing from the repository's config ran"
G -C "$H" config core.repositoryformatversion 1
G -C "$H" config extensions.partialclone origin
expect 4 "a partial clone refused (it would fetch)" bg cleanup T-1 staging-applied --repo "$H" \
	--branch hotfix/currency --path-map "$SRV=."
err_has "partial clone" "says why"

# a change set that does not match its record is not used
cs=$(ls "$T/hostlog/snapshots/changes/"*.json | head -1)
cp "$cs" "$T/cs.saved"; printf ' ' >>"$cs"
expect 3 "an altered change set refused" bg cleanup T-1 branch-merged --repo "$R" \
	--branch hotfix/currency --path-map "$SRV=."
err_has "does not match the host log" "says so"
cp "$T/cs.saved" "$cs"
done_testing
