"""Bounded memory: fit a 10-component full-covariance mixture to a 2 GB float64 memmap (25,000,000 × 10)
with ``batch_size=100_000``, and record the peak *anonymous* resident memory over the interpreter's
baseline (the memmap's own file pages, which the kernel can drop, do not count).

Run by hand: ``python benchmarks/bench_out_of_core.py [--rows N] [--dir DIR]`` (the file is deleted
afterwards). Also: ``n_jobs`` speed-up on a 5-component univariate Normal mixture of 1,000,000 points.
"""
import argparse
import os
import sys
import tempfile
import threading
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _harness import Case, compare, format_table, machine_report  # noqa: E402

from genmix import GeneralMixtureModel, MultivariateGaussianDistribution, NormalDistribution  # noqa: E402


def release_free_heap():
    """Return freed heap pages to the OS (glibc ``malloc_trim``), so that RssAnon only counts live memory."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: the baseline may include freed memory
        pass


def rss_anon_mib():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class PeakSampler(threading.Thread):
    """Samples RssAnon every 20 ms and keeps the maximum."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak, self._halt = rss_anon_mib(), threading.Event()

    def run(self):
        while not self._halt.is_set():
            self.peak = max(self.peak, rss_anon_mib())
            time.sleep(0.02)

    def stop(self):
        self._halt.set()
        self.join()
        return max(self.peak, rss_anon_mib())


def out_of_core(rows, directory):
    d, k = 10, 10
    path = os.path.join(directory, "genmix_bench_memmap.npy")
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 3, (k, d))
    X = np.lib.format.open_memmap(path, mode="w+", dtype=np.float64, shape=(rows, d))
    for s in range(0, rows, 1_000_000):  # written in chunks, never held whole
        m = min(1_000_000, rows - s)
        X[s:s + m] = centres[rng.integers(0, k, m)] + rng.normal(0, 1, (m, d))
    X.flush()
    del X
    try:
        data = np.load(path, mmap_mode="r")
        model = GeneralMixtureModel([MultivariateGaussianDistribution(c + 0.3, np.eye(d)) for c in centres])
        release_free_heap()  # generating the file freed ~100 MiB the heap would otherwise keep
        baseline = rss_anon_mib()
        sampler = PeakSampler()
        sampler.start()
        start = time.perf_counter()
        model.fit(data, batch_size=100_000, max_iterations=1, stop_threshold=0.0)
        elapsed = time.perf_counter() - start
        peak = sampler.stop()
        size = rows * d * 8 / 2**20
        print(f"memmap {rows:,} × {d} float64 ({size:,.0f} MiB on disk), {k} full-covariance components, "
              f"batch_size=100,000, 1 EM iteration (2 passes): {elapsed:.1f} s")
        print(f"peak anonymous RSS over baseline: {peak - baseline:.1f} MiB (baseline {baseline:.1f} MiB)")
    finally:
        os.remove(path)


def threads():
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(m, 1, 200_000) for m in range(5)])[:, None]

    def fit(n_jobs):
        model = GeneralMixtureModel([NormalDistribution(m + 0.3, 1.2) for m in range(5)])
        return model.fit(X, max_iterations=5, stop_threshold=0.0, n_jobs=n_jobs)

    results = compare([Case("n_jobs=1", lambda: fit(1)), Case("n_jobs=2", lambda: fit(2))],
                      baseline="n_jobs=1", repeats=5, limits=None, per=5)
    print(format_table(results, title="univariate Normal, k=5, n=1,000,000: time per EM iteration"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=25_000_000)
    parser.add_argument("--dir", default=tempfile.gettempdir())
    parser.add_argument("--skip-memmap", action="store_true")
    args = parser.parse_args(argv)
    print(machine_report())
    print()
    threads()
    print()
    if not args.skip_memmap:
        out_of_core(args.rows, args.dir)


if __name__ == "__main__":
    main()
