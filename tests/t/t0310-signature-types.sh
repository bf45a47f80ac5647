#!/bin/sh
# t0310-signature-types: fresh `ssh-keygen -Y sign` output for every
# software key type (ed25519, ECDSA P-256/384/521, RSA) is verified in
# process - no ssh-keygen is run - and DSA keys are refused.
. "$(dirname "$0")/lib.sh"
setup_home

n=0
for kt in "ecdsa -b 256" "ecdsa -b 384" "ecdsa -b 521" "rsa -b 3072" "ed25519"; do
	name=$(echo "$kt" | tr -d ' -')
	ssh-keygen -q -t $kt -N '' -C "$name" -f "$T/$name" || exit 1
	expect 0 "$name approver registered" roster_add owner shop "$name@shop.example" \
		"$T/$name.pub"
	open_ticket
	n=$((n + 1))
	bg approve "T-$n" --statement --for confirm -o "$T/$name.txt" 2>/dev/null
	sed "1s/\$/ (altered)/" "$T/$name.txt" >"$T/$name-altered.txt"
	sign "$name" "$T/$name-altered.txt"
	expect 1 "$name: signature over an altered statement refused" \
		bg approve "T-$n" --signature "$T/$name-altered.txt.sig"
	err_has "does not match any statement" "$name: says it does not match"
	sign "$name" "$T/$name.txt"
	# verified natively: no program is executed while recording it (under
	# ASan, LeakSanitizer cannot run beneath strace's ptrace: leaks off here)
	if ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		strace -f -qq -e trace=execve -o "$T/trace" \
		"$BREAKGLASS" approve "T-$n" --signature "$T/$name.txt.sig" >"$T/out" 2>"$T/err"; then
		ok "$name: ssh-keygen signature verifies"
	else
		not_ok "$name: ssh-keygen signature verifies ($(cat "$T/err"))"
	fi
	out_has "approval by $name@shop.example recorded" "$name: signer recorded"
	execs=$(grep -c 'execve(' "$T/trace")
	[ "$execs" -eq 1 ] && ok "$name: no program run to verify" \
		|| not_ok "$name: no program run to verify ($execs execve: $(grep -o 'execve("[^"]*"' "$T/trace" | tr '\n' ' '))"
done

# DSA: refused when registered
ssh-keygen -q -t dsa -N '' -f "$T/dsa" 2>/dev/null || exit 1
expect 1 "DSA approver key refused" bg approver add --project shop \
	--principal dsa@shop.example --key "$T/dsa.pub"
err_has "DSA keys (ssh-dss) are refused" "says DSA is refused"

# webauthn origins in the config are checked when the home opens
printf 'webauthn-origin: http://approve.shop.example\n' >>"$BREAKGLASS_HOME/config"
expect 3 "a non-https webauthn-origin refused" bg ticket status T-1
err_has "webauthn-origin must be" "names the setting"
done_testing
