# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_reports - pprof, folded stacks and the HTML report of a real traced workload.

One `memslope trace` of tests/workloads/leaky writes every format at once; the tests check each
against the JSON report of the same run and against leaky's own truth (it prints the exact
number of bytes leak_some() leaked). The pprof file is decoded with protoc against pprof's
published schema (proto/profile.proto), not with memslope's code. The HTML page is loaded in
headless Chromium (Debian's `chromium`): the DOM after the script ran must hold a flame graph
box for leak_some and one chart point per sample. Render times are printed, never asserted
(STYLE.md: a benchmark is not a test).
"""

import gzip
import json
import os
import random
import re
import shutil
import subprocess
import tempfile
import time

import pytest

import mslib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROTO = os.path.join(ROOT, "proto", "profile.proto")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--window-size=1280,1400"]


def need(tool, package):
    path = shutil.which(tool)
    if not path:
        pytest.fail(f"{tool} is missing: `make deps` installs {package}")
    return path


def chromium(url, *extra, timeout=90):
    """Run headless Chromium on url with a throwaway profile; returns (stdout, seconds)."""
    exe = need("chromium", "chromium")
    with tempfile.TemporaryDirectory(prefix="memslope-chromium-") as profile:
        argv = [exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra, url]
        t0 = time.monotonic()
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           errors="replace", timeout=timeout)
        took = time.monotonic() - t0
    assert p.returncode == 0, f"chromium failed ({p.returncode}):\n{p.stderr[-3000:]}"
    return p.stdout, took


def dom_of(html_path):
    """The DOM after the page's script ran (virtual time lets every timer fire)."""
    dom, took = chromium("file://" + html_path, "--virtual-time-budget=10000", "--dump-dom")
    assert 'data-ready="1"' in dom, "the page script did not finish:\n" + dom[-3000:]
    return dom, took


def parse_textproto(text):
    """protoc --decode output -> nested dicts; repeated fields become lists."""
    root, stack = {}, []
    cur = root
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.endswith("{"):
            name = line[:-1].strip()
            child = {}
            cur.setdefault(name, []).append(child)
            stack.append(cur)
            cur = child
        elif line == "}":
            cur = stack.pop()
        else:
            name, _, value = line.partition(":")
            value = value.strip()
            if value.startswith('"'):
                value = json.loads(value) if "\\" not in value else value.strip('"')
            elif value in ("true", "false"):
                value = value == "true"
            else:
                value = int(value)
            cur.setdefault(name.strip(), []).append(value)
    return root


def one(msg, field, default=0):
    return msg.get(field, [default])[0]


@pytest.fixture(scope="module")
def run(memslope, wl, tmp_path_factory):
    """`memslope trace --json --pprof --folded --html -- leaky 3`, once for the module."""
    d = tmp_path_factory.mktemp("reports")
    paths = {k: str(d / f"leaky.{k}") for k in ("json", "pprof", "folded", "html")}
    res = mslib.run([memslope, "trace", "-q", "--json", paths["json"], "--pprof", paths["pprof"],
                     "--folded", paths["folded"], "--html", paths["html"], "--", wl("leaky"), "3"],
                    timeout=60, json_path=paths["json"])
    assert res.rc == 0, res.why()
    assert res.report is not None, res.why()
    for k, p in paths.items():
        assert os.path.getsize(p) > 0, f"--{k} wrote nothing\n" + res.why()
    leaked = mslib.grep_int(res.stdout, r"leaked (\d+) bytes")
    return res, paths, leaked, d


def test_folded_has_leak_some_with_its_bytes(run):
    res, paths, leaked, _ = run
    pid = res.report["target"]["pid"]
    lines = open(paths["folded"]).read().splitlines()
    assert lines, "empty folded file"
    for line in lines:
        assert re.fullmatch(r"[^ ;][^;]*(;[^;]+)* \d+", line), f"not a folded line: {line!r}"
    leak = [ln for ln in lines if ln.rsplit(" ", 1)[0].endswith(";leak_some")]
    assert len(leak) == 1, "want one stack ending in leak_some:\n" + "\n".join(lines)
    frames, value = leak[0].rsplit(" ", 1)
    assert frames.startswith(f"leaky-{pid};"), leak[0]
    assert ";main;" in frames, "main should be leak_some's caller, outermost first: " + leak[0]
    assert int(value) == leaked, f"folded {value} bytes for leak_some, leaky says {leaked}"
    # the same stacks as the JSON report: every stack with live bytes, values equal
    live = sorted(st["live_bytes"] for pr in res.report["processes"] for st in pr["stacks"]
                  if st["live_bytes"] > 0)
    assert sorted(int(ln.rsplit(" ", 1)[1]) for ln in lines) == live


def test_pprof_decodes_with_protoc(run):
    res, paths, leaked, _ = run
    protoc = need("protoc", "protobuf-compiler")
    with open(paths["pprof"], "rb") as f:
        gz = f.read()
    assert gz[:2] == b"\x1f\x8b", "the pprof file is not gzip-compressed"
    raw = gzip.decompress(gz)
    p = subprocess.run([protoc, "--decode", "perftools.profiles.Profile",
                        "-I" + os.path.dirname(PROTO), PROTO], input=raw,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    assert p.returncode == 0, "protoc could not decode it: " + p.stderr.decode(errors="replace")
    prof = parse_textproto(p.stdout.decode())
    strings = prof["string_table"]
    assert strings[0] == ""
    types = [(strings[one(t, "type")], strings[one(t, "unit")]) for t in prof["sample_type"]]
    assert types == [("inuse_space", "bytes"), ("inuse_objects", "count"),
                     ("alloc_space", "bytes"), ("alloc_objects", "count")]
    locs = {one(loc, "id"): loc for loc in prof["location"]}
    fns = {one(fn, "id"): fn for fn in prof["function"]}
    maps = {one(m, "id"): m for m in prof["mapping"]}

    def leaf_func(sample):
        loc = locs[sample["location_id"][0]]
        if "line" not in loc:
            return None
        return strings[one(fns[one(loc["line"][0], "function_id")], "name")]

    # totals per sample type equal the JSON report's
    stacks = [st for pr in res.report["processes"] for st in pr["stacks"]]
    for i, key in enumerate(("live_bytes", "live_allocs", "alloc_bytes", "allocs")):
        assert sum(s["value"][i] for s in prof["sample"]) == sum(st[key] for st in stacks), key
    leak = [s for s in prof["sample"] if leaf_func(s) == "leak_some"]
    assert len(leak) == 1 and leak[0]["value"][0] == leaked, \
        f"inuse_space of leak_some: {[s['value'] for s in leak]}, leaky says {leaked}"
    loc = locs[leak[0]["location_id"][0]]
    assert one(loc["line"][0], "line") > 0, "leak_some's location has no line number"
    assert strings[one(fns[one(loc["line"][0], "function_id")], "filename")].endswith("leaky.c")
    m = maps[one(loc, "mapping_id")]
    assert strings[one(m, "filename")].endswith("/leaky")
    assert re.fullmatch(r"[0-9a-f]{16,}", strings[one(m, "build_id")]), \
        "the workload's mapping has no GNU build-id"
    assert one(m, "memory_start") <= one(loc, "address") < one(m, "memory_limit")
    assert one(m, "has_functions", False) and one(m, "has_line_numbers", False)
    labels = {strings[one(lb, "key")] for lb in leak[0]["label"]}
    assert {"pid", "comm"} <= labels


def test_report_command_gives_the_same_files(run, memslope):
    """`memslope report` on the saved JSON makes what `trace` made directly."""
    res, paths, leaked, d = run
    out = {k: str(d / f"again.{k}") for k in ("pprof", "folded", "html")}
    r = mslib.run([memslope, "report", paths["json"], "--pprof", out["pprof"], "--folded",
                   out["folded"], "--html", out["html"]], timeout=30)
    assert r.rc == 0, r.why()
    assert open(out["folded"]).read() == open(paths["folded"]).read()
    with open(out["pprof"], "rb") as a, open(paths["pprof"], "rb") as b:
        assert gzip.decompress(a.read()) == gzip.decompress(b.read())
    r = mslib.run([memslope, "report", paths["json"], "--folded", "-", "--no-pid"], timeout=30)
    assert r.rc == 0, r.why()
    assert re.search(r"(?m)^([^;\n]+;)*main;leak_some \d+$", r.stdout), r.why()
    assert "leaky-" not in r.stdout


def test_report_command_errors(memslope, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "memslope.trace/1", "processes": [')
    r = mslib.run([memslope, "report", str(bad), "--html", str(tmp_path / "x.html")], timeout=10)
    assert r.rc == 1 and "truncated" in r.stderr, r.why()
    assert not (tmp_path / "x.html").exists()
    foreign = tmp_path / "foreign.json"
    foreign.write_text('{"name": "not ours"}')
    r = mslib.run([memslope, "report", str(foreign)], timeout=10)
    assert r.rc == 1 and "not a memslope report" in r.stderr, r.why()
    r = mslib.run([memslope, "report", str(tmp_path / "missing.json")], timeout=10)
    assert r.rc == 1 and "missing.json" in r.stderr, r.why()
    r = mslib.run([memslope, "report"], timeout=10)
    assert r.rc == 2 and "FILE" in r.stderr, r.why()
    r = mslib.run([memslope, "report", "--bogus", str(bad)], timeout=10)
    assert r.rc == 2 and "--bogus" in r.stderr, r.why()
    r = mslib.run([memslope, "report", "--help"], timeout=10)
    assert r.rc == 0 and "USAGE:" in r.stdout and "EXAMPLES:" in r.stdout, r.why()


def test_html_in_chromium(run):
    res, paths, leaked, d = run
    html = open(paths["html"], encoding="utf-8").read()
    # self-contained: nothing to fetch
    assert not re.search(r"<link|\ssrc=|@import|url\(|fetch\(|XMLHttpRequest", html)
    assert not [u for u in re.findall(r"[a-z]+://[^\s\"'`<>]+", html)
                if u != "http://www.w3.org/2000/svg"], "the page refers to a URL"

    dom, took = dom_of(paths["html"])
    fg = re.search(r'<div id="flamegraph"[^>]*>(.*?)</div>\s*<h2', dom, re.S)
    assert fg, "no flame graph in the DOM"
    assert 'data-name="leak_some"' in fg.group(1), "the flame graph has no leak_some box"
    pr = mslib.process(res.report, res.report["target"]["pid"])
    n = len(pr["series"])
    assert n >= 2, res.why()
    svg = re.search(r'<div class="proc" id="proc-%d">.*?(<svg.*?</svg>)' % pr["pid"], dom, re.S)
    assert svg, "no growth chart for the target"
    assert f'data-points="{n}"' in svg.group(1)
    assert len(re.findall(r'class="pt pt-rss"', svg.group(1))) == n, "RSS points missing"
    assert len(re.findall(r'class="pt pt-heap"', svg.group(1))) == n, "heap points missing"
    assert re.search(r'<polyline class="heap"', svg.group(1))
    assert "leak_some" in re.search(r'id="top-stacks".*', dom, re.S).group(0)
    ms = re.search(r'data-render-ms="(\d+)"', dom).group(1)
    print(f"\nleaky report: script ran in {ms} ms, chromium took {took:.2f} s in all")

    shot = str(d / "report.png")
    chromium("file://" + paths["html"], "--virtual-time-budget=10000", f"--screenshot={shot}")
    with open(shot, "rb") as f:
        png = f.read()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20000, "no real screenshot"
    keep = os.environ.get("MEMSLOPE_SCREENSHOT")
    if keep:
        shutil.copyfile(shot, keep)


def synthetic_report(nstacks, seed=7):
    """A memslope.trace/1 report with nstacks distinct stacks, 8-24 frames deep."""
    rnd = random.Random(seed)
    names = [f"fn_{i:04d}" for i in range(600)] + ["leak_some"]
    stacks, seen = [], set()
    while len(stacks) < nstacks:
        depth = rnd.randint(8, 24)
        chain = tuple(["main"] + [rnd.choice(names[:40]) for _ in range(3)] +
                      [rnd.choice(names) for _ in range(depth - 4)])
        if chain in seen:
            continue
        seen.add(chain)
        live = int(rnd.paretovariate(1.2) * 4096)
        frames = [{"func": f, "module": "/bin/app", "file": "app.c", "line": 10 + i,
                   "lang": "c", "addr": hex(0x400000 + 16 * i), "build_id": None}
                  for i, f in enumerate(reversed(chain))]
        stacks.append({"live_bytes": live, "live_allocs": 1 + live // 4096, "alloc_bytes": live,
                       "allocs": 1 + live // 4096, "frames": frames})
    stacks.sort(key=lambda s: -s["live_bytes"])
    series = [{"t": float(t), "rss_bytes": (10 + t) << 20, "heap_bytes": (5 + t) << 20}
              for t in range(120)]
    return {"schema": "memslope.trace/1", "started_at": "2024-05-01T12:00:00Z",
            "duration_s": 120.0, "interval_s": 1.0, "mode": "exact",
            "target": {"pid": 100, "argv": ["app"], "exit": {"code": 0, "signal": None,
                                                             "oom_killed": False}},
            "processes": [{"pid": 100, "ppid": 1, "comm": "app", "argv": ["app"],
                           "series": series,
                           "growth": {"verdict": "leak", "severity": "critical",
                                      "slope_bytes_per_s": 1048576.0, "r2": 0.99,
                                      "eta_limit_s": None},
                           "stacks": stacks, "by_test": []}],
            "oom_kills": [], "stats": {"events": 0, "lost_events": 0, "dropped_allocs": 0,
                                       "dropped_stacks": 0}}


def test_html_10k_stacks_stays_usable(memslope, tmp_path):
    src = tmp_path / "big.json"
    src.write_text(json.dumps(synthetic_report(10000)))
    out = str(tmp_path / "big.html")
    r = mslib.run([memslope, "report", str(src), "--html", out], timeout=60)
    assert r.rc == 0, r.why()
    dom, took = dom_of(out)
    nodes = int(re.search(r'id="flamegraph"[^>]*data-nodes="(\d+)"', dom).group(1))
    # tiny frames merge: the boxes drawn stay far below the 10,000 stacks' frames
    assert 0 < nodes < 6000, f"{nodes} flame graph boxes drawn"
    assert "fg-merged" in dom, "no merged box among 10,000 stacks"
    assert "10000 stacks" in dom
    ms = int(re.search(r'data-render-ms="(\d+)"', dom).group(1))
    print(f"\n10,000 stacks: {os.path.getsize(out) >> 10} KiB page, script ran in {ms} ms, "
          f"{nodes} boxes, chromium took {took:.2f} s in all")


def test_html_in_watch_mode_says_new_pages(memslope, wl, tmp_path):
    """A watch-mode report counts new pages: the page must say so, not "live"."""
    html = str(tmp_path / "watch.html")
    res = mslib.run([memslope, "trace", "-q", "--mode", "watch", "--html", html, "--",
                     wl("leaky"), "2"], timeout=60)
    assert res.rc == 0, res.why()
    dom, _ = dom_of(html)
    top = re.search(r'<table id="top-stacks-table">.*?</table>', dom, re.S).group(0)
    assert "in new pages" in top and ">pages</th>" in top, top[:2000]
    assert "live" not in top and "allocs" not in top, top[:2000]
    assert "in new pages in" in dom, "the summary line does not say what it counts"
