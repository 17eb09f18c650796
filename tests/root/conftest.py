# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""conftest - fixtures of the root tests: where memslope and the workloads are, how to trace.

Run as `make root`: MEMSLOPE=build/memslope WORKLOADS=build/workloads python3 -m pytest tests/root.
Every test is skipped (not passed) when not root, when the kernel refuses to load a BPF
program, or when MEMSLOPE/WORKLOADS are not set; a set but missing path is an error.
"""

import os

import pytest

import mslib


@pytest.fixture(scope="session", autouse=True)
def _privileged():
    reason = mslib.bpf_unavailable_reason()
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def memslope():
    path = os.environ.get("MEMSLOPE")
    if not path:
        pytest.skip("MEMSLOPE is not set (run `make root`)")
    if not os.access(path, os.X_OK):
        pytest.fail(f"MEMSLOPE={path} is not an executable (run `make`)")
    return path


@pytest.fixture(scope="session")
def workloads():
    path = os.environ.get("WORKLOADS")
    if not path:
        pytest.skip("WORKLOADS is not set (run `make root`)")
    if not os.path.isdir(path):
        pytest.fail(f"WORKLOADS={path} is not a directory (run `make`)")
    return path


@pytest.fixture(scope="session")
def wl(workloads):
    """wl("leaky") -> the path of build/workloads/leaky (fails if it was not built)."""

    def path(name):
        p = os.path.join(workloads, name)
        if not os.access(p, os.X_OK):
            pytest.fail(f"workload {p} missing (run `make`)")
        return p

    return path


@pytest.fixture(scope="session")
def trace(memslope, tmp_path_factory):
    """trace(*args, json=True, timeout=30) -> mslib.TraceResult of
    `memslope trace [--json FILE] ARGS...`; result.rc, .report (parsed JSON or None), .stderr,
    .stdout (the traced command's output passes through), .why() for assertion messages.
    json may also be a string: it is then passed as --json's value and not read back."""
    counter = iter(range(1 << 30))

    def run(*args, json=True, timeout=30):
        argv = [memslope, "trace"]
        path = None
        if json is True:
            path = str(tmp_path_factory.getbasetemp() / f"trace-{next(counter)}.json")
            argv += ["--json", path]
        elif json:
            argv += ["--json", json]
        return mslib.run(argv + [str(a) for a in args], timeout=timeout, json_path=path)

    return run
