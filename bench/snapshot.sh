#!/bin/sh
# bench/snapshot.sh - change capture on a generated tree (default 50,000
# files, 1 GiB in 500 directories), side by side in one run:
#   1. the first snapshot   vs  cp -a  and  tar -c  of the same tree
#      (each best of BENCH_SNAP_ROUNDS, order alternating per round; cp -a
#      is also shown followed by a syncfs, since a snapshot is durable
#      before its manifest is written and cp's copy is not)
#   2. a second snapshot after modifying 100 files  vs  a stat of every
#      entry (find -printf '%s'): the incremental walk's floor
#   3. rollback of those 100 files (target <= 0.2 s)
# Peak memory (max RSS) of each breakglass run is reported.
# BENCH_SNAP_FILES / BENCH_SNAP_MB scale the tree.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
BG=$here/build/breakglass
FILES=${BENCH_SNAP_FILES:-50000}
MB=${BENCH_SNAP_MB:-1024}
ROUNDS=${BENCH_SNAP_ROUNDS:-2}
DIRS=$(( FILES / 100 > 0 ? FILES / 100 : 1 ))
W=$(mktemp -d "${BENCH_DIR:-/var/tmp}/breakglass-bench-snap.XXXXXX")
trap 'rm -rf "$W"' EXIT
TREE=$W/tree

need=$(( MB * 3 + 512 ))
avail=$(df -Pm "$W" | awk 'NR == 2 { print $4 }')
[ "$avail" -gt "$need" ] || { echo "snapshot bench: needs ${need} MB free in $W, has ${avail}: skipped"; exit 0; }

# The tree: FILES files of varied size summing to about MB MiB, every file
# distinct (no dedup advantage), from a random pool.
perl -e '
	my ($root, $files, $mb, $dirs) = @ARGV;
	open(my $r, "<", "/dev/urandom") or die; my $pool; read($r, $pool, 4 << 20);
	my $avg = int($mb * 1048576 / $files);
	for my $d (0 .. $dirs - 1) { mkdir sprintf("%s/d%04d", $root, $d) or die }
	for my $i (0 .. $files - 1) {
		my $n = int($avg / 4) + (($i * 2654435761) % int($avg * 3 / 2));
		my $off = ($i * 40503) % (length($pool) - $n - 64);
		my $p = sprintf("%s/d%04d/f%06d.dat", $root, $i % $dirs, $i);
		open(my $f, ">", $p) or die "$p: $!"; print $f "file $i\n", substr($pool, $off, $n); close($f);
	}' "$(mkdir -p "$TREE" && echo "$TREE")" "$FILES" "$MB" "$DIRS"
sync -f "$TREE"
size=$(du -sm "$TREE" | cut -f1)

# secs and max RSS (KiB) of a command: "SECS KB"
measure() {
	/usr/bin/time -f '%e %M' -o "$W/time" "$@" >"$W/cmd.out" 2>"$W/cmd.err" || {
		echo "snapshot bench: failed: $*" >&2; cat "$W/cmd.err" >&2; exit 1; }
	cat "$W/time"
}
secs() { measure "$@" | cut -d' ' -f1; }
best() { printf '%s\n' "$@" | sort -n | head -1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

cpa=""; cps=""; tarc=""; snap=""; snaprss=0
for round in $(seq 1 "$ROUNDS"); do
	rm -rf "$W/cp" "$W/tar" "$W/audit"; mkdir -p "$W/audit"; sync -f "$W"
	one_cp() { cpa="$cpa $(secs cp -a "$TREE" "$W/cp")"; rm -rf "$W/cp"; sync -f "$W"
		cps="$cps $(secs sh -c 'cp -a "$1" "$2" && sync -f "$2"' sh "$TREE" "$W/cp")"; rm -rf "$W/cp"; }
	one_tar() { tarc="$tarc $(secs tar -cf "$W/tar" -C "$W" tree)"; rm -f "$W/tar"; }
	one_snap() {
		set -- $(measure "$BG" snapshot T-1 --grant G-1 --audit-dir "$W/audit" "$TREE")
		snap="$snap $1"; [ "$2" -gt "$snaprss" ] && snaprss=$2
		[ "$round" -lt "$ROUNDS" ] && rm -rf "$W/audit" && mkdir -p "$W/audit"; sync -f "$W"
	}
	if [ $((round % 2)) -eq 1 ]; then one_cp; one_tar; one_snap; else one_snap; one_tar; one_cp; fi
done
cpa=$(best $cpa); cps=$(best $cps); tarc=$(best $tarc); snap=$(best $snap)
first_id=$("$BG" snapshot --list T-1 --audit-dir "$W/audit" | tail -1)

echo "snapshot bench: $FILES files, ${size} MB in $DIRS directories (best of $ROUNDS)"
printf '  first snapshot      %7.2f s   max RSS %6d KiB\n' "$snap" "$snaprss"
printf '  cp -a               %7.2f s   snapshot/cp -a       %s\n' "$cpa" "$(ratio "$snap" "$cpa")"
printf '  cp -a + syncfs      %7.2f s   snapshot/cp -a+sync  %s\n' "$cps" "$(ratio "$snap" "$cps")"
printf '  tar -c              %7.2f s   snapshot/tar -c      %s\n' "$tarc" "$(ratio "$snap" "$tarc")"

# 2. a hotfix touches 100 files; the next snapshot re-reads only those
perl -e 'my ($root, $files, $dirs) = @ARGV; my $step = int($files / 100) || 1;
	for (my $i = 0, my $k = 0; $k < 100 && $i < $files; $i += $step, $k++) {
		my $p = sprintf("%s/d%04d/f%06d.dat", $root, $i % $dirs, $i);
		open(my $f, ">>", $p) or die; print $f "hotfix\n"; close($f) }' "$TREE" "$FILES" "$DIRS"
walk=$(best $(secs find "$TREE" -printf '%s\n') $(secs find "$TREE" -printf '%s\n'))
set -- $(measure "$BG" snapshot T-1 --grant G-1 --audit-dir "$W/audit" "$TREE")
inc=$1; incrss=$2
grep -q "100 files\|copied" "$W/cmd.out" || true
printf '  second snapshot     %7.2f s   max RSS %6d KiB   (target <= 0.5 s)   %s\n' "$inc" "$incrss" \
	"$(sed -n 's/.*(\(.*\))/\1/p' "$W/cmd.out")"
printf '  stat walk (find)    %7.2f s   second snapshot/stat walk  %s\n' "$walk" "$(ratio "$inc" "$walk")"

# 3. roll those 100 files back to the first snapshot
set -- $(measure "$BG" rollback T-1 --snapshot "$first_id" --audit-dir "$W/audit")
rb=$1; rbrss=$2
restored=$(sed -n 's/^rolled back to [^:]*: \([0-9]*\) restored.*/\1/p' "$W/cmd.out")
printf '  rollback            %7.2f s   max RSS %6d KiB   (target <= 0.2 s)   %s files restored\n' \
	"$rb" "$rbrss" "${restored:-?}"
[ "${restored:-0}" -eq 100 ] || { echo "snapshot bench: rollback restored ${restored:-?} files, not 100" >&2; exit 1; }
