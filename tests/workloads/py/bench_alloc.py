# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""bench_alloc.py - allocation-heavy Python for the overhead benchmark (bench/python.sh).

USAGE: python3 bench_alloc.py [ROUNDS [BLOB_EVERY]]
Each round builds and drops dicts, lists and strings (small objects through pymalloc, > 512 B
ones through libc malloc), a few call levels deep, like a test suite's fixtures. Every record
carries a > 512 B string, or one record in BLOB_EVERY (default 1): the knob sets how much of
the work reaches libc malloc (bench/python.sh's "mixed" workload uses it). Prints
"bench_alloc: N rounds in S s" timed around the loop only (startup excluded), then sleeps
LINGER seconds (environment, default 0) so that a tracer samples it before it exits.
"""

import os
import sys
import time


BLOB_EVERY = 1


def make_record(i):
    blob = 600 + i % 900 if i % BLOB_EVERY == 0 else i % 200
    return {"id": i, "name": "user%d" % i, "tags": ["t%d" % (i % 7), "x" * (i % 300)],
            "blob": "y" * blob}


def build_table(n, base):
    rows = [make_record(base + i) for i in range(n)]
    index = {r["name"]: r for r in rows}
    return rows, index


def render(rows):
    return "\n".join("%s:%s" % (r["id"], r["name"]) for r in rows)


def one_round(k):
    rows, index = build_table(400, k * 400)
    text = render(rows)
    parts = text.split("\n")
    joined = ",".join(parts) * 2
    words = sorted(set(joined.split(",")))
    return len(index) + len(words) + len(joined)


def main():
    global BLOB_EVERY
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    BLOB_EVERY = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    t0 = time.perf_counter()
    total = 0
    for k in range(rounds):
        total += one_round(k)
    dt = time.perf_counter() - t0
    print(f"bench_alloc: {rounds} rounds in {dt:.3f} s (checksum {total})", flush=True)
    time.sleep(float(os.environ.get("LINGER", "0")))


if __name__ == "__main__":
    main()
