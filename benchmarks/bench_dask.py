"""EM on a Dask array on a ``distributed.LocalCluster``, beside the in-memory EM on a slice (issue 17).

1. A lazily generated n × 10 float64 array (default n = 1e8: 8 GB, never materialised on the client; each
   block drawn on a worker from its own seed, 10 Gaussian clusters) fitted for 5 EM iterations with 10
   full-covariance components on 2 workers (1 thread, ``--memory-limit`` each, default 4 GB), from a
   fixed start. Reported: per-iteration time ((time of 5 − time of 1) / 4), the peak memory of each
   worker (its process RSS, sampled every 0.5 s), and the ratio to (n / n_slice) × the in-memory
   per-iteration time on an n_slice-row slice (default 1e7) of the same data in this process (1 thread).
2. Scaling: the per-iteration time on ``--scaling-rows`` rows with 1 and with 2 workers, in
   ``--scaling-rounds`` alternating rounds (each the median epoch duration of one 6-iteration fit, from
   ``History``), beside the machine's own ceiling measured in the same round: the throughput of the same
   in-memory EM (1 thread, no Dask) in 2 processes at once over 1 process alone (2.0 on two idle cores;
   on a shared machine a neighbour's load or the memory bandwidth takes it below 2).

Run by hand: ``python benchmarks/bench_dask.py [--rows 1e8] [--slice-rows 1e7] [--scaling-rows 2e7]``.
"""
import argparse
import contextlib
import os
import sys
import threading
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _harness import machine_report  # noqa: E402

D, K, CHUNK = 10, 10, 1_000_000


def _centres():
    return np.random.default_rng(0).normal(0.0, 4.0, (K, D))


def _block(block_id, rows):
    """Block ``block_id`` of the data, drawn from its own seed (the same whoever draws it)."""
    rng = np.random.default_rng([7, block_id])
    z = rng.integers(0, K, rows)
    return _centres()[z] + rng.standard_normal((rows, D))


def lazy_data(n):
    import dask.array as da

    sizes = [CHUNK] * (n // CHUNK) + ([n % CHUNK] if n % CHUNK else [])
    return da.concatenate([da.from_delayed(_delayed_block(i, s), shape=(s, D), dtype=np.float64)
                           for i, s in enumerate(sizes)])


def _delayed_block(i, rows):
    import dask

    return dask.delayed(_block, pure=True)(i, rows)


def start_model():
    from genmix import GeneralMixtureModel, MultivariateGaussianDistribution

    centres = _centres() + 0.5
    return GeneralMixtureModel([MultivariateGaussianDistribution(c, np.eye(D)) for c in centres])


def per_iteration(fit):
    """((time of 5 iterations) − (time of 1)) / 4, each from the same start."""
    t1 = fit(1)
    t5 = fit(5)
    return (t5 - t1) / 4.0, t1, t5


class _PeakMemory:
    """Samples every worker's RSS (through the scheduler's worker metrics) every 0.5 s."""

    def __init__(self, client):
        self.client, self.peak, self._stop = client, {}, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                for address, info in self.client.scheduler_info()["workers"].items():
                    memory = info.get("metrics", {}).get("memory", 0)
                    self.peak[address] = max(self.peak.get(address, 0), memory)
            except Exception:  # the scheduler is busy or closing
                pass
            self._stop.wait(0.5)

    def stop(self):
        self._stop.set()
        self._thread.join()
        return self.peak


@contextlib.contextmanager
def _persisted(n, workers, memory_limit):
    """A LocalCluster of ``workers`` × 1 thread and its client, with the n-row data drawn and persisted on
    the workers (spilled to disk beyond their memory): yields ``(client, X, seconds to draw)``."""
    from distributed import Client, LocalCluster, wait

    with LocalCluster(n_workers=workers, threads_per_worker=1, memory_limit=memory_limit,
                      dashboard_address=":0", silence_logs=40) as cluster, Client(cluster) as client:
        start = time.perf_counter()
        X = lazy_data(n).persist()
        wait(X)
        yield client, X, time.perf_counter() - start


def run_on_cluster(n, workers, memory_limit):
    with _persisted(n, workers, memory_limit) as (client, X, drawn):
        memory = _PeakMemory(client)

        def fit(iterations):
            model = start_model()
            t = time.perf_counter()
            model.fit(X, max_iterations=iterations, stop_threshold=-np.inf)
            return time.perf_counter() - t

        result = per_iteration(fit)
        return result, drawn, memory.stop()


def scaling_per_iteration(n, workers, memory_limit, iterations=6):
    """The median epoch duration of one ``iterations``-long fit on ``workers`` workers (1 thread each)."""
    with _persisted(n, workers, memory_limit) as (_, X, _):
        history = start_model().fit(X, max_iterations=iterations, stop_threshold=-np.inf, return_history=True)[1]
        return float(np.median(history.epoch_durations))


def _in_memory_epoch(_):
    """The median epoch duration of an in-memory fit (1 thread) on 5 blocks: the workers' work without Dask."""
    from threadpoolctl import threadpool_limits

    X = np.concatenate([_block(i, CHUNK) for i in range(5)])
    with threadpool_limits(1):
        history = start_model().fit(X, max_iterations=5, stop_threshold=-np.inf, return_history=True)[1]
    return float(np.median(history.epoch_durations))


def machine_ceiling():
    """What the machine allows: the throughput of :func:`_in_memory_epoch` in 2 processes at once over
    1 process alone (2.0 on two idle cores; less when the cores' memory bandwidth or a neighbour limits)."""
    from multiprocessing import get_context

    with get_context("spawn").Pool(1) as pool:
        (one,) = pool.map(_in_memory_epoch, [0])
    with get_context("spawn").Pool(2) as pool:
        two = pool.map(_in_memory_epoch, [0, 1])
    return 2.0 * one / max(two)


def run_in_memory(rows):
    from threadpoolctl import threadpool_limits

    X = np.concatenate([_block(i, CHUNK) for i in range(rows // CHUNK)])

    def fit(iterations):
        model = start_model()
        t = time.perf_counter()
        with threadpool_limits(1):
            model.fit(X, max_iterations=iterations, stop_threshold=-np.inf)
        return time.perf_counter() - t

    return per_iteration(fit)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=float, default=1e8)
    parser.add_argument("--slice-rows", type=float, default=1e7)
    parser.add_argument("--scaling-rows", type=float, default=2e7)
    parser.add_argument("--scaling-rounds", type=int, default=3)
    parser.add_argument("--memory-limit", default="4GB")
    parser.add_argument("--only-scaling", action="store_true", help="skip part 1")
    args = parser.parse_args()
    n, n_slice, n_scale = int(args.rows), int(args.slice_rows), int(args.scaling_rows)
    print("# EM on Dask (distributed.LocalCluster) beside in-memory EM\n")
    print(machine_report())
    print(f"- data: {n:,} × {D} float64 ({n * D * 8 / 1e9:.1f} GB), blocks of {CHUNK:,} rows drawn on the workers; "
          f"k = {K} full-covariance components, 5 EM iterations from a fixed start\n")
    if not args.only_scaling:
        (mem_iter, mem_1, mem_5) = run_in_memory(n_slice)
        print(f"- in memory, {n_slice:,} rows, 1 thread: {mem_iter:.3f} s per iteration (fit 1: {mem_1:.2f} s, "
              f"fit 5: {mem_5:.2f} s)", flush=True)
        (it, t1, t5), drawn, peak = run_on_cluster(n, 2, args.memory_limit)
        bound = n / n_slice * mem_iter
        print(f"- Dask, {n:,} rows, 2 workers × 1 thread, memory_limit {args.memory_limit}: drawn and persisted in "
              f"{drawn:.1f} s; {it:.2f} s per iteration (fit 1: {t1:.1f} s, fit 5: {t5:.1f} s); (n / n_slice) × "
              f"in-memory = {bound:.2f} s; ratio {it / bound:.2f} (target ≤ 1.3 with 1 worker's worth of work per "
              f"core; 2 workers share the 2 cores)", flush=True)
        print("- peak worker memory (RSS): " + ", ".join(f"{v / 1e9:.2f} GB" for v in peak.values()), flush=True)
    ratios = []
    for round_ in range(args.scaling_rounds):
        ceiling = machine_ceiling()
        one = scaling_per_iteration(n_scale, 1, args.memory_limit)
        two = scaling_per_iteration(n_scale, 2, args.memory_limit)
        ratios.append((one / two, ceiling))
        print(f"- scaling round {round_ + 1} on {n_scale:,} rows: 1 worker {one:.2f} s per iteration, 2 workers "
              f"{two:.2f} s: {one / two:.2f}× (target ≥ 1.6); machine ceiling (in-memory EM, 2 processes over 1) "
              f"{ceiling:.2f}×; load average {os.getloadavg()[0]:.2f}", flush=True)
    scaling, ceilings = np.median(ratios, axis=0)
    print(f"- scaling, median of {len(ratios)} rounds: {scaling:.2f}× (machine ceiling {ceilings:.2f}×)", flush=True)


if __name__ == "__main__":
    main()
