# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""finalize.py - a leak, then an interpreter shutdown that takes a while.

USAGE: python3 finalize.py
keep() retains 64 KiB buffers in a module-level Cache. At exit CPython finalizes it: its
__del__ drops the buffers, then takes 1.5 s to "close its backing store" (like a flush or a
connection close). A report "at the last sample before exit" must not come from that
teardown. Prints "retained N bytes" (bytearray.__alloc__()) and stays alive 1.5 s before
exiting. Waits WARMUP seconds (environment, default 0.5) before it starts.
"""

import os
import time

BLOCK = 64 << 10
WARMUP = float(os.environ.get("WARMUP", "0.5"))


class Cache:
    def __init__(self):
        self.bufs = []

    def __del__(self):
        self.bufs = None  # the buffers go first
        time.sleep(1.5)  # then a slow close


CACHE = Cache()


def keep(n):
    for _ in range(n):
        CACHE.bufs.append(bytearray(BLOCK))


def main():
    time.sleep(WARMUP)  # memslope finds the interpreter a moment after exec
    for _ in range(20):
        keep(8)
        time.sleep(0.02)
    print(f"retained {sum(b.__alloc__() for b in CACHE.bufs)} bytes", flush=True)
    time.sleep(1.5)


if __name__ == "__main__":
    main()
