#!/bin/sh
# bench/scan.sh - the secret scanner against secretlint and git-secrets,
# side by side in one run, on a generated corpus (bench/gen-corpus.c:
# BENCH_SCAN_MIB, default 256 MiB of source, logs, config and JSON with
# every rule's examples seeded 4 times and every counter-example and
# extra trap seeded too).
#
# For each tool: time (best of BENCH_SCAN_ROUNDS, page cache warm),
# throughput, findings, seeded secrets found, false positives on the
# traps, findings elsewhere.  breakglass runs single-threaded (per-core
# figure) and on all cores.  secretlint (recommended preset) is installed
# from the npm registry into a temporary directory; git-secrets is the
# Debian package with its AWS patterns.  A tool that cannot be installed
# is reported as such, not faked.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
BG=$here/build/breakglass
GEN=$here/build/bench/gen-corpus
MIB=${BENCH_SCAN_MIB:-256}
ROUNDS=${BENCH_SCAN_ROUNDS:-3}
W=$(mktemp -d "${BENCH_DIR:-/var/tmp}/breakglass-bench-scan.XXXXXX")
trap 'rm -rf "$W"' EXIT
C=$W/corpus
CPUS=$(nproc)

avail=$(df -Pm "$W" | awk 'NR == 2 { print $4 }')
[ "$avail" -gt $(( MIB * 3 + 256 )) ] || { echo "scan bench: needs $(( MIB * 3 + 256 )) MB free: skipped"; exit 0; }

"$GEN" "$W" "$MIB"
BYTES=$(cat "$C"/* | wc -c)
cat "$C"/* >/dev/null # warm the page cache

# best wall time of ROUNDS runs of a command (output to $W/last.out)
best() {
	_best=
	for _r in $(seq "$ROUNDS"); do
		_s=$(date +%s.%N)
		"$@" >"$W/last.out" 2>"$W/last.err" || true
		_t=$(echo "$(date +%s.%N) - $_s" | bc -l)
		if [ -z "$_best" ] || [ "$(echo "$_t < $_best" | bc -l)" = 1 ]; then _best=$_t; fi
	done
	echo "$_best"
}
rate() { echo "scale=1; $BYTES / 1048576 / $1" | bc -l; }
eval_tsv() { perl "$here/bench/scan-eval.pl" "$W/seeds.tsv" "$W/traps.tsv" "$1" "$2"; }

printf 'secret scanner: %s files, %.1f MiB, %s rules, %s seeded secrets, %s traps, %s cores\n' \
	"$(ls "$C" | wc -l)" "$(echo "$BYTES / 1048576" | bc -l)" \
	"$("$BG" scan --list-rules | wc -l)" "$(wc -l <"$W/seeds.tsv")" "$(wc -l <"$W/traps.tsv")" "$CPUS"

T1=$(best "$BG" scan --jobs 1 --json "$C")
perl -MJSON::PP -ne '$d = decode_json($_); print "$d->{path}\t$d->{line}\t$d->{rule}\n"' "$W/last.out" >"$W/bg.tsv"
TN=$(best "$BG" scan --jobs "$CPUS" --json "$C")
TP=$(BENCH_SCAN_ROUNDS=1 best "$BG" scan --engine pcre2 --jobs "$CPUS" --json "$C")
perl -MJSON::PP -ne '$d = decode_json($_); print "$d->{path}\t$d->{line}\t$d->{rule}\n"' "$W/last.out" >"$W/pcre2.tsv"
cmp -s "$W/bg.tsv" "$W/pcre2.tsv" && PARITY=same || PARITY=DIFFERENT

# secretlint, from the npm registry, recommended preset
SL=$W/secretlint
TSL=
if npm install --silent --no-audit --no-fund --prefix "$SL" secretlint@13 \
	@secretlint/secretlint-rule-preset-recommend@13 >"$W/npm.log" 2>&1; then
	printf '{"rules":[{"id":"@secretlint/secretlint-rule-preset-recommend"}]}\n' >"$W/secretlintrc.json"
	TSL=$(cd "$W" && best "$SL/node_modules/.bin/secretlint" --secretlintrc "$W/secretlintrc.json" \
		--format unix "corpus/**/*")
	sed -n 's/^\([^:]*\):\([0-9]*\):[0-9]*: .*/\1\t\2\t-/p' "$W/last.out" >"$W/sl.tsv"
fi

# git-secrets (Debian), its AWS patterns, over the files as they are
TGS=
if command -v git-secrets >/dev/null 2>&1; then
	(cd "$C" && git init -q . && git secrets --register-aws >/dev/null)
	TGS=$(cd "$C" && best git secrets --scan --no-index)
	# it prints its matches on standard error
	sed -n 's/^\([^:]*\):\([0-9][0-9]*\):.*/\1\t\2\t-/p' "$W/last.err" >"$W/gs.tsv"
	rm -rf "$C/.git"
fi

echo "throughput (best of $ROUNDS, warm cache, end to end):"
printf '  breakglass 1 thread    %6.3f s  %7.1f MiB/s   (per core; target >= 1024)\n' "$T1" "$(rate "$T1")"
printf '  breakglass %d threads   %6.3f s  %7.1f MiB/s   (%.1f MiB/s per core)\n' "$CPUS" "$TN" "$(rate "$TN")" \
	"$(echo "$(rate "$TN") / $CPUS" | bc -l)"
printf '  breakglass pcre2 only  %6.3f s  %7.1f MiB/s   (fallback engine, %d threads; findings %s)\n' \
	"$TP" "$(rate "$TP")" "$CPUS" "$PARITY"
if [ -n "$TSL" ]; then
	printf '  secretlint             %6.3f s  %7.1f MiB/s   breakglass/secretlint %.0fx (1 thread), %.0fx (all; target >= 50x)\n' \
		"$TSL" "$(rate "$TSL")" "$(echo "$TSL / $T1" | bc -l)" "$(echo "$TSL / $TN" | bc -l)"
else
	echo "  secretlint             not installed (npm failed: see below)"; tail -3 "$W/npm.log"
fi
if [ -n "$TGS" ]; then
	printf '  git-secrets            %6.3f s  %7.1f MiB/s   breakglass/git-secrets %.1fx (1 thread), %.1fx (all)\n' \
		"$TGS" "$(rate "$TGS")" "$(echo "$TGS / $T1" | bc -l)" "$(echo "$TGS / $TN" | bc -l)"
fi
echo "accuracy (seeded = each rule's examples x4; traps = counter-examples and extra traps;"
echo "          'right rule' only for breakglass, whose rule names the seeds use):"
eval_tsv "$W/bg.tsv" breakglass
[ -n "$TSL" ] && eval_tsv "$W/sl.tsv" secretlint
[ -n "$TGS" ] && eval_tsv "$W/gs.tsv" git-secrets
/usr/bin/time -f '%M' -o "$W/rss" "$BG" scan --jobs 1 "$C" >/dev/null 2>&1 || true
peak=$(tail -1 "$W/rss")
echo "  breakglass peak RSS (1 thread): ${peak} KiB"
