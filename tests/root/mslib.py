# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""mslib - helpers for the root tests: run `memslope trace`, read its memslope.trace/1 report."""

import ctypes
import json
import os
import platform
import re
import signal
import subprocess
import time
from typing import NamedTuple, Optional

# Slack for libc's own allocations in a traced process (its stdio buffer, 4 KiB on a pipe).
LIBC_SLACK = 64 << 10


class TraceResult(NamedTuple):
    rc: int  # memslope's exit status
    report: Optional[dict]  # the parsed --json report, None when absent or invalid
    stderr: str
    stdout: str  # memslope's stdout: the traced command's stdout passes through it
    elapsed: float  # wall seconds
    argv: list
    pid: int  # memslope's own pid (the parent of a traced COMMAND)

    def why(self, limit=3000):
        """Text to append to an assertion message: what ran, what it said, what it reported."""
        out = [f"argv: {' '.join(self.argv)}", f"exit: {self.rc}  elapsed: {self.elapsed:.1f}s"]
        out.append("stderr (tail):\n" + self.stderr[-limit:])
        out.append("stdout (tail):\n" + self.stdout[-1000:])
        if self.report is not None:
            out.append("report: " + summarize(self.report))
        return "\n".join(out)


def run(argv, timeout, json_path=None, stdin=subprocess.DEVNULL):
    """Run argv in its own session (killed as a group on timeout); parse json_path if given."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, errors="replace", start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        raise AssertionError(f"timed out after {timeout}s: {' '.join(argv)}\n"
                             f"stderr:\n{err[-3000:]}\nstdout:\n{out[-1000:]}")
    elapsed = time.monotonic() - t0
    report = None
    if json_path is not None and os.path.exists(json_path):
        try:
            with open(json_path) as f:
                report = json.load(f)
        except ValueError as e:
            err += f"\n[test] --json file is not valid JSON: {e}"
    return TraceResult(p.returncode, report, err, out, elapsed, list(argv), p.pid)


def summarize(report, nstacks=6):
    """One compact line per process and its top stacks (innermost frames) for failure messages."""
    lines = [f"target={report.get('target')} stats={report.get('stats')}"]
    for pr in report.get("processes") or []:
        ser = pr.get("series") or []
        lines.append(f"  pid {pr.get('pid')} ppid {pr.get('ppid')} comm {pr.get('comm')!r} "
                     f"points {len(ser)} last {ser[-1] if ser else None} "
                     f"growth {pr.get('growth')}")
        for st in (pr.get("stacks") or [])[:nstacks]:
            lines.append(f"    live {st.get('live_bytes')} ({st.get('live_allocs')}) "
                         f"total {st.get('alloc_bytes')} ({st.get('allocs')}): "
                         + " < ".join(str(f) for f in funcs(st)[:5]))
    return "\n".join(lines)


def funcs(stack):
    """Function names of a stack, innermost first (None for an unknown frame)."""
    return [fr.get("func") for fr in stack.get("frames") or []]


def innermost(stack):
    f = funcs(stack)
    return f[0] if f else None


def process(report, pid):
    """The processes[] entry of pid, or None."""
    for pr in report.get("processes") or []:
        if pr.get("pid") == pid:
            return pr
    return None


def stacks_where_innermost(proc, func):
    return [st for st in proc.get("stacks") or [] if innermost(st) == func]


def stacks_containing(proc, func):
    return [st for st in proc.get("stacks") or [] if func in funcs(st)]


def live_by_innermost(proc):
    """func -> live bytes summed over the stacks whose frames[0] is func."""
    out = {}
    for st in proc.get("stacks") or []:
        f = innermost(st)
        out[f] = out.get(f, 0) + st.get("live_bytes", 0)
    return out


def grep_int(text, pattern):
    """The integer of the first line matching pattern (one group), or None."""
    m = re.search(pattern, text, re.M)
    return int(m.group(1)) if m else None


def free_pid():
    """A pid that no process has right now (counting down from pid_max)."""
    with open("/proc/sys/kernel/pid_max") as f:
        pid = int(f.read()) - 1
    while pid > 300:
        if not os.path.exists(f"/proc/{pid}"):
            return pid
        pid -= 1
    raise RuntimeError("no free pid found")


# --- can this process load BPF programs? ------------------------------------------------
_BPF_SYSCALL = {"x86_64": 321, "aarch64": 280, "riscv64": 280, "s390x": 351, "ppc64le": 361}


def bpf_unavailable_reason():
    """None if a trivial BPF program loads; else why not (the tests are skipped with it)."""
    if os.geteuid() != 0:
        return "root tests need root (they load BPF programs)"
    nr = _BPF_SYSCALL.get(platform.machine())
    if nr is None:
        return None  # unknown syscall number: let memslope itself find out
    # BPF_PROG_LOAD of a socket filter "r0 = 0; exit"
    insns = (ctypes.c_uint64 * 2)(0x00000000000000B7, 0x0000000000000095)
    lic = ctypes.create_string_buffer(b"GPL")
    attr = (ctypes.c_uint8 * 144)()
    ctypes.memmove(ctypes.addressof(attr), ctypes.byref(ctypes.c_uint32(1)), 4)  # prog_type
    ctypes.memmove(ctypes.addressof(attr) + 4, ctypes.byref(ctypes.c_uint32(2)), 4)  # insn_cnt
    ctypes.memmove(ctypes.addressof(attr) + 8,
                   ctypes.byref(ctypes.c_uint64(ctypes.addressof(insns))), 8)
    ctypes.memmove(ctypes.addressof(attr) + 16,
                   ctypes.byref(ctypes.c_uint64(ctypes.addressof(lic))), 8)
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.syscall(ctypes.c_long(nr), ctypes.c_long(5), attr, ctypes.c_uint(len(attr)))
    if fd < 0:
        err = ctypes.get_errno()
        return f"BPF unavailable: BPF_PROG_LOAD failed: {os.strerror(err)}"
    os.close(fd)
    if not os.path.exists("/sys/kernel/btf/vmlinux"):
        return "BPF unavailable: no kernel BTF (/sys/kernel/btf/vmlinux)"
    return None
