"""The cost of missing values: one EM iteration with 20% of values missing at random vs complete data.

Workload (issue: missing data): a 5-component full-covariance mixture on 100,000 × 10 data; the same
model and starting point on the complete data and on the data with 20% of the values deleted at random.
Second workload: Normal / Exponential / LogNormal columns (k=4, n=500,000) with 20% missing, on the fused
E-step (an indicator feature per column with NaN) against the general path (the fused step switched off).
Side by side, interleaved, BLAS threads pinned. Run by hand: ``python benchmarks/bench_missing.py``.
"""
import os
import sys

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _harness import Case, compare, format_table, machine_report, wait_for_idle  # noqa: E402

from genmix import (ExponentialDistribution, GeneralMixtureModel, IndependentComponentsDistribution,  # noqa: E402
                    LogNormalDistribution, MultivariateGaussianDistribution, NormalDistribution)
from genmix._fused import FusedEStep  # noqa: E402

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
        print(format_table(results, title=f"BLAS threads = {threads}: a fit of {ITERATIONS} iterations / {ITERATIONS}"))
        print()
    later_epochs(centres, X, X_missing)
    regimes()
    columns()


def regimes():
    """One E-step of the pattern path (``genmix._fused._PatternRowEStep``) against the conditional kernel
    alone (the fused step switched off), where patterns are nearly all unique, few, or all fused."""
    from genmix.estep import estep

    rng = np.random.default_rng(2)
    build = FusedEStep.__dict__["build"]

    def general(run):
        FusedEStep.build = classmethod(lambda cls, *a: None)
        try:
            return run()
        finally:
            FusedEStep.build = build

    print("**The pattern path against the conditional kernel alone (one E-step, 1 thread)**\n")
    print("| n | d | k | missing | fused patterns | rows on the kernel | pattern path | kernel alone | ratio |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for n, d, k, fraction in ((50_000, 32, 4, 0.2), (50_000, 32, 4, 0.02), (100_000, 10, 5, 0.5)):
        centres = rng.normal(0, 3, (k, d))
        X = centres[rng.integers(0, k, n)] + rng.normal(0, 1, (n, d))
        X[rng.random((n, d)) < fraction] = np.nan
        model = GeneralMixtureModel([MultivariateGaussianDistribution(c + 0.5, np.eye(d)) for c in centres])
        fused = FusedEStep.build(model.distributions, model.log_weights, X)
        w = np.ones(n)

        def run():
            return estep(model.distributions, model.log_weights, X, w)

        wait_for_idle(30)
        results = compare([Case("pattern path", run), Case("kernel alone", lambda: general(run))],
                          baseline="kernel alone", repeats=3, limits=1)
        times = {r.name: r.median for r in results}
        on_kernel = n if fused is None else n - fused.tail  # None: the pattern path declined
        print(f"| {n:,} | {d} | {k} | {fraction:.0%} | {getattr(fused, 'n_patterns', 0)} | "
              f"{on_kernel:,} | {1e3 * times['pattern path']:.1f} ms | "
              f"{1e3 * times['kernel alone']:.1f} ms | {times['pattern path'] / times['kernel alone']:.2f} |")
    print()


def later_epochs(centres, X, X_missing, iterations=12, repeats=5):
    """Per later EM iteration, as EM's history times them (``epoch_durations``, the first dropped): the fit's
    fixed costs (validation, the first E-step) left out. Interleaved repeats, medians, one BLAS thread."""
    d = X.shape[1]
    durations = {"complete data": [], "20% missing": []}
    with threadpool_limits(1):
        for _ in range(repeats):
            for name, data in (("complete data", X), ("20% missing", X_missing)):
                model = GeneralMixtureModel([MultivariateGaussianDistribution(c + 0.5, np.eye(d)) for c in centres])
                _, history = model.fit(data, max_iterations=iterations, stop_threshold=0.0, return_history=True)
                durations[name].extend(history.epoch_durations[1:])
    complete = float(np.median(durations["complete data"]))
    print(f"**Later iterations (median epoch duration of {repeats} fits x {iterations - 1} epochs, 1 thread)**\n")
    print("| case | median epoch | ratio to complete data |\n| --- | ---: | ---: |")
    for name, values in durations.items():
        print(f"| {name} | {1e3 * float(np.median(values)):.1f} ms | {float(np.median(values)) / complete:.2f} |")
    print()


def columns():
    """Missing values in per-column families: the fused E-step against the general path."""
    rng = np.random.default_rng(1)
    n, k = 500_000, 4
    label = rng.integers(0, k, n)
    X = np.column_stack([rng.normal(3.0 * label, 1.0), rng.exponential(1.0 + label),
                         rng.lognormal(0.5 * label, 0.5)])
    X[rng.random(X.shape) < 0.2] = np.nan

    def fit():
        model = GeneralMixtureModel([IndependentComponentsDistribution(
            [NormalDistribution(2.5 * j + 0.3, 1.5), ExponentialDistribution(1 / (1.5 + j)),
             LogNormalDistribution(0.4 * j, 0.7)]) for j in range(k)])
        return model.fit(X, max_iterations=ITERATIONS, stop_threshold=0.0)

    build = FusedEStep.__dict__["build"]

    def general():
        FusedEStep.build = classmethod(lambda cls, *a: None)
        try:
            return fit()
        finally:
            FusedEStep.build = build

    print(f"workload: Normal / Exponential / LogNormal columns, n={n:,} k={k}, "
          f"{np.isnan(X).mean():.1%} of values missing; time per EM iteration\n")
    wait_for_idle(60)
    results = compare([Case("fused E-step", fit), Case("general path", general)],
                      baseline="general path", repeats=5, limits=1, per=ITERATIONS)
    print(format_table(results, title="BLAS threads = 1"))
    print()


if __name__ == "__main__":
    main()
