"""k-means++ seeding plus one Lloyd iteration: genmix vs scikit-learn, side by side.

genmix: ``genmix.init.kmeans(X, k, init="kmeans++", max_iterations=1)`` (a pass that draws the seeding
sample, at most 65,536 rows; greedy weighted D² seeding on it with 2 + log k candidates per step; then one
chunked GEMM Lloyd step over all rows and the final assignment).
scikit-learn: ``sklearn.cluster.kmeans_plusplus`` (the same greedy D² seeding) followed by
``KMeans(init=centres, n_init=1, max_iter=1, algorithm="lloyd")``. Also genmix's ``'kmeans||'``.

Run by hand: ``python benchmarks/bench_init.py [--quick] [--threads 1,2] [--wait-idle SECONDS]``.
"""
import argparse
import os
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _harness import Case, compare, format_table, machine_report, wait_for_idle  # noqa: E402


def make_data(n, d, k, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 5, (k, d))
    return centres[rng.integers(0, k, n)] + rng.normal(0, 1, (n, d))


def genmix_kmeans(X, k, init):
    from genmix.init import kmeans

    return kmeans(X, k, init=init, max_iterations=1, random_state=0)


def sklearn_kmeans(X, k):
    from sklearn.cluster import KMeans, kmeans_plusplus

    centres, _ = kmeans_plusplus(X, k, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_iter=1 "did not converge"
        return KMeans(k, init=centres, n_init=1, max_iter=1, algorithm="lloyd").fit(X)


def objective(X, centres):
    d2 = ((X[:, None, :] - centres[None]) ** 2).sum(-1) if len(X) <= 200_000 else None
    return None if d2 is None else float(d2.min(axis=1).sum())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n / 10")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--wait-idle", type=float, default=0.0)
    args = parser.parse_args(argv)
    n, d, k = (100_000 if args.quick else 1_000_000), 10, 10
    X = make_data(n, d, k)
    print(machine_report())
    print(f"\nworkload: n={n:,} d={d} k={k}, float64; k-means++ seeding + 1 Lloyd iteration\n")
    for threads in (int(t) for t in args.threads.split(",")):
        if args.wait_idle:
            wait_for_idle(args.wait_idle)
        results = compare([Case("genmix kmeans++", lambda: genmix_kmeans(X, k, "kmeans++")),
                           Case("genmix kmeans||", lambda: genmix_kmeans(X, k, "kmeans||")),
                           Case("sklearn", lambda: sklearn_kmeans(X, k))],
                          baseline="sklearn", repeats=5, limits=threads)
        print(format_table(results, title=f"BLAS threads = {threads}"))
        print()
    sub = X[:100_000]
    ours = genmix_kmeans(sub, k, "kmeans++")[0]
    theirs = sklearn_kmeans(sub, k).cluster_centers_
    print(f"k-means objective on the first 100,000 rows: genmix {objective(sub, ours):.6g}, "
          f"sklearn {objective(sub, theirs):.6g}")


if __name__ == "__main__":
    main()
