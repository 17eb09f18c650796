# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_python - Python stacks in `memslope trace` on real interpreters (tests/workloads/py/*.py).

Every workload runs under every supported interpreter present (pyenv 3.9-3.13, Debian's static
/usr/bin/python3.11); an absent one is skipped by name. All traces start at once in a small pool
(module fixture `runs`), so the file takes well under a minute and a half.

Conventions these tests rely on (PYTHON.md, DESIGN.md, memslope.trace/1):
- stacks[].frames[] is innermost first: native allocator frames ("lang": "c"), then the Python
  frames ("lang": "python", func = co_qualname, file = co_filename, line = exact line); 3.9
  and 3.10 code objects have no co_qualname: func is co_name there (qualname() below).
- a Python process frees its objects at exit: the report shows it at the last sample before its
  exit, so every workload stays alive 1.5 s after its leak and runs are traced with -i 0.5.
- memslope finds the interpreter a moment after exec (it polls): the workloads wait WARMUP
  seconds (0.5) before their first allocation of interest.
- workloads print their own truth (bytearray.__alloc__() of what they keep).
- the JSON lists the top stacks by live bytes, then by bytes allocated; -n 1000 keeps the
  stacks of freed churn in it.
"""

import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

from mslib import grep_int, process

KiB, MiB = 1 << 10, 1 << 20
PY_DIR = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "workloads", "py"))
POOL = 3  # traces at once: each adds a probe hit to every malloc of the machine
TOL = 0.03  # "within a few %" of a workload's truth


def pyenv_root():
    root = os.environ.get("PYENV_ROOT")
    if not root and shutil.which("pyenv"):
        try:
            root = subprocess.run(["pyenv", "root"], capture_output=True, text=True,
                                  timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            root = None
    return root or os.path.expanduser("~/.pyenv")


def pyenv_python(minor):
    """The real binary (not the pyenv shim) of the newest pyenv 3.MINOR build, or a reason."""
    vdir = os.path.join(pyenv_root(), "versions")
    try:
        names = [n for n in os.listdir(vdir) if re.fullmatch(rf"3\.{minor}\.\d+", n)]
    except OSError:
        names = []
    names.sort(key=lambda n: int(n.split(".")[2]))
    for n in reversed(names):
        p = os.path.join(vdir, n, "bin", f"python3.{minor}")
        if os.access(p, os.X_OK):
            return p
    return f"no pyenv build of 3.{minor} under {vdir}"


INTERPRETERS = {f"3.{m}": pyenv_python(m) for m in (9, 10, 11, 12, 13)}
INTERPRETERS["debian-3.11"] = ("/usr/bin/python3.11" if os.access("/usr/bin/python3.11", os.X_OK)
                               else "/usr/bin/python3.11 not installed (apt install python3.11)")
UNSUPPORTED = ("3.8", pyenv_python(8))  # a CPython memslope must refuse clearly

WORKLOADS = ["cache", "threads", "nogil", "runner", "genco", "utf8names", "finalize"]


def interp(name):
    """Path of interpreter `name`, or skip the test, saying which one is absent."""
    p = INTERPRETERS[name]
    if not p.startswith("/") or not os.access(p, os.X_OK):
        pytest.skip(f"interpreter {name} absent: {p}")
    return p


@pytest.fixture(scope="module")
def runs(trace):
    """{(workload, interpreter name): TraceResult} of every workload under every interpreter
    present, plus ("cache", "3.8") when present; traced POOL at a time."""
    jobs = {}
    for name, path in list(INTERPRETERS.items()) + [UNSUPPORTED]:
        if not path.startswith("/"):
            continue
        for w in (WORKLOADS if name != UNSUPPORTED[0] else ["cache"]):
            jobs[(w, name)] = [path, os.path.join(PY_DIR, f"{w}.py")]

    def one(argv):
        # -n 1000: the JSON then keeps stacks whose bytes were all freed (alloc_bytes checks)
        return trace("-q", "-n", "1000", "-i", "0.5", "--", *argv, timeout=90)

    with ThreadPoolExecutor(max_workers=POOL) as pool:
        futs = {k: pool.submit(one, argv) for k, argv in jobs.items()}
        return {k: f.result() for k, f in futs.items()}


def result(runs, workload, name):
    """The trace of workload under interpreter name (skips when absent); asserts it ran well
    and returns (result, processes[] entry of the interpreter)."""
    path = interp(name)
    res = runs[(workload, name)]
    assert res.rc == 0, f"{workload}.py under {path} failed\n" + res.why()
    assert res.report is not None, "no JSON report\n" + res.why()
    pid = res.report.get("target", {}).get("pid")
    pr = process(res.report, pid)
    assert pr is not None, f"no processes[] entry for the target pid {pid}\n" + res.why()
    assert (pr.get("argv") or [None])[0] == path, "traced the wrong interpreter\n" + res.why()
    return res, pr


def py_frames(stack):
    return [f for f in stack.get("frames") or [] if f.get("lang") == "python"]


def py_funcs(stack):
    return [f.get("func") for f in py_frames(stack)]


def innermost_py(stack):
    fr = py_frames(stack)
    return fr[0] if fr else None


def owned_by(pr, func, line=None):
    """Stacks whose innermost Python frame is func (at line, if given)."""
    out = []
    for st in pr.get("stacks") or []:
        f = innermost_py(st)
        if f and f.get("func") == func and (line is None or f.get("line") == line):
            out.append(st)
    return out


def live(stacks):
    return sum(st.get("live_bytes", 0) for st in stacks)


def containing(pr, func):
    return [st for st in pr.get("stacks") or [] if func in py_funcs(st)]


def show(stacks, n=6):
    """Stacks as text for assertion messages: live bytes, then frames innermost first."""
    lines = []
    for st in stacks[:n]:
        fr = ", ".join(f"{f.get('func')}{' (py ' + str(f.get('file')) + ':' + str(f.get('line')) + ')' if f.get('lang') == 'python' else ''}"
                       for f in (st.get("frames") or [])[:8])
        lines.append(f"  live {st.get('live_bytes')} in {st.get('live_allocs')}, "
                     f"total {st.get('alloc_bytes')} in {st.get('allocs')}: {fr}")
    return "\n".join(lines)


def qualname(name, qual):
    """What memslope can name on interpreter `name`: co_qualname from 3.11, co_name before."""
    minor = int(name.split("3.")[-1])
    return qual if minor >= 11 else qual.rsplit(".", 1)[-1]


def series_tail(pr, n=6):
    return "series (t, heap, rss): " + ", ".join(
        f"({p.get('t', 0):.2f}, {p.get('heap_bytes')}, {p.get('rss_bytes')})"
        for p in (pr.get("series") or [])[-n:])


def truth(res, pattern):
    n = grep_int(res.stdout, pattern)
    assert n is not None, f"workload did not print /{pattern}/\n" + res.why()
    return n


def near(got, want, tol=TOL):
    return abs(got - want) <= tol * want


NAMES = list(INTERPRETERS)


# --- 1 and 6: a module-level cache growing in grow_cache() ------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_cache_top_stack_is_grow_cache_at_its_line(runs, name):
    res, pr = result(runs, "cache", name)
    want = truth(res, r"^retained (\d+) bytes$")
    line = truth(res, r"^alloc_line (\d+)$")
    stacks = pr.get("stacks") or []
    assert stacks, "no stacks\n" + res.why()
    top = stacks[0]
    fr = py_frames(top)
    assert fr and fr[0].get("func") == "grow_cache", (
        f"top stack's innermost Python frame is not grow_cache\n{show(stacks)}\n" + res.why())
    assert os.path.basename(fr[0].get("file") or "") == "cache.py", f"file: {fr[0]}"
    assert fr[0].get("line") == line, f"line: want {line}, got {fr[0]}"
    # innermost first: the allocator's native frame(s), then grow_cache, main, <module>
    assert top["frames"][0].get("lang") == "c", f"frames[0] should be native: {top['frames'][0]}"
    assert [f.get("func") for f in fr[:3]] == ["grow_cache", "main", "<module>"], show([top])
    assert near(top.get("live_bytes", 0), want), (
        f"top stack live {top.get('live_bytes')} vs truth {want} (±{TOL:.0%})\n{show(stacks)}\n"
        + series_tail(pr))


@pytest.mark.parametrize("name", NAMES)
def test_cache_churn_is_not_live(runs, name):
    """churn() allocates twice what grow_cache keeps and frees all but its last buffer."""
    res, pr = result(runs, "cache", name)
    want = truth(res, r"^retained (\d+) bytes$")
    kept = truth(res, r"^churn_kept (\d+) bytes$")
    churn = containing(pr, "churn")
    assert sum(st.get("alloc_bytes", 0) for st in churn) >= 1.5 * want, (
        "churn() allocations not seen under a churn frame\n" + show(churn))
    assert kept <= live(churn) <= kept + 64 * KiB, (
        f"churn() keeps {kept} bytes of what it allocates\n" + show(churn))


def test_debian_python_is_the_static_interpreter(runs):
    """(6) Debian's python3.11 links no libpython: its frames come from the executable."""
    res, pr = result(runs, "cache", "debian-3.11")
    top = (pr.get("stacks") or [{}])[0]
    mods = {f.get("module") for f in py_frames(top)}
    assert mods and all(m and os.path.realpath(m) == os.path.realpath("/usr/bin/python3.11")
                        for m in mods), f"Python frames' module: {mods}\n" + show([top])


def test_unsupported_interpreter_is_refused_clearly(runs):
    """3.8 (pyenv): a warning that names the version, no Python frames, native tracing goes on."""
    if not UNSUPPORTED[1].startswith("/"):
        pytest.skip(f"interpreter 3.8 absent: {UNSUPPORTED[1]}")
    res = runs[("cache", "3.8")]
    assert res.rc == 0, res.why()
    assert re.search(r"3\.8.*not supported", res.stderr), "no clear warning\n" + res.why()
    pr = process(res.report, res.report["target"]["pid"])
    assert not any(py_frames(st) for st in pr.get("stacks") or []), show(pr.get("stacks") or [])
    peak = max((p.get("heap_bytes", 0) for p in pr.get("series") or []), default=0)
    assert peak >= 10 * MiB, f"native tracing stopped: peak heap {peak}\n" + res.why()


# --- 2: two threads, one leaks ----------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_threads_top_stack_is_leaky_worker(runs, name):
    res, pr = result(runs, "threads", name)
    stacks = pr.get("stacks") or []
    assert stacks and "leaky_worker" in py_funcs(stacks[0]), (
        "top stack does not name leaky_worker\n" + show(stacks))


@pytest.mark.parametrize("name", NAMES)
def test_threads_leaky_worker_owns_its_bytes(runs, name):
    res, pr = result(runs, "threads", name)
    want = truth(res, r"^retained (\d+) bytes$")
    mine = owned_by(pr, "leaky_worker")
    big = max(mine, key=lambda st: st.get("live_bytes", 0)) if mine else {}
    assert py_funcs(big)[1:2] == [qualname(name, "Thread.run")], (
        "leaky_worker (or its caller Thread.run) missing\n" + show(pr.get("stacks") or []))
    assert near(live(mine), want), (
        f"leaky_worker live {live(mine)} vs truth {want}\n" + show(pr.get("stacks") or []))


@pytest.mark.parametrize("name", NAMES)
def test_threads_churn_worker_holds_little(runs, name):
    res, pr = result(runs, "threads", name)
    churned = truth(res, r"^churned (\d+) bytes$")
    kept = truth(res, r"^churn_kept (\d+) bytes$")
    churn = containing(pr, "churn_worker")
    seen = sum(st.get("alloc_bytes", 0) for st in churn)
    # the check below means something only if churn_worker's allocations were seen as its own
    assert seen >= 0.9 * churned, (
        f"churn_worker allocated {churned}, its stacks saw {seen}\n" + show(churn))
    assert kept <= live(churn) <= kept + 256 * KiB, (
        f"churn_worker keeps {kept} bytes of what it allocates\n" + show(churn))
    assert all("churn_worker" not in py_funcs(st) for st in containing(pr, "leaky_worker")), (
        show(containing(pr, "leaky_worker")))


# --- 3: malloc with the GIL released ----------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_nogil_malloc_lands_on_the_releasing_thread(runs, name):
    """SQLite mallocs inside sqlite3_step() with the GIL released, while gil_hog holds it:
    they belong to nogil_worker. Blaming the GIL holder would put them under gil_hog."""
    res, pr = result(runs, "nogil", name)
    blob = truth(res, r"^blob (\d+) bytes$")
    assert truth(res, r"^hog (\d+) iterations$") > 0, res.why()
    worker = containing(pr, "nogil_worker")
    hog = owned_by(pr, "gil_hog")  # gil_hog running (innermost): misnamed frames are another test
    hog_total = sum(st.get("alloc_bytes", 0) for st in hog)
    assert hog_total <= 1 * MiB, (
        f"gil_hog (no malloc of its own) is blamed for {hog_total} bytes\n" + show(hog))
    assert blob * 0.95 <= live(worker) <= blob * 2, (
        f"nogil_worker live {live(worker)} for {blob} blob bytes in the database\n"
        + show(pr.get("stacks") or []))


# --- 4: a test runner in one process ----------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_runner_by_test(runs, name):
    res, pr = result(runs, "runner", name)
    want = truth(res, r"^retained (\d+) bytes$")
    bt = pr.get("by_test")
    assert isinstance(bt, list) and bt, "no by_test\n" + res.why()
    first = bt[0]
    assert first.get("test", "").endswith("::test_retains"), f"by_test: {bt}"
    assert os.path.basename(first["test"].split("::")[0]) == "runner.py", f"by_test: {bt}"
    assert near(first.get("live_bytes", 0), want), f"by_test: {bt}, truth {want}"
    rest = [t.get("live_bytes", 0) for t in bt[1:]]
    assert not rest or first["live_bytes"] >= 10 * max(rest), f"test_retains does not dominate: {bt}"
    small = [t for t in bt if t.get("test", "").endswith("::test_small_leak")]
    assert small and 8 * KiB <= small[0].get("live_bytes", 0) <= 64 * KiB, (
        f"test_small_leak keeps 8 KiB: {bt}")
    assert all(not t.get("test", "").endswith(("::run_all", "::main", "::make_fixture"))
               for t in bt), f"non-test function in by_test: {bt}"
    text = res.stdout + res.stderr
    assert re.search(r"by test:.*runner\.py::test_retains", text), (
        "no 'by test' line in the text report\n" + res.why())


# --- 5: generators and coroutines -------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_generator_frame_is_in_the_stack(runs, name):
    res, pr = result(runs, "genco", name)
    want = truth(res, r"^gen (\d+) bytes$")
    line = truth(res, r"^gen_line (\d+)$")
    mine = owned_by(pr, "block_gen", line)
    assert mine and all(py_funcs(st)[1:2] == ["main"] for st in mine), (
        "block_gen (resumed by main's for loop) missing\n" + show(pr.get("stacks") or [])
        + "\n" + series_tail(pr))
    assert near(live(mine), want), f"block_gen live {live(mine)} vs truth {want}\n" + show(mine)


@pytest.mark.parametrize("name", NAMES)
def test_coroutine_frame_is_in_the_stack(runs, name):
    res, pr = result(runs, "genco", name)
    want = truth(res, r"^coro (\d+) bytes$")
    line = truth(res, r"^coro_line (\d+)$")
    mine = owned_by(pr, "fetch_blocks", line)
    assert mine, "fetch_blocks missing\n" + show(pr.get("stacks") or []) + "\n" + series_tail(pr)
    for st in mine:  # the event loop that resumed it is below it
        files = [f.get("file") or "" for f in py_frames(st)[1:]]
        assert any("asyncio" in f for f in files), "no asyncio frame under fetch_blocks\n" + show([st])
    assert near(live(mine), want), f"fetch_blocks live {live(mine)} vs truth {want}\n" + show(mine)
    assert live(containing(pr, "churn")) <= 64 * KiB, show(containing(pr, "churn"))


# --- 7: non-ASCII names -----------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_non_ascii_names(runs, name):
    res, pr = result(runs, "utf8names", name)
    text = res.stdout + res.stderr
    for qual in ("größe", "Käse.分配", "𠀋"):
        want = truth(res, rf"^{re.escape(qual)} (\d+) bytes$")
        qual = qualname(name, qual)
        mine = owned_by(pr, qual)
        assert mine, f"{qual!r} not found; Python names seen: " + repr(sorted(
            {f.get("func") for st in pr.get("stacks") or [] for f in py_frames(st)}))
        assert all(os.path.basename(innermost_py(st).get("file") or "") == "utf8names.py"
                   for st in mine), show(mine)
        assert near(live(mine), want), f"{qual} live {live(mine)} vs {want}\n" + show(mine)
        assert f"{qual} (utf8names.py:" in text, f"{qual!r} not in the text report"


# --- every Python frame is named after its own code object -------------------------------
# What each workload function may call (directly, in Python). A code object that died (module
# bodies after import) and whose address a new one reused must be marked stale, not named after
# the new one: such a frame shows up as a workload function calling import machinery.
CALLEES = {
    "grow_cache": set(), "churn": set(), "leaky_worker": set(), "nogil_worker": set(),
    "churn_worker": {"is_set", "Event.is_set", "<listcomp>", "churn_worker.<locals>.<listcomp>"},
    "gil_hog": {"is_set", "Event.is_set"},
    "make_fixture": {"<listcomp>", "make_fixture.<locals>.<listcomp>"},
    "test_retains": {"make_fixture"}, "test_churn": {"make_fixture"}, "test_small_leak": set(),
    "block_gen": set(), "fetch_blocks": {"sleep"}, "keep": set(),
    "coro_churn": {"sleep", "<listcomp>", "coro_churn.<locals>.<listcomp>"},
    "größe": set(), "Käse.分配": set(), "分配": set(), "𠀋": set(),
}


@pytest.mark.parametrize("workload", [w for w in WORKLOADS])
@pytest.mark.parametrize("name", NAMES)
# A Python stack is named when user space first sees it (an event per new stack), not inside
# the probe: a code object that dies before that (a module's <module> code runs once during an
# import, at startup when new stacks come in bursts) leaves its address to the next code
# object. The walker records each frame's code identity (co_filename, co_qualname,
# co_linetable, co_firstlineno) with a new stack, and a frame whose code object no longer
# has it is named "<stale code object>", never after the new one.
def test_frames_are_not_misnamed(runs, name, workload):
    res, pr = result(runs, workload, name)
    bad = []
    for st in pr.get("stacks") or []:
        fr = py_frames(st)
        for inner, outer in zip(fr, fr[1:]):
            if (outer.get("func") in CALLEES and PY_DIR in (outer.get("file") or "")
                    and inner.get("func") not in CALLEES[outer.get("func")]):
                bad.append(st)
                break
    assert not bad, (f"{len(bad)} stacks show a workload function calling what it never calls "
                     "(a dead code object named after a new one?)\n" + show(bad, 4))


# --- the report of an exited Python process predates its shutdown ------------------------
@pytest.mark.parametrize("name", NAMES)
def test_report_predates_interpreter_shutdown(runs, name):
    """finalize.py's teardown frees the leak, then runs 1.5 s more: the report must still show
    the leak as it was before the interpreter began to shut down."""
    res, pr = result(runs, "finalize", name)
    want = truth(res, r"^retained (\d+) bytes$")
    mine = owned_by(pr, "keep")
    assert near(live(mine), want), (
        f"keep() held {want} bytes when the interpreter began to shut down; the report says "
        f"{live(mine)}\n" + series_tail(pr) + "\n" + show(pr.get("stacks") or [], 3))


# --- watch mode: new pages charged to the Python code that wrote them --------------------
@pytest.fixture(scope="module")
def watch_runs(trace):
    """{interpreter name: TraceResult} of hoard.py under `trace --mode watch`."""
    jobs = {n: p for n, p in INTERPRETERS.items() if p.startswith("/") and os.access(p, os.X_OK)}

    def one(path):
        return trace("-q", "--mode", "watch", "-i", "0.5", "--", path,
                     os.path.join(PY_DIR, "hoard.py"), timeout=90)

    with ThreadPoolExecutor(max_workers=POOL) as pool:
        futs = {n: pool.submit(one, p) for n, p in jobs.items()}
        return {n: f.result() for n, f in futs.items()}


@pytest.mark.parametrize("name", NAMES)
def test_watch_names_the_hoarding_line(watch_runs, name):
    """hoard() writes the new arena pages it keeps filling, churn() reuses freed memory: the
    top stack by new pages is hoard() at its line, and hoard()'s stacks hold most of them.
    No allocator probe is placed: the heap column is empty and RSS carries the series."""
    path = interp(name)
    res = watch_runs[name]
    assert res.rc == 0, f"hoard.py under {path} failed\n" + res.why()
    rep = res.report
    assert rep is not None and rep["mode"] == "watch", res.why()
    pr = process(rep, rep["target"]["pid"])
    assert pr is not None, res.why()
    line = truth(res, r"^hoard_line (\d+)$")
    stacks = pr.get("stacks") or []
    assert stacks, res.why()
    top = innermost_py(stacks[0])
    assert top and top.get("func") == "hoard" and top.get("line") == line, \
        f"top stack is not hoard() at line {line}\n" + show(stacks)
    mine = owned_by(pr, "hoard", line)
    total = live(stacks)
    # 160,000 dicts and strings: ~40 MiB of new pages written by hoard()
    assert live(mine) >= 16 * MiB and live(mine) >= 0.5 * total, \
        f"hoard() owns {live(mine)} of {total} bytes\n" + show(stacks)
    assert all(st["live_allocs"] * 4096 == st["live_bytes"] for st in stacks), show(stacks)
    assert all(p.get("heap_bytes") == 0 for p in pr["series"]), series_tail(pr)
    assert "in new pages" in res.stderr, res.why()
