"""Per-EM-iteration time of genmix against scikit-learn's GaussianMixture, from the same start.

Run by hand (never by pytest)::

    python benchmarks/bench_em.py            # full size, BLAS threads pinned to 1 and then 2
    python benchmarks/bench_em.py --quick    # n / 10
    python benchmarks/bench_em.py --threads 1 --repeats 7

Both libraries start from the same weights, means and covariances and run exactly ``ITERATIONS`` EM
iterations with every stopping rule and regulariser off (genmix ``stop_threshold=0.0``; sklearn
``tol=0``, ``reg_covar=0``, ``max_iter=ITERATIONS``, all three ``*_init`` given so no k-means runs). A
call of either ``fit`` then does the same work: ``ITERATIONS + 1`` E-steps (genmix scores the start,
sklearn does a final E-step for its labels), ``ITERATIONS`` M-steps and one pass of input checks. The
reported time is the wall time of one ``fit`` divided by ``ITERATIONS``.

After timing, the final log-likelihoods of the two fits are compared (``model.log_probability(X).sum()``
against ``gm.score(X) * n``, relative tolerance 1e-8), and the peak memory that one EM iteration
allocates beyond ``X`` is measured with ``tracemalloc`` (numpy reports its buffers to it).

The class :class:`EMIteration` is asv-shaped (``params``, ``setup``, ``time_*``); ``main`` runs it through
the interleaving harness in ``_harness.py``.
"""
import argparse
import os
import sys
import time
import tracemalloc
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _harness import (Case, compare, format_table, load_average, machine_report,  # noqa: E402
                      wait_for_idle)

ITERATIONS = 5
SEED = 20240601
LL_RTOL = 1e-8

# name -> (covariance kind, n_samples, n_features, n_components)
WORKLOADS = {
    "full n=100k d=2 k=3": ("full", 100_000, 2, 3),
    "full n=200k d=10 k=5": ("full", 200_000, 10, 5),
    "diag n=200k d=10 k=5": ("diag", 200_000, 10, 5),
    "univariate n=1M k=5": ("univariate", 1_000_000, 1, 5),
}


def make_problem(kind, n, d, k, seed=SEED):
    """Seeded data from a mixture of shifted Gaussians, and a common, deliberately imperfect start.

    Returns ``X`` (n, d) and ``start = (weights, means, covs)`` where ``covs`` is ``(k, d, d)`` for
    ``full`` and ``(k, d)`` variances otherwise.
    """
    rng = np.random.default_rng(seed)
    weights = rng.dirichlet(np.full(k, 5.0))
    means = rng.normal(0.0, 3.0, size=(k, d))
    counts = rng.multinomial(n, weights)
    parts = []
    for j in range(k):
        if kind == "full":
            A = rng.normal(0.0, 0.5, size=(d, d))
            cov = A @ A.T + 0.5 * np.eye(d)
            parts.append(rng.multivariate_normal(means[j], cov, size=counts[j]))
        else:
            std = rng.uniform(0.5, 1.5, size=d)
            parts.append(means[j] + std * rng.standard_normal((counts[j], d)))
    X = np.concatenate(parts)[rng.permutation(n)]
    X = np.ascontiguousarray(X)
    start_means = means + rng.normal(0.0, 0.5, size=(k, d))
    start_weights = np.full(k, 1.0 / k)
    if kind == "full":
        start_covs = np.repeat(np.cov(X, rowvar=False).reshape(1, d, d), k, axis=0)
    else:
        start_covs = np.repeat(X.var(axis=0).reshape(1, d), k, axis=0)
    return X, (start_weights, start_means, start_covs)


def genmix_model(kind, start):
    """A genmix mixture with the given starting parameters."""
    from genmix import (GeneralMixtureModel, IndependentComponentsDistribution,
                        MultivariateGaussianDistribution, NormalDistribution)

    weights, means, covs = start
    if kind == "full":
        comps = [MultivariateGaussianDistribution(m, c) for m, c in zip(means, covs)]
    elif kind == "diag":
        comps = [IndependentComponentsDistribution([NormalDistribution(float(mu), float(np.sqrt(v)))
                                                    for mu, v in zip(m, var)])
                 for m, var in zip(means, covs)]
    else:
        comps = [NormalDistribution(float(m[0]), float(np.sqrt(var[0]))) for m, var in zip(means, covs)]
    return GeneralMixtureModel(comps, weights=weights)


def sklearn_model(kind, start, max_iter=ITERATIONS):
    """A scikit-learn GaussianMixture with the same start, no regularisation and no stopping rule."""
    from sklearn.mixture import GaussianMixture

    weights, means, covs = start
    if kind == "full":
        precisions = np.linalg.inv(covs)
        precisions = 0.5 * (precisions + np.transpose(precisions, (0, 2, 1)))
        cov_type = "full"
    else:
        precisions = 1.0 / covs
        cov_type = "diag"
    return GaussianMixture(n_components=len(weights), covariance_type=cov_type, tol=0.0, reg_covar=0.0,
                           max_iter=max_iter, n_init=1, weights_init=weights, means_init=means,
                           precisions_init=precisions)


def fit_genmix(X, kind, start, iterations=ITERATIONS):
    return genmix_model(kind, start).fit(X, max_iterations=iterations, stop_threshold=0.0)


def fit_sklearn(X, kind, start, iterations=ITERATIONS):
    from sklearn.exceptions import ConvergenceWarning

    gm = sklearn_model(kind, start, max_iter=iterations)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # tol=0 never "converges", by design
        return gm.fit(X)


class EMIteration:
    """asv-shaped: one EM iteration of genmix and of scikit-learn, per workload."""

    params = list(WORKLOADS)
    param_names = ["workload"]

    def __init__(self, scale=1.0):
        self.scale = scale

    def setup(self, workload):
        kind, n, d, k = WORKLOADS[workload]
        self.kind = kind
        self.X, self.start = make_problem(kind, max(int(n * self.scale), 10 * k), d, k)

    def time_genmix(self, workload):
        fit_genmix(self.X, self.kind, self.start)

    def time_sklearn(self, workload):
        fit_sklearn(self.X, self.kind, self.start)


def check_agreement(X, kind, start):
    """Fit both from the same start; return ``(genmix LL, sklearn LL, relative difference, iterations)``."""
    model, history = genmix_model(kind, start).fit(X, max_iterations=ITERATIONS, stop_threshold=0.0,
                                                    return_history=True)
    gm = fit_sklearn(X, kind, start)
    ll_genmix = float(model.log_probability(X).sum())
    ll_sklearn = float(gm.score(X) * X.shape[0])
    rel = abs(ll_genmix - ll_sklearn) / abs(ll_sklearn)
    return ll_genmix, ll_sklearn, rel, (len(history.epochs), int(gm.n_iter_))


def peak_memory(fn):
    """Peak bytes allocated (beyond what was live before) while ``fn()`` runs, via tracemalloc."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - before


def _mib(b):
    return f"{b / 2 ** 20:.1f} MiB"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="use n / 10 samples")
    parser.add_argument("--threads", default="1,2",
                        help="comma-separated BLAS thread limits, each timed in turn (default: 1,2)")
    parser.add_argument("--repeats", type=int, default=5, help="timed rounds per case (default: 5)")
    parser.add_argument("--workloads", default=None,
                        help="comma-separated substrings selecting workloads (default: all)")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc measurement")
    parser.add_argument("--wait-idle", type=float, default=0.0, metavar="SECONDS",
                        help="before each comparison, wait up to SECONDS for other processes to leave the "
                             "CPUs idle (default: 0, do not wait); the foreign load is reported either way")
    args = parser.parse_args(argv)

    from threadpoolctl import threadpool_limits

    scale = 0.1 if args.quick else 1.0
    limits = list(dict.fromkeys(int(t) for t in args.threads.split(",")))  # unique, in the given order
    names = [w for w in WORKLOADS
             if args.workloads is None or any(s.strip() in w for s in args.workloads.split(","))]
    t_start = time.perf_counter()

    print("# genmix EM iteration vs scikit-learn GaussianMixture\n")
    print(machine_report())
    print(f"- command: python benchmarks/bench_em.py {' '.join(sys.argv[1:] if argv is None else argv)}")
    print(f"- {ITERATIONS} EM iterations per fit; time per iteration = fit time / {ITERATIONS}; "
          f"{args.repeats} interleaved rounds + 1 warm-up, median; scale = {scale:g}")
    print()

    bench = EMIteration(scale)
    problems = {}
    for name in names:
        bench.setup(name)
        problems[name] = (bench.X, bench.kind, bench.start)

    summary = {}
    for lim in limits:
        print(f"## BLAS threads = {lim}\n")
        for name in names:
            X, kind, start = problems[name]
            if args.wait_idle > 0:
                waited, load = wait_for_idle(args.wait_idle, threshold=0.1)
                if not load < 0.1:
                    print(f"(gave up waiting for an idle machine after {waited:.0f} s: other processes "
                          f"keep {load:.1f} cores busy)\n")
            results = compare([Case("genmix", lambda X=X, kind=kind, start=start: fit_genmix(X, kind, start)),
                               Case("sklearn", lambda X=X, kind=kind, start=start: fit_sklearn(X, kind, start))],
                              baseline="sklearn", repeats=args.repeats, warmup=1, limits=lim, per=ITERATIONS)
            summary[(lim, name)] = results
            print(format_table(results, title=f"{name} (n={X.shape[0]:,}), per iteration"))
            print(flush=True)

    print("## Summary: genmix / sklearn per-iteration median (< 1: genmix faster)\n")
    header = "| workload | " + " | ".join(f"genmix ({t} thr) | sklearn ({t} thr) | ratio ({t} thr)"
                                          for t in limits) + " | foreign load (cores) |"
    print(header)
    print("| --- |" + " ---: | ---: | ---: |" * len(limits) + " ---: |")
    for name in names:
        cells = []
        for lim in limits:
            g, s = summary[(lim, name)]
            cells += [f"{g.median * 1e3:.1f} ms", f"{s.median * 1e3:.1f} ms", f"**{g.ratio:.2f}**"]
        loads = "/".join(f"{summary[(lim, name)][0].foreign_load:.2f}" for lim in limits)
        print(f"| {name} | " + " | ".join(cells) + f" | {loads} |")
    print()

    print(f"## Log-likelihood agreement after {ITERATIONS} iterations (relative tolerance {LL_RTOL:g})\n")
    print("| workload | genmix LL | sklearn LL | relative difference | iterations (genmix, sklearn) | ok |")
    print("| --- | ---: | ---: | ---: | --- | --- |")
    all_ok = True
    with threadpool_limits(limits=limits[0]):
        for name in names:
            X, kind, start = problems[name]
            lg, ls, rel, its = check_agreement(X, kind, start)
            ok = rel <= LL_RTOL and its == (ITERATIONS, ITERATIONS)
            all_ok &= ok
            print(f"| {name} | {lg:.10e} | {ls:.10e} | {rel:.2e} | {its} | {'yes' if ok else 'NO'} |")
    print()

    if not args.no_memory:
        print("## Peak extra memory of one EM iteration (tracemalloc; fit with 1 iteration = 2 E-steps, "
              "1 M-step)\n")
        print("| workload | size of X | genmix peak | sklearn peak | genmix / sklearn |")
        print("| --- | ---: | ---: | ---: | ---: |")
        with threadpool_limits(limits=limits[0]):
            for name in names:
                X, kind, start = problems[name]
                pg = peak_memory(lambda: fit_genmix(X, kind, start, iterations=1))
                ps = peak_memory(lambda: fit_sklearn(X, kind, start, iterations=1))
                print(f"| {name} | {_mib(X.nbytes)} | {_mib(pg)} | {_mib(ps)} | {pg / ps:.2f} |")
        print()

    print(f"total benchmark time: {time.perf_counter() - t_start:.0f} s; load average at end (1, 5, 15 min): "
          f"{load_average()}")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
