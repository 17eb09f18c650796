# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# py_linetables.py - dump line tables and CPython's own answers for test_python.c
#
# Run with each interpreter: python3.X py_linetables.py > linetable_3.X.txt
# Every code object of py_sample.py (nested ones too) gives:
#   code <qualname> <co_firstlineno> <line table as hex, "-" when empty>
#   at <byte offset>=<line> ...       (PyCode_Addr2Line(code, byte offset); -1 = no line)
# The expected lines come from the running interpreter itself (ctypes), not from a re-implementation.
import ctypes
import os
import sys

addr2line = ctypes.pythonapi.PyCode_Addr2Line
addr2line.argtypes = [ctypes.py_object, ctypes.c_int]
addr2line.restype = ctypes.c_int


def codes(co):
    yield co
    for c in co.co_consts:
        if hasattr(c, "co_code"):
            yield from codes(c)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "py_sample.py")
    with open(path) as f:
        top = compile(f.read(), "py_sample.py", "exec")
    print("# python %d.%d.%d, from py_sample.py by py_linetables.py" % sys.version_info[:3])
    for co in codes(top):
        tab = co.co_linetable if sys.version_info >= (3, 10) else co.co_lnotab
        name = getattr(co, "co_qualname", co.co_name).replace(" ", "_")
        print("code %s %d %s" % (name, co.co_firstlineno, tab.hex() or "-"))
        print("at " + " ".join("%d=%d" % (off, addr2line(co, off))
                               for off in range(0, len(co.co_code), 2)))


main()
