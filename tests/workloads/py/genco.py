# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""genco.py - allocations made inside a generator (block_gen) and inside a coroutine run by
asyncio (fetch_blocks); both results are kept in module-level lists.

USAGE: python3 genco.py
Prints "gen_line N" / "coro_line N" (the lines of the two allocations), "gen N bytes" and
"coro N bytes" (bytearray.__alloc__() of what each kept), then stays alive 1.5 s (CPython
frees everything at exit). Waits WARMUP seconds (environment, default 0.5) before it starts.
"""

import asyncio
import inspect
import os
import time

GEN_KEPT = []
CORO_KEPT = []
GEN_BLOCK = 48 << 10
CORO_BLOCK = 40 << 10
WARMUP = float(os.environ.get("WARMUP", "0.5"))


def block_gen(n):
    for _ in range(n):
        yield bytearray(GEN_BLOCK)  # the generator's allocation


async def fetch_blocks(n):
    for _ in range(n):
        CORO_KEPT.append(bytearray(CORO_BLOCK))  # the coroutine's allocation
        await asyncio.sleep(0.005)


async def coro_churn(n):
    for _ in range(n):
        junk = [bytes(CORO_BLOCK + 64) for _ in range(4)]
        del junk
        await asyncio.sleep(0.003)


async def serve():
    await asyncio.gather(fetch_blocks(200), coro_churn(300))


def line_of(func, marker):
    src, first = inspect.getsourcelines(func)
    return first + next(i for i, l in enumerate(src) if marker in l)


def main():
    time.sleep(WARMUP)  # memslope finds the interpreter a moment after exec
    print(f"gen_line {line_of(block_gen, 'bytearray(GEN_BLOCK)')}", flush=True)
    print(f"coro_line {line_of(fetch_blocks, 'bytearray(CORO_BLOCK)')}", flush=True)
    for _ in range(10):
        for b in block_gen(20):
            GEN_KEPT.append(b)
        time.sleep(0.02)
    asyncio.run(serve())
    print(f"gen {sum(b.__alloc__() for b in GEN_KEPT)} bytes", flush=True)
    print(f"coro {sum(b.__alloc__() for b in CORO_KEPT)} bytes", flush=True)
    time.sleep(1.5)


if __name__ == "__main__":
    main()
