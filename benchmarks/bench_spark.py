"""genmix's EM on a Dask ``distributed.LocalCluster`` beside Spark MLlib's Gaussian mixture, same data, same start.

1. n × 10 float64 rows (default n = 1e7, 0.8 GB) drawn from 10 Gaussian clusters with random full
   covariances and unequal weights (fixed seeds, one seed per block of ``--chunk`` rows, default 1e6),
   written to a Parquet dataset in a temporary directory (one file per block, columns x0..x9), deleted
   at the end.
2. One fixed start: equal weights, the true means shifted by 0.5, identity covariances; k = 10
   full-covariance components.
3. Spark (``master local[2]``, ``--spark-memory`` driver memory, default 8g), each measurement in a
   fresh process and so a fresh JVM (``--spark-runs``, default 1): the Parquet is read with
   ``spark.read.parquet``, its rows turned into dense MLlib vectors, the RDD cached and materialised
   (count) before any timing. The RDD-based ``pyspark.mllib.clustering.GaussianMixture.train`` is the
   Spark API that takes an initial model (the DataFrame API ``pyspark.ml.clustering.GaussianMixture``
   has no initial model; pyspark's ``GaussianMixtureModel`` only wraps a JVM model, so the start is
   passed as an object with its ``k``, ``weights`` and ``gaussians``); it runs with
   ``convergenceTol=0``, so every iteration runs. ``train`` itself, on every call, pipes the cached
   Python RDD through a Python worker into JVM vectors, which Spark's EM caches for the iterations of
   that call. By default (``--spark-feed jvm``) that conversion is done once before timing (through
   ``pyspark.mllib.common``, as train() does it), the JVM vectors are cached and materialised, and each
   fit calls train()'s own JVM entry point (``trainGaussianMixtureModel``, through ``callMLlibFunc``) on
   them: the fit times are then Spark's EM only, as from Scala. ``--spark-feed python`` times
   ``GaussianMixture.train`` on the cached Python RDD as a PySpark user calls it: the conversion is then
   in both the 1- and the 5-iteration times and cancels in the per-iteration figure, but in fresh JVMs
   on the reference machine the iterations themselves also ran 2-3× slower that way (7.4-10 s against
   3.3-3.6 s per iteration on 1e6 rows, idle machine, 2 and 3 runs; in a JVM that had first run the
   conversion on its own, train() on the Python RDD ran at 3.8-4.5 s: most likely how the JIT compiled
   the E-step when its first iterations read rows arriving from Python; not GC, under 2 s in a run).
4. genmix: ``distributed.LocalCluster`` of 2 worker processes × 1 thread; ``dask.dataframe.read_parquet``
   of the same files, as a Dask array (``to_dask_array(lengths=True)``; ``--genmix-input frame`` fits
   the DataFrame itself), persisted on the workers and waited for before any timing.
5. For each side: per-iteration time = (time of 5 iterations − time of 1) / 4, both from the same start
   and after one untimed 1-iteration fit (JIT warm-up of the JVM, imports and caches), and the mean
   log-likelihood of the 5-iteration fit on a 100,000-row sample of the data (the first rows of every
   block), computed for both sides the same way, with ``scipy.stats.multivariate_normal``
   from the fitted weights, means and covariances. Both run the same EM from the same start, so the two
   should agree closely; the largest differences of the fitted weights, means and covariances are
   printed as well. They are not rounding-small: Spark's E-step adds ``MLUtils.EPSILON`` (2.2e-16) to
   every weighted density w_j N(x; mu_j, Sigma_j), which gives each row a responsibility of about
   eps / p(x) for components far from it. On 1e6 rows of this data a plain numpy EM with and without
   that epsilon differs after 5 iterations by ~2e-6 in the weights, ~6e-4 in the means, ~6e-3 in the
   covariances and ~1e-5 in the mean log-likelihood, the same as Spark against genmix (genmix matched
   the epsilon-free numpy EM to ~1e-13).

``--spark-runs`` repeats the Spark side, each time in a fresh process and JVM, and the ratio uses the
median. Before each side the script waits (``--max-wait``, default 300 s) for other processes to leave
the cores idle, and reports the cores that other processes kept busy during the timed fits.

Spark and genmix run one after the other (never at the same time: the reference machine has 2 cores).
Needs ``pip install pyspark pyarrow`` and a Java runtime (17 or later) besides genmix's test extra.

Run by hand: ``python benchmarks/bench_spark.py [--rows 1e7] [--chunk 1e6] [--spark-memory 8g]
[--spark-runs 1] [--spark-feed jvm|python] [--genmix-input array|frame]``.
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _harness import _busy_seconds, machine_report, wait_for_idle  # noqa: E402

D, K, SAMPLE = 10, 10, 100_000
COLUMNS = [f"x{j}" for j in range(D)]


def truth():
    """The clusters' weights, means and covariances (fixed seed)."""
    rng = np.random.default_rng(0)
    means = rng.normal(0.0, 4.0, (K, D))
    weights = rng.dirichlet(np.full(K, 5.0))
    covs = []
    for _ in range(K):
        a = rng.normal(0.0, 1.0, (D, D)) / np.sqrt(D)
        covs.append(a @ a.T + 0.5 * np.eye(D))
    return weights, means, np.array(covs)


def block(block_id, rows):
    """Block ``block_id`` of the data, drawn from its own seed."""
    weights, means, covs = truth()
    rng = np.random.default_rng([11, block_id])
    z = rng.choice(K, size=rows, p=weights)
    X = rng.standard_normal((rows, D))
    for j, factor in enumerate(np.linalg.cholesky(covs)):
        rows_j = z == j
        X[rows_j] = X[rows_j] @ factor.T + means[j]
    return X


def write_parquet(n, chunk, directory, sample_rows):
    """The data as one Parquet file per block of ``chunk`` rows; returns the sample (first rows of each block)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    sizes = [chunk] * (n // chunk) + ([n % chunk] if n % chunk else [])
    per_block = -(-sample_rows // len(sizes))
    sample = []
    for i, rows in enumerate(sizes):
        X = block(i, rows)
        table = pa.table({c: X[:, j] for j, c in enumerate(COLUMNS)})
        pq.write_table(table, os.path.join(directory, f"part-{i:05d}.parquet"), row_group_size=rows)
        sample.append(X[:per_block])
    return np.concatenate(sample)[:sample_rows], len(sizes)


def start_parameters():
    """The fixed start: equal weights, true means + 0.5, identity covariances."""
    _, means, _ = truth()
    return np.full(K, 1.0 / K), means + 0.5, np.array([np.eye(D)] * K)


def mean_log_likelihood(weights, means, covs, X):
    """The mean over the rows of X of log sum_j w_j N(x; mu_j, Sigma_j), with scipy."""
    from scipy.special import logsumexp
    from scipy.stats import multivariate_normal

    logp = np.column_stack([np.log(w) + multivariate_normal(m, c).logpdf(X) for w, m, c in zip(weights, means, covs)])
    return float(np.mean(logsumexp(logp, axis=1)))


def _tree_cpu():
    """``{(pid, start time): CPU seconds (user + system)}`` of this process and its live descendants (the
    Spark JVM and its Python workers, the Dask workers), from /proc."""
    tick, parent, cpu = os.sysconf("SC_CLK_TCK"), {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parent[int(entry)] = int(fields[1])
        cpu[int(entry)] = ((int(entry), fields[19]), (int(fields[11]) + int(fields[12])) / tick)
    ours, frontier = {os.getpid()}, {os.getpid()}
    while frontier:
        frontier = {pid for pid, ppid in parent.items() if ppid in frontier and pid not in ours}
        ours |= frontier
    return dict(cpu[pid] for pid in ours if pid in cpu)


class ForeignLoad:
    """The average number of cores kept busy by processes outside this benchmark's process tree between
    ``start()`` and ``stop()``: machine-wide busy time from /proc/stat minus the CPU time the tree's
    processes gained (per process, so that a worker exiting meanwhile, e.g. an idle PySpark worker, does
    not take its earlier time away; the time of a process that both starts and exits in between is
    missed, and counts as foreign)."""

    def start(self):
        self.busy, self.own, self.wall = _busy_seconds(), _tree_cpu(), time.perf_counter()
        return self

    def stop(self):
        busy, own, wall = _busy_seconds(), _tree_cpu(), time.perf_counter()
        if busy is None or self.busy is None:
            return float("nan")
        gained = sum(t - self.own.get(key, 0.0) for key, t in own.items())
        return max(0.0, ((busy - self.busy) - gained) / (wall - self.wall))


def _idle(max_wait):
    """Wait (at most ``max_wait`` s) until other processes keep < 0.2 cores busy; a note for the report."""
    waited, load = wait_for_idle(max_wait)
    note = f"waited {waited:.0f} s for an idle machine"
    return note if load < 0.2 else note + f", gave up with {load:.1f} cores busy elsewhere"


def per_iteration(fit):
    """((time of 5 iterations) − (time of 1)) / 4, each from the same start, after one untimed 1-iteration
    fit (the JVM's JIT compiles Spark's E-step in the first one); also the 5-iteration result."""
    fit(1)
    foreign = ForeignLoad().start()
    t1, _ = fit(1)
    t5, params = fit(5)
    return (t5 - t1) / 4.0, t1, t5, params, foreign.stop()


class _InitialModel:
    """What ``pyspark.mllib.clustering.GaussianMixture.train`` reads of its ``initialModel``: ``k``,
    ``weights`` and ``gaussians`` (``mu``, ``sigma``). (The Python ``GaussianMixtureModel`` class only
    wraps a JVM model; it has no constructor from parameters.)"""

    def __init__(self, weights, means, covs):
        from pyspark.mllib.linalg import DenseMatrix, Vectors
        from pyspark.mllib.stat.distribution import MultivariateGaussian

        self.k = len(weights)
        self.weights = [float(w) for w in weights]
        # DenseMatrix is column-major; the covariances are symmetric, but transpose to be exact.
        self.gaussians = [MultivariateGaussian(Vectors.dense(m), DenseMatrix(D, D, np.asarray(c).T.ravel().tolist()))
                          for m, c in zip(means, covs)]


def run_spark(path, n_files, memory, jvm_cache):
    """One Spark measurement in this process's own JVM (``spark_in_fresh_process`` gives it a new one)."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark.mllib.clustering import GaussianMixture, GaussianMixtureModel
    from pyspark.mllib.common import _py2java, callMLlibFunc
    from pyspark.mllib.linalg import Vectors, _convert_to_vector
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master("local[2]").appName("genmix-bench-spark")
             .config("spark.driver.memory", memory)
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.shuffle.partitions", str(max(2, n_files)))
             .getOrCreate())
    sc = spark.sparkContext
    sc.setLogLevel("ERROR")
    try:
        t = time.perf_counter()
        df = spark.read.parquet(path).select(*COLUMNS)
        if df.rdd.getNumPartitions() != n_files:  # small files are packed together: one partition per block
            df = df.repartition(n_files)
        rdd = df.rdd.map(lambda row: Vectors.dense(list(row))).cache()
        count = rdd.count()
        partitions = rdd.getNumPartitions()
        start = _InitialModel(*start_parameters())
        if jvm_cache:
            # What train() does on every call (pipe the Python RDD through a Python worker into JVM
            # vectors), done once here and cached in the JVM; then train()'s own JVM entry point.
            jvectors = _py2java(sc, rdd.map(_convert_to_vector)).cache()
            jvectors.count()
            rdd.unpersist(True)
            keep = {jvectors.id()}
            w0 = list(start.weights)
            mu0 = [g.mu for g in start.gaussians]
            sigma0 = [g.sigma for g in start.gaussians]

            def train(iterations):
                return GaussianMixtureModel(callMLlibFunc("trainGaussianMixtureModel", jvectors, K, 0.0, iterations,
                                                          0, w0, mu0, sigma0))
        else:
            keep = {rdd.id()}

            def train(iterations):
                return GaussianMixture.train(rdd, K, convergenceTol=0.0, maxIterations=iterations, seed=0,
                                             initialModel=start)
        loaded = time.perf_counter() - t

        def fit(iterations):
            t = time.perf_counter()
            model = train(iterations)
            weights = np.array(model.weights)
            gaussians = model.gaussians
            elapsed = time.perf_counter() - t
            means = np.array([g.mu.toArray() for g in gaussians])
            covs = np.array([g.sigma.toArray() for g in gaussians])
            for rdd_id, jrdd in sc._jsc.getPersistentRDDs().items():  # the vectors train() cached for itself
                if rdd_id not in keep:
                    jrdd.unpersist(True)
            return elapsed, (weights, means, covs)

        return per_iteration(fit), count, partitions, loaded, spark.version
    finally:
        spark.stop()


def spark_in_fresh_process(*args):
    """``run_spark(*args)`` in a new Python process, so in a new JVM (see the module docstring)."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(run_spark, args)


def run_genmix(path, frame):
    import dask.dataframe as dd
    from distributed import Client, LocalCluster, wait

    from genmix import GeneralMixtureModel, MultivariateGaussianDistribution

    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0", silence_logs=40) as cluster, \
            Client(cluster):
        t = time.perf_counter()
        df = dd.read_parquet(path, columns=COLUMNS)
        X = df if frame else df.to_dask_array(lengths=True)
        X = X.persist()
        wait(X)
        loaded = time.perf_counter() - t
        parts = X.npartitions if frame else len(X.chunks[0])

        def fit(iterations):
            weights, means, covs = start_parameters()
            model = GeneralMixtureModel([MultivariateGaussianDistribution(m, c) for m, c in zip(means, covs)],
                                        weights)
            t = time.perf_counter()
            model.fit(X, max_iterations=iterations, stop_threshold=-np.inf)
            elapsed = time.perf_counter() - t
            params = (np.array(model.weights),
                      np.array([np.asarray(dist.parameters[0]) for dist in model.distributions]),
                      np.array([np.asarray(dist.parameters[1]) for dist in model.distributions]))
            return elapsed, (params, model)

        it, t1, t5, (params, model), foreign = per_iteration(fit)
        return (it, t1, t5, params, foreign), model, parts, loaded


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=float, default=1e7)
    parser.add_argument("--chunk", type=float, default=1e6, help="rows per Parquet file (and per block)")
    parser.add_argument("--spark-memory", default="8g", help="Spark driver memory (local mode: all of Spark)")
    parser.add_argument("--spark-runs", type=int, default=1,
                        help="Spark measurements, each in a fresh process and JVM (the ratio uses their median)")
    parser.add_argument("--spark-feed", choices=["jvm", "python"], default="jvm",
                        help="jvm (default): rows converted to JVM vectors once, cached, and train()'s JVM entry "
                             "point called on them; python: GaussianMixture.train on the cached Python RDD")
    parser.add_argument("--max-wait", type=float, default=300,
                        help="seconds to wait, before each side, for other processes to leave the cores idle")
    parser.add_argument("--genmix-input", choices=["array", "frame"], default="array",
                        help="fit genmix on the Dask array of the Parquet columns (default) or the Dask DataFrame")
    args = parser.parse_args()
    n, chunk = int(args.rows), int(args.chunk)
    print("# genmix on Dask (distributed.LocalCluster) beside Spark MLlib's GaussianMixture\n")
    print(machine_report())
    directory = tempfile.mkdtemp(prefix="genmix-bench-spark-")
    try:
        t = time.perf_counter()
        sample, n_files = write_parquet(n, chunk, directory, min(SAMPLE, n))
        written = time.perf_counter() - t
        size = sum(os.path.getsize(os.path.join(directory, f)) for f in os.listdir(directory))
        print(f"- data: {n:,} × {D} float64 ({n * D * 8 / 1e9:.2f} GB in memory) from {K} Gaussian clusters "
              f"(random full covariances, unequal weights), as {n_files} Parquet files of ≤ {chunk:,} rows "
              f"({size / 1e9:.2f} GB on disk, written in {written:.1f} s); k = {K} full-covariance components; "
              "start: equal weights, true means + 0.5, identity covariances", flush=True)
        print(f"- log-likelihood sample: {len(sample):,} rows (the first rows of every block)", flush=True)

        jvm_feed = args.spark_feed == "jvm"
        how = ("train()'s JVM entry point on vectors cached in the JVM" if jvm_feed
               else "GaussianMixture.train on the cached Python RDD")
        spark_runs = []
        for run in range(args.spark_runs):
            note = _idle(args.max_wait)
            (s_it, s_1, s_5, s_params, s_foreign), count, s_parts, s_loaded, version = spark_in_fresh_process(
                directory, n_files, args.spark_memory, jvm_feed)
            spark_runs.append(s_it)
            print(f"- Spark {version}, run {run + 1} of {args.spark_runs} in a fresh JVM (pyspark.mllib, {how}; "
                  f"local[2], driver memory {args.spark_memory}): {count:,} rows in {s_parts} cached partitions, "
                  f"read and cached in {s_loaded:.1f} s; {s_it:.2f} s per iteration (fit 1: {s_1:.1f} s, "
                  f"fit 5: {s_5:.1f} s); {note}; other processes kept {s_foreign:.2f} cores busy during the "
                  "timed fits", flush=True)
        s_it = float(np.median(spark_runs))
        s_ll = mean_log_likelihood(*s_params, sample)

        note = _idle(args.max_wait)
        (g_it, g_1, g_5, g_params, g_foreign), model, g_parts, g_loaded = run_genmix(
            directory, args.genmix_input == "frame")
        g_ll = mean_log_likelihood(*g_params, sample)
        own_ll = float(np.mean(model.log_probability(sample)))
        print(f"- genmix (Dask {args.genmix_input} from read_parquet, LocalCluster 2 workers × 1 thread): "
              f"{g_parts} partitions, read and persisted in {g_loaded:.1f} s; {g_it:.2f} s per iteration "
              f"(fit 1: {g_1:.1f} s, fit 5: {g_5:.1f} s); {note}; other processes kept {g_foreign:.2f} cores busy "
              "during the timed fits", flush=True)
        median = f" (median of {len(spark_runs)} Spark runs: {s_it:.2f} s)" if len(spark_runs) > 1 else ""
        print(f"- per iteration, Spark / genmix{median}: {s_it / g_it:.2f}")
        print(f"- mean log-likelihood on the sample after 5 iterations (scipy, from the fitted parameters): "
              f"Spark {s_ll:.6f}, genmix {g_ll:.6f}, difference (genmix − Spark) {g_ll - s_ll:.2e} "
              f"(genmix's own log_probability: {own_ll:.6f})")
        names = ("weights", "means", "covariances")
        diffs = ", ".join(f"{name} {np.max(np.abs(g - s)):.1e}" for name, g, s in zip(names, g_params, s_params))
        print(f"- largest |genmix − Spark| of the fitted parameters after 5 iterations: {diffs}")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
