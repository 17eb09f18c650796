# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""nogil.py - malloc with the GIL released: nogil_worker() fills an in-memory SQLite database
while gil_hog() spins in pure Python and holds the GIL.

USAGE: python3 nogil.py
The sqlite3 module releases the GIL around sqlite3_step(), so SQLite's page-cache mallocs
run while another thread (gil_hog, which itself allocates nothing from libc) holds the GIL:
a tracer that takes the GIL holder's stack blames gil_hog. The database stays open (its
pages are live). Prints "blob N bytes" (the blob bytes stored) and "hog N iterations",
then stays alive 1.5 s (CPython frees everything at exit).
Waits WARMUP seconds (environment, default 0.5) before it starts.
"""

import os
import sqlite3
import threading
import time

ROWS, BLOB = 2000, 1000
DB = sqlite3.connect(":memory:", check_same_thread=False)
iterations = 0
WARMUP = float(os.environ.get("WARMUP", "0.5"))


def gil_hog(stop):
    global iterations
    x = 1
    while not stop.is_set():
        for _ in range(10000):
            x = (x * 31 + 7) % 1000003
        iterations += 1


def nogil_worker(batches):
    DB.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB)")
    for _ in range(batches):
        DB.execute("INSERT INTO t (b) SELECT randomblob(?) FROM "
                   "(WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT ?) "
                   "SELECT x FROM c)", (BLOB, ROWS))
        DB.commit()
        time.sleep(0.05)


def main():
    time.sleep(WARMUP)  # memslope finds the interpreter a moment after exec
    stop = threading.Event()
    hog = threading.Thread(target=gil_hog, args=(stop,), name="hog")
    hog.start()
    time.sleep(0.1)  # the hog owns the GIL whenever the worker lets it go
    worker = threading.Thread(target=nogil_worker, args=(10,), name="worker")
    worker.start()
    worker.join()
    stop.set()
    hog.join()
    n = DB.execute("SELECT sum(length(b)) FROM t").fetchone()[0]
    print(f"blob {n} bytes", flush=True)
    print(f"hog {iterations} iterations", flush=True)
    time.sleep(1.5)


if __name__ == "__main__":
    main()
