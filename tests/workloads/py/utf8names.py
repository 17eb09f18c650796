# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""utf8names.py - allocations in functions with non-ASCII names, one per CPython string kind:
größe (latin-1, 1 byte per char), Käse.分配 (UCS-2), 𠀋 (U+2000B, UCS-4).

USAGE: python3 utf8names.py
Prints "<qualname> N bytes" per function (bytearray.__alloc__() of what it kept), then
stays alive 1.5 s (CPython frees everything at exit).
Waits WARMUP seconds (environment, default 0.5) before it starts.
"""

import os
import time

KEPT = {}
WARMUP = float(os.environ.get("WARMUP", "0.5"))


def größe():
    KEPT.setdefault("größe", []).append(bytearray(96 << 10))


class Käse:
    def 分配(self):
        KEPT.setdefault("Käse.分配", []).append(bytearray(80 << 10))


def 𠀋():
    KEPT.setdefault("𠀋", []).append(bytearray(72 << 10))


def main():
    time.sleep(WARMUP)  # memslope finds the interpreter a moment after exec
    k = Käse()
    for _ in range(60):
        größe()
        k.分配()
        𠀋()
        time.sleep(0.01)
    for name, bufs in KEPT.items():
        print(f"{name} {sum(b.__alloc__() for b in bufs)} bytes", flush=True)
    time.sleep(1.5)


if __name__ == "__main__":
    main()
