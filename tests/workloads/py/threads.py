# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""threads.py - two Python threads: leaky_worker() keeps 64 KiB buffers, churn_worker() frees all it takes.

USAGE: python3 threads.py
Both threads run at once and switch the GIL between them. Prints "retained N bytes"
(bytearray.__alloc__() of what leaky_worker kept) and "churned N bytes" (what churn_worker
allocated, "churn_kept N" what it kept of that), then stays alive 1.5 s (CPython frees everything at exit).
Waits WARMUP seconds (environment, default 0.5) before it starts.
"""

import os
import threading
import time

KEPT = []
BLOCK = 64 << 10
churned = 0
last = None  # churn_worker keeps its last buffer: its stack stays in the report
WARMUP = float(os.environ.get("WARMUP", "0.5"))


def leaky_worker(rounds):
    for _ in range(rounds):
        for _ in range(4):
            KEPT.append(bytearray(BLOCK))
        time.sleep(0.02)


def churn_worker(stop):
    global churned, last
    while not stop.is_set():
        tmp = [bytearray(BLOCK + 16 * i) for i in range(8)]
        churned += sum(b.__alloc__() for b in tmp)
        last = tmp[-1]  # all freed but the last one


def main():
    time.sleep(WARMUP)  # memslope finds the interpreter a moment after exec
    stop = threading.Event()
    churner = threading.Thread(target=churn_worker, args=(stop,), name="churner")
    leaker = threading.Thread(target=leaky_worker, args=(40,), name="leaker")
    churner.start()
    leaker.start()
    leaker.join()
    stop.set()
    churner.join()
    print(f"retained {sum(b.__alloc__() for b in KEPT)} bytes", flush=True)
    print(f"churned {churned} bytes", flush=True)
    print(f"churn_kept {last.__alloc__()} bytes", flush=True)
    time.sleep(1.5)


if __name__ == "__main__":
    main()
