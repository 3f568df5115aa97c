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

A float32 section times ``fit(dtype=np.float32)`` against float64 on every workload (genmix at one
thread; the float64 data converted once per fit, and given in float32), and compares the final mean
log-likelihoods of the two after ``FLOAT32_ITERATIONS`` iterations from the same start, both scored in
float64 (``--no-float32`` skips it).

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

# name -> (covariance kind, n_samples, n_features, n_components): the speed issue's workloads
WORKLOADS = {
    "full n=100k d=2 k=3": ("full", 100_000, 2, 3),
    "full n=1M d=10 k=10": ("full", 1_000_000, 10, 10),
    "full n=200k d=32 k=8": ("full", 200_000, 32, 8),
    "diag n=1M d=10 k=10": ("diag", 1_000_000, 10, 10),
    "univariate n=1M k=5": ("univariate", 1_000_000, 1, 5),
}
FROM_SAMPLES_ITERATIONS = 10
FLOAT32_ITERATIONS = 20  # the float32 section's log-likelihood comparison


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


def genmix_model(kind, start, library="genmix"):
    """A genmix mixture with the given starting parameters (``library="pomegranate"``: the same classes of
    pomegranate 0.x, whose API genmix keeps)."""
    import importlib

    lib = importlib.import_module(library)
    GeneralMixtureModel, NormalDistribution = lib.GeneralMixtureModel, lib.NormalDistribution
    IndependentComponentsDistribution = lib.IndependentComponentsDistribution
    MultivariateGaussianDistribution = lib.MultivariateGaussianDistribution

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


def fit_genmix(X, kind, start, iterations=ITERATIONS, n_jobs=1, dtype=None):
    return genmix_model(kind, start).fit(X, max_iterations=iterations, stop_threshold=0.0, n_jobs=n_jobs,
                                         dtype=dtype)


def fit_numpy_path(X, kind, start, iterations=ITERATIONS):
    """:func:`fit_genmix` with the compiled kernels turned off (``genmix._kernels.use(False)``)."""
    from genmix import _kernels as kernels  # here: bench_peers imports this module in pomegranate 0.14's venv

    with kernels.use(False):
        return fit_genmix(X, kind, start, iterations)


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


def from_samples_genmix(X, kind, k, n_jobs=1, iterations=FROM_SAMPLES_ITERATIONS):
    """End to end: k-means++ seeding, one Lloyd step, then ``iterations`` EM iterations."""
    from genmix import GeneralMixtureModel, MultivariateGaussianDistribution, NormalDistribution

    family = MultivariateGaussianDistribution if kind == "full" else NormalDistribution
    return GeneralMixtureModel.from_samples(family, k, X, init="kmeans++", max_kmeans_iterations=1,
                                            max_iterations=iterations, stop_threshold=0.0, n_jobs=n_jobs,
                                            random_state=SEED)


def from_samples_sklearn(X, kind, k, iterations=FROM_SAMPLES_ITERATIONS):
    """End to end: scikit-learn's k-means++ seeding (no Lloyd step), then ``iterations`` EM iterations."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture

    gm = GaussianMixture(k, covariance_type="full" if kind == "full" else "diag", tol=0.0,
                         max_iter=iterations, init_params="k-means++", random_state=SEED)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return gm.fit(X)


def first_call(X, kind, start, repeats):
    """``(fit(1), later iteration)`` medians in this process, BLAS pinned to one thread."""
    from threadpoolctl import threadpool_limits

    ones, laters = [], []
    with threadpool_limits(limits=1):
        for _ in range(repeats):
            t0 = time.perf_counter()
            fit_genmix(X, kind, start, iterations=1)
            t1 = time.perf_counter()
            fit_genmix(X, kind, start, iterations=ITERATIONS)
            t5 = time.perf_counter() - t1
            ones.append(t1 - t0)
            laters.append((t5 - (t1 - t0)) / (ITERATIONS - 1))
    return float(np.median(ones)), float(np.median(laters))


_COLD = """
import sys, time
sys.path.insert(0, {here!r})
from bench_em import EMIteration, fit_genmix, ITERATIONS
from threadpoolctl import threadpool_limits
bench = EMIteration({scale!r})
bench.setup({name!r})
import genmix  # imported before the clock starts: the first call, not the import, is measured
with threadpool_limits(limits=1):
    t0 = time.perf_counter(); fit_genmix(bench.X, bench.kind, bench.start, iterations=1); first = time.perf_counter() - t0
    t0 = time.perf_counter(); fit_genmix(bench.X, bench.kind, bench.start, iterations=1); one = time.perf_counter() - t0
    t0 = time.perf_counter(); fit_genmix(bench.X, bench.kind, bench.start, iterations=ITERATIONS)
    five = time.perf_counter() - t0
print(first, (five - one) / (ITERATIONS - 1))
"""


def first_call_cold(name, scale):
    """``(first fit(1) of a fresh process, its later iteration)``."""
    import subprocess

    code = _COLD.format(here=os.path.dirname(os.path.abspath(__file__)), scale=scale, name=name)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    first, later = map(float, out.stdout.split())
    return first, later


def _kernels_available():
    from genmix import _kernels

    return _kernels.available()


def em_flops(kind, n, d, k):
    """Floating-point operations of one E-step plus statistics, ``(genmix, scikit-learn)``.

    genmix (genmix/_fused.py): two GEMMs with the ``F``-feature block, ``F = 1 + d + d(d+1)/2``
    (full) or ``1 + 2d`` (diagonal), i.e. ``2·2·n·k·F``. scikit-learn (full): ``X P`` per component in
    the E-step and ``(r·(X−μ))ᵀ(X−μ)`` per component in the M-step, ``2·2·n·k·d²``; (diagonal): three
    ``(n, d) × (d, k)`` products in the E-step and two in the M-step, ``5·2·n·k·d``. Elementwise work
    (exp, log-sum-exp) is not counted.
    """
    if kind == "full":
        return 4.0 * n * k * (1 + d + d * (d + 1) / 2), 4.0 * n * k * d * d
    return 4.0 * n * k * (1 + 2 * d), 10.0 * n * k * d


def dgemm_peak(limit, size=4000):
    """The machine's dgemm rate (GFLOP/s) with ``limit`` BLAS threads: best of 3 square products."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    A, B = rng.random((size, size)), rng.random((size, size))
    best = np.inf
    with threadpool_limits(limits=limit):
        for _ in range(3):
            t0 = time.perf_counter()
            A @ B
            best = min(best, time.perf_counter() - t0)
    return 2.0 * size ** 3 / best / 1e9


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
    parser.add_argument("--scale", type=float, default=None, help="multiply every n by this (overrides --quick)")
    parser.add_argument("--threads", default="1,2",
                        help="comma-separated BLAS thread limits, each timed in turn (default: 1,2)")
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds per case (default: 3)")
    parser.add_argument("--workloads", default=None,
                        help="comma-separated substrings selecting workloads (default: all)")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc measurement")
    parser.add_argument("--no-from-samples", action="store_true", help="skip the end-to-end from_samples timing")
    parser.add_argument("--no-float32", action="store_true", help="skip the float32 (dtype=np.float32) section")
    parser.add_argument("--no-first-call", action="store_true",
                        help="skip the first-call overhead (fit(max_iterations=1) against a later iteration)")
    parser.add_argument("--wait-idle", type=float, default=0.0, metavar="SECONDS",
                        help="before each comparison, wait up to SECONDS for other processes to leave the "
                             "CPUs idle (default: 0, do not wait); the foreign load is reported either way")
    args = parser.parse_args(argv)

    from threadpoolctl import threadpool_limits

    scale = args.scale if args.scale is not None else (0.1 if args.quick else 1.0)
    limits = list(dict.fromkeys(int(t) for t in args.threads.split(",")))  # unique, in the given order
    names = [w for w in WORKLOADS
             if args.workloads is None or any(s.strip() in w for s in args.workloads.split(","))]
    t_start = time.perf_counter()

    print("# genmix EM iteration vs scikit-learn GaussianMixture\n")
    print(machine_report())
    print(f"- command: python benchmarks/bench_em.py {' '.join(sys.argv[1:] if argv is None else argv)}")
    print(f"- {ITERATIONS} EM iterations per fit; time per iteration = fit time / {ITERATIONS}; "
          f"{args.repeats} interleaved rounds + 1 warm-up, median; scale = {scale:g}")
    print("- at BLAS threads = t, `genmix n_jobs=t` splits the rows over t threads (BLAS pinned to 1 inside "
          "each); `genmix` alone uses t BLAS threads")
    peaks = {lim: dgemm_peak(lim) for lim in limits}
    print("- measured dgemm peak (4000 x 4000): " + ", ".join(f"{peaks[t]:.1f} GFLOP/s at {t} thread(s)"
                                                             for t in limits))
    print()

    bench = EMIteration(scale)
    problems = {}
    for name in names:
        bench.setup(name)
        problems[name] = (bench.X, bench.kind, bench.start)

    def idle():
        if args.wait_idle > 0:
            waited, load = wait_for_idle(args.wait_idle, threshold=0.1)
            if not load < 0.1:
                print(f"(gave up waiting for an idle machine after {waited:.0f} s: other processes "
                      f"keep {load:.1f} cores busy)\n")

    summary, numpy_path = {}, {}
    for lim in limits:
        print(f"## BLAS threads = {lim}\n")
        for name in names:
            X, kind, start = problems[name]
            idle()
            cases = [Case("genmix", lambda X=X, kind=kind, start=start: fit_genmix(X, kind, start))]
            if lim > 1:
                cases.append(Case(f"genmix n_jobs={lim}", lambda X=X, kind=kind, start=start, lim=lim:
                                  fit_genmix(X, kind, start, n_jobs=lim)))
            if _kernels_available() and kind == "full":  # the numpy path, the kernels' fallback, beside them
                cases.append(Case("genmix, numpy path", lambda X=X, kind=kind, start=start:
                                  fit_numpy_path(X, kind, start)))
            cases.append(Case("sklearn", lambda X=X, kind=kind, start=start: fit_sklearn(X, kind, start)))
            results = compare(cases, baseline="sklearn", repeats=args.repeats, warmup=1, limits=lim,
                              per=ITERATIONS)
            print(format_table(results, title=f"{name} (n={X.shape[0]:,}), per iteration"))
            print(flush=True)
            numpy_path[(lim, name)] = next((r for r in results if r.name == "genmix, numpy path"), None)
            summary[(lim, name)] = [r for r in results if r.name != "genmix, numpy path"]

    print("## Summary: per-iteration median, ratio = sklearn time / genmix time (> 1: genmix faster)\n")
    print("| workload | BLAS threads | genmix | genmix n_jobs | sklearn | speed-up | speed-up, n_jobs | "
          "foreign load (cores) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in names:
        for lim in limits:
            res = summary[(lim, name)]
            g, s = res[0], res[-1]
            par = res[1] if len(res) == 3 else None
            print(f"| {name} | {lim} | {g.median * 1e3:.1f} ms | "
                  + (f"{par.median * 1e3:.1f} ms" if par else "-") + f" | {s.median * 1e3:.1f} ms | "
                  f"**{s.median / g.median:.2f}×** | " + (f"**{s.median / par.median:.2f}×**" if par else "-")
                  + f" | {g.foreign_load:.2f} |")
    print()

    if not args.no_float32:
        print(f"## float32: `fit(dtype=np.float32)` against float64, genmix at BLAS threads = 1; target >= 1.6x "
              f"on full d=10 with the final mean log-likelihood within 1e-6 relative\n")
        print(f"Per iteration = fit({ITERATIONS}) / {ITERATIONS}, interleaved rounds. `float32` converts the "
              "float64 X once per fit (included); `float32, float32 X` is given the data in float32. The "
              f"log-likelihoods: both fits run {FLOAT32_ITERATIONS} iterations from the same start and are "
              "scored in float64 on the float64 data (`model.log_probability(X).mean()`).\n")
        rows = []
        for name in names:
            X, kind, start = problems[name]
            X32 = X.astype(np.float32)
            idle()
            cases = [Case("float64", lambda X=X, kind=kind, start=start: fit_genmix(X, kind, start)),
                     Case("float32", lambda X=X, kind=kind, start=start: fit_genmix(X, kind, start,
                                                                                    dtype=np.float32)),
                     Case("float32, float32 X", lambda X32=X32, kind=kind, start=start:
                          fit_genmix(X32, kind, start, dtype=np.float32))]
            res = compare(cases, baseline="float64", repeats=args.repeats, warmup=1, limits=1, per=ITERATIONS)
            with threadpool_limits(limits=1):
                l64 = float(fit_genmix(X, kind, start, FLOAT32_ITERATIONS).log_probability(X).mean())
                l32 = float(fit_genmix(X, kind, start, FLOAT32_ITERATIONS, dtype=np.float32)
                            .log_probability(X).mean())
            rows.append((name, res, l64, l32))
            print(format_table(res, title=f"{name} (n={X.shape[0]:,}), per iteration"))
            print(flush=True)
        print("| workload | float64 | float32 | speed-up | float32, float32 X | speed-up | mean LL float64 | "
              "mean LL float32 | relative difference |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for name, res, l64, l32 in rows:
            a, b, c = res
            print(f"| {name} | {a.median * 1e3:.1f} ms | {b.median * 1e3:.1f} ms | **{a.median / b.median:.2f}×** | "
                  f"{c.median * 1e3:.1f} ms | **{a.median / c.median:.2f}×** | {l64:.10f} | {l32:.10f} | "
                  f"{abs(l32 - l64) / abs(l64):.1e} |")
        print()

    if not args.no_first_call:
        print(f"## First-call overhead: `fit(max_iterations=1)` (two E-steps, one M-step, the input checks and "
              f"the fused step's build) against one later iteration = (fit(5) - fit(1)) / 4; target <= 2.5x\n")
        print("Warm: in this process, median of the rounds; cold: the first fit of a fresh process (genmix "
              "imported, the data already in memory), then its own later iterations. BLAS threads = 1.\n")
        print("| workload | per later iteration | fit(1) warm | warm ratio | fit(1) cold | cold ratio |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for name in names:
            X, kind, start = problems[name]
            idle()
            warm = first_call(X, kind, start, args.repeats)
            cold = first_call_cold(name, scale)
            print(f"| {name} | {warm[1] * 1e3:.1f} ms | {warm[0] * 1e3:.1f} ms | **{warm[0] / warm[1]:.2f}×** | "
                  f"{cold[0] * 1e3:.1f} ms | **{cold[0] / cold[1]:.2f}×** |", flush=True)
        print()

    full = [n for n in names if problems[n][1] == "full"]
    if full:
        print(f"## Achieved GFLOP/s of the full-covariance iteration (the GEMM work of the {ITERATIONS + 1} "
              f"E-steps of a fit / its time)\n")
        print("| workload | BLAS threads | genmix GFLOP/s | best genmix, % of dgemm peak | numpy path (kernels off), "
              "% of peak | sklearn GFLOP/s | dgemm peak |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for name in full:
            X, kind, start = problems[name]
            n, d = X.shape
            k = len(start[0])
            fg, fs = em_flops(kind, n, d, k)
            fg, fs = fg * (ITERATIONS + 1) / ITERATIONS, fs * (ITERATIONS + 1) / ITERATIONS  # per iteration
            for lim in limits:
                res = summary[(lim, name)]
                best = min(r.median for r in res[:-1])
                plain = numpy_path.get((lim, name))
                plain = "-" if plain is None else f"{100 * fg / plain.median / 1e9 / peaks[lim]:.0f}%"
                print(f"| {name} | {lim} | {fg / best / 1e9:.1f} | {100 * fg / best / 1e9 / peaks[lim]:.0f}% | "
                      f"{plain} | {fs / res[-1].median / 1e9:.1f} | {peaks[lim]:.1f} |")
        print()

    print(f"## Log-likelihood agreement after {ITERATIONS} iterations (relative tolerance {LL_RTOL:g})\n")
    print("| workload | genmix LL | sklearn LL | relative difference | iterations (genmix, sklearn) | ok |")
    print("| --- | ---: | ---: | ---: | --- | --- |")
    all_ok = True
    with threadpool_limits(limits=limits[0]):
        for name in names:
            X, kind, start = problems[name]
            lg, ls, rel, its = check_agreement(X, kind, start)
            ok = rel <= LL_RTOL  # genmix stops early only at an exact fixed point (tiny --scale runs)
            all_ok &= ok
            print(f"| {name} | {lg:.10e} | {ls:.10e} | {rel:.2e} | {its} | {'yes' if ok else 'NO'} |")
    print()

    if not args.no_from_samples:
        lim = limits[-1]
        print(f"## End to end: `from_samples` with k-means++ and {FROM_SAMPLES_ITERATIONS} EM iterations "
              f"(BLAS threads = {lim}, one round each)\n")
        print("genmix: k-means++ seeding + 1 Lloyd step + EM; scikit-learn: `init_params='k-means++'` (seeding "
              "only) + EM. The starts differ, so the log-likelihoods are reported, not compared.\n")
        print(f"| workload | genmix (n_jobs={lim}) | sklearn | speed-up | genmix LL / n | sklearn LL / n |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for name in names:
            X, kind, start = problems[name]
            k = len(start[0])
            idle()
            with threadpool_limits(limits=lim):
                t0 = time.perf_counter()
                model = from_samples_genmix(X, kind, k, n_jobs=lim)
                tg = time.perf_counter() - t0
                t0 = time.perf_counter()
                gm = from_samples_sklearn(X, kind, k)
                ts = time.perf_counter() - t0
            lg = float(model.log_probability(X, n_jobs=lim).mean())
            print(f"| {name} | {tg:.2f} s | {ts:.2f} s | **{ts / tg:.2f}×** | {lg:.6f} | {gm.score(X):.6f} |")
        print()

    if not args.no_memory:
        print(f"## Peak memory of a whole in-memory fit ({ITERATIONS} iterations from the start; tracemalloc: "
              "numpy buffers beyond X)\n")
        print("Target: at most 50% of the size of X on top of X.\n")
        print("| workload | size of X | genmix peak | genmix / size of X | sklearn peak | sklearn / size of X |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        with threadpool_limits(limits=limits[0]):
            for name in names:
                X, kind, start = problems[name]
                pg = peak_memory(lambda: fit_genmix(X, kind, start))
                ps = peak_memory(lambda: fit_sklearn(X, kind, start))
                print(f"| {name} | {_mib(X.nbytes)} | {_mib(pg)} | {pg / X.nbytes:.2f} | {_mib(ps)} | "
                      f"{ps / X.nbytes:.2f} |")
        print()

    print(f"total benchmark time: {time.perf_counter() - t_start:.0f} s; load average at end (1, 5, 15 min): "
          f"{load_average()}")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
