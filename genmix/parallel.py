"""Threads over row chunks for the E-step and prediction (``n_jobs``).

numpy's element-wise loops and BLAS release the GIL, so row chunks of one batch run in parallel in
threads with no copies of the data. While threads run, BLAS is limited to one thread each (through
threadpoolctl, when it is installed) so that the two kinds of threads do not oversubscribe the cores.
Results are combined in chunk order, so they do not depend on scheduling; they equal the one-thread
results up to the rounding of the final sums.
"""
import collections
import contextlib
import functools
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ._validation import Interval, check_int

__all__ = ["resolve_n_jobs", "row_chunks", "map_chunks", "map_reduce", "fold_in_threads"]

#: the fewest rows worth a thread of their own (below that, thread overhead dominates)
MIN_ROWS_PER_THREAD = 16384
_EXECUTORS = {}


def _cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def resolve_n_jobs(n_jobs, owner=None):
    """The number of threads for ``n_jobs``: a positive count, or -1 for all cores (-2 all but one, …)."""
    n_jobs = check_int(n_jobs, "n_jobs", Interval(-np.inf, np.inf), owner)
    if n_jobs == 0:
        raise ValueError(f"The 'n_jobs' parameter{' of ' + owner if owner else ''} must be a non-zero int "
                         "(-1 means all cores); got 0.")
    return n_jobs if n_jobs > 0 else max(1, _cores() + 1 + n_jobs)


def row_chunks(n, n_jobs):
    """Contiguous row slices, one per thread (fewer when the rows are few)."""
    parts = int(min(n_jobs, max(1, n // MIN_ROWS_PER_THREAD)))
    bounds = np.linspace(0, n, parts + 1).astype(int)
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]


@functools.cache
def _controller():
    """threadpoolctl's controller, made once (~20 µs per limit instead of ~0.7 ms), or None."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl comes with the test extra
        return None
    return ThreadpoolController()


@contextlib.contextmanager
def _single_threaded_blas(active):
    """Limit BLAS to one thread while the block runs (when ``active`` and threadpoolctl is installed)."""
    controller = _controller() if active else None
    if controller is None:
        yield
        return
    with controller.limit(limits=1, user_api="blas"):
        yield


def map_chunks(fn, n, n_jobs):
    """``[fn(chunk) for chunk in row_chunks(n, n_jobs)]``, the calls running in threads."""
    chunks = row_chunks(n, n_jobs)
    if len(chunks) == 1:
        return [fn(chunks[0])]
    with _single_threaded_blas(True):
        return list(_executor(len(chunks)).map(fn, chunks))


def _executor(n_threads):
    """The shared pool of ``n_threads`` threads."""
    executor = _EXECUTORS.get(n_threads)
    if executor is None:
        executor = _EXECUTORS[n_threads] = ThreadPoolExecutor(max_workers=n_threads, thread_name_prefix="genmix")
    return executor


def fold_in_threads(calls, merge, n_jobs):
    """``merge(… merge(c₀(), c₁()) …)`` of the zero-argument callables ``calls`` (None for none), merged in
    order, so the result does not depend on ``n_jobs`` or scheduling. With ``n_jobs > 1`` the calls run in
    that many threads (BLAS pinned to one thread meanwhile) while ``calls`` is consumed lazily, at most
    ``2 · n_jobs`` of them pending: an iterator that reads a chunk of data per call keeps only those chunks
    in memory."""
    total = None

    def add(part):
        return part if total is None else merge(total, part)

    if n_jobs <= 1:
        for call in calls:
            total = add(call())
        return total
    executor, pending = _executor(n_jobs), collections.deque()
    with _single_threaded_blas(True):
        for call in calls:
            pending.append(executor.submit(call))
            if len(pending) >= 2 * n_jobs:
                total = add(pending.popleft().result())
        while pending:
            total = add(pending.popleft().result())
    return total


def map_reduce(fn, n, n_jobs):
    """``fn(chunk_0) + fn(chunk_1) + …`` over :func:`row_chunks`, the calls in threads and the sum in chunk
    order (so the result does not depend on scheduling). ``fn`` returns values that add, such as
    :class:`genmix.estep.EStepResult`."""
    parts = map_chunks(fn, n, n_jobs)
    total = parts[0]
    for p in parts[1:]:
        total = total + p
    return total
