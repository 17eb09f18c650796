# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The root daemon end to end: a background `memslope daemon` with a 1 s interval, temp dirs
and a free port; a family (one parent, four children, exactly one leaking in family_leak) and
a steady process: a growth alert for the leaking pid only, naming family_leak; /metrics valid
for promtool; the shipped rules valid; a real OOM kill in a child memory cgroup dumped; SIGHUP
rereads the config, SIGTERM stops at once with every alert line whole."""

import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request

import pytest

from test_oom import _in_cgroup, memcg  # noqa: F401 (the fixture, reused)

HERE = os.path.dirname(os.path.abspath(__file__))
RULES = sorted(glob.glob(os.path.join(HERE, "..", "..", "deploy", "prometheus", "*.rules.yml")))
ALERT_WITHIN = 45  # seconds: the growth issue's latency at a 1 s interval, plus escalation


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    """A `memslope daemon` in the background: its config file, alerts file, dump dir, port."""

    def __init__(self, memslope, tmp, settings, flags=()):
        self.tmp = tmp
        self.port = _free_port()
        self.listen = f"127.0.0.1:{self.port}"
        self.alerts = tmp / "alerts.jsonl"
        self.dumps = tmp / "oom"
        self.config = tmp / "memslope.conf"
        self.settings = {"interval": "1", "alerts": str(self.alerts), "alerts_stdout": "yes",
                         "dump_dir": str(self.dumps), "listen": self.listen, "min_span": "15",
                         "escalate_max": "8", "escalate_window": "60"}
        self.settings.update(settings)
        self.write_config()
        self.stdout = open(tmp / "daemon.out", "w+")
        self.stderr = open(tmp / "daemon.err", "w+")
        self.proc = subprocess.Popen([memslope, "daemon", "-v", "--config", str(self.config), *flags],
                                     stdout=self.stdout, stderr=self.stderr, start_new_session=True)
        deadline = time.monotonic() + 20
        while True:
            try:
                if self.status()["passes"] >= 1:
                    break
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("the daemon did not come up\n" + self.why())
            time.sleep(0.2)

    def write_config(self):
        text = "[daemon]\n" + "".join(f"{k} = {v}\n" for k, v in self.settings.items())
        self.config.write_text(text)

    def get(self, path):
        with urllib.request.urlopen(f"http://{self.listen}{path}", timeout=5) as r:
            return r.read().decode()

    def status(self):
        return json.loads(self.get("/status"))

    def alert_lines(self):
        try:
            text = self.alerts.read_text()
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def why(self):
        self.stderr.flush()
        self.stderr.seek(0)
        err = self.stderr.read()
        try:
            alerts = self.alerts.read_text()
        except OSError:
            alerts = ""
        return f"daemon stderr (tail):\n{err[-4000:]}\nalerts (tail):\n{alerts[-4000:]}"

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
                raise AssertionError(f"the daemon did not stop within {timeout}s\n" + self.why())
        return self.proc.returncode


@pytest.fixture(scope="module")
def daemon(memslope, tmp_path_factory):
    # escalation limited to the family: a shared CI host's other processes keep their speed
    d = Daemon(memslope, tmp_path_factory.mktemp("daemon"), {"escalate_comm": "family,leaky"})
    yield d
    d.stop()


@pytest.fixture(scope="module")
def family_run(daemon, wl):
    """The family and a steady hog, run once for the module: which pid leaks, which do not."""
    fam = subprocess.Popen([wl("family"), "50", "4", "2"], stdout=subprocess.PIPE, text=True,
                           start_new_session=True)
    steady = subprocess.Popen([wl("hog"), "8", "50"], stdout=subprocess.DEVNULL, start_new_session=True)
    kids = {}
    for _ in range(4):
        _, pid, kind = fam.stdout.readline().split()
        kids[int(pid)] = kind
    leaker = [p for p, k in kids.items() if k == "leaks"]
    assert len(leaker) == 1, kids
    yield {"leaker": leaker[0], "quiet": [fam.pid, steady.pid] + [p for p, k in kids.items() if k != "leaks"],
           "started": time.monotonic()}
    for p in (fam, steady):
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass
        p.wait()


def test_growth_alert_names_the_leaker_only(daemon, family_run):
    leaker = family_run["leaker"]
    deadline = family_run["started"] + ALERT_WITHIN
    alert = None
    while time.monotonic() < deadline and alert is None:
        for a in daemon.alert_lines():
            if a["event"] == "growth" and a["pid"] == leaker:
                alert = a
        time.sleep(0.5)
    assert alert is not None, f"no growth alert for pid {leaker} within {ALERT_WITHIN}s\n" + daemon.why()
    took = time.monotonic() - family_run["started"]
    assert alert["schema"] == "memslope.alert/1"
    assert alert["comm"] == "family"
    assert alert["verdict"] in ("leak", "growing"), alert
    assert alert["severity"] in ("warning", "critical"), alert
    assert alert["slope_bytes_per_s"] > 100_000, alert  # 640 KiB/s
    stacks = alert["top_stacks"]
    assert stacks, alert
    assert "family_leak" in stacks[0]["stack"], stacks
    # the others had as long to be flagged: a few more passes, then none of them may be
    time.sleep(5)
    quiet = set(family_run["quiet"])
    wrong = [a for a in daemon.alert_lines() if a["event"] == "growth" and a["pid"] in quiet]
    assert not wrong, wrong
    print(f"growth alert for pid {leaker} after {took:.1f}s")


def test_status_and_metrics(daemon, family_run, tmp_path):
    if not shutil.which("promtool"):
        pytest.skip("promtool not installed (Debian: prometheus)")
    leaker = family_run["leaker"]
    deadline = time.monotonic() + ALERT_WITHIN
    while time.monotonic() < deadline:
        st = daemon.status()
        if any(p["pid"] == leaker and p["flagged"] for p in st["top"]):
            break
        time.sleep(0.5)
    else:
        raise AssertionError(f"pid {leaker} never flagged in /status\n" + daemon.why())
    metrics = daemon.get("/metrics")
    path = tmp_path / "metrics.txt"
    path.write_text(metrics)
    with open(path) as f:
        r = subprocess.run(["promtool", "check", "metrics"], stdin=f, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f'memslope_process_rss_bytes{{pid="{leaker}",comm="family"}}' in metrics, metrics
    assert f'memslope_process_verdict{{pid="{leaker}",comm="family",verdict=' in metrics, metrics
    assert "memslope_oom_kills_total " in metrics
    assert 'memslope_drops_total{reason="ringbuf_full"} ' in metrics
    assert "process_resident_memory_bytes " in metrics
    assert "process_cpu_seconds_total " in metrics
    # bounded cardinality: at most metrics_top (20) processes have series
    pids = {line.split('pid="')[1].split('"')[0] for line in metrics.splitlines()
            if line.startswith("memslope_process_rss_bytes{")}
    assert 1 <= len(pids) <= 20, pids

    out = subprocess.run([os.environ["MEMSLOPE"], "status", "--listen", daemon.listen],
                         capture_output=True, text=True, timeout=10)
    assert out.returncode == 0, out.stderr
    assert "memslope daemon" in out.stdout and str(leaker) in out.stdout, out.stdout
    out = subprocess.run([os.environ["MEMSLOPE"], "status", "--listen", daemon.listen, "--json"],
                         capture_output=True, text=True, timeout=10)
    assert json.loads(out.stdout)["schema"] == "memslope.status/1"


def test_status_without_daemon(memslope):
    out = subprocess.run([memslope, "status", "--listen", f"127.0.0.1:{_free_port()}"],
                         capture_output=True, text=True, timeout=10)
    assert out.returncode == 1, out
    assert "cannot reach the daemon" in out.stderr


@pytest.mark.skipif(not shutil.which("promtool"), reason="promtool not installed (Debian: prometheus)")
def test_rules_check():
    assert RULES, "no deploy/prometheus/*.rules.yml"
    r = subprocess.run(["promtool", "check", "rules", *RULES], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_oom_kill_dumped(daemon, wl, memcg):  # noqa: F811
    cg, _ = memcg
    before = set(glob.glob(str(daemon.dumps / "oom-*.json")))
    p = subprocess.Popen(_in_cgroup(cg, [wl("leaky"), "60", str(32 << 20)]),
                         stdout=subprocess.DEVNULL, start_new_session=True)
    try:
        rc = p.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        raise
    assert rc == -signal.SIGKILL, rc
    deadline = time.monotonic() + 15
    new = []
    while time.monotonic() < deadline:
        new = sorted(set(glob.glob(str(daemon.dumps / "oom-*.json"))) - before)
        dumps = [json.load(open(f)) for f in new]
        mine = [d for d in dumps if d["victim"]["pid"] == p.pid]
        if mine:
            break
        time.sleep(0.3)
    else:
        raise AssertionError(f"no dump for pid {p.pid} in {daemon.dumps}: {new}\n" + daemon.why())
    d = mine[0]
    assert d["schema"] == "memslope.oom/1"
    assert d["victim"]["comm"] == "leaky"
    assert d["constraint"] == "memcg", d
    assert d["memcg"]["path"].endswith(os.path.basename(cg)), d["memcg"]
    assert d["exit"]["oom_killed"] is True, d["exit"]
    assert os.stat(daemon.dumps).st_mode & 0o777 == 0o700
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        kills = [a for a in daemon.alert_lines() if a["event"] == "oom_kill" and a["pid"] == p.pid]
        if kills:
            break
        time.sleep(0.3)
    assert kills and kills[0]["dump"] and os.path.exists(kills[0]["dump"]), daemon.why()
    assert daemon.status()["oom_kills"] >= 1


def test_escalated_victim_dump_has_its_stacks(daemon, wl, memcg):  # noqa: F811
    """leaky grows 2 MiB/s toward a 64 MiB limit: flagged and traced exactly well before the
    kill, so its dump carries the stacks that owned its memory and the stack it died in."""
    cg, _ = memcg
    p = subprocess.Popen(_in_cgroup(cg, [wl("leaky"), "90", str(2 << 20)]),
                         stdout=subprocess.DEVNULL, start_new_session=True)
    try:
        rc = p.wait(timeout=80)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        raise
    assert rc == -signal.SIGKILL, rc
    deadline = time.monotonic() + 15
    mine = []
    while time.monotonic() < deadline and not mine:
        mine = [json.load(open(f)) for f in glob.glob(str(daemon.dumps / "oom-*.json"))]
        mine = [d for d in mine if d["victim"]["pid"] == p.pid]
        time.sleep(0.3)
    assert mine, f"no dump for pid {p.pid}\n" + daemon.why()
    d = mine[0]
    assert f"tracing pid {p.pid} (leaky) exactly" in daemon.why(), daemon.why()
    assert len(d["series"]) >= 10, d["series"]
    assert d["growth"]["verdict"] in ("leak", "growing"), (d["growth"], d["series"])
    top = [[f.get("func") for f in s.get("frames", [])] for s in d.get("stacks", [])]
    assert top and "leak_some" in top[0], top[:3]
    last = [f.get("func") for f in ((d.get("last_stack") or {}).get("frames") or [])]
    assert "leak_some" in last or "main" in last, last


def test_sighup_reloads_and_sigterm_stops(memslope, tmp_path):
    d = Daemon(memslope, tmp_path, {"escalate": "no"})
    try:
        assert d.status()["interval_s"] == 1
        new_alerts = tmp_path / "alerts-2.jsonl"
        d.settings.update({"interval": "0.5", "alerts": str(new_alerts)})
        d.write_config()
        d.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if d.status()["interval_s"] == 0.5 and new_alerts.exists():
                break
            time.sleep(0.2)
        else:
            raise AssertionError("SIGHUP did not reload the config\n" + d.why())
        p0 = d.status()["passes"]
        time.sleep(2.2)
        assert d.status()["passes"] - p0 >= 3, "the new interval did not take effect"

        # a bad config is refused, the running settings stay
        d.config.write_text("[daemon]\ninterval = never\n")
        d.proc.send_signal(signal.SIGHUP)
        time.sleep(1.5)
        assert d.proc.poll() is None, d.why()
        assert d.status()["interval_s"] == 0.5
        assert "keeping the running settings" in d.why()
    finally:
        t0 = time.monotonic()
        rc = d.stop(signal.SIGTERM, timeout=10)
    assert rc == 0, d.why()
    assert time.monotonic() - t0 < 5, "SIGTERM took too long"
    for f in (d.alerts, tmp_path / "alerts-2.jsonl"):
        if f.exists():
            text = f.read_text()
            assert not text or text.endswith("\n")
            for line in text.splitlines():
                json.loads(line)


def test_usage_errors(memslope, tmp_path):
    r = subprocess.run([memslope, "daemon", "--interval", "soon"], capture_output=True, text=True)
    assert r.returncode == 2 and "invalid interval" in r.stderr, r.stderr
    r = subprocess.run([memslope, "daemon", "--config", str(tmp_path / "missing.conf")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "missing.conf" in r.stderr, r.stderr
    r = subprocess.run([memslope, "daemon", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "--escalate-window" in r.stdout and "EXAMPLES" in r.stdout
