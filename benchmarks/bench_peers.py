"""The whole table: genmix beside every peer on every workload, one run, each case in its own process.

Run by hand (never by pytest), on a machine left alone, with the ``bench`` extra installed and the peers
that can be installed here (see the brief)::

    python benchmarks/bench_peers.py --wait-idle 120 --pomegranate0 /tmp/pom014/bin/python
    python benchmarks/bench_peers.py --quick          # n / 10, to try it out

Workloads: the four Gaussian ones of ``bench_em.py`` (full n=1M d=10 k=10, full n=200k d=32 k=8, diag
n=1M d=10 k=10, univariate n=1M k=5) and ``bench_mixed.py``'s Normal/Exponential/LogNormal columns
(n=500k, k=4), each with its seeded data and deliberately imperfect start, written once to a temporary
directory (``X.npy`` and the start as JSON) and read by every case, so every peer sees the same numbers.

Cases (each a fresh process, BLAS/OpenMP threads set by the environment; pomegranate 1.x by
``torch.set_num_threads``):

* ``genmix`` (one thread), ``genmix n_jobs=2`` (rows over two threads, BLAS pinned to one) and
  ``genmix float32`` (``fit(dtype=np.float32)``, one thread);
* ``sklearn 1 thread`` / ``sklearn 2 threads``: ``GaussianMixture(tol=0, reg_covar=0)`` with every
  ``*_init`` given (Gaussian workloads; scikit-learn has no other family);
* ``pomegranate 1.x f64`` / ``f32`` (2 torch threads): ``pomegranate.gmm.GeneralMixtureModel`` of
  initialised ``Normal`` (or ``IndependentComponents``) with ``tol=-inf``, built and fitted with torch's
  default dtype float64 (pomegranate 1.x takes its dtype from it, see ``bench_mixed.py``) or left at
  float32;
* ``pomegranate 0.14 n_jobs=2``: in the Python given by ``--pomegranate0`` (its own venv), its
  ``GeneralMixtureModel.fit(n_jobs=2, stop_threshold=0)``;
* ``mclust VVV`` (full d=10 only, where ``Rscript`` and mclust are installed): ``me(modelName='VVV')``
  from the responsibilities of the common start (mclust's EM begins with an M-step) with
  ``emControl(itmax=c(it, ...), tol=c(0, 0))`` so that it does not stop early.

Timing, as in issue 19: per iteration = (time of ``fit`` with 5 iterations − time with 1) / 4, which
cancels each library's fixed costs (input checks, the first E-step, conversions); each case does one
warm-up fit and ``--repeats`` pairs, and the median is reported. The final mean log-likelihood of each
5-iteration fit is reported beside it so that a reader can see the same work was done (mclust's path
starts one half-step later; pomegranate 1.x's LogNormal omits the ``-log x`` Jacobian, which the table
adds back). After the table, the same run calls ``bench_categorical.py`` (mixed categorical table) and
``bench_from_samples.py`` (``from_samples`` end to end) and appends their reports.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _harness import load_average, machine_report, wait_for_idle  # noqa: E402

ITERATIONS = 5
WORKLOADS = {  # name -> (kind, n, d, k); "mixed" is bench_mixed's product of three families
    "full n=1M d=10 k=10": ("full", 1_000_000, 10, 10),
    "full n=200k d=32 k=8": ("full", 200_000, 32, 8),
    "diag n=1M d=10 k=10": ("diag", 1_000_000, 10, 10),
    "univariate n=1M k=5": ("univariate", 1_000_000, 1, 5),
    "Normal/Exp/LogNormal columns n=500k k=4": ("mixed", 500_000, 3, 4),
}
GAUSSIAN = ("full", "diag", "univariate")


# ---------------------------------------------------------------- the cases, run in a child process

def _start(kind, path):
    """The start saved by :func:`write_problem`, in the shape bench_em / bench_mixed take."""
    with open(path) as fh:
        raw = json.load(fh)
    if kind == "mixed":
        return np.array(raw["weights"]), raw["params"]
    return np.array(raw["weights"]), np.array(raw["means"]), np.array(raw["covs"])


def _genmix(kind, X, start, iterations, n_jobs=1, dtype=None):
    if kind == "mixed":
        import bench_mixed

        return bench_mixed.genmix_model(start).fit(X, max_iterations=iterations, stop_threshold=0.0,
                                                   n_jobs=n_jobs, dtype=dtype)
    import bench_em

    return bench_em.fit_genmix(X, kind, start, iterations, n_jobs=n_jobs, dtype=dtype)


def _pomegranate1(kind, start, iterations, float64):
    import torch
    from pomegranate.distributions import Normal
    from pomegranate.gmm import GeneralMixtureModel

    if kind == "mixed":
        import bench_mixed

        return bench_mixed.pomegranate_model(start, iterations, float64=float64)
    weights, means, covs = start
    dtype = torch.float64 if float64 else torch.float32
    cov_type = "full" if kind == "full" else "diag"
    comps = [Normal(torch.tensor(m, dtype=dtype), torch.tensor(c, dtype=dtype), covariance_type=cov_type)
             for m, c in zip(means, covs)]
    return GeneralMixtureModel(comps, priors=torch.tensor(weights, dtype=dtype), max_iter=iterations,
                               tol=float("-inf"))


def _pomegranate0(kind, start):
    """pomegranate 0.14's mixture of the start: genmix's own builders, with pomegranate's classes."""
    if kind == "mixed":
        import bench_mixed

        return bench_mixed.pomegranate0_model(start)
    import bench_em

    return bench_em.genmix_model(kind, start, library="pomegranate")


def child(case, kind, directory, repeats, threads):
    """Time ``case`` on the problem in ``directory``; print ``{"per": [...], "loglik": mean LL}`` as JSON."""
    X = np.load(os.path.join(directory, "X.npy"))
    start = _start(kind, os.path.join(directory, "start.json"))
    if case.startswith("pomegranate 1.x"):
        import torch

        torch.set_num_threads(threads)
        float64 = case.endswith("f64")
        Xt = torch.from_numpy(X if float64 else X.astype(np.float32))

        def fit(it):
            old = torch.get_default_dtype()
            torch.set_default_dtype(torch.float64 if float64 else torch.float32)
            try:
                return _pomegranate1(kind, start, it, float64).fit(Xt)
            finally:
                torch.set_default_dtype(old)

        def loglik(model):
            value = float(model.log_probability(Xt).sum()) / X.shape[0]
            return value - float(np.log(X[:, 2]).mean()) if kind == "mixed" else value  # the Jacobian
    elif case.startswith("pomegranate 0.14"):
        def fit(it):
            return _pomegranate0(kind, start).fit(X, max_iterations=it, stop_threshold=0.0, n_jobs=threads)

        def loglik(model):
            return float(np.mean(model.log_probability(X)))
    elif case.startswith("sklearn"):
        import warnings

        import bench_em

        def fit(it):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # tol=0 never "converges": by design
                return bench_em.sklearn_model(kind, start, max_iter=it).fit(X)

        def loglik(model):
            return float(model.score(X))
    else:
        n_jobs = 2 if case.endswith("n_jobs=2") else 1
        dtype = np.float32 if case.endswith("float32") else None

        def fit(it):
            return _genmix(kind, X, start, it, n_jobs=n_jobs, dtype=dtype)

        def loglik(model):
            return float(model.log_probability(X).mean())
    fit(1)  # warm-up: imports, first-touch pages
    per = []
    for _ in range(repeats):
        t = {}
        for it in (1, ITERATIONS):
            t0 = time.perf_counter()
            model = fit(it)
            t[it] = time.perf_counter() - t0
        per.append((t[ITERATIONS] - t[1]) / (ITERATIONS - 1))
    print(json.dumps({"per": per, "loglik": loglik(model)}))


_MCLUST = r'''
suppressMessages(library(mclust))
args <- commandArgs(trailingOnly = TRUE)
n <- as.integer(args[2]); d <- as.integer(args[3]); k <- as.integer(args[4]); repeats <- as.integer(args[5])
iterations <- as.integer(args[6])
X <- matrix(readBin(file.path(args[1], "X.bin"), "double", n * d), ncol = d, byrow = TRUE)
z <- matrix(readBin(file.path(args[1], "z.bin"), "double", n * k), ncol = k, byrow = TRUE)
fit <- function(it) me(data = X, modelName = "VVV", z = z,
                       control = emControl(itmax = c(it, .Machine$integer.max), tol = c(0, 0)))
invisible(fit(1))
per <- numeric(0)
for (r in seq_len(repeats)) {
  t1 <- system.time(fit(1))[["elapsed"]]
  t5 <- system.time(m <- fit(iterations))[["elapsed"]]
  per <- c(per, (t5 - t1) / (iterations - 1))
}
cat(sprintf('{"per": [%s], "loglik": %.10f, "version": "%s"}\n', paste(per, collapse = ", "), m$loglik / n,
            as.character(packageVersion("mclust"))))
'''


# ---------------------------------------------------------------- the parent

def write_problem(kind, n, d, k, directory, with_r):
    """Write the seeded data and start of a workload (and, for R, the data and the start's
    responsibilities as raw float64)."""
    if kind == "mixed":
        import bench_mixed

        X, (weights, params) = bench_mixed.make_problem(n)
        raw = {"weights": np.asarray(weights).tolist(), "params": params}
    else:
        import bench_em

        X, (weights, means, covs) = bench_em.make_problem(kind, n, d, k)
        raw = {"weights": weights.tolist(), "means": means.tolist(), "covs": covs.tolist()}
    np.save(os.path.join(directory, "X.npy"), X)
    with open(os.path.join(directory, "start.json"), "w") as fh:
        json.dump(raw, fh)
    if with_r:
        import bench_em

        start = (np.array(raw["weights"]), np.array(raw["means"]), np.array(raw["covs"]))
        model = bench_em.genmix_model(kind, start)
        np.ascontiguousarray(X).tofile(os.path.join(directory, "X.bin"))
        np.ascontiguousarray(model.predict_proba(X)).tofile(os.path.join(directory, "z.bin"))
    return X.shape


def _env(threads):
    env = dict(os.environ)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    return env


def run_case(python, case, kind, directory, repeats, threads, blas_threads):
    """One case in a fresh process: ``(median per iteration, mean LL, note)``; NaN where it failed."""
    proc = subprocess.run([python, os.path.abspath(__file__), "--child", case, kind, directory, str(repeats),
                           str(threads)], capture_output=True, text=True, env=_env(blas_threads), cwd=HERE)
    if proc.returncode != 0:
        return float("nan"), float("nan"), proc.stderr.strip().splitlines()[-1][:160] if proc.stderr else "failed"
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    return statistics.median(out["per"]), out["loglik"], ""


def run_mclust(directory, n, d, k, repeats):
    proc = subprocess.run(["Rscript", "-e", _MCLUST, directory, str(n), str(d), str(k), str(repeats),
                           str(ITERATIONS)], capture_output=True, text=True, env=_env(1))
    if proc.returncode != 0:
        return float("nan"), float("nan"), (proc.stderr.strip().splitlines() or ["failed"])[-1][:160]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    return statistics.median(out["per"]), out["loglik"], f"mclust {out['version']}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="n / 10")
    parser.add_argument("--repeats", type=int, default=2, help="(fit(5), fit(1)) pairs per case (default 2)")
    parser.add_argument("--pomegranate0", default=None, metavar="PYTHON",
                        help="the python of a venv with pomegranate 0.14 (cases run there)")
    parser.add_argument("--wait-idle", type=float, default=0.0, metavar="SECONDS",
                        help="before each workload, wait up to SECONDS for the CPUs to be idle")
    parser.add_argument("--workloads", default=None, help="comma-separated substrings of workload names")
    parser.add_argument("--no-extra", action="store_true",
                        help="skip bench_categorical.py and bench_from_samples.py after the table")
    parser.add_argument("--child", nargs=5, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        case, kind, directory, repeats, threads = args.child
        child(case, kind, directory, int(repeats), int(threads))
        return 0

    scale = 0.1 if args.quick else 1.0
    names = [w for w in WORKLOADS if args.workloads is None or any(s.strip() in w for s in args.workloads.split(","))]
    have_r = shutil.which("Rscript") is not None and subprocess.run(
        ["Rscript", "-e", "suppressMessages(library(mclust))"], capture_output=True).returncode == 0
    t_start = time.perf_counter()
    print("# genmix beside every peer: per EM iteration, one run, each case in its own process\n")
    print(machine_report())
    print(f"- command: python benchmarks/bench_peers.py {' '.join(sys.argv[1:] if argv is None else argv)}")
    print(f"- per iteration = (fit({ITERATIONS}) − fit(1)) / {ITERATIONS - 1}, median of {args.repeats} pairs "
          f"after a warm-up fit; scale = {scale:g}")
    print(f"- pomegranate 0.14: {'`' + args.pomegranate0 + '`' if args.pomegranate0 else 'not run (no --pomegranate0)'}"
          f"; mclust: {'Rscript found' if have_r else 'not run (no Rscript with mclust)'}\n")

    cases = [("genmix", 1, 1), ("genmix n_jobs=2", 2, 1), ("genmix float32", 1, 1), ("sklearn 1 thread", 1, 1),
             ("sklearn 2 threads", 2, 2), ("pomegranate 1.x f64", 2, 2), ("pomegranate 1.x f32", 2, 2),
             ("pomegranate 0.14 n_jobs=2", 2, 1)]
    table = {}
    for name in names:
        kind, n, d, k = WORKLOADS[name]
        n = max(int(n * scale), 10 * k)
        with tempfile.TemporaryDirectory() as tmp:
            write_problem(kind, n, d, k, tmp, with_r=have_r and name == "full n=1M d=10 k=10")
            if args.wait_idle > 0:
                waited, load = wait_for_idle(args.wait_idle, threshold=0.1)
                print(f"({name}: waited {waited:.0f} s; other processes kept {load:.2f} cores busy)")
            row = {}
            for case, threads, blas in cases:
                if case.startswith("sklearn") and kind not in GAUSSIAN:
                    continue
                python = sys.executable
                if case.startswith("pomegranate 0.14"):
                    if not args.pomegranate0:
                        continue
                    python = args.pomegranate0
                row[case] = run_case(python, case, kind, tmp, args.repeats, threads, blas)
                print(f"  {name} | {case}: {row[case][0] * 1e3:.1f} ms/iter, mean LL {row[case][1]:.6f} "
                      f"{row[case][2]}", flush=True)
            if have_r and name == "full n=1M d=10 k=10":
                row["mclust VVV"] = run_mclust(tmp, n, d, k, args.repeats)
                print(f"  {name} | mclust VVV: {row['mclust VVV'][0] * 1e3:.1f} ms/iter {row['mclust VVV'][2]}",
                      flush=True)
            table[name] = row
    print()
    columns = [c for c, _, _ in cases] + ["mclust VVV"]
    columns = [c for c in columns if any(c in row for row in table.values())]
    print("## Seconds per iteration (ratio = the case's time / genmix's one-thread time; > 1: genmix faster)\n")
    print("| workload | " + " | ".join(columns) + " |")
    print("| --- |" + " ---: |" * len(columns))
    for name, row in table.items():
        base = row["genmix"][0]
        cells = []
        for c in columns:
            if c not in row:
                cells.append("—")
            else:
                t = row[c][0]
                cells.append(f"{t:.3f}" + ("" if c == "genmix" else f" ({t / base:.2f}×)"))
        print(f"| {name} | " + " | ".join(cells) + " |")
    print("\n## Final mean log-likelihood per row after 5 iterations\n")
    print("| workload | " + " | ".join(columns) + " |")
    print("| --- |" + " ---: |" * len(columns))
    for name, row in table.items():
        print(f"| {name} | " + " | ".join(f"{row[c][1]:.6f}" if c in row else "—" for c in columns) + " |")
    failed = [(name, c, row[c][2]) for name, row in table.items() for c in row if row[c][0] != row[c][0]]
    for name, c, why in failed:
        print(f"\n(failed: {name}, {c}: {why})")
    print()

    if not args.no_extra:
        extra = [["bench_categorical.py"] + (["--pomegranate0", args.pomegranate0] if args.pomegranate0 else []),
                 ["bench_from_samples.py", "--threads", "2"]]
        for command in extra:
            command = command + (["--quick"] if args.quick else []) + \
                (["--wait-idle", str(args.wait_idle)] if args.wait_idle > 0 else [])
            print(f"## `python benchmarks/{' '.join(command)}` (same run)\n", flush=True)
            proc = subprocess.run([sys.executable, os.path.join(HERE, command[0])] + command[1:], capture_output=True,
                                  text=True, cwd=HERE)
            print(proc.stdout)
            if proc.returncode != 0:
                print(f"(exit {proc.returncode}: {proc.stderr.strip()[-300:]})\n")
    print(f"total benchmark time: {time.perf_counter() - t_start:.0f} s; load average at end (1, 5, 15 min): "
          f"{load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
