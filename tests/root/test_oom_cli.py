# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_oom_cli - `memslope oom list|show` on dump directories made by hand: good, corrupt, foreign.

No BPF is loaded; these run with the root tests because they need the built binary.
"""

import json
import os
import subprocess

import pytest

GOOD = {
    "schema": "memslope.oom/1",
    "time": "2024-05-01T12:00:00.250Z",
    "monotonic_ns": 123456789,
    "host": "ci-host-3",
    "victim": {
        "pid": 4242, "tid": 4242, "comm": "leaky", "argv": ["./leaky", "12"], "uid": 0,
        "oom_score_adj": 0, "total_vm_bytes": 73400320, "rss_bytes": 66060288,
        "anon_rss_bytes": 65011712, "file_rss_bytes": 1048576, "shmem_rss_bytes": 0,
        "pgtables_bytes": 184320, "peak_rss_bytes": 66060288,
    },
    "trigger": {"pid": 4242, "comm": "leaky"},
    "constraint": "memcg",
    "memcg": {"path": "/memslope-test/oom", "version": 1, "limit_bytes": 67108864,
              "usage_bytes": 67100672, "failcnt": 1234, "oom_events": None, "oom_kills": 1},
    "series": [{"t": float(i), "rss_bytes": (2 + 4 * i) << 20, "heap_bytes": (4 * i) << 20}
               for i in range(16)],
    "growth": {"verdict": "leak", "severity": "critical", "slope_bytes_per_s": 4194304.0,
               "r2": 0.99, "eta_limit_s": 0.5},
    "stacks": [{
        "live_bytes": 62914560, "live_allocs": 60, "alloc_bytes": 62914560, "allocs": 60,
        "frames": [
            {"func": "malloc", "module": "/usr/lib/x86_64-linux-gnu/libc.so.6", "file": None,
             "line": None, "lang": "c", "addr": "0x7f0000001000", "build_id": None},
            {"func": "leak_some", "module": "/src/leaky", "file": "/src/leaky.c", "line": 42,
             "lang": "c", "addr": "0x401136", "build_id": None},
            {"func": "main", "module": "/src/leaky", "file": "/src/leaky.c", "line": 80,
             "lang": "c", "addr": "0x4011a0", "build_id": None},
        ],
        "stack_id": 77, "growth_bytes": 60817408, "slope_bytes_per_s": 4194304.0,
    }],
    "last_stack": {"frames": [
        {"func": "leak_some", "module": "/src/leaky", "file": "/src/leaky.c", "line": 44,
         "lang": "c", "addr": "0x401140", "build_id": None},
    ]},
    "test": None,
    "by_test": [],
    "exit": {"code": None, "signal": 9, "oom_killed": True},
}

GOOD_NAME = "oom-20240501T120000Z-4242.json"


def put(directory, name, data, mode=0o600):
    path = os.path.join(directory, name)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    os.chmod(path, mode)
    return path


@pytest.fixture
def dumps(tmp_path):
    d = tmp_path / "oom"
    d.mkdir(mode=0o700)
    put(str(d), GOOD_NAME, json.dumps(GOOD, indent=2) + "\n")
    return str(d)


@pytest.fixture
def oom(memslope):
    """oom(*args, env=None) -> CompletedProcess of `memslope oom ARGS...`."""

    def run(*args, env=None):
        e = dict(os.environ)
        e.pop("MEMSLOPE_DUMP_DIR", None)
        e.update(env or {})
        return subprocess.run([memslope, "oom", *args], capture_output=True, text=True,
                              errors="replace", timeout=30, env=e)

    return run


def why(r):
    return f"exit {r.returncode}\nstdout:\n{r.stdout[-3000:]}\nstderr:\n{r.stderr[-2000:]}"


def test_list_one_good_dump(oom, dumps):
    r = oom("list", "--dump-dir", dumps)
    assert r.returncode == 0, why(r)
    lines = r.stdout.splitlines()
    assert lines[0].startswith("TIME (UTC)") and "CULPRIT" in lines[0], why(r)
    row = lines[1]
    for want in ("2024-05-01 12:00:00", "4242", "leaky", "/memslope-test/oom", "63.0 MiB",
                 "leak_some (leaky.c:42)"):
        assert want in row, f"{want!r} not in {row!r}\n" + why(r)
    assert "malloc" not in row, why(r)
    assert r.stderr == "", why(r)


def test_list_env_dir_and_json(oom, dumps):
    r = oom("list", "--json", env={"MEMSLOPE_DUMP_DIR": dumps})
    assert r.returncode == 0, why(r)
    doc = json.loads(r.stdout)
    assert doc["errors"] == []
    (d,) = doc["dumps"]
    assert d["pid"] == 4242 and d["comm"] == "leaky"
    assert d["file"] == os.path.join(dumps, GOOD_NAME)
    assert d["culprit"] == "leak_some (leaky.c:42)"
    assert d["rss_bytes"] == 66060288


def test_list_good_and_corrupt(oom, dumps):
    text = json.dumps(GOOD)
    put(dumps, "oom-20240501T130000Z-17.json", text[: len(text) // 2])
    put(dumps, "oom-20240501T110000Z-18.json", b"\x00\x01binary\xff")
    os.mkdir(os.path.join(dumps, "oom-20240501T140000Z-19.json"))
    put(dumps, ".oom-1-2-3-4.tmp", "{")  # a writer's temp file: not a dump, not listed
    r = oom("list", "--dump-dir", dumps)
    assert r.returncode == 0, why(r)
    assert len(r.stdout.splitlines()) == 2, why(r)
    warnings = r.stderr.splitlines()
    assert len(warnings) == 3, why(r)
    assert any("oom-20240501T130000Z-17.json: truncated" in w for w in warnings), why(r)
    assert any("oom-20240501T110000Z-18.json: not JSON: binary data" in w for w in warnings), why(r)
    assert any("oom-20240501T140000Z-19.json: is a directory" in w for w in warnings), why(r)
    assert all(w.startswith("memslope oom: warning: ") for w in warnings), why(r)
    assert ".tmp" not in r.stderr + r.stdout

    r = oom("list", "--dump-dir", dumps, "--json")
    assert r.returncode == 0, why(r)
    doc = json.loads(r.stdout)
    assert len(doc["dumps"]) == 1 and len(doc["errors"]) == 3


def test_list_missing_or_empty_dir(oom, tmp_path):
    r = oom("list", "--dump-dir", str(tmp_path / "none"))
    assert r.returncode == 0, why(r)
    assert "no OOM dumps in" in r.stdout, why(r)
    r = oom("list", "--dump-dir", str(tmp_path))
    assert r.returncode == 0 and "no OOM dumps in" in r.stdout, why(r)


@pytest.mark.parametrize("ident", ["4242", GOOD_NAME, "oom-20240501T120000Z", "20240501T12"])
def test_show_by_id(oom, dumps, ident):
    r = oom("show", ident, "--dump-dir", dumps)
    assert r.returncode == 0, why(r)
    out = r.stdout
    for want in ("OOM kill of pid 4242 (leaky) at 2024-05-01 12:00:00 UTC on ci-host-3",
                 "constraint memcg", "/memslope-test/oom (v1)", "limit 64.0 MiB",
                 "killed by SIGKILL (OOM)", "Memory history (16 samples over 15.0 s)",
                 "Verdict: leak", "leak_some (leaky.c:42)", "Last stack at death",
                 "leak_some (leaky.c:44)"):
        assert want in out, f"{want!r} missing\n" + why(r)


def test_show_file_and_json_is_the_dump(oom, dumps):
    path = os.path.join(dumps, GOOD_NAME)
    r = oom("show", path, "--json")
    assert r.returncode == 0, why(r)
    with open(path) as f:
        assert r.stdout == f.read()


def test_show_truncated_file(oom, dumps):
    text = json.dumps(GOOD, indent=2)
    for cut in (1, 10, len(text) // 3, len(text) - 2):
        path = put(dumps, "cut.json", text[:cut])
        r = oom("show", path)
        assert r.returncode == 1, why(r)
        assert r.stdout == "", why(r)
        lines = r.stderr.splitlines()
        assert len(lines) == 1, why(r)
        assert lines[0].startswith(f"memslope oom: {path}: "), why(r)
        assert "truncated" in lines[0] or "not" in lines[0], why(r)
    assert "truncated" in r.stderr, why(r)


@pytest.mark.parametrize("content,want", [
    ("", "empty file"),
    ("hello\n", "not JSON"),
    ('{"schema": "memslope.trace/1", "processes": []}', 'schema "memslope.trace/1"'),
    ('{"schema": "memslope.oom/1", "time": "2024-05-01T12:00:00Z", "victim": {"pid": "x"}}',
     "victim.pid: expected an integer, got a string"),
])
def test_show_foreign_files(oom, tmp_path, content, want):
    path = put(str(tmp_path), "f.json", content)
    r = oom("show", path)
    assert r.returncode == 1, why(r)
    assert r.stderr.startswith(f"memslope oom: {path}: ") and want in r.stderr, why(r)
    assert len(r.stderr.splitlines()) == 1, why(r)


def test_show_missing(oom, dumps, tmp_path):
    r = oom("show", "999999", "--dump-dir", dumps)
    assert r.returncode == 1 and "no dump matches '999999'" in r.stderr, why(r)
    r = oom("show", str(tmp_path / "nope.json"))
    assert r.returncode == 1 and "No such file or directory" in r.stderr, why(r)
    r = oom("show", dumps)  # a directory
    assert r.returncode == 1 and "is a directory" in r.stderr, why(r)


def test_show_ambiguous_pid(oom, dumps):
    put(dumps, "oom-20240502T120000Z-4242.json", json.dumps(GOOD))
    r = oom("show", "4242", "--dump-dir", dumps)
    assert r.returncode == 1 and "ambiguous" in r.stderr, why(r)


def test_usage(oom):
    r = oom("--help")
    assert r.returncode == 0 and "USAGE:" in r.stdout and "EXAMPLES:" in r.stdout, why(r)
    for args in ([], ["bogus"], ["show"], ["list", "x"], ["show", "a", "b"], ["list", "--nope"]):
        r = oom(*args)
        assert r.returncode == 2, f"{args}: " + why(r)
        assert r.stderr, why(r)
