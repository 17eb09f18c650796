# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Without privileges memslope says which capability is missing, in one line, and exits 1."""

import shutil
import subprocess

import pytest


def test_unprivileged_user_gets_one_clear_line(memslope):
    setpriv = shutil.which("setpriv")
    if not setpriv:
        pytest.skip("setpriv (util-linux) is not installed")
    p = subprocess.run([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
                        "--inh-caps=-all", memslope, "trace", "-d", "1", "--", "/bin/true"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1, (p.returncode, p.stderr)
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, p.stderr
    assert "CAP_BPF" in lines[0] and "root" in lines[0], lines[0]
