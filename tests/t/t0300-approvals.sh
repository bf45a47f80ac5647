#!/bin/sh
# t0300-approvals: statements signed with the real ssh-keygen verify;
# altered statements, wrong namespaces, unregistered keys, the requester,
# duplicates and expired statements do not.
. "$(dirname "$0")/lib.sh"
setup_home
open_ticket

expect 0 "statement printed" bg approve T-1 --statement --for confirm
cp "$T/out" "$T/confirm.txt"
out_has "I confirm emergency production hotfix mode for this ticket" "statement has the confirmation words"
out_has "intake-sha256: " "statement binds the intake hash"
expect 0 "same statement re-issued while valid" bg approve T-1 --statement --for confirm
cmp -s "$T/out" "$T/confirm.txt" && ok "identical text both times" || not_ok "identical text both times"

# requester signs: refused
sign dev "$T/confirm.txt"
expect 1 "requester cannot approve" bg approve T-1 --signature "$T/confirm.txt.sig"
err_has "requested this access and cannot approve it" "says why"
# unregistered key
ssh-keygen -q -t ed25519 -N '' -f "$T/stranger"
sign stranger "$T/confirm.txt"
expect 1 "unregistered key refused" bg approve T-1 --signature "$T/confirm.txt.sig"
err_has "is not a registered approver of project 'shop'" "says the key is not registered"
# wrong namespace
rm -f "$T/confirm.txt.sig"
ssh-keygen -q -Y sign -n git -f "$T/owner" "$T/confirm.txt" 2>/dev/null
expect 1 "wrong namespace refused" bg approve T-1 --signature "$T/confirm.txt.sig"
err_has "namespace 'git'" "names the namespace"
# altered statement
sed 's/T-1/T-2/' "$T/confirm.txt" >"$T/altered.txt"
sign owner "$T/altered.txt"
expect 1 "signature over an altered statement refused" bg approve T-1 --signature "$T/altered.txt.sig"
err_has "does not match any statement" "says it does not match"
# garbage
echo "not a signature" >"$T/junk.sig"
expect 2 "malformed signature refused" bg approve T-1 --signature "$T/junk.sig"
# the real thing
sign owner "$T/confirm.txt"
ssh-keygen -q -Y verify -f /dev/null -I x -n breakglass -s "$T/confirm.txt.sig" <"$T/confirm.txt" >/dev/null 2>&1
expect 0 "owner's ssh-keygen signature verifies" bg approve T-1 --signature "$T/confirm.txt.sig"
out_has "confirm approval by owner@shop.example recorded (1 of 1" "reports signer and quorum"
expect 1 "duplicate refused" bg approve T-1 --signature "$T/confirm.txt.sig"
err_has "already signed" "says it is a duplicate"
expect 0 "status: confirmation done" bg ticket status T-1 --json
perl -MJSON::PP -e 'local $/; my $j = decode_json(<STDIN>); exit($j->{steps}[0]{done} ? 0 : 1)' <"$T/out" \
	&& ok "step 1 done" || not_ok "step 1 done"

# changing the intake invalidates the confirmation
expect 0 "intake changed" bg ticket set T-1 evidence "also order 1001 failed"
expect 0 "status after change" bg ticket status T-1
out_has "older version of the intake" "status says the confirmation is for an older intake"

# ECDSA key: verified natively (libcrypto)
ssh-keygen -q -t ecdsa -N '' -f "$T/ecdsa"
expect 0 "ecdsa approver registered" roster_add owner shop ec@shop.example "$T/ecdsa.pub"
bg approve T-1 --statement --for confirm -o "$T/confirm2.txt" 2>/dev/null
sign ecdsa "$T/confirm2.txt"
sed 's/nonce: ./nonce: 0/' "$T/confirm2.txt" >"$T/confirm2-altered.txt"
expect 0 "ecdsa signature verifies" bg approve T-1 --signature "$T/confirm2.txt.sig"
out_has "ec@shop.example" "ecdsa signer recorded"

# quorum of two
expect 0 "quorum set to 2 (the approvers consent)" roster owner approver quorum 2 --project shop
open_ticket
bg approve T-2 --statement --for confirm -o "$T/q.txt" 2>/dev/null
sign owner "$T/q.txt"
expect 0 "first of two" bg approve T-2 --signature "$T/q.txt.sig"
out_has "(1 of 2 signatures)" "one of two"
expect 0 "status with one of two" bg ticket status T-2
out_has "1 of 2 required approver signatures" "status says 1 of 2"
sign second "$T/q.txt"
expect 0 "second of two" bg approve T-2 --signature "$T/q.txt.sig"
out_has "(2 of 2 signatures)" "two of two"
expect 0 "status with two of two" bg ticket status T-2
out_has "current step: 2" "confirmation done with quorum"

# removed approvers no longer count
expect 0 "remove second" roster owner,second approver remove --project shop --principal second@shop.example
expect 0 "status after removal" bg ticket status T-2
out_has "1 of 2 required" "removed approver's signature no longer counts"
expect 0 "allowed_signers export" bg approver list --project shop --allowed-signers
out_has 'owner@shop.example namespaces="breakglass" ssh-ed25519' "export is allowed_signers"
cp "$T/out" "$T/exported"
sign owner "$T/q.txt"
if ssh-keygen -q -Y verify -f "$T/exported" -I owner@shop.example -n breakglass -s "$T/q.txt.sig" <"$T/q.txt" >/dev/null 2>&1; then
	ok "ssh-keygen accepts the exported allowed_signers"
else
	not_ok "ssh-keygen accepts the exported allowed_signers"
fi
bg init --home "$T/home2" >/dev/null; bg project add shop --home "$T/home2" >/dev/null
expect 0 "import into a fresh home" bg approver import --project shop "$T/exported" --home "$T/home2"
out_has "approver(s) registered" "import reports"
printf 'x@y.example ssh-ed25519 AAAA\n' >"$T/bad-signers"
expect 2 "bad allowed_signers refused" bg approver import --project shop "$T/bad-signers" --home "$T/home2"
err_has "line 1" "names the line"

# expiry: a statement older than approval-ttl cannot be signed any more
roster owner,dev approver quorum 1 --project shop || exit 1
open_ticket
bg approve T-3 --statement --for confirm -o "$T/e.txt" 2>/dev/null
sign owner "$T/e.txt"
export BREAKGLASS_TESTING=1 BREAKGLASS_NOW=$(date -u -d '+9 hours' +%Y-%m-%dT%H:%M:%SZ)
expect 1 "expired statement refused" bg approve T-3 --signature "$T/e.txt.sig"
err_has "expired at" "says it expired"
done_testing
