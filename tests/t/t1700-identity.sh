#!/bin/sh
# t1700-identity: users and roles, and who acts.  The attacks of issue 13,
# refused: self-approval through the intake text, anyone adding an
# approver key under the owner's name, a key registered twice, roles not
# held; every audit record names the user and the key.  (Acting as a user
# here is the test build's BREAKGLASS_ACTOR hook, which stands for the key
# sshd authenticated; t1710 goes through a real sshd, t0710 shows the
# release binary refuses the hook.)
. "$(dirname "$0")/lib.sh"
setup_home
for k in intern evil ops; do
	ssh-keygen -q -t ed25519 -N '' -C "$k" -f "$T/$k" || exit 1
done
expect 0 "admin adds a responder" bg user add intern@agency.example --name Intern \
	--key "$T/intern.pub" --role responder
expect 0 "admin gives dev (an approver already) the responder role" \
	bg user role add dev@agency.example responder
expect 0 "user list" bg user list
out_has "dev@agency.example .*roles: responder; approver of shop" "dev is a responder and shop's approver"
out_has "owner@shop.example .*roles: -; approver of shop" "owner approves only"

# --- self-approval through the intake text ------------------------------------
write_intake
sed -e 's/^requester: .*/requester: intern@agency.example/' \
	-e 's/^approver-email: .*/approver-email: dev@agency.example/' "$T/intake.txt" >"$T/self.txt"
BREAKGLASS_ACTOR=dev@agency.example expect 1 "dev cannot open a ticket naming intern as requester" \
	bg ticket open --from "$T/self.txt"
err_has "names requester 'intern@agency.example', but you are 'dev@agency.example'" "says who the requester is"
sed 's/^approver-email: .*/approver-email: intern@agency.example/' "$T/intake.txt" >"$T/noappr.txt"
expect 1 "the intake's approver-email must be one of the project's approvers" \
	bg ticket open --from "$T/noappr.txt"
err_has "is not an approver of project 'shop'" "says so"
grep -v '^requester:' "$T/self.txt" >"$T/self2.txt"
BREAKGLASS_ACTOR=dev@agency.example expect 0 "without the line the requester is filled in" \
	bg ticket open --from "$T/self2.txt"
expect 0 "ticket shown" bg ticket show T-1
out_has "requester: dev@agency.example" "the requester is dev, who opened it"
bg approve T-1 --statement --for confirm -o "$T/c.txt" 2>/dev/null
sign dev "$T/c.txt"
BREAKGLASS_ACTOR=dev@agency.example expect 1 "dev's own key does not approve dev's ticket" \
	bg approve T-1 --signature "$T/c.txt.sig"
err_has "requested this access and cannot approve" "says the requester cannot approve"
# ... nor under another principal: a key belongs to one user only
expect 1 "dev's key cannot be registered under the owner's name" roster owner approver add \
	--project shop --principal owner2@shop.example --key "$T/dev.pub"
err_has "is dev@agency.example's: a key belongs to one user only" "says whose key it is"
expect 1 "nor given to another user" bg user key add intern@agency.example --key "$T/dev.pub"
err_has "belongs to one user only" "says so again"

# --- anyone adding an approver key under the owner's name ---------------------
BREAKGLASS_ACTOR=dev@agency.example expect 1 "a responder cannot add approvers" \
	bg approver add --project shop --principal owner@shop.example --key "$T/evil.pub"
err_has "only an admin may add approvers" "says only an admin may"
BREAKGLASS_ACTOR=dev@agency.example expect 1 "nor users" bg user add evil@agency.example --key "$T/evil.pub"
err_has "only an admin may add users" "says only an admin may add users"
BREAKGLASS_ACTOR=dev@agency.example expect 1 "nor projects" bg project add other
BREAKGLASS_ACTOR=dev@agency.example expect 1 "nor change a project" bg project set shop --quorum 1
BREAKGLASS_ACTOR=dev@agency.example expect 1 "nor remove approvers" \
	bg approver remove --project shop --principal owner@shop.example
# an admin needs the owners' consent once the project has approvers
expect 1 "an admin alone cannot add an approver to a project that has some" \
	bg approver add --project shop --principal evil@shop.example --key "$T/evil.pub"
err_has "needs a roster statement signed by 1 of them" "says a roster statement is needed"
expect 1 "nor with a roster statement the new key signed itself" roster evil approver add \
	--project shop --principal evil@shop.example --key "$T/evil.pub"
err_has "is not a current approver of 'shop'" "says the signer is no approver"
bg approver add --project shop --principal evil@shop.example --key "$T/evil.pub" --statement \
	-o "$T/r1" >/dev/null
sign owner "$T/r1"
expect 1 "the owner's consent to one change does not make another" bg approver add \
	--project shop --principal evil2@shop.example --key "$T/evil.pub" --roster "$T/r1" \
	--signature "$T/r1.sig"
err_has "not for this change" "says the statement is for another change"
echo "evil@shop.example $(cat "$T/evil.pub")" >"$T/evil-signers"
expect 1 "nor an import" bg approver import --project shop "$T/evil-signers"
err_has "import is for a project's first approvers" "says import is for the first approvers"
expect 0 "with the owner's signature the change is made" roster owner approver add \
	--project shop --principal ops@shop.example --key "$T/ops.pub"
expect 1 "a roster statement is used once: the roster it names changed" bg approver add \
	--project shop --principal ops@shop.example --key "$T/ops.pub" --roster "$T/roster" \
	--signature "$T/roster.owner.sig"
err_has "not for this change" "says it is stale"
expect 1 "the evil key is no approver" bg approve T-1 --signature "$T/c.txt.sig"
sign owner "$T/c.txt"
expect 0 "the owner's signature counts" bg approve T-1 --signature "$T/c.txt.sig"

# --- roles ----------------------------------------------------------------------
BREAKGLASS_ACTOR=owner@shop.example expect 1 "an approver who is no responder opens no ticket" \
	bg ticket open --from "$T/intake.txt" --duplicate
err_has "only a responder or an admin may open tickets" "says a responder is needed"
BREAKGLASS_ACTOR=owner@shop.example expect 1 "nor requests grants" bg grant request T-1 --kind ssh \
	--system web1 --account hotfix --read /var/log/nginx --reason "read the logs"
err_has "only a responder or an admin may request grants" "says a responder is needed"
write_plan
BREAKGLASS_ACTOR=owner@shop.example expect 1 "nor submits plans" bg plan T-1 --from "$T/plan.txt" \
	--diff "$T/fix.diff"
err_has "only a responder or an admin may submit plans" "says so"
BREAKGLASS_ACTOR=dev@agency.example expect 0 "the responder requests a grant" bg grant request T-1 \
	--kind ssh --system web1 --account hotfix --read /var/log/nginx --reason "read the logs"
ssh-keygen -q -t dsa -N '' -f "$T/dsa" 2>/dev/null || exit 1
expect 1 "DSA user keys are refused" bg user add dsa@agency.example --key "$T/dsa.pub"
err_has "DSA keys (ssh-dss) are refused" "says DSA is refused"
expect 2 "an unknown role is refused" bg user add x@agency.example --key "$T/evil.pub" --role approver
err_has "approvers are added with 'breakglass approver add'" "says how approvers are added"

# --- the quorum is the approvers' to change, like the roster ---------------------
expect 0 "the quorum is raised with the approvers' consent" roster owner approver quorum 2 --project shop
expect 1 "an admin alone cannot lower it with project set" bg project set shop --quorum 1
err_has "its quorum changes only with their consent" "project set says the approvers must consent"
expect 1 "nor with approver quorum and no statement" bg approver quorum 1 --project shop
err_has "needs a roster statement signed by 2 of them" "says two must sign"
expect 1 "nor with one signature when two are needed" roster owner approver quorum 1 --project shop
err_has "has 1 of the 2 approver signatures" "says 1 of 2"
expect 1 "nor with the requester's key counted twice" roster dev,dev approver quorum 1 --project shop
expect 0 "two approvers lower it" roster owner,second approver quorum 1 --project shop
cp "$T/roster" "$T/lower"; cp "$T/roster.owner.sig" "$T/lower.owner.sig"
cp "$T/roster.second.sig" "$T/lower.second.sig"
expect 0 "raised again" roster owner approver quorum 2 --project shop
expect 1 "the statement that lowered it is not used twice" bg approver quorum 1 --project shop \
	--roster "$T/lower" --signature "$T/lower.owner.sig" --signature "$T/lower.second.sig"
err_has "not for this change" "says the statement is stale"
expect 1 "a quorum above the number of approvers is refused" roster owner,second approver quorum 9 --project shop
err_has "could never be met" "says it could never be met"
bg project add lone >/dev/null || exit 1
bg approver add --project lone --principal owner@shop.example --key "$T/owner.pub" >/dev/null || exit 1
expect 1 "a project's last approver is never removed" roster owner approver remove --project lone \
	--principal owner@shop.example
err_has "last approver" "says it is the last approver"
expect 0 "the quorum goes back to one" roster owner,second approver quorum 1 --project shop

# --- only a ticket's parties move it along ------------------------------------------
ssh-keygen -q -t ed25519 -N '' -C other -f "$T/other" || exit 1
bg project add other >/dev/null || exit 1
bg approver add --project other --principal olaf@other.example --key "$T/other.pub" >/dev/null || exit 1
BREAKGLASS_ACTOR=olaf@other.example expect 1 "another project's approver records no evidence here" \
	bg evidence T-1 backup --what "db dump" --where /backups --taken 2026-11-21T01:00Z
err_has "only T-1's requester, a responder, an operator, an admin or an approver of project 'shop'" \
	"says who may"
BREAKGLASS_ACTOR=olaf@other.example expect 1 "nor a smoke result" bg smoke T-1 --result pass --notes x
err_has "none of them" "smoke: says why"
BREAKGLASS_ACTOR=olaf@other.example expect 1 "nor a cleanup item" bg cleanup T-1 runbook-updated \
	--na --reason x
err_has "none of them" "cleanup: says why"
BREAKGLASS_ACTOR=olaf@other.example expect 1 "nor a comment" bg ticket comment T-1 --text hello
err_has "none of them" "comment: says why"
BREAKGLASS_ACTOR=olaf@other.example expect 1 "nor withdraw it" bg ticket withdraw T-1 --reason x
err_has "none of them" "withdraw: says why"
BREAKGLASS_ACTOR=owner@shop.example expect 0 "the project's approver records evidence" \
	bg evidence T-1 backup --what "db dump" --where /backups --taken 2026-11-21T01:00Z

# --- the audit log names the user and the key -----------------------------------
fp=$(ssh-keygen -l -f "$T/dev.pub" | awk '{print $2}')
grep '"event":"ticket.open"' "$BREAKGLASS_HOME/audit.log" >"$T/open.rec"
if grep -q "\"actor\":\"dev@agency.example key=$fp\"" "$T/open.rec"; then
	ok "ticket.open names dev and the key"
else
	not_ok "ticket.open names dev and the key ($(cat "$T/open.rec"))"
fi
grep -q '"event":"user.add","actor":"tester"' "$BREAKGLASS_HOME/audit.log" &&
	ok "a local admin's records name them" || not_ok "a local admin's records name them"
grep -q '"event":"approver.add".*evil@' "$BREAKGLASS_HOME/audit.log" &&
	not_ok "no record of a refused change" || ok "no record of a refused change"
expect 0 "audit log verifies" bg audit verify

# --- only root and the home's owner use it locally ------------------------------
chmod 755 "$T"
chmod 755 "$BREAKGLASS_HOME"
env -u BREAKGLASS_ACTOR setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$BREAKGLASS" ticket status T-1 >"$T/out" 2>"$T/err"
[ $? -eq 1 ] && ok "another local user is refused" || not_ok "another local user is refused"
err_has "is not yours" "says the home is not theirs"
chmod 700 "$BREAKGLASS_HOME"
done_testing
