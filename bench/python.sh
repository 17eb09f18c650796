#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# bench/python.sh - cost of memslope trace (with Python stacks) on allocation-heavy Python
#
# USAGE: bench/python.sh MEMSLOPE_BIN WORKLOAD_DIR
#
# Runs tests/workloads/py/bench_alloc.py (dicts, lists and strings built and dropped a few
# calls deep) under each interpreter present, two configurations side by side (interleaved,
# so drift of the machine hits both alike), REPS times each:
#   (a) the interpreter alone
#   (b) memslope trace -q -- the interpreter   (libc + arena probes, Python stacks walked)
# and reports the median of the workload's own timing (around its loop: interpreter startup,
# attach and detach are excluded) and the slowdown (b)/(a). The target is <= 1.5x.
# Also counts the libc allocations one traced run makes (from its --json report), since the
# cost is per allocation. The table goes to stdout and to bench/results/python.txt.
# A benchmark, not a test: nothing here passes or fails on a number.
# WORKLOAD_DIR is accepted for symmetry with bench/run.sh; the Python workload lives in the tree.
#
# Environment: REPS (3), ROUNDS of bench_alloc.py (9000: ~5 s untraced on pyenv 3.12),
# PYTHONS (pyenv 3.12 and 3.11 and Debian /usr/bin/python3.11, those present),
# TRACE_OPTS (-q), TIMEOUT per run in seconds (600), OUT (bench/results/python.txt).
#
# EXAMPLES:
#   bench/python.sh build/memslope build/workloads
#   REPS=5 ROUNDS=4000 PYTHONS=/usr/bin/python3.11 bench/python.sh build/memslope build/workloads
set -euo pipefail

usage() {
	echo "usage: $0 MEMSLOPE_BIN WORKLOAD_DIR" >&2
	exit 2
}
[[ $# -eq 2 ]] || usage

memslope=$1
here=$(cd "$(dirname "$0")" && pwd)
script=$here/../tests/workloads/py/bench_alloc.py

REPS=${REPS:-3}
ROUNDS=${ROUNDS:-9000}
TRACE_OPTS=${TRACE_OPTS:--q}
TIMEOUT=${TIMEOUT:-600}
OUT=${OUT:-$here/results/python.txt}

if [[ -z ${PYTHONS:-} ]]; then
	root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
	PYTHONS=
	for p in "$root"/versions/3.12.*/bin/python3.12 "$root"/versions/3.11.*/bin/python3.11 \
		/usr/bin/python3.11; do
		[[ -x $p ]] && PYTHONS+="$p "
	done
fi
if [[ -z $PYTHONS ]]; then
	echo "bench: no interpreter found (set PYTHONS)" >&2
	exit 1
fi
if [[ ! -x $memslope ]]; then
	echo "bench: $memslope not found or not executable (build it: make)" >&2
	exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
declare -A secs status

# "bench_alloc: N rounds in S s" of a log: S, or nothing.
loop_secs() {
	grep -oE 'bench_alloc: [0-9]+ rounds in [0-9.]+ s' "$1" | tail -n1 | awk '{ print $5 }' || true
}

median() {
	printf '%s\n' "$@" | { grep -E '^[0-9.]+$' || true; } | sort -g |
		awk '{ v[NR] = $1 } END {
			if (!NR) print "n/a";
			else if (NR % 2) printf "%.3f\n", v[(NR + 1) / 2];
			else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

run_one() {
	local py=$1 c=$2 rep=$3 key="$1|$2" log=$tmp/run.log rc=0

	if [[ $c == a ]]; then
		timeout "$TIMEOUT" "$py" "$script" "$ROUNDS" >"$log" 2>&1 || rc=$?
	else
		# shellcheck disable=SC2086 # option lists are split on purpose
		timeout --signal=INT --kill-after=10 "$TIMEOUT" \
			"$memslope" trace $TRACE_OPTS -- "$py" "$script" "$ROUNDS" >"$log" 2>&1 || rc=$?
	fi
	local v
	v=$(loop_secs "$log")
	if ((rc != 0)) || [[ -z $v ]]; then
		echo "bench: $py ($c), repetition $rep failed (exit $rc); its output:" >&2
		tail -n 20 "$log" | sed 's/^/    /' >&2
		status[$key]=failed
		return 0
	fi
	secs[$key]+="$v "
	printf '  rep %d %-48s %s %8s s\n' "$rep" "$py" "$c" "$v" >&2
}

echo "bench: $REPS repetitions of bench_alloc.py $ROUNDS under: $PYTHONS" >&2
for ((rep = 1; rep <= REPS; rep++)); do
	for py in $PYTHONS; do
		for c in a b; do
			run_one "$py" "$c" "$rep"
		done
	done
done

# libc allocations of one traced run (short: a tenth of the rounds), per second of (a).
allocs_note() {
	local py=$1 json=$tmp/count.json
	LINGER=1 "$memslope" trace -q -i 0.2 -n 1000 --json "$json" -- "$py" "$script" $((ROUNDS / 10)) \
		>/dev/null 2>&1 || { echo "n/a"; return; }
	"$py" - "$json" <<'PY' 2>/dev/null || echo "n/a"
import json, sys
r = json.load(open(sys.argv[1]))
p = [p for p in r["processes"] if p["pid"] == r["target"]["pid"]][0]
print(sum(s.get("allocs", 0) for s in p["stacks"]))
PY
}

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
rev=$(git -C "$here" describe --always --dirty 2>/dev/null || echo unknown)
{
	echo "memslope Python overhead: tests/workloads/py/bench_alloc.py $ROUNDS (dicts, lists, str churn)"
	echo "date:    $(date -u '+%Y-%m-%dT%H:%M:%SZ')"
	echo "kernel:  $(uname -r) ($(uname -m))"
	echo "cpu:     ${cpu:-unknown}, $(nproc) online"
	echo "commit:  $rev"
	echo "binary:  $memslope"
	echo "runs:    median of $REPS, interleaved; trace options: ${TRACE_OPTS:-none}"
	echo
	printf '%-46s %10s %10s %8s %14s\n' interpreter "(a) s" "(b) s" "(b)/(a)" "libc allocs/s"
	for py in $PYTHONS; do
		# shellcheck disable=SC2086
		a=$(median ${secs["$py|a"]:-})
		# shellcheck disable=SC2086
		b=$(median ${secs["$py|b"]:-})
		ratio=n/a
		[[ $a != n/a && $b != n/a ]] && ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2fx", b / a }')
		n=$(allocs_note "$py")
		rate=n/a
		[[ $n != n/a && $a != n/a ]] &&
			rate=$(awk -v n="$n" -v a="$a" 'BEGIN { printf "%.0f", n * 10 / a }')
		ver=$("$py" -c 'import sys; print(sys.version.split()[0])' 2>/dev/null || echo '?')
		printf '%-46s %10s %10s %8s %14s\n' "$py ($ver)" "$a" "$b" "$ratio" "$rate"
		printf '    samples (a): %s (b): %s %s\n' "${secs["$py|a"]:-}" "${secs["$py|b"]:-}" \
			"${status["$py|a"]:-}${status["$py|b"]:-}"
	done
	echo
	echo "(a) the interpreter alone; (b) memslope trace ${TRACE_OPTS} -- the interpreter, Python"
	echo "stacks on. Seconds: median over the repetitions, timed by the workload around its loop"
	echo "(startup, attach, detach excluded). libc allocs/s: libc allocator calls a traced run"
	echo "counted (live and freed, from the top 1000 stacks of its --json: a floor), per second of (a). Target: (b)/(a) <= 1.5x."
} >"$tmp/table"

cat "$tmp/table"
mkdir -p "$(dirname "$OUT")"
cp "$tmp/table" "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
