# lib-runbook.sh - the common start of the runbook tests (t15xx): the
# owner's home with project shop needing both approvers, and a "client"
# host of its own (a directory tree, configuration and operator key; no
# broker) that runs the exported runbooks.  Source it after lib.sh.
#
#   runbook_client [DIR...]
#       setup_home, then quorum 2 for project shop (owner and second);
#       C=$T/client with srv, etc, state and each DIR below it; the
#       operator's key $C/operator and the approvers the client trusts,
#       $C/etc/approvers (owner and second).
#   conf FILE STATE [LINE...]
#       Writes the client's runbook configuration FILE (0644): system web1,
#       the approvers above with quorum 2, state directory STATE, root
#       $C/srv, the operator and its key; then each LINE (a database
#       target, collect-root, ...).  A LINE "system: S" or "quorum: N"
#       stands in place of that default instead.
#   confirmed N
#       Opens ticket T-N (open_ticket) and has both approvers confirm it.
#   approved N
#       Both approvers approve T-N's plan.
#   plantext FILE [LINE...]
#       Writes a plan text FILE for the stuck order 7 (summary, diagnosis,
#       change, rollback, impact), then each LINE (expect-rows, sql-engine,
#       smoke-test, ...).
#   planned N PLANFILE [PLAN-ARGS...]
#       T-N confirmed, its backup (what: $BACKUP_WHAT, set by the test) and
#       rollback evidence recorded, the plan PLANFILE submitted with
#       PLAN-ARGS (bg plan's output shown if it fails), approved by both and
#       exported as the runbook $T/rbN.  Any failure ends the test.

runbook_client() {
	setup_home
	roster owner approver quorum 2 --project shop || exit 1
	C=$T/client
	mkdir -p "$C/srv" "$C/etc" "$C/state"
	for _d in "$@"; do mkdir -p "$C/$_d"; done
	chmod 0755 "$C" "$C/etc"
	ssh-keygen -q -t ed25519 -N '' -C operator -f "$C/operator" || exit 1
	{ printf 'owner@shop.example '; cat "$T/owner.pub"; printf 'second@shop.example '; cat "$T/second.pub"; } >"$C/etc/approvers"
}

conf() {
	_f=$1; _s=$2; shift 2
	_sys=web1; _q=2
	for _l in "$@"; do
		case $_l in "system: "*) _sys=${_l#system: } ;; "quorum: "*) _q=${_l#quorum: } ;; esac
	done
	{ cat <<EOF
system: $_sys
signers: $C/etc/approvers
quorum: $_q
state: $_s
root: $C/srv
operator: ops@client.example
operator-key: $C/operator
EOF
	for _l in "$@"; do
		case $_l in "system: "* | "quorum: "*) ;; *) printf '%s\n' "$_l" ;; esac
	done; } >"$_f"
	chmod 0644 "$_f"
}

confirmed() {
	open_ticket
	approve_as owner "T-$1" confirm && approve_as second "T-$1" confirm || exit 1
}

approved() {
	approve_as owner "T-$1" plan && approve_as second "T-$1" plan || exit 1
}

plantext() {
	_f=$1; shift
	{ cat <<'EOF'
summary: release the stuck order 7
diagnosis: the payment callback failed after the charge
change: apply the SQL, then touch the flag
rollback: breakglass runbook rollback (the before-image)
impact: one order row
EOF
	for _l in "$@"; do printf '%s\n' "$_l"; done; } >"$_f"
}

planned() {
	_n=$1; _pf=$2; shift 2
	confirmed "$_n"
	echo dump >"$T/dump"
	bg evidence "T-$_n" backup --what "$BACKUP_WHAT" --where /b \
		--taken "$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)" --file "$T/dump" >/dev/null || exit 1
	bg evidence "T-$_n" rollback --method redeploy-previous --what "the before-image" >/dev/null || exit 1
	bg plan "T-$_n" --from "$_pf" "$@" >"$T/plan.out" 2>&1 || { cat "$T/plan.out"; exit 1; }
	approved "$_n"
	bg runbook export "T-$_n" -o "$T/rb$_n" >/dev/null || exit 1
}
