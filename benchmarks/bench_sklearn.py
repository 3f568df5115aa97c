"""genmix.sklearn.GaussianMixture().fit against sklearn.mixture.GaussianMixture().fit, end to end.

Both with scikit-learn's defaults (``init_params='kmeans'``, ``max_iter=100``, ``tol=1e-3``, ``reg_covar=1e-6``)
and the same ``random_state``, so they start from the same k-means labels (genmix calls scikit-learn's
KMeans for that start) and run the same EM loop; the time difference is the E- and M-steps. Reported per
workload and covariance type: both times (median of ``--repeats`` interleaved rounds), the speed-up, the
iterations and the final mean log-likelihood of each (the issue's condition: genmix's no worse than
scikit-learn's by more than 1e-6 per sample).

Run by hand: ``python benchmarks/bench_sklearn.py [--quick] [--repeats N] [--threads 1]``.
"""
import argparse
import os
import statistics
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _harness import machine_report  # noqa: E402

WORKLOADS = [("full", 1_000_000, 10, 10), ("diag", 1_000_000, 10, 10)] + \
    [(t, 200_000, 32, 8) for t in ("full", "tied", "diag", "spherical")]


def make_data(n, d, k, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 4, (k, d))
    labels = rng.integers(0, k, n)
    return centres[labels] + rng.normal(size=(n, d)) * rng.uniform(0.5, 1.5, (k, d))[labels]


def timed(cls, X, covariance_type, k):
    from sklearn.exceptions import ConvergenceWarning

    model = cls(n_components=k, covariance_type=covariance_type, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        model.fit(X)
        seconds = time.perf_counter() - start
    return seconds, model.n_iter_, model.score(X)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="use n / 10 samples")
    parser.add_argument("--repeats", type=int, default=1, help="interleaved rounds per case (default: 1)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads for both (default: 1)")
    args = parser.parse_args()
    from sklearn.mixture import GaussianMixture as Theirs
    from threadpoolctl import threadpool_limits

    from genmix.sklearn import GaussianMixture as Ours

    print("# genmix.sklearn.GaussianMixture vs sklearn.mixture.GaussianMixture, fit end to end\n")
    print(machine_report())
    print(f"- BLAS threads: {args.threads}; rounds: {args.repeats}; scale: {'1/10' if args.quick else '1'}\n")
    print("| workload | scikit-learn | genmix | speed-up | iterations (sklearn, genmix) | mean LL sklearn | genmix − sklearn |")
    print("| --- | ---: | ---: | ---: | --- | ---: | ---: |")
    with threadpool_limits(args.threads):
        for ctype, n, d, k in WORKLOADS:
            n = n // 10 if args.quick else n
            X = make_data(n, d, k)
            times = {"theirs": [], "ours": []}
            for _ in range(args.repeats):
                t_theirs, it_theirs, ll_theirs = timed(Theirs, X, ctype, k)
                t_ours, it_ours, ll_ours = timed(Ours, X, ctype, k)
                times["theirs"].append(t_theirs)
                times["ours"].append(t_ours)
            a, b = statistics.median(times["theirs"]), statistics.median(times["ours"])
            print(f"| {ctype} n={n:,} d={d} k={k} | {a:.2f} s | {b:.2f} s | **{a / b:.1f}×** | ({it_theirs}, {it_ours}) "
                  f"| {ll_theirs:.6f} | {ll_ours - ll_theirs:+.1e} |", flush=True)


if __name__ == "__main__":
    main()
