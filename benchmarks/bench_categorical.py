"""Per-EM-iteration time of a mixed categorical + numeric table: genmix against an all-numeric model of the
same width, and against pomegranate 1.x and 0.14 on the same table.

Run by hand (never by pytest)::

    python benchmarks/bench_categorical.py                         # n = 1,000,000, 1 thread
    python benchmarks/bench_categorical.py --quick                 # n / 10
    python benchmarks/bench_categorical.py --pomegranate0 /tmp/pom014/bin/python --wait-idle 60

Workload (issue 19): n rows, k = 8 components, 3 categorical columns with 10, 25 and 50 categories and 4
Normal columns, seeded; every component is an independent-components product, the same family per column.
The all-numeric reference is 7 Normal columns of the same n and k. Every library starts from the same
weights and parameters (the generating ones, perturbed) and runs EM with every stopping rule off.

Per iteration: for genmix the median duration of epochs 2-10 of a 10-iteration fit (its History times each
M-step + E-step); for the peers (time of ``fit`` with 10 iterations − time with 1) / 9, so that what a fit
does once (input
checks, genmix's encoding of the categories, pomegranate's conversions) cancels (with 5 iterations the
once-per-fit work of genmix, ~0.5 s at n = 1,000,000 and varying by ±0.2 s with the allocator, swamped
the difference); the median over
``--repeats`` rounds, the cases taking turns within a round. Threads are pinned to 1 (threadpoolctl, and
``torch.set_num_threads(1)``); genmix runs with ``n_jobs=1``.

genmix gets the table as a numpy object array (strings for the categories, floats for the numbers), as a
user would pass it; ``fit`` encodes the categories once (genmix/_encoded.py) and each E-step looks them up.

pomegranate 1.x (``pip install -e ".[bench]"``): ``IndependentComponents([Categorical(probs=[p]), …,
Normal([m], [v], covariance_type='diag')])`` inside ``pomegranate.gmm.GeneralMixtureModel``, float64
(built under ``torch.set_default_dtype(torch.float64)``), on a float64 tensor holding the category
codes; its ``Categorical`` checks for an integer tensor, so the benchmark hands each categorical column
to it as an int64 view (a small subclass, below). pomegranate 0.14 runs in a subprocess of the Python
given by ``--pomegranate0`` (its own venv; see the brief), with ``IndependentComponentsDistribution`` of
``DiscreteDistribution({code: p})`` and ``NormalDistribution`` columns on a float array of codes and values.
Each peer runs in its own process (interleaved in one process with genmix, torch's presence slowed genmix's
lookups by ~45%, measured); a peer that is not installed is reported as absent. After timing, the final
log-likelihoods are compared.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _harness import load_average, machine_report, wait_for_idle  # noqa: E402

SEED = 20261204
N, K = 1_000_000, 8
CATEGORIES = (10, 25, 50)
NUMERIC = 4
ITERATIONS = 10


def make_problem(n=N, k=K, seed=SEED):
    """``codes`` (n, 3) int, ``values`` (n, 4) float, the generating parameters and a perturbed start."""
    rng = np.random.default_rng(seed)
    weights = rng.dirichlet(np.full(k, 5.0))
    probs = [rng.dirichlet(np.full(m, 0.7), size=k) for m in CATEGORIES]
    means = rng.normal(0.0, 2.0, size=(k, NUMERIC))
    stds = rng.uniform(0.6, 1.4, size=(k, NUMERIC))
    z = rng.choice(k, size=n, p=weights)
    codes = np.column_stack([(rng.random(n)[:, None] > np.cumsum(p[z], axis=1)).sum(axis=1) for p in probs])
    values = means[z] + stds[z] * rng.standard_normal((n, NUMERIC))
    start = {
        "weights": np.full(k, 1.0 / k),
        "probs": [0.5 * p + 0.5 * rng.dirichlet(np.full(p.shape[1], 2.0), size=k) for p in probs],
        "means": means + rng.normal(0.0, 0.5, size=means.shape),
        "stds": stds * rng.uniform(0.8, 1.25, size=stds.shape),
    }
    return codes, values, start


def labels(m):
    return [f"c{i:02d}" for i in range(m)]


def genmix_table(codes, values):
    """The object array a user would pass: category strings, then the numbers."""
    X = np.empty((codes.shape[0], len(CATEGORIES) + NUMERIC), dtype=object)
    for j, m in enumerate(CATEGORIES):
        X[:, j] = np.array(labels(m), dtype=object)[codes[:, j]]
    X[:, len(CATEGORIES):] = values
    return X


def genmix_mixed(start):
    from genmix import DiscreteDistribution, GeneralMixtureModel, IndependentComponentsDistribution, NormalDistribution

    comps = []
    for i in range(len(start["weights"])):
        cols = [DiscreteDistribution(dict(zip(labels(p.shape[1]), p[i]))) for p in start["probs"]]
        cols += [NormalDistribution(float(m), float(s)) for m, s in zip(start["means"][i], start["stds"][i])]
        comps.append(IndependentComponentsDistribution(cols))
    return GeneralMixtureModel(comps, weights=start["weights"])


def genmix_numeric(start, d):
    from genmix import GeneralMixtureModel, IndependentComponentsDistribution, NormalDistribution

    comps = [IndependentComponentsDistribution([NormalDistribution(float(start["means"][i, j % NUMERIC]),
                                                                   float(start["stds"][i, j % NUMERIC]))
                                                for j in range(d)]) for i in range(len(start["weights"]))]
    return GeneralMixtureModel(comps, weights=start["weights"])


def pomegranate1_model(start):
    import torch
    from pomegranate.distributions import Categorical, IndependentComponents, Normal
    from pomegranate.gmm import GeneralMixtureModel

    class IntCategorical(Categorical):
        """pomegranate 1.x's Categorical, fed the codes of a float64 column as int64."""

        def log_probability(self, X):
            return super().log_probability(X.long())

        def summarize(self, X, sample_weight=None):
            return super().summarize(X.long(), sample_weight=sample_weight)

    comps = []
    for i in range(len(start["weights"])):
        cols = [IntCategorical(probs=torch.tensor(p[i:i + 1])) for p in start["probs"]]
        cols += [Normal(torch.tensor([m]), torch.tensor([s * s]), covariance_type="diag")
                 for m, s in zip(start["means"][i], start["stds"][i])]
        comps.append(IndependentComponents(cols))
    return GeneralMixtureModel(comps, priors=torch.tensor(start["weights"]), max_iter=ITERATIONS, tol=-np.inf,
                               init="random")


_POM0 = r'''
import json, sys, time
import numpy as np
from pomegranate import DiscreteDistribution, GeneralMixtureModel, IndependentComponentsDistribution, NormalDistribution
X = np.load(sys.argv[1])
start = json.load(open(sys.argv[2]))
def model():
    comps = []
    for i in range(len(start["weights"])):
        cols = [DiscreteDistribution({float(c): float(p) for c, p in enumerate(probs[i])}) for probs in start["probs"]]
        cols += [NormalDistribution(m, s) for m, s in zip(start["means"][i], start["stds"][i])]
        comps.append(IndependentComponentsDistribution(cols))
    return GeneralMixtureModel(comps, weights=np.array(start["weights"]))
out = {}
for it in (1, int(sys.argv[3])):
    m = model()
    t = time.perf_counter(); m.fit(X, max_iterations=it, stop_threshold=0.0); out[it] = time.perf_counter() - t
out["loglik"] = float(np.sum(m.log_probability(X)))
print(json.dumps(out))
'''


_POM1 = r'''
import json, sys, time
sys.path.insert(0, sys.argv[1])
import numpy as np
import torch
import bench_categorical as b
torch.set_num_threads(1)
X = torch.from_numpy(np.load(sys.argv[2]))
start = json.load(open(sys.argv[3]))
start = {"weights": np.array(start["weights"]), "probs": [np.array(p) for p in start["probs"]],
         "means": np.array(start["means"]), "stds": np.array(start["stds"])}
def fit(it):
    torch.set_default_dtype(torch.float64)
    model = b.pomegranate1_model(start)
    model.max_iter = it
    return model.fit(X)
fit(1)  # warm-up
per, first = [], []
for _ in range(int(sys.argv[4])):
    p, t1, model = b.per_iteration(fit)
    per.append(p)
    first.append(t1)
print(json.dumps({"per": per, "first": first, "loglik": float(model.log_probability(X).sum())}))
'''


def _save_start(start, path):
    with open(path, "w") as fh:
        json.dump({"weights": start["weights"].tolist(), "probs": [p.tolist() for p in start["probs"]],
                   "means": start["means"].tolist(), "stds": start["stds"].tolist()}, fh)


def per_iteration(fit):
    t = {}
    for it in (1, ITERATIONS):
        start = time.perf_counter()
        result = fit(it)
        t[it] = time.perf_counter() - start
    return (t[ITERATIONS] - t[1]) / (ITERATIONS - 1), t[1], result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="n / 10")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pomegranate0", default=None, metavar="PYTHON",
                        help="the python of a venv with pomegranate 0.14 (run in a subprocess)")
    parser.add_argument("--wait-idle", type=float, default=0.0, metavar="SECONDS")
    parser.add_argument("--no-pomegranate1", action="store_true", help="skip pomegranate 1.x")
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits

    n = N // 10 if args.quick else N
    codes, values, start = make_problem(n)
    X = genmix_table(codes, values)
    numeric = np.ascontiguousarray(np.column_stack([values, values[:, :3] + 1.0]))
    dense = np.column_stack([codes.astype(np.float64), values])
    if args.wait_idle:
        wait_for_idle(args.wait_idle)
    print(machine_report())
    print(f"workload: n={n:,}, k={K}, categorical columns with {CATEGORIES} categories + {NUMERIC} Normal "
          f"columns; all-numeric reference: 7 Normal columns; load average {load_average()}")

    cases = {"genmix mixed": lambda it: genmix_mixed(start).fit(X, max_iterations=it, stop_threshold=0.0,
                                                                 return_history=True),
             "genmix 7 numeric": lambda it: genmix_numeric(start, 7).fit(numeric, max_iterations=it,
                                                                          stop_threshold=0.0, return_history=True)}
    times = {name: [] for name in cases}
    first = {name: [] for name in cases}
    results = {}
    with threadpool_limits(1):
        for fit in cases.values():
            fit(1)  # warm-up: lazy imports, torch's first calls, thread pools
        for r in range(args.repeats):
            names = list(cases)
            for name in names[r % len(names):] + names[:r % len(names)]:
                per, t1, (results[name], history) = per_iteration(cases[name])
                # genmix times each epoch (M-step + E-step): the median of the later ones is the iteration,
                # free of the once-per-fit work's noise that the difference of two fits carries
                times[name].append(float(np.median(history.epoch_durations[1:])))
                first[name].append(t1)
    pom1 = None
    if not args.no_pomegranate1:
        with tempfile.TemporaryDirectory() as tmp:
            np.save(os.path.join(tmp, "X.npy"), dense)
            _save_start(start, os.path.join(tmp, "start.json"))
            proc = subprocess.run([sys.executable, "-c", _POM1, os.path.dirname(os.path.abspath(__file__)),
                                   os.path.join(tmp, "X.npy"), os.path.join(tmp, "start.json"), str(args.repeats)],
                                  capture_output=True, text=True)
            if proc.returncode:
                print("pomegranate 1.x: not run:", proc.stderr.strip().splitlines()[-1])
            else:
                pom1 = json.loads(proc.stdout.strip().splitlines()[-1])
                times["pomegranate 1.x"], first["pomegranate 1.x"] = pom1["per"], pom1["first"]
    pom0 = None
    if args.pomegranate0:
        with tempfile.TemporaryDirectory() as tmp:
            np.save(os.path.join(tmp, "X.npy"), dense)
            _save_start(start, os.path.join(tmp, "start.json"))
            runs = []
            for _ in range(args.repeats):
                proc = subprocess.run([args.pomegranate0, "-c", _POM0, os.path.join(tmp, "X.npy"),
                                       os.path.join(tmp, "start.json"), str(ITERATIONS)], capture_output=True,
                                      text=True, env={**os.environ, "OMP_NUM_THREADS": "1",
                                                      "OPENBLAS_NUM_THREADS": "1"})
                if proc.returncode:
                    print("pomegranate 0.14 failed:", proc.stderr[-2000:])
                    break
                runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            if runs:
                pom0 = runs
                times["pomegranate 0.14"] = [(x[str(ITERATIONS)] - x["1"]) / (ITERATIONS - 1) for x in runs]
                first["pomegranate 0.14"] = [x["1"] for x in runs]
    else:
        print("pomegranate 0.14: not run (give --pomegranate0 PYTHON)")

    base = float(np.median(times["genmix mixed"]))
    print(f"\n| case | s/iteration (median of {args.repeats}) | vs genmix mixed | fit(max_iterations=1) s |")
    print("| --- | ---: | ---: | ---: |")
    for name in times:
        med = float(np.median(times[name]))
        print(f"| {name} | {med:.4f} | {med / base:.2f}x | {float(np.median(first[name])):.3f} |")
    mixed = results["genmix mixed"]
    loglik = float(np.sum(mixed.log_probability(X)))
    print(f"\ngenmix mixed final log-likelihood: {loglik:.6f}")
    if pom1:
        print(f"pomegranate 1.x final log-likelihood: {pom1['loglik']:.6f} (relative difference "
              f"{abs(pom1['loglik'] - loglik) / abs(loglik):.1e}; float64)")
    if pom0:
        print(f"pomegranate 0.14 final log-likelihood: {pom0[-1]['loglik']:.6f} (relative difference "
              f"{abs(pom0[-1]['loglik'] - loglik) / abs(loglik):.1e})")


if __name__ == "__main__":
    main()
