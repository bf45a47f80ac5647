#!/bin/sh
# t0400-policy: excessive requests refused with the rule, the reason and a
# narrower request; rules are data, overridable per project; fail closed.
. "$(dirname "$0")/lib.sh"
setup_home
open_ticket

req() { bg grant request T-1 --kind ssh --reason why "$@"; }
H="--system web1 --account hotfix"
refused() { # refused RULE DESC ARGS...
	_rule=$1; _d=$2; shift 2
	expect 1 "$_d refused" req "$@"
	err_has "rule '$_rule'" "$_d: names rule $_rule"
	err_has "narrower: " "$_d: suggests a narrower request"
}
refused no-privileged-account "root account" --system web1 --account root --read /srv/shop
refused no-privileged-account "owner account" --system web1 --account owner --read /srv/shop
refused exact-privileged-commands "unrestricted sudo" --sudo ALL $H
refused no-launchers-privileged "sudo shell" --sudo /bin/bash $H
refused no-launchers-privileged "sudo su" --sudo "/usr/bin/su -" $H
refused no-launchers-privileged "sudo editor" --sudo "/usr/bin/vim /etc/hosts" $H
refused no-unrestricted-sudo "sudo file tool" --sudo "/usr/bin/chmod 777 /srv/shop" $H
refused exact-commands "wildcard command" --command "/usr/bin/tail -f /var/log/*" $H
refused no-shell-metachar "shell metacharacters" --command "/usr/bin/echo a;id" $H
refused no-launchers "interpreter" --command "/usr/bin/python3 -c print(1)" $H
refused no-launchers "pager" --command "/usr/bin/less /var/log/syslog" $H

# launchers (issue: 'timeout 600 /bin/sh' passed as a privileged command and
# gave a root shell): every program that runs another, as argv[0] or as an
# argument naming a program, for allowed and privileged commands alike
refused no-launchers-privileged "sudo timeout /bin/sh" --sudo "/usr/bin/timeout 600 /bin/sh" $H
err_has "'timeout' runs the program named in its arguments" "says what a launcher does"
err_has "shell tier" "the program it starts is a shell: suggests the shell tier"
for l in nice stdbuf chroot flock ionice taskset unshare strace gdb setsid; do
	refused no-launchers "allowed command via $l" --command "/usr/bin/$l /usr/bin/id" $H
	refused no-launchers-privileged "privileged command via $l" --sudo "/usr/bin/$l /usr/bin/id" $H
done
err_has "narrower: request the command without the launcher: --sudo '/usr/bin/id'" \
	"the suggestion is the command without the launcher"
refused no-launchers-privileged "privileged git (hooks, pager)" --sudo "/usr/bin/git -C /srv/shop pull" $H
refused no-launchers "find -exec" --command "/usr/bin/find /srv/shop -exec /bin/sh ;" $H
refused no-launchers "an argument naming a shell" --command "/usr/local/bin/runner --exec /bin/sh" $H
err_has "argument 2 names 'sh', which is a shell" "names the argument"
refused no-launchers "an option value naming an interpreter" \
	--command "/usr/local/bin/runner --interpreter=/usr/bin/python3.11" $H
refused no-launchers "a versioned interpreter" --command "/usr/bin/perl5.36 -e 1" $H
refused absolute-commands "relative program" --command "systemctl restart php-fpm" $H
refused no-broad-read "read of /" --read / $H
refused no-sensitive-read "read of ssh keys" --read /etc/ssh $H
refused no-sensitive-write "write to /etc/sudoers.d" --tier plan --write /etc/sudoers.d $H
refused no-broad-write "write to /var/www" --tier plan --write /var/www $H
refused absolute-paths "dot-dot path" --read /srv/shop/../../etc $H
refused ttl-cap "ttl over 4h" --read /srv/shop --ttl 8h $H
err_has "--ttl 4h" "ttl suggestion names the cap"
refused related-systems-only "unrelated system" --read /srv/shop --system mail1 --account hotfix
expect 1 "no reason refused" bg grant request T-1 --kind ssh --system web1 --account hotfix --read /srv/shop
err_has "rule 'stated-reason'" "stated-reason"
expect 1 "db superuser refused" bg grant request T-1 --kind db --system db1 --account hotfix \
	--database shop --superuser yes --reason why
err_has "rule 'no-db-superuser'" "no-db-superuser"
expect 1 "db superuser account refused" bg grant request T-1 --kind db --system db1 --account postgres \
	--database shop --reason why
expect 1 "cloud owner role refused" bg grant request T-1 --kind cloud --system web1 --role roles/owner --reason why
err_has "rule 'no-owner-role'" "no-owner-role"
expect 1 "billing role refused" bg grant request T-1 --kind cms --system web1 --role "Billing manager" --reason why
expect 1 "bypassing branch protection refused" bg grant request T-1 --kind repo --system web1 \
	--bypass-protection yes --reason why
expect 2 "field of another kind refused" bg grant request T-1 --kind db --system db1 --account x \
	--database shop --tier shell --reason why
err_has "'tier' does not apply to db grants" "says the field does not apply"
expect 2 "unparseable command refused" req $H --command "/bin/echo 'open"
expect 1 "secret in a command refused" req $H --command "/usr/bin/mysql --password=Sup3rS3cret! shop"
err_has "secret-assignment" "names the secret kind"
err_lacks "Sup3rS3cret" "does not echo it"

expect 0 "narrow read request passes" req $H --read /var/log/nginx --read /srv/shop --ttl 2h
out_has "G-1 requested" "grant id reported"
expect 0 "exact privileged command passes" req $H --sudo "/usr/bin/systemctl restart php-fpm"
# database grants: named tables, no server roles (issue 16)
dbreq() { bg grant request T-1 --kind db --system db1 --account hotfix_ro --engine postgresql \
	--database shop --access read-only --reason diag "$@"; }
expect 1 "a db grant without tables is refused" dbreq
err_has "rule 'db-named-tables'" "names the rule db-named-tables"
err_has "add --table SCHEMA.TABLE" "suggests naming the tables"
expect 2 "a table pattern is refused" dbreq --table 'public.*'
err_has "must be schema.table" "a pattern is no table name"
expect 2 "a table name that is no identifier is refused" dbreq --table 'public.orders;drop'
err_has "must be schema.table" "says what a table name is"
expect 2 "a table list in one value is refused" dbreq --table 'orders,customers'
for role in pg_read_server_files pg_write_server_files pg_execute_server_program \
    pg_read_all_data CREATEROLE createdb SUPER; do
	expect 1 "db role $role refused" dbreq --table public.orders --role "$role"
	err_has "rule 'no-db-server-roles'" "no-db-server-roles names the rule ($role)"
done
err_has "privileges on the named tables only" "and suggests the narrower request"
expect 0 "db read-only passes" bg grant request T-1 --kind db --system db1 --account hotfix_ro \
	--engine postgresql --database shop --schema public --table public.orders --access read-only --reason diag
expect 0 "manual grant passes" bg grant request T-1 --kind manual --system web1 --role "Theme editor" \
	--granted-by "Olga in the Shopify admin" --reason "edit the theme"

# refusals are audited, by rule name, never with the request text
expect 0 "audit export" bg audit export --ticket T-1
out_has '"event":"grant.refuse"' "refusals are in the audit log"
out_has '"no-privileged-account"' "the refused rule is recorded"

# per-project override tightens the cap; defaults edited in place are data too
printf 'rule ttl-cap\n  check max-ttl\n  limit 1h\n  reason shop changes are capped at one hour\n  suggest --ttl {limit}\n' \
	>"$BREAKGLASS_HOME/policy.d/shop.rules"
expect 1 "project override applies" req $H --read /srv/shop --ttl 2h
err_has "capped at one hour" "override's reason shown"
err_has "narrower: --ttl 1h" "override's suggestion shown"
printf 'rule broken\n  check nonsense\n' >"$BREAKGLASS_HOME/policy.d/shop.rules"
expect 3 "broken project policy: fail closed" req $H --read /srv/shop
err_has "unknown check 'nonsense'" "names the problem"
rm "$BREAKGLASS_HOME/policy.d/shop.rules"
mv "$BREAKGLASS_HOME/policy.rules" "$T/policy.rules"
expect 3 "missing policy: fail closed" req $H --read /srv/shop
err_has "refusing" "says it refuses"
mv "$T/policy.rules" "$BREAKGLASS_HOME/policy.rules"
# policy tightened after a request: activation re-checks
approve_as owner T-1 confirm
printf 'rule no-logs\n  applies ssh\n  check deny-under read\n  values /var/log\n  reason logs are off limits today\n' \
	>"$BREAKGLASS_HOME/policy.d/shop.rules"
expect 1 "activation re-checks the policy" bg grant activate G-1
err_has "logs are off limits today" "activation names the new rule"
# launchers, continued: what passes (these make grants, so they come last)
expect 0 "a plain word that is a program's name is not an executable" \
	req $H --command "/usr/bin/grep -c python /var/log/app.log"
expect 0 "systemctl restart passes" req $H --sudo "/usr/bin/systemctl restart php-fpm"

# a project can add programs to the list, or let launchers pass (the
# kernel is then the only backstop)
cat >"$BREAKGLASS_HOME/policy.d/shop.rules" <<'EOT'
rule no-launchers
  applies ssh
  check deny-launchers command
  values deploy-runner
  reason our launchers too
  suggest {value}
EOT
refused no-launchers "a project's own launcher" --command "/opt/bin/deploy-runner /usr/bin/id" $H
err_has "on this project's launcher list" "says it is the project's list"
cat >"$BREAKGLASS_HOME/policy.d/shop.rules" <<'EOT'
rule no-launchers-privileged
  enabled no
  check deny-launchers sudo
  reason off for this project
EOT
expect 0 "a project override lets a launcher pass" req $H --sudo "/usr/bin/nice /usr/bin/id"
rm -f "$BREAKGLASS_HOME/policy.d/shop.rules"
done_testing
