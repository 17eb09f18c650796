# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""OOM kills for real, inside a child memory cgroup with a small limit: the trace says so,
exits 137 like the command, and leaves a memslope.oom/1 dump that names victim, trigger,
constraint, limit and the leaking function."""

import glob
import json
import os
import signal
import subprocess
import time

import pytest

import mslib

LIMIT = 64 << 20


def _v1_memcg_root():
    """The v1 memory cgroup directory this process is in, or None."""
    try:
        with open("/proc/self/cgroup") as f:
            for line in f:
                _, ctrls, path = line.rstrip("\n").split(":", 2)
                if "memory" in ctrls.split(","):
                    d = "/sys/fs/cgroup/memory" + path
                    return d if os.path.isdir(d) else None
    except OSError:
        pass
    return None


def _v2_root():
    with open("/proc/self/cgroup") as f:
        for line in f:
            if line.startswith("0::"):
                for base in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified"):
                    d = base + line[3:].strip()
                    try:
                        with open(os.path.join(base, "cgroup.controllers")) as c:
                            if "memory" in c.read().split():
                                return d
                    except OSError:
                        continue
    return None


@pytest.fixture
def memcg():
    """A fresh child memory cgroup limited to LIMIT bytes (v1 here, v2 elsewhere); removed
    after the test, its leftover tasks moved back to the parent first."""
    parent, version = _v1_memcg_root(), 1
    if parent is None:
        parent, version = _v2_root(), 2
    if parent is None:
        pytest.skip("no memory cgroup controller to make a child cgroup in")
    path = os.path.join(parent, f"memslope-test-{os.getpid()}-{time.monotonic_ns()}")
    os.mkdir(path)
    try:
        if version == 1:
            with open(os.path.join(path, "memory.limit_in_bytes"), "w") as f:
                f.write(str(LIMIT))
            try:  # no swap to escape into
                with open(os.path.join(path, "memory.memsw.limit_in_bytes"), "w") as f:
                    f.write(str(LIMIT))
            except OSError:
                pass
        else:
            with open(os.path.join(path, "memory.max"), "w") as f:
                f.write(str(LIMIT))
            with open(os.path.join(path, "memory.swap.max"), "w") as f:
                f.write("0")
        yield path, version
    finally:
        for _ in range(50):
            try:
                with open(os.path.join(path, "cgroup.procs")) as f:
                    pids = [p for p in f.read().split() if p]
            except OSError:
                pids = []
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except OSError:
                    pass
            try:
                os.rmdir(path)
                break
            except OSError:
                time.sleep(0.1)


def _in_cgroup(cg, cmd):
    """sh -c that moves itself into cg, then execs cmd (same pid: the traced target)."""
    return ["sh", "-c", f'echo $$ > {cg}/cgroup.procs && exec "$@"', "sh"] + cmd


def _dumps(d):
    return sorted(glob.glob(os.path.join(d, "oom-*.json")))


def _load(path):
    with open(path) as f:
        return json.load(f)


def _frames_funcs(dump):
    return [[f.get("func") for f in s.get("frames", [])] for s in dump.get("stacks", [])]


def test_traced_leak_oom_killed(trace, wl, memcg, tmp_path):
    cg, version = memcg
    dumps = tmp_path / "dumps"
    res = trace("-i", "0.5", "--dump-dir", dumps, "--",
                *_in_cgroup(cg, [wl("leaky"), "60", str(32 << 20)]), timeout=90)
    assert res.rc == 137, res.why()  # like the command: 128 + SIGKILL
    r = res.report
    assert r is not None, res.why()
    assert r["target"]["exit"]["oom_killed"] is True, res.why()
    assert r["target"]["exit"]["signal"] == 9, res.why()
    kills = r["oom_kills"]
    assert [k["pid"] for k in kills] == [r["target"]["pid"]], res.why()
    assert kills[0]["dump"] and os.path.exists(kills[0]["dump"]), res.why()

    files = _dumps(dumps)
    assert files == [kills[0]["dump"]], files
    st = os.stat(files[0])
    assert st.st_mode & 0o777 == 0o600
    assert os.stat(dumps).st_mode & 0o777 == 0o700
    d = _load(files[0])
    assert d["schema"] == "memslope.oom/1"
    assert d["victim"]["pid"] == r["target"]["pid"]
    assert d["victim"]["comm"] == "leaky"
    assert d["trigger"]["pid"] == r["target"]["pid"]  # it killed itself allocating
    assert d["constraint"] == "memcg", d
    assert d["memcg"]["limit_bytes"] == LIMIT, d["memcg"]
    assert d["memcg"]["path"].endswith(os.path.basename(cg)), d["memcg"]
    # it died near the limit: anon RSS is most of it
    assert d["victim"]["anon_rss_bytes"] > LIMIT // 2, d["victim"]
    top = _frames_funcs(d)
    assert top and "leak_some" in top[0], top[:3]
    assert len(d["series"]) >= 2, d["series"]
    # its own stack at death: memset/page fault inside leak_some
    last = [f.get("func") for f in ((d.get("last_stack") or {}).get("frames") or [])]
    assert "leak_some" in last, last


def test_victim_is_not_the_trigger(trace, wl, memcg, tmp_path):
    """hog (oom_score_adj 1000) holds memory, leaky allocates past the limit: the killer
    takes hog, and the dump says leaky triggered it."""
    cg, version = memcg
    dumps = tmp_path / "dumps"
    script = (f'echo $$ > {cg}/cgroup.procs || exit 99; {wl("hog")} 24 60 & '
              f'sleep 1; exec {wl("leaky")} 60 {16 << 20}')
    res = trace("-v", "-i", "0.5", "--dump-dir", dumps, "--", "sh", "-c", script, timeout=90)
    r = res.report
    assert r is not None, res.why()
    by_pid = {p["pid"]: p for p in r["processes"]}
    hogs = [p for p in r["processes"] if p["comm"] == "hog"]
    assert hogs, res.why()
    hog = hogs[0]
    assert hog["exit"]["oom_killed"] is True, res.why()
    files = _dumps(dumps)
    victims = {}
    for f in files:
        d = _load(f)
        victims[d["victim"]["pid"]] = d
    assert hog["pid"] in victims, (files, res.why())
    d = victims[hog["pid"]]
    assert d["victim"]["comm"] == "hog"
    assert d["victim"]["oom_score_adj"] == 1000
    assert d["trigger"]["pid"] != hog["pid"], d["trigger"]
    assert by_pid.get(d["trigger"]["pid"], {}).get("comm") == "leaky", (d["trigger"], res.why())
    assert d["trigger"]["comm"] == "leaky"
    assert d["constraint"] == "memcg"
    assert d["stacks"], "the victim's stacks are missing\n" + res.why()
    assert "hold_memory" in _frames_funcs(d)[0], (_frames_funcs(d)[:3], res.why())


def test_manual_kill_is_not_oom(memslope, wl, tmp_path):
    dumps = tmp_path / "dumps"
    out = tmp_path / "r.json"
    p = subprocess.Popen([memslope, "trace", "-q", "--json", str(out), "--dump-dir", str(dumps),
                          "--", wl("leaky"), "30"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    victim = None
    for _ in range(100):
        time.sleep(0.1)
        kids = subprocess.run(["pgrep", "-P", str(p.pid)], capture_output=True, text=True).stdout.split()
        if kids:
            victim = int(kids[0])
            break
    assert victim, "leaky never started"
    time.sleep(1.0)
    os.kill(victim, signal.SIGKILL)
    _, err = p.communicate(timeout=30)
    assert p.returncode == 137, err
    r = json.loads(out.read_text())
    assert r["target"]["exit"]["signal"] == 9
    assert r["target"]["exit"]["oom_killed"] is False
    assert r["oom_kills"] == []
    assert _dumps(dumps) == []
