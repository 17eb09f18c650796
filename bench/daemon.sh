#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# bench/daemon.sh - what the daemon costs: workload slowdown, its CPU with ~500 processes, its RSS over a soak
#
# USAGE: bench/daemon.sh [--soak-min MINUTES] MEMSLOPE_BIN WORKLOAD_DIR
#
# 1. slowdown, side by side in one run (interleaved, REPS times each, medians): a C malloc
#    workload (bench_ring, ns per malloc/free pair as it measures itself) and an
#    allocation-heavy Python loop (dicts and lists, seconds) with no daemon vs with
#    `memslope daemon` in watch mode (--escalate no) at a 1 s interval (5x the default rate).
# 2. daemon CPU with NPROCS (500) extra sleeping processes: CPU seconds (utime + stime from
#    /proc) over CPU_SECONDS (60) at the default 5 s interval and at 1 s, as % of one core.
# 3. soak: the daemon (default settings but a 1 s interval and 15 s min_span, escalation on) for SOAK_MIN
#    minutes (3; --soak-min 30 for the full run) with the sleepers, short-lived processes
#    coming and going, and a leaking family every few minutes (alerts, escalations); its RSS
#    sampled every 5 s, growth as the least-squares slope after the first minute.
# Results go to stdout and bench/results/daemon.txt. A benchmark, not a test.
#
# Environment: REPS (5), PAIRS (100000000), PY_ITERS (3000000), NPROCS (500), CPU_SECONDS (60),
# OUT (bench/results/daemon.txt).
#
# EXAMPLES:
#   bench/daemon.sh build/memslope build/workloads
#   REPS=3 bench/daemon.sh --soak-min 30 build/memslope build/workloads
set -euo pipefail

usage() {
	echo "usage: $0 [--soak-min MINUTES] MEMSLOPE_BIN WORKLOAD_DIR" >&2
	exit 2
}
SOAK_MIN=3
if [[ ${1:-} == --soak-min ]]; then
	[[ $# -ge 2 ]] || usage
	SOAK_MIN=$2
	shift 2
fi
[[ $# -eq 2 ]] || usage
memslope=$(realpath "$1")
wl_dir=$(realpath "$2")
here=$(cd "$(dirname "$0")" && pwd)
REPS=${REPS:-5}
PAIRS=${PAIRS:-100000000}
PY_ITERS=${PY_ITERS:-3000000}
NPROCS=${NPROCS:-500}
CPU_SECONDS=${CPU_SECONDS:-60}
OUT=${OUT:-$here/results/daemon.txt}
for f in "$memslope" "$wl_dir/bench_ring" "$wl_dir/family"; do
	[[ -x $f ]] || { echo "bench: $f missing (run make)" >&2; exit 1; }
done
[[ $(id -u) == 0 ]] || { echo "bench: needs root (BPF)" >&2; exit 1; }

tmp=$(mktemp -d)
daemon_pid=
sleepers=()
cleanup() {
	[[ -n $daemon_pid ]] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
	((${#sleepers[@]})) && kill "${sleepers[@]}" 2>/dev/null
	[[ -n ${churn_pid:-} ]] && kill "$churn_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# daemon_start ARGS...: background daemon with temp outputs; waits for its first pass
daemon_start() {
	dport=$(port)
	"$memslope" daemon --config /dev/null --alerts "$tmp/alerts.jsonl" --alerts-stdout no \
		--dump-dir "$tmp/oom" --listen "127.0.0.1:$dport" "$@" >"$tmp/daemon.out" 2>"$tmp/daemon.err" &
	daemon_pid=$!
	for _ in $(seq 100); do
		curl -sf "http://127.0.0.1:$dport/status" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "bench: the daemon did not start:" >&2
	cat "$tmp/daemon.err" >&2
	exit 1
}
daemon_stop() {
	kill -TERM "$daemon_pid"
	wait "$daemon_pid" || true
	daemon_pid=
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

py_loop="
import time
t0 = time.perf_counter()
keep = []
for i in range($PY_ITERS):
    d = {'a': i, 'b': [i, i + 1, i + 2], 'c': str(i)}
    keep.append(d)
    if len(keep) > 1000:
        keep = []
print(time.perf_counter() - t0)
"
ring() { "$wl_dir/bench_ring" "$PAIRS" | awk '{print $(NF-1)}'; }
py() { python3 -c "$py_loop"; }

{
echo "memslope daemon benchmark — $(date -u +%Y-%m-%dT%H:%M:%SZ), $(uname -r), $(nproc) CPUs"
echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); a shared VM: other jobs add noise"
echo
} | tee "$OUT"

# --- 1. slowdown -------------------------------------------------------------------
: >"$tmp/ring.off"; : >"$tmp/ring.on"; : >"$tmp/py.off"; : >"$tmp/py.on"
for rep in $(seq "$REPS"); do
	ring >>"$tmp/ring.off"
	py >>"$tmp/py.off"
	daemon_start --interval 1 --escalate no
	sleep 1
	ring >>"$tmp/ring.on"
	py >>"$tmp/py.on"
	daemon_stop
	echo "  rep $rep/$REPS done" >&2
done
r_off=$(median <"$tmp/ring.off"); r_on=$(median <"$tmp/ring.on")
p_off=$(median <"$tmp/py.off"); p_on=$(median <"$tmp/py.on")
{
echo "1. Workload slowdown, daemon in watch mode at a 1 s interval (median of $REPS, interleaved)"
printf "   %-44s %12s %12s %9s\n" "workload" "no daemon" "daemon" "slowdown"
awk -v a="$r_off" -v b="$r_on" 'BEGIN {printf "   %-44s %9.1f ns %9.1f ns %+8.1f%%\n", "C bench_ring (ns per malloc/free pair)", a, b, (b/a-1)*100}'
awk -v a="$p_off" -v b="$p_on" 'BEGIN {printf "   %-44s %10.3f s %10.3f s %+8.1f%%\n", "Python dict/list loop ('"$PY_ITERS"' iterations)", a, b, (b/a-1)*100}'
echo "   runs: ring off [$(paste -sd' ' "$tmp/ring.off")] on [$(paste -sd' ' "$tmp/ring.on")]"
echo "         py   off [$(paste -sd' ' "$tmp/py.off")] on [$(paste -sd' ' "$tmp/py.on")]"
echo
} | tee -a "$OUT"

# --- 2. CPU with ~500 processes ------------------------------------------------------
for _ in $(seq "$NPROCS"); do
	sleep 100000 &
	sleepers+=($!)
done
hz=$(getconf CLK_TCK)
{
echo "2. Daemon CPU with $NPROCS extra sleeping processes ($(ls -d /proc/[0-9]* 2>/dev/null | wc -l) processes on the host), over ${CPU_SECONDS} s"
} | tee -a "$OUT"
for iv in 5 1; do
	daemon_start --interval "$iv" --escalate no
	sleep 3
	c0=$(cpu_ticks "$daemon_pid"); t0=$(date +%s.%N)
	sleep "$CPU_SECONDS"
	c1=$(cpu_ticks "$daemon_pid"); t1=$(date +%s.%N)
	pass_ms=$(curl -s "http://127.0.0.1:$dport/status" 2>/dev/null |
		python3 -c 'import json,sys; d=json.load(sys.stdin); print("%.2f ms, %d watched" % (d["pass_seconds"]*1e3, d["processes"]["watched"]))' 2>/dev/null || echo "?")
	daemon_stop
	awk -v c=$((c1 - c0)) -v hz="$hz" -v t0="$t0" -v t1="$t1" -v iv="$iv" -v p="$pass_ms" \
		'BEGIN {printf "   interval %s s: %.2f%% of one core (%.2f CPU s in %.0f s); last pass %s\n", iv, c/hz/(t1-t0)*100, c/hz, t1-t0, p}' | tee -a "$OUT"
done
echo | tee -a "$OUT"

# --- 3. soak -----------------------------------------------------------------------------
(
	while :; do
		for _ in $(seq 10); do /bin/true; done
		sleep 0.2
	done
) &
churn_pid=$!
daemon_start --interval 1 --min-span 15
soak_s=$((SOAK_MIN * 60))
: >"$tmp/rss"
start=$(date +%s)
next_family=0
while (( $(date +%s) - start < soak_s )); do
	el=$(( $(date +%s) - start ))
	if (( el >= next_family )); then
		"$wl_dir/family" 40 3 1 >/dev/null &
		next_family=$((el + 120))
	fi
	echo "$el $(rss_kb "$daemon_pid")" >>"$tmp/rss"
	sleep 5
done
alerts=$(grep -c '"event":"growth"' "$tmp/alerts.jsonl" 2>/dev/null || true)
escal=$(curl -s "http://127.0.0.1:$dport/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["escalations"])' || echo "?")
daemon_stop
kill "$churn_pid" 2>/dev/null || true
wait "$churn_pid" 2>/dev/null || true
churn_pid=
{
echo "3. Daemon RSS over a ${SOAK_MIN}-minute soak (1 s interval, escalation on, $NPROCS sleepers,"
echo "   ~50 short-lived processes a second, a leaking family every 2 minutes: $alerts growth alerts,"
echo "   $escal escalations)"
awk 'NR == 1 {first = $2} {last = $2; if ($1 >= 60) {n++; sx += $1; sy += $2; sxx += $1*$1; sxy += $1*$2}}
     END {
	slope = (n > 2) ? (n*sxy - sx*sy) / (n*sxx - sx*sx) : 0;   # kB per second
	printf "   RSS %.1f MB at start, %.1f MB at the end; growth after the first minute: %+.2f MB/h (least squares, %d samples)\n",
		first/1024, last/1024, slope*3600/1024, n
     }' "$tmp/rss"
echo "   samples (s kB): $(awk '{printf "%s:%s ", $1, $2}' "$tmp/rss")"
} | tee -a "$OUT"
