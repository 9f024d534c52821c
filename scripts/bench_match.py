#!/usr/bin/env python3
"""SAE Match solver against scipy.optimize.linear_sum_assignment on the same matrices.

featurescope-cli bench match builds planted SAE-like pairs (easy and clustered), solves them
and dumps the float32 solver matrix (squared distances) and the same problem as -a.b (the
cross-Gram form: same optimum, and the form scipy is fastest on, 15x faster than on squared
distances at n=16384); this script times scipy on the Gram form and compares the optimal
squared-distance totals.

    python3 scripts/bench_match.py [--features 16384] [--cli build/default/app/featurescope-cli]
Needs Debian's python3-numpy and python3-scipy (benchmark only, never at run time).
"""
import argparse
import json
import subprocess
import tempfile
import time

import numpy as np
from scipy.optimize import linear_sum_assignment

p = argparse.ArgumentParser()
p.add_argument("--features", type=int, default=16384)
p.add_argument("--d", type=int, default=2304)
p.add_argument("--cli", default="build/default/app/featurescope-cli")
args = p.parse_args()

with tempfile.TemporaryDirectory() as tmp:
    out = subprocess.run([args.cli, "bench", "match", "--features", str(args.features), "--d", str(args.d), "--dump", tmp,
                          "--json"], check=True, capture_output=True, text=True).stdout
    for row in json.loads(out):
        g = np.load(row["gram_matrix"]).astype(np.float64)
        ours = row["solve_seconds"]
        t0 = time.perf_counter()
        r, col = linear_sum_assignment(g)
        scipy_s = time.perf_counter() - t0
        del g
        c = np.load(row["matrix"]).astype(np.float64)
        total = c[r, col].sum()
        del c
        print(f"{row['kind']:9s} n={row['features']}  ours {ours:8.2f} s  scipy {scipy_s:8.2f} s  "
              f"speed-up {scipy_s / ours:6.1f}x  totals {row['solver_total']:.6f} vs {total:.6f}  "
              f"(relative difference {abs(row['solver_total'] - total) / abs(total):.1e})", flush=True)
