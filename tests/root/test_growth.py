# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""test_growth - growth verdicts and alerts of `memslope trace` on workloads with known truth.

The truth (tests/workloads/*.c spell it out):
- slowleak 1M 22 4M: leaks exactly 1 MiB/s for 22 s from slow_leak() (one malloc call site),
  behind churn_noise() whose live bytes jump uniformly over [0, 4 MiB] every 100 ms: a leak.
- plateau 30: fills a 64 MiB cache over the first 6 s (fast, then slowing), then its live
  bytes stay exactly flat under 4 MiB of churn: warm-up then flat, `plateau` (DESIGN.md).
- sawtooth 30: builds 36-60 MiB over 3-5 s, frees all of it, 1-2 s trough, again; the troughs
  are flat: build-up then release, `sawtooth` (DESIGN.md), never a leak.
Each is traced at the default 1 s interval and at 0.5 s; the six traces run at once (~32 s).
Alerts are the memslope.alert/1 lines of --alerts FILE. A benchmark of detection latency
lives in bench/detect.sh, not here.
"""

import concurrent.futures
import json

import pytest

from mslib import grep_int, process

RATE = 1 << 20
LEAK_SECONDS = 22
RUN_SECONDS = 30
INTERVALS = ("1", "0.5")
WORKLOADS = {
    "slowleak": ("1M", LEAK_SECONDS, "4M"),
    "plateau": (RUN_SECONDS,),
    "sawtooth": (RUN_SECONDS,),
}
FLAGGED = ("leak", "growing")


class Run:
    def __init__(self, res, alerts, alerts_text):
        self.res = res
        self.alerts = alerts  # parsed alert lines
        self.alerts_text = alerts_text

    def proc(self):
        """The processes[] entry of the traced workload (asserts it exists)."""
        r = self.res.report
        assert r is not None, "no JSON report\n" + self.res.why()
        pr = process(r, r.get("target", {}).get("pid"))
        assert pr is not None, "no processes[] entry for the target\n" + self.res.why()
        return pr

    def growth(self):
        g = self.proc().get("growth")
        assert g, "no growth object\n" + self.why()
        return g

    def growth_alerts(self):
        pid = self.proc()["pid"]
        return [a for a in self.alerts if a.get("event") == "growth" and a.get("pid") == pid]

    def why(self):
        heap = [round(p["heap_bytes"] / (1 << 20), 1)
                for p in (self.proc().get("series") or [])] if self.res.report else None
        return (self.res.why(limit=1500) + f"\nheap series (MiB): {heap}\nalerts:\n"
                + self.alerts_text[-3000:])


@pytest.fixture(scope="module")
def runs(trace, wl, tmp_path_factory):
    """{(workload, interval): Run}, all traced concurrently."""
    d = tmp_path_factory.mktemp("growth")
    jobs = {}
    with concurrent.futures.ThreadPoolExecutor(len(WORKLOADS) * len(INTERVALS)) as ex:
        for name, args in WORKLOADS.items():
            path = wl(name)  # here, not in a thread: a missing workload fails the test
            for iv in INTERVALS:
                alerts = d / f"{name}-{iv}.alerts"
                fut = ex.submit(trace, "-i", iv, "--alerts", alerts, "--", path, *args,
                                timeout=90)
                jobs[(name, iv)] = (fut, alerts)
        out = {}
        for key, (fut, alerts) in jobs.items():
            res = fut.result()
            text = alerts.read_text() if alerts.exists() else ""
            lines = []
            for ln in text.splitlines():
                try:
                    lines.append(json.loads(ln))
                except ValueError:
                    pytest.fail(f"{key}: alert line is not JSON: {ln!r}")
            out[key] = Run(res, lines, text)
    return out


@pytest.fixture(params=INTERVALS, ids=lambda iv: f"i{iv}")
def interval(request):
    return request.param


# --- slowleak: a leak behind churn -------------------------------------------------------
def test_slowleak_ran(runs, interval):
    r = runs[("slowleak", interval)]
    assert r.res.rc == 0, r.why()
    n = grep_int(r.res.stdout, r"^leaked (\d+) bytes")
    assert n == RATE * LEAK_SECONDS, "workload's truth line missing or wrong\n" + r.why()


def test_slowleak_verdict_is_leak(runs, interval):
    r = runs[("slowleak", interval)]
    g = r.growth()
    assert g["verdict"] == "leak", r.why()
    assert g["severity"] == "critical", r.why()  # 1 MiB/s is far above 5 MB/h


def test_slowleak_slope_matches_truth(runs, interval):
    r = runs[("slowleak", interval)]
    slope = r.growth()["slope_bytes_per_s"]
    assert abs(slope - RATE) <= 0.10 * RATE, f"slope {slope:.0f} B/s, truth {RATE}\n" + r.why()


def test_slowleak_alert_names_slow_leak(runs, interval):
    r = runs[("slowleak", interval)]
    alerts = r.growth_alerts()
    assert alerts, "no growth alert for the leaking pid\n" + r.why()
    a = alerts[0]
    assert a["schema"] == "memslope.alert/1", a
    assert a["verdict"] in FLAGGED, a
    assert a["top_stacks"], "a growth alert names the growing stacks\n" + r.why()
    assert "slow_leak" in a["top_stacks"][0]["stack"], \
        "the fastest-growing stack is slow_leak's, not the churn's\n" + r.why()


# --- plateau: warm-up, then flat -----------------------------------------------------------
def test_plateau_verdict(runs, interval):
    r = runs[("plateau", interval)]
    assert r.res.rc == 0, r.why()
    assert r.growth()["verdict"] in ("plateau", "stable"), r.why()


def test_plateau_no_growth_alert(runs, interval):
    r = runs[("plateau", interval)]
    assert not r.growth_alerts(), "a warm-up then flat raised a growth alert\n" + r.why()


# --- sawtooth: build-up and release, flat troughs --------------------------------------------
def test_sawtooth_not_flagged(runs, interval):
    r = runs[("sawtooth", interval)]
    assert r.res.rc == 0, r.why()
    assert r.growth()["verdict"] not in FLAGGED, r.why()


def test_sawtooth_verdict(runs, interval):
    r = runs[("sawtooth", interval)]
    assert r.growth()["verdict"] == "sawtooth", r.why()


def test_sawtooth_no_growth_alert(runs, interval):
    r = runs[("sawtooth", interval)]
    assert not r.growth_alerts(), "a sawtooth with flat troughs raised a growth alert\n" \
        + r.why()
