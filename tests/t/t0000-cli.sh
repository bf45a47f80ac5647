#!/bin/sh
# t0000-cli: the command table, --help everywhere, exit codes for misuse.
. "$(dirname "$0")/lib.sh"

expect 0 "help lists the commands" bg help
out_has "grant" "help names the grant command"
expect 0 "version prints" bg version
out_has "breakglass 0" "version string"
expect 2 "no command is a usage error" bg
expect 2 "unknown command is refused" bg tickets
err_has "unknown command 'tickets'" "names the unknown command"
expect 2 "no prefix matching" bg tick list
expect 2 "a typo is refused" bg inti
err_has "unknown command 'inti'; did you mean 'init'?" "and the command meant is suggested"
expect 2 "a subcommand typo is refused" bg ticket opn
err_has "ticket: unknown subcommand 'opn'; did you mean 'open'? (subcommands: template, open, show, list, status, set, comment, close, withdraw)" \
	"the subcommand meant is suggested and all are listed"
expect 2 "grant subcommand typo" bg grant activte G-1
err_has "did you mean 'activate'?" "suggested"
expect 2 "an option typo is refused" bg ticket open --form x
err_has "unknown option '--form'; did you mean '--from'?" "the option meant is suggested"

for c in init project approver ticket approve evidence plan grant revoke reap smoke cleanup report audit; do
	expect 0 "$c --help" bg "$c" --help
	out_has "usage: breakglass $c" "$c --help shows usage"
	expect 0 "help $c" bg help "$c"
done

expect 2 "unknown option is refused" bg ticket list --colour
err_has "unknown option '--colour'" "names the unknown option"
expect 2 "--json where no state is shown is refused, not ignored" bg replay "$T/x.cast" --json
err_has "replay: --json is not supported" "says so"
expect 2 "host setup --json refused" bg host setup --account x --json
expect 2 "option value missing" bg ticket list --status
expect 2 "option given twice" bg ticket list --status open --status all
expect 3 "missing home: exit 3" bg ticket list
err_has "no breakglass home at" "says the home is missing"
err_has "breakglass init" "says how to create one"
expect 2 "bad ticket id" bg ticket show X-1 --home "$T/nohome"
done_testing
