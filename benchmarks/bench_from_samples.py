"""``from_samples`` end to end against scikit-learn's ``GaussianMixture(max_iter=10)`` with its default
k-means initialisation, over several seeds (issue 19, item 4).

Run by hand (never by pytest)::

    python benchmarks/bench_from_samples.py                 # n = 1,000,000, d = 10, k = 10, seeds 0-4
    python benchmarks/bench_from_samples.py --quick         # n / 10
    python benchmarks/bench_from_samples.py --threads 2

genmix: ``GeneralMixtureModel.from_samples(MultivariateGaussianDistribution, 10, X, init='kmeans++',
random_state=seed, max_iterations=10, stop_threshold=0.0)`` — k-means++ seeding on a reservoir sample,
Lloyd iterations over all the data (the default ``max_kmeans_iterations=10``), the per-cluster fits, then
exactly 10 EM iterations. scikit-learn: ``GaussianMixture(10, max_iter=10, random_state=seed)`` — its
defaults: ``init_params='kmeans'`` (a full ``KMeans`` run, ``n_init=1``), ``tol=1e-3`` (it may stop before
10 iterations; its iteration count is reported; ``--sklearn-tol 0`` runs all 10), ``reg_covar=1e-6``. Both are timed end to end on the
same data (``bench_em.make_problem('full', …)``), the two alternating per seed, BLAS threads pinned with
threadpoolctl. Reported: each side's median time, the ratio, and the final mean log-likelihood of each
side averaged over the seeds (genmix ``log_probability(X).mean()``, scikit-learn ``score(X)``).
"""
import argparse
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _harness import load_average, machine_report, wait_for_idle  # noqa: E402
from bench_em import make_problem  # noqa: E402

N, D, K = 1_000_000, 10, 10
ITERATIONS = 10


def genmix_fit(X, seed, n_jobs):
    from genmix import GeneralMixtureModel, MultivariateGaussianDistribution

    return GeneralMixtureModel.from_samples(MultivariateGaussianDistribution, K, X, init="kmeans++",
                                            random_state=seed, max_iterations=ITERATIONS, stop_threshold=0.0,
                                            n_jobs=n_jobs)


def sklearn_fit(X, seed, tol=1e-3):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return GaussianMixture(K, max_iter=ITERATIONS, tol=tol, random_state=seed).fit(X)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="n / 10")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (genmix: n_jobs) (default 1)")
    parser.add_argument("--wait-idle", type=float, default=0.0, metavar="SECONDS")
    parser.add_argument("--sklearn-tol", type=float, default=1e-3,
                        help="scikit-learn's tol (default its own 1e-3, with which it may stop before 10 "
                        "iterations; 0 runs all 10, like genmix)")
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits

    n = N // 10 if args.quick else N
    X, _ = make_problem("full", n, D, K)
    if args.wait_idle:
        wait_for_idle(args.wait_idle)
    print(machine_report())
    print(f"workload: full covariance, n={n:,}, d={D}, k={K}; {args.seeds} seeds; threads {args.threads}; "
          f"load average {load_average()}\n")
    rows = []
    with threadpool_limits(args.threads):
        genmix_fit(X[:20_000], 0, args.threads)  # warm-up: imports, first calls
        sklearn_fit(X[:20_000], 0)
        for seed in range(args.seeds):
            order = ("genmix", "sklearn") if seed % 2 == 0 else ("sklearn", "genmix")
            out = {}
            for side in order:
                t0 = time.perf_counter()
                model = genmix_fit(X, seed, args.threads) if side == "genmix" else \
                    sklearn_fit(X, seed, args.sklearn_tol)
                out[side] = (time.perf_counter() - t0, model)
            tg, mg = out["genmix"]
            ts, ms = out["sklearn"]
            lg = float(mg.log_probability(X, n_jobs=args.threads).mean())
            ls = float(ms.score(X))
            rows.append((seed, tg, ts, lg, ls, ms.n_iter_))
            print(f"seed {seed}: genmix {tg:.2f} s, LL/n {lg:.6f}; sklearn {ts:.2f} s ({ms.n_iter_} EM "
                  f"iterations), LL/n {ls:.6f}", flush=True)
    tg = float(np.median([r[1] for r in rows]))
    ts = float(np.median([r[2] for r in rows]))
    lg = float(np.mean([r[3] for r in rows]))
    ls = float(np.mean([r[4] for r in rows]))
    print("\n| side | median time | speed-up | mean log-likelihood per row, averaged over seeds |")
    print("| --- | ---: | ---: | ---: |")
    print(f"| genmix from_samples (k-means++, 10 EM iterations) | {tg:.2f} s | **{ts / tg:.2f}×** | {lg:.6f} |")
    print(f"| scikit-learn GaussianMixture(max_iter=10, tol={args.sklearn_tol:g}), k-means init | {ts:.2f} s | "
          f"1.00× | {ls:.6f} |")
    print(f"\ngenmix − scikit-learn mean log-likelihood: {lg - ls:+.6f} per row "
          f"({'equal or better' if lg >= ls - 1e-9 else 'WORSE'}); load average at end {load_average()}")


if __name__ == "__main__":
    main()
