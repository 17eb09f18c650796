# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# py_sleeper.py - test_python.c's target: sleeps inside known functions; "# L:x" marks the lines it expects
# "busy" as argument: spin holding the GIL instead (GIL holder checks).
import sys
import threading
import time


class Holder:
    def größe(self, n):
        if n:
            return self.größe(n - 1)  # L:recurse
        sys.stdout.write("ready\n")
        sys.stdout.flush()
        time.sleep(60)  # L:sleep


def 𠀀():
    return Holder().größe(2)  # L:ucs4


def 関数():
    return 𠀀()  # L:ucs2


def my_func():
    return 関数()  # L:my_func


def worker(started):
    started.set()
    time.sleep(60)  # L:worker


def spin():
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        pass


if sys.argv[1:] == ["busy"]:
    spin()
started = threading.Event()
threading.Thread(target=worker, args=(started,), daemon=True).start()
started.wait()
my_func()  # L:module
