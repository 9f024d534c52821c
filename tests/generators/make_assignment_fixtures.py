#!/usr/bin/env python3
"""Expected optima for tst_assignment: scipy.optimize.linear_sum_assignment on matrices that
the test rebuilds bit for bit from a hash (splitmix64), so no matrix needs to be committed.

Run: python3 tests/generators/make_assignment_fixtures.py  (Debian's python3-scipy)
Writes tests/fixtures/assignment/expected.json.
"""
import json
import os

import numpy as np
from scipy.optimize import linear_sum_assignment

M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def mix64(x):
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def uniform(seed, rows, cols):
    # u(seed, i, j) = (mix64(seed * 1000003 ^ (i << 32) ^ j) >> 11) * 2^-53
    i = np.arange(rows, dtype=np.uint64)[:, None]
    j = np.arange(cols, dtype=np.uint64)[None, :]
    key = (np.uint64(seed) * np.uint64(1000003)) ^ (i << np.uint64(32)) ^ j
    return (mix64(key) >> np.uint64(11)).astype(np.float64) * 2.0 ** -53


def matrix(kind, seed, n, m):
    with np.errstate(over="ignore"):
        if kind == "uniform":
            return uniform(seed, n, m)
        if kind == "ties":
            return np.floor(uniform(seed, n, m) * 8)
        if kind == "inf":
            c = uniform(seed, n, m)
            keep = uniform(seed + 7, n, m) >= 0.4
            keep |= np.eye(n, m, dtype=bool)
            return np.where(keep, c, np.inf)
        if kind == "scaled":
            return uniform(seed, n, m) * 1e6 + 1e9 * (np.arange(n) % 3)[:, None]
        if kind == "lowrank":
            a = uniform(seed, n, 8) - 0.5
            b = uniform(seed + 1, m, 8) - 0.5
            c = np.zeros((n, m))
            for k in range(8):  # same order of operations as the test
                c = c - a[:, k, None] * b[None, :, k]
            return c
    raise ValueError(kind)


CASES = [
    ("uniform", 1, 1, 1), ("uniform", 2, 3, 3), ("uniform", 3, 50, 50), ("uniform", 4, 500, 500),
    ("uniform", 5, 2000, 2000), ("ties", 6, 400, 400), ("ties", 7, 1000, 1000), ("inf", 8, 300, 300),
    ("lowrank", 9, 1500, 1500), ("lowrank", 10, 3000, 3000), ("uniform", 11, 300, 500),
    ("uniform", 12, 500, 300), ("ties", 13, 200, 350), ("scaled", 14, 400, 400), ("inf", 15, 120, 200),
]

out = []
for kind, seed, n, m in CASES:
    c = matrix(kind, seed, n, m)
    r, col = linear_sum_assignment(c)
    out.append({"kind": kind, "seed": seed, "rows": n, "columns": m, "total": float(c[r, col].sum()),
                "pairs": int(len(r))})
path = os.path.join(os.path.dirname(__file__), "..", "fixtures", "assignment", "expected.json")
with open(path, "w") as f:
    json.dump({"generator": "scipy.optimize.linear_sum_assignment", "cases": out}, f, indent=1)
print(path)
