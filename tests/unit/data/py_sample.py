# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# py_sample.py - code with awkward line tables (big jumps, loops, try, lambdas), compiled by py_linetables.py
import os


def simple(a, b):
    c = a + b
    return c * 2


def loops(xs):
    total = 0
    for x in xs:
        if x % 2:
            total += x
        else:
            total -= x
    while total > 100:
        total //= 2
    return total


def tries(f):
    try:
        v = f()
    except (ValueError, KeyError) as e:
        v = str(e)
    finally:
        os.getpid()
    with open(os.devnull) as fh:
        fh.read()
    return v


def comprehensions(n):
    a = [i * i for i in range(n)]
    b = {i: j for i, j in zip(a, a[1:])}
    c = (lambda q: q + 1)(n)
    return a, b, c


def gen(n):
    for i in range(n):
        yield i
        yield from range(i)


async def coro(x):
    await x
    return x


def multiline_call(a,
                   b):
    return simple(
        a,
        b,
    ) + simple(b,
               a)


def big_gap():
    x = 1
    y = """
    a long string literal spanning many lines
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    .
    """
    z = x + len(y)
    return z


def backwards(flag):
    if flag:
        return 1
    return (
        flag
        or
        2
    )


def long_body(n):
    s = 0
    s += n; s += n; s += n; s += n; s += n; s += n; s += n; s += n; s += n; s += n; s += n
    s += n; s += n; s += n; s += n; s += n; s += n; s += n; s += n; s += n; s += n; s += n
    s += n; s += n; s += n; s += n; s += n; s += n; s += n; s += n; s += n; s += n; s += n
    s += n; s += n; s += n; s += n; s += n; s += n; s += n; s += n; s += n; s += n; s += n
    s += n; s += n; s += n; s += n; s += n; s += n; s += n; s += n; s += n; s += n; s += n
    s += n; s += n; s += n; s += n; s += n; s += n; s += n; s += n; s += n; s += n; s += n
    s += n; s += n; s += n; s += n; s += n; s += n; s += n; s += n; s += n; s += n; s += n
    s += n; s += n; s += n; s += n; s += n; s += n; s += n; s += n; s += n; s += n; s += n
    s += n; s += n; s += n; s += n; s += n; s += n; s += n; s += n; s += n; s += n; s += n
    s += n; s += n; s += n; s += n; s += n; s += n; s += n; s += n; s += n; s += n; s += n
    s += n; s += n; s += n; s += n; s += n; s += n; s += n; s += n; s += n; s += n; s += n
    s += n; s += n; s += n; s += n; s += n; s += n; s += n; s += n; s += n; s += n; s += n
    return s


class Klass:
    def method(self, v):
        return [v for _ in range(3)]

    @property
    def prop(self):
        return self.method(1)
