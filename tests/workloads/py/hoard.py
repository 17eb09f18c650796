# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""hoard.py - small objects retained by hoard(), beside churn() that frees all it allocates.

USAGE: python3 hoard.py [ROUNDS]
Each round (ROUNDS, default 40) hoard() keeps 4000 small dicts and strings (through pymalloc:
new arena pages that hoard() itself writes first) and churn() builds and drops lists of
strings (memory it reuses). Prints "hoard_line N" (the line of the retained allocation) and,
when done, "hoarded N objects"; stays alive 1.5 s (CPython frees everything at exit). Waits
WARMUP seconds (environment, default 0.5) before it starts.
"""

import os
import sys
import time

KEPT = []
WARMUP = float(os.environ.get("WARMUP", "0.5"))


def hoard(n, base):
    for i in range(n):
        KEPT.append({"id": base + i, "name": "item-%08d" % (base + i)})  # the retained allocation


def churn(n):
    for _ in range(n):
        tmp = [str(j) * 3 for j in range(64)]
        del tmp


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    time.sleep(WARMUP)
    with open(__file__, encoding="utf-8") as f:
        line = next(i for i, l in enumerate(f, 1) if "# the retained allocation" in l)
    print(f"hoard_line {line}", flush=True)
    for r in range(rounds):
        hoard(4000, r * 4000)
        churn(100)
        time.sleep(0.02)
    print(f"hoarded {len(KEPT)} objects", flush=True)
    time.sleep(1.5)


if __name__ == "__main__":
    main()
