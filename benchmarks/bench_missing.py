"""The cost of missing values: one EM iteration with 20% of values missing at random vs complete data.

Workload (issue: missing data): a 5-component full-covariance mixture on 100,000 × 10 data; the same
model and starting point on the complete data and on the data with 20% of the values deleted at random.
Side by side, interleaved, BLAS threads pinned. Run by hand: ``python benchmarks/bench_missing.py``.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _harness import Case, compare, format_table, machine_report, wait_for_idle  # noqa: E402

from genmix import GeneralMixtureModel, MultivariateGaussianDistribution  # noqa: E402

ITERATIONS = 3


def main():
    rng = np.random.default_rng(0)
    n, d, k = 100_000, 10, 5
    centres = rng.normal(0, 3, (k, d))
    X = centres[rng.integers(0, k, n)] + rng.normal(0, 1, (n, d))
    X_missing = X.copy()
    X_missing[rng.random((n, d)) < 0.2] = np.nan

    def fit(data):
        model = GeneralMixtureModel([MultivariateGaussianDistribution(c + 0.5, np.eye(d)) for c in centres])
        return model.fit(data, max_iterations=ITERATIONS, stop_threshold=0.0)

    print(machine_report())
    print(f"\nworkload: n={n:,} d={d} k={k}, {np.isnan(X_missing).mean():.1%} of values missing at random, "
          f"{(np.isnan(X_missing).any(axis=1)).mean():.1%} of rows incomplete; time per EM iteration\n")
    for threads in (1, 2):
        wait_for_idle(60)
        results = compare([Case("complete data", lambda: fit(X)), Case("20% missing", lambda: fit(X_missing))],
                          baseline="complete data", repeats=5, limits=threads, per=ITERATIONS)
        print(format_table(results, title=f"BLAS threads = {threads}"))
        print()


if __name__ == "__main__":
    main()
