#!/bin/sh
# t0710-release-hooks: the test hooks (BREAKGLASS_TESTING, BREAKGLASS_NOW,
# BREAKGLASS_TEST_*) exist only in the test build.  The release binary
# (`make`, `make install`: BREAKGLASS_RELEASE, which make integration sets)
# refuses to run with one set, so one state change cannot ratchet the
# store's clock a day ahead and lock every later command out.
. "$(dirname "$0")/lib.sh"
if [ -z "${BREAKGLASS_RELEASE:-}" ] || [ ! -x "$BREAKGLASS_RELEASE" ]; then
	not_ok "BREAKGLASS_RELEASE names the release binary (run through make integration)"
	done_testing
fi
rel() { env -u BREAKGLASS_ACTOR "$BREAKGLASS_RELEASE" "$@"; }
expect 0 "release: version" rel version
if grep -q "test build" "$T/out"; then not_ok "release binary is not a test build"; else ok "release binary is not a test build"; fi
expect 0 "test build: version" bg version
out_has "test build: test hooks enabled" "test build says so"
setup_home
open_ticket
tomorrow=$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)

# the test build honours the clock hook (a read-only command: nothing ratchets)
BREAKGLASS_TESTING=1 BREAKGLASS_NOW=$tomorrow expect 0 "test build: hooked clock" \
	bg ticket status T-1 --json
# the release binary refuses every hook, for any command
BREAKGLASS_TESTING=1 BREAKGLASS_NOW=$tomorrow expect 2 "release: a state change with the clock hook refused" \
	rel ticket set T-1 evidence "more"
err_has "release build" "says it is a release build"
err_has "BREAKGLASS_TESTING" "names the variable"
BREAKGLASS_NOW=$tomorrow expect 2 "release: BREAKGLASS_NOW alone refused" rel ticket status T-1
err_has "BREAKGLASS_NOW" "names BREAKGLASS_NOW"
BREAKGLASS_TEST_ROLLBACK_DELAY_MS=100 expect 2 "release: BREAKGLASS_TEST_* refused" rel ticket status T-1
err_has "BREAKGLASS_TEST_ROLLBACK_DELAY_MS" "names the variable"
# the clock was not ratcheted: both binaries still change state today
expect 0 "release: a state change on the real clock" rel ticket set T-1 evidence "more"
expect 0 "test build: a state change on the real clock" bg ticket set T-1 evidence "even more"
expect 0 "audit log verifies" bg audit verify
# who acts comes from authentication only: the release binary refuses to be
# told (the test build's hook is how the suite acts as its users)
BREAKGLASS_ACTOR=owner@shop.example expect 2 "release: BREAKGLASS_ACTOR refused" \
	"$BREAKGLASS_RELEASE" ticket status T-1
err_has "BREAKGLASS_ACTOR" "names BREAKGLASS_ACTOR"
expect 2 "release: --as refused" rel --as owner@shop.example ticket set T-1 evidence "as owner"
err_has "not for the command line" "says --as is not for the command line"
expect 2 "release: --as after the command refused" rel ticket set T-1 evidence "x" --as owner@shop.example
# and before the fix: with the hook the release binary did ratchet the clock
# (the test build still can, by design: that is what t0700 uses)
BREAKGLASS_TESTING=1 BREAKGLASS_NOW=$tomorrow expect 0 "test build: hooked state change" \
	bg ticket set T-1 evidence "tomorrow"
expect 1 "test build: then today's clock is behind" bg ticket set T-1 evidence "today"
err_has "behind" "says the clock is behind"
done_testing
