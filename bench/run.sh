#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# bench/run.sh - uprobe overhead on bench_ring: no tracer, empty-probe floors, full tracing
#
# USAGE: bench/run.sh MEMSLOPE_BIN WORKLOAD_DIR
#
# Runs six configurations side by side (interleaved, so drift of the machine hits them all
# alike), REPS times each, and reports the median ns per malloc/free pair as measured by the
# workload itself around its timed loop (attach and detach are outside it, reported apart):
#   (a) bench_ring alone
#   (b) memslope trace --probe-only --no-placement   empty probes at the symbols: naive floor
#   (c) memslope trace --probe-only                  empty probes at the emulated sites: floor
#   (d) memslope trace                               full tracing
#   (e) memslope trace --sample-bytes 512K           full tracing, heap blocks sampled
#   (f) memslope trace --mode watch                  no allocator probes (new pages only)
# The table goes to stdout and to bench/results/overhead.txt. A benchmark, not a test:
# nothing here passes or fails on a number.
#
# Environment: REPS (3), PAIRS for (a) (2000000), TRACED_PAIRS for (b)-(f) (200000, keeps a
# traced run near a few seconds at ~15 us/pair), TRACE_OPTS (-v -q), TIMEOUT per run in
# seconds (300), OUT (bench/results/overhead.txt).
#
# EXAMPLES:
#   make bench
#   REPS=5 TRACED_PAIRS=500000 bench/run.sh build/memslope build/workloads
set -euo pipefail

usage() {
	echo "usage: $0 MEMSLOPE_BIN WORKLOAD_DIR" >&2
	exit 2
}
[[ $# -eq 2 ]] || usage

memslope=$1
wl_dir=$2
ring=$wl_dir/bench_ring
here=$(cd "$(dirname "$0")" && pwd)

REPS=${REPS:-3}
PAIRS=${PAIRS:-2000000}
TRACED_PAIRS=${TRACED_PAIRS:-200000}
TRACE_OPTS=${TRACE_OPTS:--v -q}
TIMEOUT=${TIMEOUT:-300}
OUT=${OUT:-$here/results/overhead.txt}

if [[ ! -x $ring ]]; then
	echo "bench: $ring not found or not executable (build it: make)" >&2
	exit 1
fi
have_memslope=1
if [[ ! -x $memslope ]]; then
	echo "bench: $memslope not found: only the baseline (a) runs" >&2
	have_memslope=0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

configs=(a b c d e f)
declare -A label=(
	[a]="(a) no tracer"
	[b]="(b) empty probes at symbols"
	[c]="(c) empty probes at emulated sites"
	[d]="(d) full tracing"
	[e]="(e) sampled, --sample-bytes 512K"
	[f]="(f) --mode watch"
)
declare -A opts=(
	[b]="--probe-only --no-placement"
	[c]="--probe-only"
	[d]=""
	[e]="--sample-bytes 512K"
	[f]="--mode watch"
)
declare -A ns attach detach status

# Last "bench_ring: N pairs, X ns/pair" line of a log: X, or nothing.
ns_per_pair() {
	grep -oE 'bench_ring: [0-9]+ pairs, [0-9.]+ ns/pair' "$1" | tail -n1 |
		awk '{ print $4 }' || true
}

# Sum of the "... in X ms" figures on lines matching $2 (one per traced process), or nothing.
ms_sum() {
	grep -E "$2" "$1" | grep -oE 'in [0-9.]+ ms' |
		awk '{ s += $2; n++ } END { if (n) printf "%.1f\n", s }' || true
}

# Median of the numeric arguments, "n/a" without any.
median() {
	printf '%s\n' "$@" | { grep -E '^[0-9.]+$' || true; } | sort -g |
		awk '{ v[NR] = $1 } END {
			if (!NR) print "n/a";
			else if (NR % 2) printf "%.1f\n", v[(NR + 1) / 2];
			else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

run_one() {
	local c=$1 rep=$2 log=$tmp/$1.$2.log rc=0

	if [[ $c == a ]]; then
		timeout "$TIMEOUT" "$ring" "$PAIRS" >"$log" 2>&1 || rc=$?
	elif ((have_memslope)); then
		# shellcheck disable=SC2086 # option lists are split on purpose
		timeout --signal=INT --kill-after=10 "$TIMEOUT" \
			"$memslope" trace $TRACE_OPTS ${opts[$c]} -- "$ring" "$TRACED_PAIRS" \
			>"$log" 2>&1 || rc=$?
	else
		status[$c]=skipped
		return 0
	fi
	local v
	v=$(ns_per_pair "$log")
	if ((rc != 0)) || [[ -z $v ]]; then
		echo "bench: ${label[$c]}, repetition $rep failed (exit $rc); its output:" >&2
		tail -n 20 "$log" | sed 's/^/    /' >&2
		status[$c]=failed
		return 0
	fi
	ns[$c]+="$v "
	attach[$c]+="$(ms_sum "$log" 'attached.* in [0-9.]+ ms') "
	detach[$c]+="$(ms_sum "$log" 'detached.* in [0-9.]+ ms') "
	printf '  rep %d %-36s %10s ns/pair\n' "$rep" "${label[$c]}" "$v" >&2
}

echo "bench: $REPS repetitions; (a) $PAIRS pairs, (b)-(f) $TRACED_PAIRS pairs" >&2
for ((rep = 1; rep <= REPS; rep++)); do
	for c in "${configs[@]}"; do
		run_one "$c" "$rep"
	done
done

# shellcheck disable=SC2086 # the sample lists are split on purpose
base=$(median ${ns[a]:-})

fmt_row() {
	local c=$1 m added ratio at dt

	# shellcheck disable=SC2086
	m=$(median ${ns[$c]:-})
	# shellcheck disable=SC2086
	at=$(median ${attach[$c]:-})
	# shellcheck disable=SC2086
	dt=$(median ${detach[$c]:-})
	if [[ $c == a ]]; then
		at=-
		dt=-
	fi
	if [[ $m == n/a ]]; then
		printf '%-36s %10s %12s %9s %10s %10s   %s\n' "${label[$c]}" n/a n/a n/a n/a n/a \
			"${status[$c]:-no data}"
		return
	fi
	if [[ $base == n/a || $c == a ]]; then
		added=-
		ratio=1.0x
		[[ $c == a ]] || ratio=n/a
	else
		added=$(awk -v m="$m" -v b="$base" 'BEGIN { printf "%+.1f", m - b }')
		ratio=$(awk -v m="$m" -v b="$base" 'BEGIN { printf "%.1fx", m / b }')
	fi
	printf '%-36s %10s %12s %9s %10s %10s   %s\n' "${label[$c]}" "$m" "$added" "$ratio" \
		"$at" "$dt" "samples: ${ns[$c]}"
}

# Where the probes went (debug lines of one short untimed run), for the record.
sites=
if ((have_memslope)); then
	sites=$(timeout "$TIMEOUT" "$memslope" trace -vv -q --probe-only -- "$ring" 1000 2>&1 |
		grep -E '^memslope: probe ' | sed 's/^memslope: /  /' || true)
fi

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
glibc=$(ldd --version 2>/dev/null | head -n1 || true)
rev=$(git -C "$here" describe --always --dirty 2>/dev/null || echo unknown)
{
	echo "memslope overhead benchmark: bench_ring (64 live blocks, 16-512 B, free+malloc per pair)"
	echo "date:    $(date -u '+%Y-%m-%dT%H:%M:%SZ')"
	echo "kernel:  $(uname -r) ($(uname -m))"
	echo "cpu:     ${cpu:-unknown}, $(nproc) online"
	echo "libc:    ${glibc:-unknown}"
	echo "tree:    $rev"
	echo "binary:  $memslope"
	echo "runs:    median of $REPS, interleaved; (a) $PAIRS pairs, (b)-(f) $TRACED_PAIRS pairs;" \
		"trace options: ${TRACE_OPTS:-none}"
	echo
	printf '%-36s %10s %12s %9s %10s %10s\n' configuration ns/pair "ns added" ratio \
		"attach ms" "detach ms"
	for c in "${configs[@]}"; do
		fmt_row "$c"
	done
	echo
	echo "ns/pair: median over the repetitions, timed by bench_ring around its loop (attach and"
	echo "detach excluded); ns added = row - (a); ratio = row / (a); attach/detach: what"
	echo "memslope trace -v reports (n/a when it prints nothing)."
	if [[ -n $sites ]]; then
		echo
		echo "probe sites (memslope trace -vv --probe-only):"
		echo "$sites"
	fi
} >"$tmp/table"

cat "$tmp/table"
mkdir -p "$(dirname "$OUT")"
cp "$tmp/table" "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "bench: written to $OUT" >&2

for c in "${configs[@]}"; do
	[[ ${status[$c]:-} == failed ]] && exit 1
done
exit 0
