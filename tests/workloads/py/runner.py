# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""runner.py - a pytest-like run in one process: run_all() calls every test_* function and
Test* method of this module in turn; only test_retains keeps memory (a module-level list).

USAGE: python3 runner.py
Prints "retained N bytes" (bytearray.__alloc__() of what test_retains kept), then stays
alive 1.5 s (CPython frees everything at exit).
Waits WARMUP seconds (environment, default 0.5) before it starts.
"""

import os
import sys
import time

RETAINED = []
BLOCK = 64 << 10
WARMUP = float(os.environ.get("WARMUP", "0.5"))


def make_fixture(n, size):
    return [bytearray(size) for _ in range(n)]


def test_churn():
    for _ in range(30):
        data = make_fixture(16, BLOCK)
        assert len(data) == 16
        del data


def test_strings():
    s = ["%08d" % i * 100 for i in range(20000)]
    assert s.sort() is None


def test_retains():
    for _ in range(20):
        RETAINED.extend(make_fixture(8, BLOCK))
        time.sleep(0.02)


def test_small_leak():
    RETAINED.append(bytearray(8 << 10))


class TestGroup:
    def test_method_churn(self):
        x = {i: bytes(2048) for i in range(500)}
        assert len(x) == 500


def run_all():
    mod = sys.modules[__name__]
    for name in sorted(dir(mod)):
        obj = getattr(mod, name)
        if name.startswith("test_") and callable(obj):
            obj()
            time.sleep(0.1)
        elif name.startswith("Test") and isinstance(obj, type):
            inst = obj()
            for meth in sorted(dir(inst)):
                if meth.startswith("test_"):
                    getattr(inst, meth)()
                    time.sleep(0.1)


def main():
    time.sleep(WARMUP)  # memslope finds the interpreter a moment after exec
    run_all()
    retained = sum(b.__alloc__() for b in RETAINED if len(b) == BLOCK)
    print(f"retained {retained} bytes", flush=True)
    time.sleep(1.5)


if __name__ == "__main__":
    main()
