"""genmix.select on Old Faithful beside R's mclust (``Mclust(faithful)``), and on a 100,000 × 5 data set.

For Old Faithful both fit the six covariance models genmix has (mclust's EII, VII, EEI, VVI, EEE, VVV =
genmix's 'EII', 'spherical', 'EEI', 'diag', 'tied', 'full') with k = 1..9. Reported: the time of each
(mclust through ``Rscript``, one process, including R's start-up of about 0.3 s), the model each picks with
its log-likelihood, BIC and ICL, and per (model, k) genmix's log-likelihood minus mclust's: the pairs where
genmix is more than 1e-3 below mclust (a local optimum mclust's start avoided), and those where mclust is
below genmix (mclust stops EM at a relative change of 1e-5, or its start found a worse optimum).

Run by hand: ``python benchmarks/bench_select.py [--n-init 1,5] [--skip-large] [--threads 2]``. R and
mclust are optional (``apt-get install r-base-core r-cran-mclust``); without them only genmix runs.
"""
import argparse
import csv
import io
import os
import shutil
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _harness import machine_report  # noqa: E402

MCLUST_NAMES = {"EII": "EII", "VII": "spherical", "EEI": "EEI", "VVI": "diag", "EEE": "tied", "VVV": "full"}

R_SCRIPT = r"""
suppressMessages(library(mclust))
models <- c("EII", "VII", "EEI", "VVI", "EEE", "VVV")
X <- if (nchar(Sys.getenv("GENMIX_DATA")) > 0) read.csv(Sys.getenv("GENMIX_DATA"), header = FALSE) else faithful
t0 <- Sys.time()
fit <- Mclust(X, G = 1:9, modelNames = models, verbose = FALSE)
elapsed <- as.numeric(Sys.time() - t0, units = "secs")
b <- fit$BIC
n <- nrow(X); d <- ncol(X)
cat("best", fit$modelName, fit$G, fit$loglik, fit$bic, icl(fit), fit$df, elapsed, "\n")
cat("model,k,loglik\n")
for (m in models) for (g in 1:9) cat(m, g, (b[g, m] + nMclustParams(m, d, g) * log(n)) / 2, "\n", sep = ",")
"""


def run_mclust(data_path=None):
    """``(best line fields, {(genmix model, k): loglik or nan}, seconds of the whole Rscript)`` or None."""
    if shutil.which("Rscript") is None:
        return None
    env = dict(os.environ, GENMIX_DATA=data_path or "")
    start = time.perf_counter()
    out = subprocess.run(["Rscript", "-e", R_SCRIPT], capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    if out.returncode != 0:
        print(f"mclust failed: {out.stderr.strip()[:300]}")
        return None
    lines = out.stdout.splitlines()
    best = lines[0].split()[1:]
    table = {}
    for row in csv.reader(io.StringIO("\n".join(lines[2:]))):
        if row and row[0] in MCLUST_NAMES:
            value = row[2].strip()
            table[(MCLUST_NAMES[row[0]], int(row[1]))] = float("nan") if value == "NA" else float(value)
    return best, table, seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-init", default="1,5", help="comma-separated n_init values for genmix (default 1,5)")
    parser.add_argument("--threads", type=int, default=2, help="genmix.select n_jobs (default 2)")
    parser.add_argument("--skip-large", action="store_true", help="skip the 100,000 × 5 data set")
    args = parser.parse_args()
    from genmix import select
    from genmix.datasets import load_old_faithful

    print("# genmix.select beside mclust::Mclust\n")
    print(machine_report())
    X, _ = load_old_faithful()
    mclust = run_mclust()
    if mclust is None:
        print("- R / mclust: not available here (mclust columns left out)\n")
    else:
        best, _, seconds = mclust
        print(f"- mclust: Rscript in {seconds:.2f} s (Mclust itself {float(best[6]):.2f} s); picks {best[0]} with "
              f"k = {best[1]}, log-likelihood {float(best[2]):.3f}, BIC {-float(best[3]):.3f} (genmix's sign), ICL "
              f"{-float(best[4]):.3f}, {best[5]} parameters\n")
    print("| genmix.select on faithful | seconds | picks | log-likelihood | BIC | ICL | pairs below mclust − 1e-3 "
          "| pairs above mclust + 1e-3 | degenerate (no criteria) |")
    print("| --- | ---: | --- | ---: | ---: | ---: | --- | ---: | --- |")
    for n_init in (int(v) for v in args.n_init.split(",")):
        start = time.perf_counter()
        sel = select(X, range(1, 10), n_init=n_init, random_state=0, n_jobs=args.threads)
        seconds = time.perf_counter() - start
        rows = {(r["model"], r["n_components"]): r for r in sel.rows}
        b = rows[(sel.best_params_["model"], sel.best_params_["n_components"])]
        below = above = "-"
        if mclust is not None:
            diffs = {key: rows[key]["log_likelihood"] - ll for key, ll in mclust[1].items()
                     if np.isfinite(ll) and rows[key]["error"] is None}
            below = ", ".join(f"{m} k={k}: {v:+.2f}" for (m, k), v in sorted(diffs.items()) if v < -1e-3) or "none"
            above = str(sum(v > 1e-3 for v in diffs.values()))
        degenerate = ", ".join(f"{m} k={k}" for (m, k), r in sorted(rows.items()) if r["error"]) or "none"
        print(f"| n_init={n_init} | {seconds:.1f} | {b['model']}, k={b['n_components']} | {b['log_likelihood']:.3f} "
              f"| {b['bic']:.3f} | {b['icl']:.3f} | {below} | {above} | {degenerate} |", flush=True)
    if args.skip_large:
        return
    rng = np.random.default_rng(0)
    n, d, k = 100_000, 5, 4
    centres = rng.normal(0, 2.0, (k, d))
    Y = centres[rng.integers(0, k, n)] + rng.normal(size=(n, d)) @ (np.eye(d) + 0.3 * rng.normal(size=(d, d)))
    start = time.perf_counter()
    sel = select(Y, range(1, 10), random_state=0, n_jobs=args.threads)
    seconds = time.perf_counter() - start
    print(f"\n100,000 × 5 (4 Gaussian clusters, one shared covariance): genmix.select {seconds:.1f} s, picks "
          f"{sel.best_params_['model']} with k = {sel.best_params_['n_components']}", flush=True)
    if mclust is not None:
        path = os.path.join(os.environ.get("TMPDIR", "/tmp"), "genmix_bench_select.csv")
        np.savetxt(path, Y, delimiter=",")
        try:
            result = run_mclust(path)
        finally:
            os.remove(path)
        if result is not None:
            best, _, seconds = result
            print(f"mclust: Rscript {seconds:.1f} s (Mclust itself {float(best[6]):.1f} s), picks {best[0]} with "
                  f"k = {best[1]}")


if __name__ == "__main__":
    main()
