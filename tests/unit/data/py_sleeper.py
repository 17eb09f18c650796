# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# py_sleeper.py - test_python.c's target: sleeps inside known functions; "# L:x" marks the lines it expects
import sys
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


my_func()  # L:module
