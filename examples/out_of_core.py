"""
Out of core: fitting a mixture to a memory-mapped .npy file
============================================================

``GeneralMixtureModel.from_samples`` and ``fit`` read a ``numpy.memmap`` (here opened by
``numpy.lib.format.open_memmap``, so that the file is an ordinary ``.npy``) in slices of ``batch_size``
rows and never copy it whole: the k-means start draws its seeding sample in one pass and does each
Lloyd iteration in another, and each EM iteration sums the batches' sufficient statistics before one
M-step. ``batch_size`` alone is therefore exact EM, not an approximation: from the same ``random_state``
the out-of-core fit is the in-memory fit, up to the rounding of sums taken in a different order.

(With ``batches_per_epoch`` as well it becomes streaming incremental EM, which is a different
algorithm; see the README.)
"""
import os
import tempfile
import time

import numpy as np

from genmix import GeneralMixtureModel, MultivariateGaussianDistribution

N, BATCH = 300_000, 40_000
MEANS = np.array([[0.0, 0.0, 0.0], [4.0, 1.0, -2.0], [-3.0, 3.5, 1.0]])
SCALES = np.array([1.0, 0.8, 1.4])
WEIGHTS = np.array([0.5, 0.3, 0.2])


def write_memmap(path, n=N, seed=0, chunk=100_000):
    """Write ``n`` rows of a three-component Gaussian mixture in 3-D into the .npy file ``path``, a chunk at
    a time, and return it opened read-only as a memmap."""
    rng = np.random.default_rng(seed)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float64, shape=(n, 3))
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        z = rng.choice(3, size=m, p=WEIGHTS)
        out[start:start + m] = MEANS[z] + SCALES[z, None] * rng.standard_normal((m, 3))
    out.flush()
    del out
    return np.load(path, mmap_mode="r")


def fit(X, **options):
    return GeneralMixtureModel.from_samples(MultivariateGaussianDistribution, 3, X, stop_threshold=1e-3,
                                            random_state=0, return_history=True, **options)


def main(out_dir=None):
    """Fit the same data out of core and in memory; return ``(out_of_core, in_memory, history_out,
    history_in, X)`` with ``X`` the in-memory copy of the data. The .npy file lives in a temporary
    directory (inside ``out_dir`` if given), removed before returning."""
    with tempfile.TemporaryDirectory(dir=out_dir) as tmp:
        mm = write_memmap(os.path.join(tmp, "data.npy"))
        started = time.perf_counter()
        out_of_core, history_out = fit(mm, batch_size=BATCH)
        seconds = time.perf_counter() - started
        X = np.array(mm)  # the in-memory copy, for the comparison
        del mm  # release the file before the directory goes
    in_memory, history_in = fit(X)

    worst = max(np.max(np.abs(np.asarray(a, dtype=float) - np.asarray(b, dtype=float)))
                for c, d in zip(out_of_core.distributions, in_memory.distributions)
                for a, b in zip(c.parameters, d.parameters))
    print(f"{N:,} rows, memmap in batches of {BATCH:,}: {len(history_out.epochs)} EM iterations in "
          f"{seconds:.2f} s, log-likelihood {out_of_core.log_probability(X).sum():.6f}")
    print(f"in memory: {len(history_in.epochs)} EM iterations, log-likelihood "
          f"{in_memory.log_probability(X).sum():.6f}; largest parameter difference {worst:.1e}")
    for c, w in zip(out_of_core.distributions, out_of_core.weights):
        print(f"weight {w:.4f}, mean {np.round(c.parameters[0], 3).tolist()}")
    return out_of_core, in_memory, history_out, history_in, X


if __name__ == "__main__":
    main()
