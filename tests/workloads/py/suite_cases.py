# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""suite_cases.py - an ordinary unit-test module, run by pytest for the overhead benchmark.

USAGE: python3 -m pytest -q -p no:cacheprovider suite_cases.py
(bench/python.sh runs Debian's python3-pytest, under pyenv interpreters through PYTHONPATH.)
Fixtures, parametrized cases, JSON, regexes, exceptions, dataclasses, text: the kind of tests
a project has, CASES (environment, default 1000) cases per test function. What it measures is
pytest itself running them: its per-test machinery (nodes, hooks, reports, output capture) is
most of the work and of the allocations, as in a real suite.
"""

import collections
import dataclasses
import json
import os
import re

import pytest

CASES = int(os.environ.get("CASES", "1000"))


@dataclasses.dataclass
class User:
    id: int
    name: str
    email: str
    tags: list


@pytest.fixture
def users():
    return [User(i, "user%d" % i, "u%d@example.com" % i, ["a", "b", str(i)]) for i in range(50)]


@pytest.fixture
def payload(users):
    return json.dumps([dataclasses.asdict(u) for u in users])


@pytest.mark.parametrize("n", range(CASES))
def test_parse(payload, n):
    data = json.loads(payload)
    assert len(data) == 50
    assert data[n % 50]["name"] == "user%d" % (n % 50)


@pytest.mark.parametrize("n", range(CASES))
def test_group(users, n):
    by = collections.defaultdict(list)
    for u in users:
        by[u.id % (n % 7 + 1)].append(u.name)
    assert sum(len(v) for v in by.values()) == 50


@pytest.mark.parametrize("s", ["abc-%d" % i for i in range(CASES)])
def test_regex(s):
    m = re.match(r"([a-z]+)-(\d+)", s)
    assert m and int(m.group(2)) >= 0


@pytest.mark.parametrize("n", range(CASES))
def test_raises(n):
    with pytest.raises(KeyError):
        {}["k%d" % n]


@pytest.mark.parametrize("n", range(CASES))
def test_text(n):
    text = "\n".join("line %d: %s" % (i, "x" * (i % 40)) for i in range(100))
    assert text.count("\n") == 99
