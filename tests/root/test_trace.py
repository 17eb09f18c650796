# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_trace - `memslope trace` on real workloads with known culprits (tests/workloads/*.c).

Conventions these tests rely on (DESIGN.md, memslope.trace/1):
- stacks[].frames[0] is the innermost frame: the function that called the allocator. A
  function's live bytes are the sum of live_bytes over the stacks whose frames[0].func is that
  function (each workload makes its allocator calls directly from the named noinline function).
- bytes are requested bytes; a realloc/reallocarray/mremap result belongs to the stack of that
  call; failed calls add nothing (tests/workloads/exact.c spells out every case).
- the traced command's stdout passes through memslope's stdout (workloads print their truth).
- no test ever traces pid -1; every run is short (the whole file takes about a minute).
"""

import json
import os
import re
import signal
import subprocess
import time

import pytest

import mslib
from mslib import (LIBC_SLACK, funcs, grep_int, innermost, live_by_innermost, process,
                   stacks_containing, stacks_where_innermost)

MiB = 1 << 20


def target_proc(res):
    """The processes[] entry of the report's target pid (asserts both exist)."""
    assert res.report is not None, "no JSON report\n" + res.why()
    pid = res.report.get("target", {}).get("pid")
    assert isinstance(pid, int) and pid > 0, "target.pid missing\n" + res.why()
    pr = process(res.report, pid)
    assert pr is not None, f"no processes[] entry for the target pid {pid}\n" + res.why()
    return pr


def start(argv):
    """Start a workload (stdout piped) for the -p tests; its pid is what gets traced."""
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish(p, timeout=15):
    """Wait for a workload started by start(); return (exit code, stdout)."""
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
    return p.returncode, out


# --- leaky: the README demo, traced from exec -------------------------------------------
LEAKY_SECONDS, LEAKY_RATE = 4, 1048576
LEAKY_TRUTH = LEAKY_SECONDS * 10 * (LEAKY_RATE // 10)  # leak_some()'s exact total
LEAKY_BLOCKS = LEAKY_SECONDS * 10 * -(-(LEAKY_RATE // 10) // 4096)  # 4 KiB blocks + remainder


@pytest.fixture(scope="module")
def leaky_run(trace, wl):
    return trace("-i", "0.5", "--", wl("leaky"), LEAKY_SECONDS, LEAKY_RATE, timeout=40)


def test_leaky_exit_status_is_the_commands(leaky_run):
    res = leaky_run
    assert res.rc == 0, res.why()
    assert res.report is not None, res.why()
    ex = res.report["target"]["exit"]
    assert ex["code"] == 0 and ex["signal"] is None and ex["oom_killed"] is False, res.why()


def test_leaky_stdout_passes_through(leaky_run):
    n = grep_int(leaky_run.stdout, r"^leaked (\d+) bytes$")
    assert n == LEAKY_TRUTH, "workload's own line missing or wrong\n" + leaky_run.why()


def test_report_schema(leaky_run):
    r = leaky_run.report
    assert r is not None, leaky_run.why()
    assert r["schema"] == "memslope.trace/1"
    for key, typ in (("started_at", str), ("duration_s", (int, float)),
                     ("interval_s", (int, float)), ("mode", str), ("target", dict),
                     ("processes", list), ("oom_kills", list), ("stats", dict)):
        assert isinstance(r.get(key), typ), f"{key}: {r.get(key)!r}"
    assert r["interval_s"] == pytest.approx(0.5)
    assert r["mode"] == "exact"
    assert r["target"]["argv"][-2:] == [str(LEAKY_SECONDS), str(LEAKY_RATE)], r["target"]
    assert 3.0 <= r["duration_s"] <= 15.0, r["duration_s"]
    for k in ("events", "lost_events", "dropped_allocs", "dropped_stacks"):
        assert isinstance(r["stats"].get(k), int), f"stats.{k}: {r['stats']}"
    assert r["stats"]["events"] > LEAKY_BLOCKS, r["stats"]  # every leak_some malloc is an event
    pr = target_proc(leaky_run)
    assert pr["comm"] == "leaky"
    assert pr["ppid"] == leaky_run.pid, "the traced COMMAND is memslope's child"
    for pt in pr["series"]:
        assert set(pt) >= {"t", "rss_bytes", "heap_bytes"}, pt
    assert pr["stacks"], leaky_run.why()
    for st in pr["stacks"]:
        for k in ("live_bytes", "live_allocs", "alloc_bytes", "allocs"):
            assert isinstance(st.get(k), int), f"{k}: {st}"
        assert st["frames"], st
        for fr in st["frames"]:
            assert set(fr) >= {"func", "module", "file", "line", "lang", "addr"}, fr
            assert fr["lang"] in ("c", "python"), fr
            assert isinstance(fr["addr"], str) and fr["addr"].startswith("0x"), fr


def test_leaky_top_stack_is_leak_some(leaky_run):
    pr = target_proc(leaky_run)
    stacks = pr["stacks"]
    assert stacks, leaky_run.why()
    lives = [st["live_bytes"] for st in stacks]
    assert lives == sorted(lives, reverse=True), "stacks not sorted by live_bytes"
    top = stacks[0]
    assert innermost(top) == "leak_some", "frames[0] must be the allocator's caller\n" \
        + leaky_run.why()
    assert "main" in funcs(top)[1:], "frame-pointer unwind should reach main\n" + leaky_run.why()


def test_leaky_live_bytes_match_truth(leaky_run):
    pr = target_proc(leaky_run)
    leak = stacks_where_innermost(pr, "leak_some")
    assert len(leak) == 1, "leak_some has a single malloc call site\n" + leaky_run.why()
    st = leak[0]
    assert abs(st["live_bytes"] - LEAKY_TRUTH) <= 0.02 * LEAKY_TRUTH, leaky_run.why()
    assert abs(st["live_allocs"] - LEAKY_BLOCKS) <= 0.02 * LEAKY_BLOCKS, leaky_run.why()
    assert st["alloc_bytes"] >= st["live_bytes"] and st["allocs"] >= st["live_allocs"]
    # churn() frees everything it allocates: tracked (allocs > 0) yet nothing live
    churn = stacks_where_innermost(pr, "churn")
    assert sum(s["allocs"] for s in churn) >= LEAKY_SECONDS * 10 * 90 * 0.98, leaky_run.why()
    assert sum(s["live_bytes"] for s in churn) == 0, leaky_run.why()


def test_leaky_series_grows(leaky_run):
    pr = target_proc(leaky_run)
    ser = pr["series"]
    assert len(ser) >= 4, f"{len(ser)} points for a {LEAKY_SECONDS} s trace at -i 0.5\n" \
        + leaky_run.why()
    ts = [p["t"] for p in ser]
    assert ts == sorted(ts) and len(set(ts)) == len(ts), ts
    rss = [p["rss_bytes"] for p in ser if p["rss_bytes"] > 0]
    assert rss and max(rss) - rss[0] >= LEAKY_TRUTH // 2, f"rss {rss}"
    heap = [p["heap_bytes"] for p in ser]
    assert heap[-1] - heap[0] >= LEAKY_TRUTH // 2, f"heap {heap}"
    for a, b in zip(heap, heap[1:]):
        assert b >= a - 64 * 1024, f"heap of a pure leaker went down: {heap}"


@pytest.fixture(scope="module")
def leaky_long_run(trace, wl):
    """The growth verdict needs >= 10 s and >= 10 points (growth_cfg defaults): a run of its
    own, long enough for a verdict, with --error-exitcode 9."""
    return trace("-i", "0.5", "--error-exitcode", "9", "--", wl("leaky"), 11, timeout=60)


def test_leaky_growth_verdict(leaky_long_run):
    res = leaky_long_run
    g = target_proc(res).get("growth")
    assert g, res.why()
    assert g["verdict"] == "leak", res.why()  # a steady 1 MiB/s leak is linear
    assert g["severity"] == "critical", res.why()  # 1 MiB/s is far above 5 MB/h
    assert 0.5 * LEAKY_RATE <= g["slope_bytes_per_s"] <= 2 * LEAKY_RATE, res.why()


def test_error_exitcode_on_leak(leaky_long_run):
    """leaky exits 0, but it leaked: --error-exitcode 9 replaces its status."""
    assert leaky_long_run.rc == 9, leaky_long_run.why()


# --- exact: every entry point, truth printed by the workload ----------------------------
@pytest.fixture(scope="module")
def exact_run(trace, wl):
    res = trace("-i", "0.5", "--", wl("exact"), 2, timeout=40)
    line = next((ln for ln in res.stdout.splitlines() if ln.startswith("{")), None)
    assert line is not None, "exact printed no truth\n" + res.why()
    return res, json.loads(line)


def test_exact_exit_status(exact_run):
    res, _ = exact_run
    assert res.rc == 0, res.why()


def test_exact_live_bytes_per_function(exact_run):
    res, truth = exact_run
    pr = target_proc(res)
    got = live_by_innermost(pr)
    wrong = {f: (want, got.get(f, 0)) for f, want in truth.items() if got.get(f, 0) != want}
    assert not wrong, "function: (expected, reported) live bytes: " + \
        ", ".join(f"{f}: {w}" for f, w in wrong.items()) + "\n" + res.why(limit=1500)


def test_exact_total_live_bytes(exact_run):
    """All stacks together: the truth plus at most libc's own small blocks. Catches double
    counting outside the workload's frames (e.g. malloc's internal mmap, aliased symbols)."""
    res, truth = exact_run
    pr = target_proc(res)
    total = sum(st["live_bytes"] for st in pr["stacks"])
    want = sum(truth.values())
    assert want <= total <= want + LIBC_SLACK, f"total {total}, truth {want}\n" + res.why()


def test_exact_frees_are_tracked(exact_run):
    """do_free_all and alloc_for_free end at 0 live bytes because their blocks were seen
    allocated and then freed, not because they were never seen."""
    res, _ = exact_run
    pr = target_proc(res)
    fa = stacks_where_innermost(pr, "do_free_all")
    assert sum(s["allocs"] for s in fa) >= 8, res.why()  # 5 malloc, calloc, malloc, malloc
    assert sum(s["alloc_bytes"] for s in fa) >= 5 * 2000 + 1000 + (256 << 10) + 100, res.why()
    assert sum(s["live_allocs"] for s in fa) == 0, res.why()
    af = stacks_where_innermost(pr, "alloc_for_free")
    assert sum(s["allocs"] for s in af) == 1 and sum(s["live_allocs"] for s in af) == 0, \
        res.why()


# --- --sample-bytes: estimates of known truth ---------------------------------------------
SAMPLE = 65536


@pytest.fixture(scope="module")
def sampled_run(trace, wl):
    res = trace("-i", "0.5", "--sample-bytes", "64K", "--", wl("sampled"), 2, timeout=60)
    line = next((ln for ln in res.stdout.splitlines() if ln.startswith("{")), None)
    assert line is not None, "sampled printed no truth\n" + res.why()
    return res, json.loads(line)


def test_sampled_estimates_live_bytes(sampled_run):
    """Small blocks are sampled every 64 KiB on average: 20 MB in 200,000 blocks of 100 B
    gives ~305 samples (a standard error of ~6 %), so +-25 % is > 4 standard errors; a
    sampler that kept every block (weight 1) or weighted samples wrongly is far off."""
    res, truth = sampled_run
    assert res.rc == 0, res.why()
    rep = res.report
    assert rep["sample_bytes"] == SAMPLE, res.why()
    assert "heap sampled every 64.0 KiB: estimates" in res.stderr, res.why()
    pr = target_proc(res)
    for func in ("keep_small", "keep_mixed"):
        want_bytes, want_allocs = truth[func]
        st = stacks_where_innermost(pr, func)
        live = sum(s["live_bytes"] for s in st)
        allocs = sum(s["live_allocs"] for s in st)
        assert abs(live - want_bytes) <= 0.25 * want_bytes, f"{func}: {live} vs {want_bytes}\n" + res.why()
        assert abs(allocs - want_allocs) <= 0.25 * want_allocs, f"{func}: {allocs} vs {want_allocs}\n" + res.why()
        # each sample stands for whole multiples of the rate, never for less
        assert live % SAMPLE == 0, f"{func}: {live}"


def test_sampled_big_blocks_exact_and_frees_balance(sampled_run):
    res, truth = sampled_run
    pr = target_proc(res)
    big = stacks_where_innermost(pr, "keep_big")
    assert sum(s["live_bytes"] for s in big) == truth["keep_big"][0], res.why()
    assert sum(s["live_allocs"] for s in big) == truth["keep_big"][1], res.why()
    # 200,000 blocks allocated and freed: the samples among them are freed too
    churn = stacks_where_innermost(pr, "churn_small")
    assert churn and sum(s["live_bytes"] for s in churn) == 0, res.why()
    want = sum(16 + (i * 7919) % 2048 for i in range(200000))  # what churn_small allocates
    got = sum(s["alloc_bytes"] for s in churn)
    assert 0.75 * want <= got <= 1.25 * want, f"{got} vs {want}\n" + res.why()
    # unknown frees are the rule when sampling: not shown as losses
    assert res.report["stats"]["dropped_allocs"] == 0, res.why()


# --- churn: lots of traffic, bounded live bytes -----------------------------------------
@pytest.fixture(scope="module")
def churn_run(trace, wl):
    # 11 s: the growth verdict needs >= 10 s of data (growth_cfg defaults)
    return trace("-i", "0.5", "--error-exitcode", "9", "--", wl("churn"), 11, timeout=60)


def test_churn_bounded(churn_run):
    res = churn_run
    assert res.rc == 0, "not leaking: --error-exitcode must not apply\n" + res.why()
    live = grep_int(res.stdout, r"^live (\d+) bytes bound \d+ bytes$")
    bound = grep_int(res.stdout, r"^live \d+ bytes bound (\d+) bytes$")
    assert live is not None and bound is not None, res.why()
    pr = target_proc(res)
    # exact accounting of ~110,000 malloc/free pairs ends on the working set, to the byte
    assert live_by_innermost(pr).get("churn_step", 0) == live, res.why()
    heap = [p["heap_bytes"] for p in pr["series"]]
    assert len(heap) >= 4, res.why()
    assert max(heap) <= bound + LIBC_SLACK, f"heap {heap} exceeds the bound {bound}"
    half = len(heap) // 2
    assert max(heap[half:]) <= 1.25 * max(heap[:half]), f"heap keeps growing: {heap}"


def test_churn_not_flagged(churn_run):
    g = target_proc(churn_run).get("growth")
    assert g, churn_run.why()
    # the working set is full within 50 ms: a flat, noisy series from the first sample on
    assert g["verdict"] in ("stable", "plateau"), churn_run.why()


# --- -p PID: attach to a running process ------------------------------------------------
def test_attach_to_running_pid(trace, wl):
    rate = 1048576
    p = start([wl("leaky"), "30", str(rate)])
    try:
        time.sleep(0.5)
        res = trace("-i", "0.5", "-d", "2", "-p", p.pid, timeout=30)
        assert p.poll() is None, "leaky ended before the trace did: the test proves nothing"
    finally:
        p.terminate()
        finish(p)
    assert res.rc == 0, res.why()
    pr = target_proc(res)
    assert pr["pid"] == p.pid
    assert pr["stacks"] and innermost(pr["stacks"][0]) == "leak_some", res.why()
    live = live_by_innermost(pr).get("leak_some", 0)
    dur = res.report["duration_s"]
    assert 1.5 <= dur <= 3, f"-d 2 traced for {dur} s"
    # only what was leaked while attached: ~ rate * duration (one 100 ms tick of slack)
    assert 0.6 * rate * dur <= live <= 1.15 * rate * dur + rate / 10, \
        f"live {live} after {dur} s at {rate} B/s\n" + res.why()
    assert res.report["target"]["exit"]["code"] is None, "leaky was still running at the end"
    assert res.report["target"]["exit"]["signal"] is None, "leaky was still running at the end"


def test_process_exits_mid_trace(trace, wl):
    # leaky runs 6 s: loading the BPF programs alone can take 2-3 s on a loaded machine
    p = start([wl("leaky"), "6"])
    try:
        time.sleep(0.5)
        res = trace("-i", "0.5", "-d", "20", "-p", p.pid, timeout=40)
    finally:
        rc, out = finish(p)
    assert rc == 0
    truth = grep_int(out, r"^leaked (\d+) bytes$")
    assert res.rc == 0, res.why()
    pr = target_proc(res)
    live = live_by_innermost(pr).get("leak_some", 0)
    assert 512 * 1024 <= live <= truth, f"live {live}, leaky leaked {truth} in all\n" + res.why()
    assert len(pr["series"]) >= 2, res.why()
    ex = res.report["target"]["exit"]
    assert ex["code"] == 0 and ex["signal"] is None, f"exit not recorded: {ex}\n" + res.why()
    if "exited" in pr:
        assert pr["exited"] is True, pr["exited"]


# --- children ---------------------------------------------------------------------------
def test_forked_child_is_traced(trace, wl):
    res = trace("-i", "0.5", "--", wl("forker"), 3, timeout=40)
    assert res.rc == 0, res.why()
    child = grep_int(res.stdout, r"^child (\d+)$")
    truth = grep_int(res.stdout, r"^child leaked (\d+) bytes$")
    assert child and truth, res.why()
    parent = target_proc(res)
    cp = process(res.report, child)
    assert cp is not None, f"child {child} not in the report\n" + res.why()
    assert cp["ppid"] == parent["pid"], res.why()
    live = live_by_innermost(cp).get("child_leak", 0)
    # inherited probes: the child is traced from its first instruction, exactly
    assert live == truth, f"child_leak {live}, truth {truth}\n" + res.why()
    assert not stacks_containing(parent, "child_leak"), "child's leak charged to the parent\n" \
        + res.why()
    assert sum(s["allocs"] for s in stacks_where_innermost(parent, "parent_churn")) > 0, \
        "the parent's own allocations were not traced\n" + res.why()
    assert live_by_innermost(parent).get("parent_churn", 0) == 0, res.why()


def test_forked_child_without_tracefs(memslope, wl, tmp_path):
    """The fallback where tracefs is missing: per-process uprobe_multi links, the child
    attached when its fork is read (forker's child waits 100 ms before its first leak)."""
    out = tmp_path / "r.json"
    env = dict(os.environ, MEMSLOPE_NO_TRACEFS="1")
    p = subprocess.run([memslope, "trace", "-v", "-i", "0.5", "--json", str(out), "--",
                        wl("forker"), "2"], capture_output=True, text=True, timeout=40, env=env)
    assert p.returncode == 0, p.stderr
    assert "uprobe_multi" in p.stderr and "inheritable" not in p.stderr, p.stderr
    child = grep_int(p.stdout, r"^child (\d+)$")
    truth = grep_int(p.stdout, r"^child leaked (\d+) bytes$")
    cp = process(json.loads(out.read_text()), child)
    assert cp is not None, p.stderr
    live = live_by_innermost(cp).get("child_leak", 0)
    assert truth - (256 << 10) <= live <= truth, f"child_leak {live}, truth {truth}\n" + p.stderr


def test_children_traced_from_birth(trace, wl):
    """Children and grandchildren that leak as their very first action and exit at once:
    nothing of theirs may be missed (no time for the tracer to react to a fork), and the
    odd children, which outlive a child of their own, keep being traced after it exits."""
    res = trace("-i", "0.5", "--", wl("spawner"), 10, timeout=60)
    assert res.rc == 0, res.why()
    assert "spawned 15 processes" in res.stdout, res.why()
    root = target_proc(res)
    assert not stacks_containing(root, "burst_leak"), res.why()
    kids = [p for p in res.report["processes"] if p["ppid"] == root["pid"]]
    assert len(kids) == 10, f"{len(kids)} children in the report\n" + res.why()
    for k in kids:
        grand = [p for p in res.report["processes"] if p["ppid"] == k["pid"]]
        odd = bool(grand)
        assert k["comm"] == "spawner", k["comm"]
        live = live_by_innermost(k).get("burst_leak", 0)
        assert live == (20000 if odd else 10000), \
            f"child {k['pid']}: burst_leak {live}\n" + res.why()
        for g in grand:
            assert live_by_innermost(g).get("burst_leak", 0) == 10000, \
                f"grandchild {g['pid']}\n" + res.why()
    assert sum(1 for k in kids if any(p["ppid"] == k["pid"] for p in res.report["processes"])) \
        == 5, res.why()


def test_shell_children_traced_from_birth(trace, wl):
    """A shell's foreground child (dash vforks and execs it) that allocates only at
    startup, then a second one: both complete, whatever ran before."""
    script = f"{wl('exact')} 1 >/dev/null; {wl('leaky')} 1 >/dev/null"
    runs = [trace("--", "/bin/sh", "-c", script, timeout=60) for _ in range(3)]
    for res in runs:
        assert res.rc == 0, res.why()
        by_comm = {p["comm"]: p for p in res.report["processes"]}
        assert "exact" in by_comm and "leaky" in by_comm, res.why()
        assert by_comm["exact"]["stacks"], "exact recorded nothing\n" + res.why()
        assert live_by_innermost(by_comm["leaky"]).get("leak_some", 0) > 0, res.why()
    # the same program, the same allocations: the same count every time
    counts = [sum(s["allocs"] for s in {p["comm"]: p for p in r.report["processes"]}["exact"]
                  ["stacks"]) for r in runs]
    assert len(set(counts)) == 1, f"exact's allocation count varies: {counts}"


# --- exit status ------------------------------------------------------------------------
@pytest.mark.parametrize("script,rc,code,sig", [
    ("exit 3", 3, 3, None),
    ("kill -TERM $$", 128 + signal.SIGTERM, None, signal.SIGTERM),
])
def test_exit_status_passthrough(trace, script, rc, code, sig):
    res = trace("--", "/bin/sh", "-c", script, timeout=20)
    assert res.rc == rc, res.why()
    assert res.report is not None, res.why()
    ex = res.report["target"]["exit"]
    assert ex["code"] == code and ex["signal"] == sig, ex


# --- bad input --------------------------------------------------------------------------
def test_unknown_pid(trace):
    pid = mslib.free_pid()
    res = trace("-d", "1", "-p", pid, json=False, timeout=20)
    assert res.rc == 1, res.why()
    assert "no such process" in res.stderr.lower(), res.why()


@pytest.mark.parametrize("args,names", [
    (["--no-such-option", "--", "/bin/true"], ["no-such-option"]),
    ([], ["pid", "command"]),             # neither -p nor a command
    (["-i", "abc", "--", "/bin/true"], ["abc"]),
    (["-d", "-1", "--", "/bin/true"], ["-1"]),
    (["-p", "notapid"], ["notapid"]),
    (["--sample-bytes", "lots", "--", "/bin/true"], ["invalid --sample-bytes 'lots'"]),
    (["--mode", "sloppy", "--", "/bin/true"], ["invalid --mode 'sloppy'"]),
    (["--mode", "watch", "--sample-bytes", "64K", "--", "/bin/true"], ["apply to --mode exact"]),
], ids=["unknown-option", "no-target", "bad-interval", "negative-duration", "bad-pid",
        "bad-sample-bytes", "bad-mode", "watch-with-exact-option"])
def test_usage_errors(trace, args, names):
    """Exit 2; stderr shows the usage or points to --help, and names what was wrong."""
    res = trace(*args, json=False, timeout=20)
    assert res.rc == 2, res.why()
    err = res.stderr.lower()
    assert "usage" in err or "--help" in err, res.why()
    assert any(n in err for n in names), f"stderr names none of {names}\n" + res.why()


def test_missing_command(trace):
    cmd = "/nonexistent/memslope-no-such-command"
    res = trace("--", cmd, json=False, timeout=20)
    assert res.rc != 0, res.why()
    assert cmd in res.stderr, res.why()
    assert "no such file" in res.stderr.lower() or "not found" in res.stderr.lower(), res.why()


# --- static binary: nothing to probe, RSS still watched ---------------------------------
def test_static_binary(trace, wl):
    res = trace("-i", "0.5", "--", wl("leaky_static"), 3, timeout=40)
    assert res.rc == 0, res.why()
    # not just "libc": frame names like __libc_start_call_main may appear in the text report
    assert re.search(r"static|no libc", res.stderr, re.I), \
        "no word on why allocations are not traced\n" + res.why()
    truth = grep_int(res.stdout, r"^leaked (\d+) bytes$")
    assert truth, res.why()
    pr = target_proc(res)
    rss = [p["rss_bytes"] for p in pr["series"] if p["rss_bytes"] > 0]
    assert len(rss) >= 2, res.why()
    assert max(rss) - rss[0] >= truth // 2, f"rss {rss}, leaked {truth}"


# --- --json - ---------------------------------------------------------------------------
def test_json_to_stdout(trace, wl):
    res = trace("--", "/bin/sh", "-c", f"exec {wl('leaky')} 1 >/dev/null", json="-",
                timeout=30)
    assert res.rc == 0, res.why()
    try:
        report = json.loads(res.stdout)
    except ValueError as e:
        pytest.fail(f"stdout is not one JSON document: {e}\n" + res.why())
    assert report["schema"] == "memslope.trace/1"
    assert report["target"]["exit"]["code"] == 0
    assert any(innermost(st) == "leak_some" for pr in report["processes"]
               for st in pr.get("stacks") or []), mslib.summarize(report)
