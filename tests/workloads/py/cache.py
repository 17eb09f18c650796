# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""cache.py - a module-level cache growing in grow_cache(), plus churn that frees what it takes.

USAGE: python3 cache.py [ROUNDS]
Prints "alloc_line N" (the line of the retained allocation) and, when done,
"retained N bytes" (the exact bytes the cache's buffers hold, from bytearray.__alloc__())
and "churn_kept N bytes" (the one buffer churn() keeps of the many it frees).
Stays alive 1.5 s after the leak (CPython frees everything at exit).
Waits WARMUP seconds (environment, default 0.5) before it starts.
"""

import os
import sys
import time

CACHE = []
BLOCK = 64 << 10
LAST = None  # churn() keeps its last buffer: its stack stays in the report, with that much live
WARMUP = float(os.environ.get("WARMUP", "0.5"))


def grow_cache(n):
    for _ in range(n):
        CACHE.append(bytearray(BLOCK))  # the retained allocation


def churn(n):
    global LAST
    tmp = []
    for i in range(n):
        tmp.append(bytes(BLOCK + i))  # all freed but the last one
    LAST = tmp[-1]


def alloc_line():
    import inspect
    src, first = inspect.getsourcelines(grow_cache)
    return first + next(i for i, l in enumerate(src) if "bytearray(BLOCK)" in l)


def main():
    time.sleep(WARMUP)  # memslope finds the interpreter a moment after exec
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    print(f"alloc_line {alloc_line()}", flush=True)
    for _ in range(rounds):
        grow_cache(8)
        churn(16)
        time.sleep(0.05)
    print(f"retained {sum(b.__alloc__() for b in CACHE)} bytes", flush=True)
    print(f"churn_kept {sys.getsizeof(LAST)} bytes", flush=True)
    time.sleep(1.5)


if __name__ == "__main__":
    main()
