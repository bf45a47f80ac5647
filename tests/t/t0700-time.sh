#!/bin/sh
# t0700-time: UTC windows checked at every use; expiry, reaping, approval
# validity, the maintenance window and a clock that goes backwards.
. "$(dirname "$0")/lib.sh"
setup_home
export BREAKGLASS_TESTING=1
# every instant is relative to a base an hour-aligned day ahead of the real
# clock, so the test means the same whatever day it runs
B=$(( $(date +%s) / 3600 * 3600 + 86400 ))
iso() { date -u -d "@$(( B + $1 ))" +%Y-%m-%dT%H:%M:%SZ; }
at() { BREAKGLASS_NOW=$(iso "$1"); export BREAKGLASS_NOW; }
at 0
ticket_with_grants
expect 0 "activate read grant" bg grant activate G-1 --json
out_has "\"not_after\":\"$(iso 7200)\"" "window is ttl (2h) from activation"
at 7199
expect 0 "show before expiry" bg grant show G-1 --json
out_has '"state":"active"' "still active one second before"
at 7200
expect 0 "show at expiry" bg grant show G-1 --json
out_has '"state":"expired"' "expired at not-after even before reaping"
expect 0 "reap" bg reap
out_has "1 grant(s) expired" "reap expires it"
expect 0 "reap again" bg reap
out_has "0 grant(s) expired" "reap is idempotent"
expect 1 "expired grant cannot be re-activated" bg grant activate G-1
expect 0 "audit has the expiry" bg audit export --ticket T-1
out_has '"event":"grant.expire"' "expiry audited"

# approvals have their own clock: 8h after the confirmation, no activation
bg grant request T-1 --kind ssh --system web1 --account hotfix --read /srv/shop --reason more >/dev/null
at 28801
expect 1 "activation refused once the confirmation expired" bg grant activate G-3
err_has "expired" "says the approval expired"
approve_as owner T-1 confirm
expect 0 "a fresh confirmation reopens the gate" bg grant activate G-3

# the maintenance window caps a grant
bg ticket set T-1 window-end "$(iso 30600)" >/dev/null
approve_as owner T-1 confirm
bg grant request T-1 --kind ssh --system web1 --account hotfix --read /srv/shop --reason again >/dev/null
expect 0 "activation inside the window" bg grant activate G-4 --json
out_has "\"not_after\":\"$(iso 30600)\"" "grant capped at window-end"
at 30660
bg grant request T-1 --kind ssh --system web1 --account hotfix --read /srv/shop --reason late >/dev/null
expect 1 "no activation after the window" bg grant activate G-5
err_has "maintenance window" "says the window ended"

# the clock going backwards is refused
at 21600
expect 1 "clock stepped back: refused" bg ticket comment T-1 --text "from the past"
err_has "clock is" "says the clock is behind"
at 30630
expect 0 "small skew tolerated" bg ticket comment T-1 --text "slightly behind"
done_testing
