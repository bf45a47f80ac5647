#!/bin/sh
# bench/collect.sh - diagnostics without access, side by side in one run:
#   1. breakglass collect (profile web-php) of a generated host copy: a
#      code tree of 50,000 files (about 100 MB), configuration files with
#      secrets, logs  vs  an sos-report-style collection of the same
#      files: copy, scrub every file with a regex scrubber (sed), tar
#      (target: collect <= 3 s)
#   2. breakglass envdiff of two such bundles (QA with 100 files changed)
#      (target <= 1 s)
#   3. how many of the planted secrets (random strings under innocuous
#      names) each leaves in its output
# Each figure is the best of BENCH_COLLECT_ROUNDS (default 2).
# BENCH_COLLECT_FILES scales the tree.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
BG=$here/build/breakglass
FILES=${BENCH_COLLECT_FILES:-50000}
ROUNDS=${BENCH_COLLECT_ROUNDS:-2}
W=$(mktemp -d "${BENCH_DIR:-/var/tmp}/breakglass-bench-collect.XXXXXX")
trap 'rm -rf "$W"' EXIT

# a host copy: $1 root
mkhost() {
	R=$1
	mkdir -p "$R/var/www/html/config" "$R/etc/php/8.2/fpm" "$R/var/log/nginx"
	perl -e '
		my ($root, $files) = @ARGV; my $dirs = int($files / 100) || 1;
		for my $d (0 .. $dirs - 1) { mkdir sprintf("%s/src%04d", $root, $d) or die }
		for my $i (0 .. $files - 1) {
			my $p = sprintf("%s/src%04d/c%06d.php", $root, $i % $dirs, $i);
			open(my $f, ">", $p) or die "$p: $!";
			print $f "<?php\n// file $i\nfunction f$i(\$x) {\n", "    return \$x + $i;\n" x (20 + $i % 60), "}\n";
			close($f);
		}' "$R/var/www/html" "$FILES"
	cat >"$R/var/www/html/.env" <<EOF2
APP_ENV=production
APP_DEBUG=false
CACHE_DRIVER=redis
DB_HOST=db1.internal
DB_PASSWORD=$S1
WIDGET_SEED=$S2
EOF2
	printf '{"theme":{"accent":"%s","columns":3}}\n' "$S3" >"$R/var/www/html/config/ui.json"
	printf "<?php\ndefine('LAYOUT_HINT', '%s');\ndefine('WP_DEBUG', false);\n" "$S4" \
		>"$R/var/www/html/config/app.php"
	printf 'memory_limit = 256M\nsession.save_path = "tcp://c:6379?auth=%s"\n' "$S5" \
		>"$R/etc/php/8.2/fpm/php.ini"
	perl -e 'for (1 .. 2000) { print "2026-12-01 10:00:$_ [error] upstream timed out while reading response header\n" }' \
		>"$R/var/log/nginx/error.log"
}
rnd() { head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24; }
S1=$(rnd); S2=$(rnd); S3=$(rnd); S4=$(rnd); S5=$(rnd)
mkhost "$W/prod"
cp -a "$W/prod" "$W/qa"
i=0; for f in $(find "$W/qa/var/www/html" -name '*.php' | head -100); do echo "// qa $i" >>"$f"; i=$((i + 1)); done
sed -i 's/CACHE_DRIVER=redis/CACHE_DRIVER=file/' "$W/qa/var/www/html/.env"
printf 'ports *\n' >"$W/ignore"

secs() {
	/usr/bin/time -f '%e' -o "$W/time" "$@" >"$W/cmd.out" 2>"$W/cmd.err" || {
		echo "collect bench: failed: $*" >&2; cat "$W/cmd.err" >&2; exit 1; }
	cat "$W/time"
}
best() { printf '%s\n' "$@" | sort -n | head -1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

# the baseline: what sos report does with files, in shell: copy, scrub
# every file with a regex (sed), tar
SCRUB='s/((pass(word)?|secret|token|key|auth)[A-Za-z_]*[[:space:]]*[=:][[:space:]]*).*/\1********/I'
cat >"$W/baseline" <<'EOF2'
W=$1; R=$2; SCRUB=$3
rm -rf "$W/sos" "$W/sos.tar"; mkdir -p "$W/sos"
cp -a "$R/var/www/html" "$R/etc" "$R/var/log" "$W/sos/"
find "$W/sos" -type f -print0 | xargs -0 -n 2000 sed -i -E "$SCRUB"
tar -cf "$W/sos.tar" -C "$W" sos
EOF2

col=""; base=""; diff=""
for round in $(seq 1 "$ROUNDS"); do
	rm -f "$W/p.bundle" "$W/q.bundle"
	sync -f "$W"
	base="$base $(secs sh "$W/baseline" "$W" "$W/prod" "$SCRUB")"
	col="$col $(secs "$BG" collect --profile web-php --root "$W/prod" --key "$W/key" -o "$W/p.bundle")"
	"$BG" collect --profile web-php --root "$W/qa" --key "$W/key" -o "$W/q.bundle" >/dev/null
	diff="$diff $(secs "$BG" envdiff --ignore "$W/ignore" "$W/p.bundle" "$W/q.bundle")"
done
c=$(best $col); s=$(best $base); d=$(best $diff)
nd=$(tail -n 1 "$W/cmd.out" | cut -d' ' -f1)
lb=0; lc=0
for x in "$S1" "$S2" "$S3" "$S4" "$S5"; do
	if tar -xOf "$W/sos.tar" | grep -qF "$x"; then lb=$((lb + 1)); fi
	if grep -qF "$x" "$W/p.bundle"; then lc=$((lc + 1)); fi
done
echo "collect bench: $FILES-file code tree + config + logs (best of $ROUNDS)"
echo "  breakglass collect      ${c} s   (target <= 3 s)  bundle $(du -k "$W/p.bundle" | cut -f1) KiB"
echo "  copy + sed scrub + tar  ${s} s   ratio collect/baseline $(ratio "$c" "$s")  tar $(du -k "$W/sos.tar" | cut -f1) KiB"
echo "  breakglass envdiff      ${d} s   (target <= 1 s)  $nd differences found (102 planted: 101 files, 1 key)"
echo "  planted secrets left:   collect $lc of 5, sed scrubber $lb of 5"
