"""Per-EM-iteration time of genmix against pomegranate on a mixture with a different family per column.

Run by hand (never by pytest), with the ``bench`` extra installed (``pip install -e ".[bench]"``)::

    python benchmarks/bench_mixed.py                  # n=500,000, threads pinned to 1 and then 2
    python benchmarks/bench_mixed.py --quick          # n / 10
    python benchmarks/bench_mixed.py --threads 1 --repeats 7 --wait-idle 60

Workload: n=500,000 rows, d=3 columns, k=4 components, float64, seeded. Every component is an
independent-components product of Normal (column 0), Exponential (column 1) and LogNormal (column 2).
Both libraries start from the same weights and parameters (a deliberately imperfect start) and run
exactly ``ITERATIONS`` EM iterations with every stopping rule off: genmix ``stop_threshold=0.0``
(``max_iterations=ITERATIONS``), pomegranate 1.x ``tol=-inf`` (``max_iter=ITERATIONS``). The reported
time is the wall time of one ``fit`` divided by ``ITERATIONS``. The work is not quite equal, and the
difference counts against genmix: genmix scores the start and every update (``ITERATIONS + 1`` E-steps,
``ITERATIONS`` M-steps); pomegranate 1.x does ``ITERATIONS`` E-steps and ``ITERATIONS`` M-steps (it never
scores its last update).

pomegranate 1.x (torch, CPU), as used here:

* ``pomegranate.gmm.GeneralMixtureModel(dists, priors=..., max_iter=..., tol=...)`` over
  ``pomegranate.distributions.IndependentComponents([Normal([m], [var], covariance_type="diag"),
  Exponential([scale]), LogNormal([mu], [sigma**2], covariance_type="diag")])``. Normal and LogNormal
  take *variances*; Exponential takes the *scale* (mean, 1/rate). When every component is initialised,
  ``fit`` runs no k-means, so both libraries start from the same parameters.
* float64: pomegranate 1.x computes in the dtype of each module's first parameter, a ``[0.0]`` tensor it
  makes with torch's *default* dtype, and several of its buffers (the mixture's weight sums, the
  Exponential's statistics, IndependentComponents' log-density accumulator) are also made with the
  default dtype. Passing float64 parameters is therefore not enough: the models are built and fitted
  with ``torch.set_default_dtype(torch.float64)`` in force (restored afterwards). Out of the box it fits
  in float32; that run appears, for information only, in the log-likelihood table.
* Two pomegranate cases are timed. ``pomegranate`` is pomegranate's own classes with float64 as above.
  Even so, its ``IndependentComponents.summarize`` casts the responsibilities to float32 before handing
  them to the columns, so ``pomegranate f64w`` also runs, with a small subclass (defined below) whose
  ``summarize`` keeps them in float64 (passing strided column views instead of stock's contiguous
  casts, so it is a few percent slower here). The speed-up is taken against the faster of the two.
* Its LogNormal ``log_probability`` is the normal density of ``log x`` without the ``-log x`` Jacobian,
  so its log-likelihood differs from the true one (genmix's) by the constant ``sum(log x[:, 2])``. The
  constant is the same for every component, so responsibilities and the EM path are unchanged; the
  agreement check adds it back.
* The data are passed as a ``torch.from_numpy`` view of ``X`` (no copy); pomegranate would copy a numpy
  array on every E-step. ``check_data`` stays at its defaults in both libraries.
* Threads: BLAS/OpenMP pools are pinned with threadpoolctl (``_harness.compare``) and
  ``torch.set_num_threads`` is set to the same count for the comparison. At 2 threads genmix is timed
  with ``n_jobs=1`` and ``n_jobs=2``.

pomegranate 0.14 (Cython) is used instead when ``pomegranate.__version__`` starts with ``"0."``: the 0.x
``GeneralMixtureModel([IndependentComponentsDistribution([NormalDistribution(m, s),
ExponentialDistribution(rate), LogNormalDistribution(mu, sigma)]), ...], weights=...)`` fitted with
``fit(X, max_iterations=ITERATIONS, stop_threshold=0.0, n_jobs=threads)``. Its LogNormal includes the
Jacobian. That path is UNTESTED: 0.14 cannot be installed next to this project's numpy.

Log-likelihood: after the fits, genmix ``model.log_probability(X).sum()`` is compared with
pomegranate's ``model.log_probability(X).sum()`` (plus the Jacobian constant for 1.x); relative
tolerance 1e-8. Iteration counts come from the histories (genmix, 0.x) or by counting M-steps (1.x).

Memory: each library's fit runs in a fresh subprocess (threads pinned to 1), after one untimed warm-up
fit. The number reported is the kernel's resident-set high-water mark during the measured fit (VmHWM,
reset just before it through ``/proc/self/clear_refs``) minus the resident set just before it (VmRSS):
the extra resident memory the fit needed beyond the data, the model and the loaded libraries. It counts
torch's allocations, which tracemalloc does not see. The subprocess runs with
``MALLOC_MMAP_THRESHOLD_=131072`` so that large buffers are mmapped and given back to the kernel when
freed (glibc otherwise may keep and reuse them, hiding them from the resident set). Linux only. The
subprocess's whole peak (VmHWM over its life: interpreter, numpy, torch if loaded, data, both fits) is
shown beside it; ``ru_maxrss`` is not used, since Linux carries the parent's peak into a forked child.
"""
import argparse
import contextlib
import gc
import json
import os
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _harness import (Case, compare, format_table, load_average, machine_report,  # noqa: E402
                      wait_for_idle)

ITERATIONS = 5
SEED = 20240602
LL_RTOL = 1e-8
N_SAMPLES, N_COMPONENTS = 500_000, 4
SPEEDUP_TARGET = 1.5

# the generating mixture: per component, Normal(mean, std) | Exponential(rate) | LogNormal(mu, sigma)
TRUE_PARAMS = [
    {"mean": -3.0, "std": 1.0, "rate": 0.5, "mu": 0.0, "sigma": 0.5},
    {"mean": -1.0, "std": 0.8, "rate": 1.0, "mu": 0.6, "sigma": 0.4},
    {"mean": 1.0, "std": 1.2, "rate": 2.0, "mu": 1.2, "sigma": 0.6},
    {"mean": 3.0, "std": 1.0, "rate": 4.0, "mu": 1.8, "sigma": 0.5},
]


def make_problem(n=N_SAMPLES, seed=SEED):
    """Seeded data (n, 3) from the mixture in ``TRUE_PARAMS``, and a common, deliberately imperfect start.

    Returns ``X`` and ``start = (weights, params)``, ``params`` a list of one dict per component with the
    keys of ``TRUE_PARAMS``.
    """
    rng = np.random.default_rng(seed)
    k = len(TRUE_PARAMS)
    counts = rng.multinomial(n, rng.dirichlet(np.full(k, 5.0)))
    parts = []
    for p, c in zip(TRUE_PARAMS, counts):
        parts.append(np.column_stack([rng.normal(p["mean"], p["std"], c), rng.exponential(1.0 / p["rate"], c),
                                      rng.lognormal(p["mu"], p["sigma"], c)]))
    X = np.ascontiguousarray(np.concatenate(parts)[rng.permutation(n)])
    logx = np.log(X[:, 2])
    params = [{"mean": p["mean"] + rng.normal(0.0, 0.7), "std": float(X[:, 0].std()),
               "rate": p["rate"] * float(np.exp(rng.normal(0.0, 0.3))),
               "mu": p["mu"] + rng.normal(0.0, 0.3), "sigma": float(logx.std())} for p in TRUE_PARAMS]
    return X, (np.full(k, 1.0 / k), params)


# ---------------------------------------------------------------- genmix

def genmix_model(start):
    from genmix import (ExponentialDistribution, GeneralMixtureModel, IndependentComponentsDistribution,
                        LogNormalDistribution, NormalDistribution)

    weights, params = start
    comps = [IndependentComponentsDistribution([NormalDistribution(p["mean"], p["std"]),
                                                ExponentialDistribution(p["rate"]),
                                                LogNormalDistribution(p["mu"], p["sigma"])]) for p in params]
    return GeneralMixtureModel(comps, weights=weights)


def fit_genmix(X, start, iterations=ITERATIONS, n_jobs=1):
    return genmix_model(start).fit(X, max_iterations=iterations, stop_threshold=0.0, n_jobs=n_jobs)


# ---------------------------------------------------------------- pomegranate

def pomegranate_version():
    """pomegranate's version string, or None (with the reason) when it cannot be imported."""
    try:
        import pomegranate
    except Exception as exc:  # ImportError, or a torch/numpy mismatch raised while importing
        return None, f"{type(exc).__name__}: {exc}"
    return getattr(pomegranate, "__version__", "?"), None


@contextlib.contextmanager
def torch_float64(enabled=True):
    """Make float64 torch's default dtype inside the block (pomegranate 1.x takes its dtype from it)."""
    import torch

    old = torch.get_default_dtype()
    if enabled:
        torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(old)


@contextlib.contextmanager
def torch_threads(n):
    """Set torch's intra-op thread count inside the block (no-op without torch)."""
    try:
        import torch
    except ImportError:
        yield
        return
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def _float64_independent_components():
    """pomegranate 1.x's IndependentComponents whose ``summarize`` keeps the weights' dtype.

    The stock method casts the per-row weights (the responsibilities) to float32 before passing each
    column its slice; this one passes them unchanged, as an (n, d) view.
    """
    import torch
    from pomegranate.distributions import IndependentComponents

    class Float64WeightsIndependentComponents(IndependentComponents):
        def summarize(self, X, sample_weight=None):
            if bool(self.frozen):
                return
            X = torch.as_tensor(X)
            if sample_weight is None:
                w = torch.ones((1, 1), dtype=X.dtype)
            else:
                w = torch.as_tensor(sample_weight)
                if not torch.is_floating_point(w):
                    w = w.to(X.dtype)
                if w.ndim == 1:
                    w = w[:, None]
            w = w.expand(X.shape[0], X.shape[1])
            for j, column in enumerate(self.distributions):
                column.summarize(X[:, j:j + 1], sample_weight=w[:, j:j + 1])

    return Float64WeightsIndependentComponents


def pomegranate_model(start, iterations=ITERATIONS, float64=True, float64_weights=False):
    """A pomegranate 1.x mixture with the given start and no stopping rule (see the module docstring)."""
    import torch
    from pomegranate.distributions import Exponential, IndependentComponents, LogNormal, Normal
    from pomegranate.gmm import GeneralMixtureModel

    ic = _float64_independent_components() if float64_weights else IndependentComponents
    weights, params = start

    def t(v):
        return torch.tensor([v], dtype=torch.float64)

    with torch_float64(float64):
        comps = [ic([Normal(t(p["mean"]), t(p["std"] ** 2), covariance_type="diag"),
                     Exponential(t(1.0 / p["rate"])),
                     LogNormal(t(p["mu"]), t(p["sigma"] ** 2), covariance_type="diag")]) for p in params]
        return GeneralMixtureModel(comps, priors=torch.tensor(weights, dtype=torch.float64),
                                   max_iter=iterations, tol=float("-inf"))


def fit_pomegranate(Xt, start, iterations=ITERATIONS, float64=True, float64_weights=False):
    """Fit pomegranate 1.x on ``Xt`` (a torch tensor) from ``start``."""
    model = pomegranate_model(start, iterations, float64, float64_weights)
    with torch_float64(float64):
        return model.fit(Xt)


def pomegranate0_model(start):
    """A pomegranate 0.x mixture with the given start (UNTESTED: 0.x cannot be installed here)."""
    from pomegranate import (ExponentialDistribution, GeneralMixtureModel, IndependentComponentsDistribution,
                             LogNormalDistribution, NormalDistribution)

    weights, params = start
    comps = [IndependentComponentsDistribution([NormalDistribution(p["mean"], p["std"]),
                                                ExponentialDistribution(p["rate"]),
                                                LogNormalDistribution(p["mu"], p["sigma"])]) for p in params]
    return GeneralMixtureModel(comps, weights=np.asarray(weights))


def fit_pomegranate0(X, start, iterations=ITERATIONS, n_jobs=1):
    return pomegranate0_model(start).fit(X, max_iterations=iterations, stop_threshold=0.0, n_jobs=n_jobs)


# ---------------------------------------------------------------- cases

def make_cases(X, start, threads, pom_version):
    """The timed cases at ``threads`` threads: genmix first, then pomegranate's (none if not installed)."""
    cases = [Case("genmix", lambda: fit_genmix(X, start))]
    if threads > 1:
        cases.append(Case(f"genmix n_jobs={threads}", lambda: fit_genmix(X, start, n_jobs=threads)))
    if pom_version is None:
        return cases
    if pom_version.startswith("0."):
        cases.append(Case("pomegranate 0.x", lambda: fit_pomegranate0(X, start, n_jobs=threads)))
        return cases
    import torch

    Xt = torch.from_numpy(X)  # shares X's memory
    cases.append(Case("pomegranate", lambda: fit_pomegranate(Xt, start)))
    cases.append(Case("pomegranate f64w", lambda: fit_pomegranate(Xt, start, float64_weights=True)))
    return cases


class MixedEMIteration:
    """asv-shaped: one EM iteration of genmix and of pomegranate 1.x on the mixed-family workload."""

    def __init__(self, scale=1.0):
        self.scale = scale

    def setup(self):
        self.X, self.start = make_problem(max(int(N_SAMPLES * self.scale), 10 * N_COMPONENTS))

    def time_genmix(self):
        fit_genmix(self.X, self.start)

    def time_pomegranate(self):
        import torch

        fit_pomegranate(torch.from_numpy(self.X), self.start, float64_weights=True)


# ---------------------------------------------------------------- agreement

def check_agreement(X, start, pom_version):
    """Fit each library from ``start``; return rows ``(name, genmix LL, other LL, correction, rel, its, must)``.

    ``correction`` is added to the other library's LL before comparing (pomegranate 1.x's LogNormal
    leaves out ``-sum(log x)``); ``must`` says whether the row has to agree within ``LL_RTOL``.
    """
    model, history = genmix_model(start).fit(X, max_iterations=ITERATIONS, stop_threshold=0.0,
                                             return_history=True)
    ll_genmix = float(model.log_probability(X).sum())
    g_its = len(history.epochs)
    rows = []

    def count_msteps(m):
        calls = [0]
        inner = m.from_summaries

        def counted(*a, **kw):
            calls[0] += 1
            return inner(*a, **kw)

        m.from_summaries = counted
        return calls

    if pom_version.startswith("0."):
        pm, p_history = pomegranate0_model(start).fit(X, max_iterations=ITERATIONS, stop_threshold=0.0,
                                                      return_history=True)
        ll = float(np.sum(pm.log_probability(X)))
        rows.append(("pomegranate 0.x", ll_genmix, ll, 0.0, (g_its, len(p_history.epochs)), True))
        return rows

    import torch

    Xt = torch.from_numpy(X)
    jacobian = -float(np.log(X[:, 2]).sum())
    for name, f64, f64w, must in (("pomegranate", True, False, True),
                                  ("pomegranate f64w", True, True, True),
                                  ("pomegranate float32 (its default)", False, False, False)):
        pm = pomegranate_model(start, float64=f64, float64_weights=f64w)
        calls = count_msteps(pm)
        with torch_float64(f64):
            pm.fit(Xt)
            ll = float(pm.log_probability(Xt).sum(dtype=torch.float64))
        rows.append((name, ll_genmix, ll, jacobian, (g_its, calls[0]), must))
    return rows


# ---------------------------------------------------------------- memory

def _proc_status_kib(*keys):
    out = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            if key in keys:
                out[key] = int(value.split()[0])
    return out


def memory_child(case, scale):
    """Run in a subprocess: warm up, then measure one fit's resident-set peak over what was resident."""
    from threadpoolctl import threadpool_limits

    X, start = make_problem(max(int(N_SAMPLES * scale), 10 * N_COMPONENTS))
    threads = contextlib.nullcontext()  # the genmix and 0.x children never import torch
    if case == "genmix":
        def fit(iterations):
            fit_genmix(X, start, iterations)
    elif case == "pomegranate 0.x":
        def fit(iterations):
            fit_pomegranate0(X, start, iterations)
    else:
        import torch

        Xt = torch.from_numpy(X)
        threads = torch_threads(1)

        def fit(iterations):
            fit_pomegranate(Xt, start, iterations, float64_weights=case == "pomegranate f64w")
    with threadpool_limits(limits=1), threads:
        fit(1)  # warm-up: lazy imports, thread pools, first-touch of library data
        gc.collect()
        status = _proc_status_kib("VmRSS", "VmHWM")
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")  # reset VmHWM to the current resident set
        fit(ITERATIONS)
        peak = _proc_status_kib("VmHWM")["VmHWM"]
    # the process's own peak since exec (ru_maxrss is not used: Linux carries the parent's over a fork)
    print(json.dumps({"case": case, "rss_before_kib": status["VmRSS"], "peak_kib": peak,
                      "process_peak_kib": max(peak, status["VmHWM"])}))


def measure_memory(case, scale):
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="131072")
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--memory-child", case,
                           "--scale", repr(scale)], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"memory subprocess for {case!r} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def genmix_source():
    """Where genmix was imported from, with the git commit (and whether genmix/ has uncommitted changes)."""
    import genmix

    root = os.path.dirname(os.path.dirname(os.path.abspath(genmix.__file__)))
    try:
        sha = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--", "genmix"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return root
    return f"{root} at git {sha}" + (" with uncommitted changes in genmix/" if dirty else "")


def _mib_kib(kib):
    return f"{kib / 1024:.1f} MiB"


# ---------------------------------------------------------------- main

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="use n / 10 samples")
    parser.add_argument("--threads", default="1,2",
                        help="comma-separated thread limits (BLAS and torch), each timed in turn (default: 1,2)")
    parser.add_argument("--repeats", type=int, default=5, help="timed rounds per case (default: 5)")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-RSS measurement")
    parser.add_argument("--wait-idle", type=float, default=0.0, metavar="SECONDS",
                        help="before each comparison, wait up to SECONDS for other processes to leave the "
                             "CPUs idle (default: 0, do not wait); the foreign load is reported either way")
    parser.add_argument("--memory-child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--scale", type=float, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    scale = args.scale if args.scale is not None else (0.1 if args.quick else 1.0)
    if args.memory_child is not None:
        memory_child(args.memory_child, scale)
        return 0

    from threadpoolctl import threadpool_limits

    limits = list(dict.fromkeys(int(t) for t in args.threads.split(",")))
    pom_version, pom_error = pomegranate_version()
    t_start = time.perf_counter()

    print("# genmix EM iteration vs pomegranate: Normal | Exponential | LogNormal columns\n")
    print(machine_report())
    try:
        import torch
        torch_info = f"torch {torch.__version__} (default {torch.get_num_threads()} intra-op threads)"
    except ImportError:
        torch_info = "torch not installed"
    print(f"- pomegranate {pom_version if pom_version else 'not importable'}; {torch_info}")
    print(f"- genmix source: {genmix_source()}")
    print(f"- command: python benchmarks/bench_mixed.py {' '.join(sys.argv[1:] if argv is None else argv)}")
    print(f"- {ITERATIONS} EM iterations per fit; time per iteration = fit time / {ITERATIONS}; "
          f"{args.repeats} interleaved rounds + 1 warm-up, median; scale = {scale:g}")
    print()
    if pom_version is None:
        print(f"**pomegranate is not importable ({pom_error}); timing genmix alone. Install the bench "
              "extra (`pip install -e \".[bench]\"`) for pomegranate 1.x, or provide pomegranate 0.14.**\n")
    elif pom_version.startswith("0."):
        print(f"(pomegranate {pom_version}: the 0.x path, which is untested)\n")

    X, start = make_problem(max(int(N_SAMPLES * scale), 10 * N_COMPONENTS))
    n = X.shape[0]

    summary = {}
    for lim in limits:
        torch_note = f", torch.set_num_threads({lim})" if pom_version and not pom_version.startswith("0.") else ""
        print(f"## threads = {lim} (BLAS/OpenMP pinned{torch_note})\n")
        if args.wait_idle > 0:
            waited, load = wait_for_idle(args.wait_idle, threshold=0.1)
            if not load < 0.1:
                print(f"(gave up waiting for an idle machine after {waited:.0f} s: other processes "
                      f"keep {load:.1f} cores busy)\n")
        cases = make_cases(X, start, lim, pom_version)
        baseline = cases[-1].name if pom_version is not None else "genmix"
        with torch_threads(lim):
            results = compare(cases, baseline=baseline, repeats=args.repeats, warmup=1, limits=lim,
                              per=ITERATIONS)
        summary[lim] = results
        print(format_table(results, title=f"n={n:,} d=3 k={N_COMPONENTS}, per iteration"))
        print(flush=True)

    all_ok = True
    if pom_version is not None:
        print(f"## Summary: speed-up = pomegranate (faster case) / genmix per-iteration median "
              f"(target >= {SPEEDUP_TARGET:g})\n")
        print("| threads | genmix case | genmix | pomegranate case | pomegranate | speed-up | target met "
              "| foreign load (cores) |")
        print("| --- | --- | ---: | --- | ---: | ---: | --- | ---: |")
        for lim in limits:
            res = summary[lim]
            pom = min((r for r in res if r.name.startswith("pomegranate")), key=lambda r: r.median)
            for g in (r for r in res if r.name.startswith("genmix")):
                speedup = pom.median / g.median
                met = "yes" if speedup >= SPEEDUP_TARGET else "NO"
                if not g.foreign_load <= 0.2:  # busy machine (or unknown load): say so rather than conclude
                    met += " (unreliable: foreign load)"
                print(f"| {lim} | {g.name} | {g.median * 1e3:.1f} ms | {pom.name} | {pom.median * 1e3:.1f} ms "
                      f"| **{speedup:.2f}x** | {met} | {g.foreign_load:.2f} |")
        print()

        print(f"## Log-likelihood agreement after {ITERATIONS} iterations (relative tolerance {LL_RTOL:g})\n")
        print("`correction`: added to pomegranate's LL; pomegranate 1.x's LogNormal omits the -log x Jacobian, "
              "-sum(log x[:, 2]). Rows marked 'info' need not agree.\n")
        print("| pomegranate case | genmix LL | pomegranate LL | correction | relative difference "
              "| iterations (genmix, pomegranate) | ok |")
        print("| --- | ---: | ---: | ---: | ---: | --- | --- |")
        with threadpool_limits(limits=limits[0]), torch_threads(limits[0]):
            rows = check_agreement(X, start, pom_version)
        for name, lg, lp, corr, its, must in rows:
            rel = abs(lg - (lp + corr)) / abs(lg)
            ok = rel <= LL_RTOL and its == (ITERATIONS, ITERATIONS)
            if must:
                all_ok &= ok
            verdict = ("yes" if ok else "NO") if must else f"info ({'within' if ok else 'outside'} tolerance)"
            print(f"| {name} | {lg:.10e} | {lp:.10e} | {corr:.6e} | {rel:.2e} | {its} | {verdict} |")
        print()

    if not args.no_memory:
        print("## Peak extra resident memory of one fit (own subprocess, 1 thread, after a warm-up fit)\n")
        if not os.path.exists("/proc/self/clear_refs"):
            print("(not measured: needs Linux's /proc/self/clear_refs)\n")
        else:
            print(f"VmHWM during a {ITERATIONS}-iteration fit minus VmRSS just before it (glibc "
                  "MALLOC_MMAP_THRESHOLD_=131072); process peak is the subprocess's VmHWM over its life "
                  "(the genmix child does not load torch).\n")
            print("| case | size of X | fit peak over RSS before | ratio to genmix | RSS before fit "
                  "| process peak |")
            print("| --- | ---: | ---: | ---: | ---: | ---: |")
            names = [c.name for c in make_cases(X, start, 1, pom_version)]
            mems = {name: measure_memory(name, scale) for name in names}
            g_extra = mems["genmix"]["peak_kib"] - mems["genmix"]["rss_before_kib"]
            for name in names:
                m = mems[name]
                extra = m["peak_kib"] - m["rss_before_kib"]
                ratio = f"{extra / g_extra:.2f}" if g_extra > 0 else "n/a"
                print(f"| {name} | {X.nbytes / 2 ** 20:.1f} MiB | {_mib_kib(extra)} | {ratio} "
                      f"| {_mib_kib(m['rss_before_kib'])} | {_mib_kib(m['process_peak_kib'])} |")
            print()

    print(f"total benchmark time: {time.perf_counter() - t_start:.0f} s; load average at end (1, 5, 15 min): "
          f"{load_average()}")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
