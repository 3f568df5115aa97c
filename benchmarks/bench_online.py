"""Stepwise (online) EM: partial_fit over small batches against the full-batch fit, on 1,000,000 rows.

A 4-component full-covariance Gaussian mixture in d = 5 (1,000,000 rows, one fixed initial model for both).
Full batch: ``GeneralMixtureModel.fit`` to ``stop_threshold = 1e-6 · n``. Online: three passes of
``partial_fit`` over 10,000-row batches (300 steps, default schedule ``(t + 2)^-0.6``), then the same for
``genmix.sklearn.GaussianMixture.partial_fit`` from its own k-means start. Reported: the mean
log-likelihood of all rows under each model and the gap to the full-batch fit (the issue's target: below
1e-3), and the times.

Run by hand: ``python benchmarks/bench_online.py [--quick]``.
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _harness import machine_report  # noqa: E402


def make_data(n, d=5, k=4, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, (k, d))
    mixing = [rng.normal(size=(d, d)) * 0.4 + np.eye(d) for _ in range(k)]
    labels = rng.integers(0, k, n)
    X = np.empty((n, d))
    for j in range(k):
        rows = labels == j
        X[rows] = centres[j] + rng.normal(size=(rows.sum(), d)) @ mixing[j]
    return X


def start(X, k=4, seed=1):
    from genmix import GeneralMixtureModel, MultivariateGaussianDistribution

    rng = np.random.default_rng(seed)
    return GeneralMixtureModel([MultivariateGaussianDistribution(X[i], np.cov(X[:10_000].T))
                                for i in rng.choice(len(X), k, replace=False)])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="use n / 10 samples and 1,000-row batches")
    args = parser.parse_args()
    n, batch = (100_000, 1_000) if args.quick else (1_000_000, 10_000)
    print("# stepwise EM (partial_fit) vs full-batch EM\n")
    print(machine_report())
    X = make_data(n)
    t = time.perf_counter()
    full = start(X).fit(X, stop_threshold=1e-6 * n, max_iterations=10_000)
    t_full = time.perf_counter() - t
    reference = float(full.log_probability(X).mean())
    t = time.perf_counter()
    online = start(X)
    for _ in range(3):
        for s in range(0, n, batch):
            online.partial_fit(X[s:s + batch])
    t_online = time.perf_counter() - t
    rows = [("GeneralMixtureModel.fit (full batch)", reference, 0.0, t_full),
            ("GeneralMixtureModel.partial_fit, 3 passes", float(online.log_probability(X).mean()), None, t_online)]
    try:
        from genmix.sklearn import GaussianMixture
    except ImportError:
        print("scikit-learn is not installed: genmix.sklearn.GaussianMixture.partial_fit not measured")
    else:
        t = time.perf_counter()
        gm = GaussianMixture(4, random_state=0)
        for _ in range(3):
            for s in range(0, n, batch):
                gm.partial_fit(X[s:s + batch])
        rows.append(("genmix.sklearn.GaussianMixture.partial_fit, 3 passes", gm.score(X), None,
                     time.perf_counter() - t))
    print(f"\nn = {n:,}, d = 5, k = 4, batches of {batch:,} rows\n")
    print("| model | mean log-likelihood | gap to full batch | time |")
    print("| --- | ---: | ---: | ---: |")
    for name, ll, _, seconds in rows:
        print(f"| {name} | {ll:.6f} | {reference - ll:.2e} | {seconds:.1f} s |")


if __name__ == "__main__":
    main()
