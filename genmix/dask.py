"""The Dask backend: EM, summaries, predictions and criteria on Dask arrays and DataFrames.

A Dask collection never reaches the client whole. ``fit`` persists it once (on the workers when a
``distributed.Client`` is the default scheduler), then each EM iteration submits one graph: every row
block is mapped to its ``EStepResult`` by the same code as in memory (``model._estep``: the family
kernels and the fused E-step, run on the worker, ``n_jobs`` threads inside it), and the results are
summed pairwise in a tree on the workers. Only a copy of the model (kilobytes) travels to the workers and
only the summed statistics come back, never the ``(n, k)`` responsibilities: one round trip per
iteration. The M-step runs on the client, unchanged.

Predictions (``log_probability``, ``probability``, ``predict``, ``predict_proba``, ``predict_log_proba``,
``impute``) are lazy: a Dask array for a Dask array (one block per row block), a Dask Series or DataFrame
for a Dask DataFrame (one partition per partition). Criteria and ``score`` are reductions computed at
once (floats).

Imported only when a Dask collection is given (``pip install "genmix[dask]"``); the core never imports
dask.
"""
import uuid

import numpy as np

from .data import check_weights, check_X, is_frame, row_log_priors, unit_weights

__all__ = ["DaskCursor", "DaskRows", "predict_lazily", "criterion_terms", "summarize"]


def _dask():
    """The ``dask`` module (with its array collection), or an ImportError naming the extra."""
    try:
        import dask
        import dask.array  # noqa: F401 - registers the array collection
    except ImportError as exc:  # pragma: no cover - the test extra installs dask
        raise ImportError('Dask collections need the optional dask packages: pip install "genmix[dask]"') from exc
    return dask


def _is_dataframe(X):
    """Whether ``X`` is a Dask DataFrame (a frame with partitions)."""
    return is_frame(X) and hasattr(X, "npartitions")


class _Blocks:
    """A Dask array or DataFrame as row blocks: the delayed blocks, their lengths and first rows.

    A Dask array must have known chunk sizes along the rows (else ``X.compute_chunk_sizes()`` first) and
    a dtype genmix reads (numbers, booleans, or objects and strings for categorical columns); chunks
    along the columns are merged once (``rechunk({1: -1})``). A 1-D array is one column. A DataFrame's
    partition lengths are computed once, after it is persisted.
    """

    def __init__(self, X, d, persist=True):
        dask = _dask()
        if _is_dataframe(X):
            if persist:
                X = X.persist()
            self.frame = True
            self.parts = list(X.to_delayed())
            self.lengths = [int(v) for v in dask.compute(*[dask.delayed(len)(p) for p in self.parts])]
        else:
            X = _checked_array(X, d)
            if persist:
                X = X.persist()
            self.frame = False
            self.parts = list(X.to_delayed().ravel())
            self.lengths = [int(c) for c in X.chunks[0]]
        self.X = X
        self.client = _client()  # the computations run where the blocks were persisted
        kept = [i for i, rows in enumerate(self.lengths) if rows > 0]  # an empty block is no batch
        self.parts, self.lengths = [self.parts[i] for i in kept], [self.lengths[i] for i in kept]
        self.offsets = np.concatenate([[0], np.cumsum(self.lengths)]).astype(np.int64)
        self.n = int(self.offsets[-1])

    def aligned(self, values, name, trailing=()):
        """``values`` (None, an array, a Dask array or a Dask Series with ``n`` rows) cut into the blocks'
        rows: a list of one piece per block (numpy slices, or delayed blocks of a Dask array rechunked to
        match; a Dask Series, e.g. a column of the DataFrame X came from, is read as a Dask array)."""
        if values is None:
            return [None] * len(self.parts)
        if hasattr(values, "__dask_graph__") and hasattr(values, "npartitions") and not hasattr(values, "chunks"):
            if getattr(values, "ndim", 1) != 1:
                raise TypeError(f"{name} must be an array, a Dask array or a Dask Series aligned with X; got a "
                                f"Dask {type(values).__name__}.")
            values = values.to_dask_array(lengths=True)
        if hasattr(values, "__dask_graph__"):
            if not hasattr(values, "chunks"):
                raise TypeError(f"{name} must be an array, a Dask array or a Dask Series aligned with X; got "
                                f"{type(values).__name__}.")
            if values.shape[0] != self.n or np.isnan(values.shape[0]):
                raise ValueError(f"{name} must have one entry per row of X ({self.n}); got shape {values.shape}.")
            chunks = (tuple(self.lengths),) + tuple((s,) for s in values.shape[1:])
            return list(values.rechunk(chunks).to_delayed().ravel())
        values = np.asarray(values)
        if values.ndim == 0 or values.shape[0] != self.n:
            raise ValueError(f"{name} must have one entry per row of X ({self.n}); got shape {values.shape}.")
        return [values[a:b] for a, b in zip(self.offsets[:-1], self.offsets[1:])]


def _checked_array(X, d):
    """A Dask array as fit reads it: 2-D with ``d`` columns in one chunk, known row chunks, a readable dtype."""
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise ValueError(f"X must be a 1-D or 2-D Dask array; got {X.ndim} dimensions.")
    if any(np.isnan(c) for c in X.chunks[0]):
        raise ValueError("X is a Dask array with unknown chunk sizes along its rows (after a boolean mask or a "
                         "filter, say); call X.compute_chunk_sizes() first, so that each block's rows are known.")
    if X.dtype.kind not in "biufOUS":
        raise TypeError(f"X is a Dask array of dtype {X.dtype}, which genmix cannot read: give numbers (or "
                        "objects/strings for categorical columns).")
    if d is not None and X.shape[1] != d:
        raise ValueError(f"X has {X.shape[1]} columns; the model has d={d}.")
    if len(X.chunks[1]) > 1:  # each row block must hold whole rows
        X = X.rechunk({1: -1})
    return X


def _add(a, b):
    """``a + b``, a None side skipped (an empty block has no result)."""
    if a is None:
        return b
    return a if b is None else a + b


def _tree_sum(dask, parts):
    """A delayed pairwise sum of delayed values (None entries skipped): depth log2 of their number."""
    add = dask.delayed(_add, pure=True)
    while len(parts) > 1:
        parts = [add(a, b) for a, b in zip(parts[::2], parts[1::2])] + (parts[-1:] if len(parts) % 2 else [])
    return parts[0]


def _model_on_workers(dask, model):
    """A delayed copy of ``model``: one key that every task of the graph reads (sent once, not per task)."""
    return dask.delayed(model.copy(), name=f"genmix-model-{uuid.uuid4().hex}", traverse=False)


def _block_estep(model, X, w, labels, priors, first, n_jobs, dtype=np.float64):
    """One block's pure E-step on a worker (None for an empty block), numeric data read in ``dtype``."""
    Xc, _ = model._check_input(X, allow_empty=True, dtype=dtype)
    n = Xc.shape[0]
    if n == 0:
        return None
    wc = unit_weights(n) if w is None else check_weights(w, n)
    return model._estep(Xc, wc, row_log_priors(n, model.n, labels, priors), n_jobs, first)


def _client():
    """The ``distributed`` client that is Dask's default scheduler, or None (threads, or no distributed)."""
    try:
        from distributed import default_client
    except ImportError:  # pragma: no cover - the dask extra installs distributed
        return None
    try:
        return default_client()
    except ValueError:  # no client: Dask's local schedulers
        return None


def _compute(dask, *values, client=None):
    """``dask.compute`` on ``client`` (the one that held the data when they were persisted; None: Dask's
    default scheduler), with clear messages for a client that lost its cluster and for a worker that
    died repeatedly (most often: out of memory)."""

    def disconnected(exc=None):
        return RuntimeError(
            f"The Dask client that holds X's persisted blocks is no longer connected to its cluster (status "
            f"{client.status!r}{': ' + type(exc).__name__ if exc is not None else ''}); the blocks are gone and "
            "the computation stopped (a fit leaves the model unchanged). Reconnect a client and call again.")

    if client is not None and client.status != "running":
        raise disconnected()
    try:
        return dask.compute(*values) if client is None else dask.compute(*values, scheduler=client)
    except Exception as exc:
        if type(exc).__name__ == "KilledWorker":
            raise RuntimeError(
                "A Dask worker died while computing genmix's E-step and the task was retried until distributed "
                f"gave up ({exc}). The most common cause is a worker running out of memory: give the workers "
                "more memory (memory_limit) or cut X into smaller chunks.") from exc
        if client is not None and client.status != "running":
            raise disconnected(exc) from exc
        raise


class DaskCursor:
    """The batch source of EM over a Dask collection: its row blocks are the batches, and their E-steps run
    on the workers (see the module docstring). The protocol is that of ``genmix.em._Cursor``:
    ``n_batches``, ``esteps`` and ``epoch_batches``."""

    def __init__(self, model, X, weights=None, labels=None, priors=None, dtype=np.float64):
        self.model, self.dtype = model, np.dtype(dtype)
        self.dask = _dask()
        self.blocks = _Blocks(X, model.d)
        if self.blocks.n == 0:
            raise ValueError("X must contain at least one sample; got an empty Dask collection.")
        self.weights = self.blocks.aligned(weights, "weights")
        if weights is not None and not hasattr(weights, "__dask_graph__"):
            check_weights(weights, self.blocks.n)  # a bad value fails here, not on a worker
            if not np.sum(weights) > 0:
                raise ValueError("weights must not all be zero: there is nothing to fit.")
        self.labels = self.blocks.aligned(labels, "labels")
        self.priors = self.blocks.aligned(priors, "priors")
        self.n_batches = len(self.blocks.parts)
        self._next = 0

    def epoch_batches(self, count, summed=False):
        """How many results :meth:`esteps` yields for ``count`` blocks: one total when ``summed``."""
        return 1 if summed else count

    def _graph(self, ids, n_jobs):
        """The delayed E-steps of blocks ``ids``, all reading one copy of the model."""
        dask, model = self.dask, _model_on_workers(self.dask, self.model)
        step = dask.delayed(_block_estep, pure=True)
        return [step(model, self.blocks.parts[b], self.weights[b], self.labels[b], self.priors[b],
                     int(self.blocks.offsets[b]), n_jobs, self.dtype) for b in ids]

    def esteps(self, count, log_priors, n_jobs, summed=False):
        """The E-steps of the next ``count`` blocks in one graph: their tree sum as one result when
        ``summed``, else one result per block (streaming keeps each block's latest)."""
        ids = [(self._next + i) % self.n_batches for i in range(count)]
        self._next = (self._next + count) % self.n_batches
        rows = int(sum(self.blocks.lengths[b] for b in ids))
        if summed:
            graph = _tree_sum(self.dask, self._graph(ids, n_jobs))
            (total,) = _compute(self.dask, graph, client=self.blocks.client)
            if total is None:
                raise ValueError("X must contain at least one sample; every block of the Dask collection is empty.")
            yield ids[0], total, rows
            return
        results = _compute(self.dask, *self._graph(ids, n_jobs), client=self.blocks.client)
        for b, result in zip(ids, results):
            if result is not None:
                yield b, result, self.blocks.lengths[b]


def summarize(model, X, weights=None, labels=None, priors=None):
    """``model.summarize`` over a Dask collection: one graph, the summed result added to the model."""
    cursor = DaskCursor(model, X, weights, labels, priors)
    (_, total, _), = cursor.esteps(cursor.n_batches, None, 1, summed=True)
    return model.add_summaries(total)


def criterion_terms(model, X, weights=None):
    """``(Σ w log p(x), Σ w log max_k P(k | x), Σ w)`` over a Dask collection, reduced on the workers."""
    dask = _dask()
    blocks = _Blocks(X, model.d, persist=False)
    pieces = blocks.aligned(weights, "weights")
    shared = _model_on_workers(dask, model)
    terms = dask.delayed(_block_terms, pure=True)
    parts = [terms(shared, part, w, int(first)) for part, w, first in zip(blocks.parts, pieces, blocks.offsets)]
    (total,) = _compute(dask, _tree_sum(dask, parts), client=blocks.client)
    loglik, log_map, mass = (0.0, 0.0, 0.0) if total is None else (float(v) for v in total)
    if not mass > 0:
        raise ValueError("weights must not all be zero: the criteria need at least one sample.")
    return loglik, log_map, mass


def _block_terms(model, X, w, first):
    """One block's criterion terms (None for an empty block)."""
    Xc, _ = model._check_input(X, allow_empty=True)
    if Xc.shape[0] == 0:
        return None
    loglik, log_map, mass = model._criterion_terms(Xc, w, 1, None)
    return np.array([loglik, log_map, mass])


#: what each lazy prediction returns per row: (method, dtype, a column per component?)
_PREDICTIONS = {"log_probability": (np.float64, False), "probability": (np.float64, False),
                "predict": (np.int64, False), "predict_proba": (np.float64, True),
                "predict_log_proba": (np.float64, True), "impute": (None, None)}


def predict_lazily(model, method, X, n_jobs=1, batch_size=None):
    """``model.<method>(X)`` as a Dask collection of the same row blocks, computed only when asked."""
    dask = _dask()
    dtype, per_component = _PREDICTIONS[method]
    shared = model.copy()
    token = f"genmix-{method}-{uuid.uuid4().hex}"

    def block(part):
        out = getattr(shared, method)(part, n_jobs=n_jobs, batch_size=batch_size)
        return np.atleast_1d(out) if method != "impute" else out

    if _is_dataframe(X):
        import pandas as pd

        def partition(df):
            out = block(df)
            if method == "impute":
                return out
            if per_component:
                return pd.DataFrame(out, index=df.index, columns=list(range(model.n)))
            return pd.Series(out, index=df.index, name=method)

        if method == "impute":
            meta = X._meta
        elif per_component:
            meta = pd.DataFrame({j: pd.Series(dtype=dtype) for j in range(model.n)})
        else:
            meta = pd.Series(dtype=dtype, name=method)
        return X.map_partitions(partition, meta=meta, token=token)
    X = _checked_array(X, model.d)
    if method == "impute":
        return X.map_blocks(block, dtype=X.dtype, token=token)
    if per_component:
        return X.map_blocks(block, dtype=dtype, chunks=(X.chunks[0], (model.n,)), token=token)
    return X.map_blocks(block, dtype=dtype, drop_axis=1, token=token)



class DaskRows:
    """``from_samples``' row source over a Dask collection (the protocol of ``genmix.init._Rows``: ``n``,
    ``d``, ``distributed``, ``chunks`` and ``fold``): a pass's parts are
    computed on the workers, one per block, and merged there in a tree, so the survey, every Lloyd
    iteration and the initial fits' statistics are one graph each and only their small results come
    back. A pass whose collector must see the rows on the client reads the blocks through it instead."""

    distributed = True

    def __init__(self, X, weights, d, allow_object=False):
        self.dask = _dask()
        self.blocks = _Blocks(X, d)
        self.n, self.d, self.allow_object = self.blocks.n, d, allow_object
        if self.n == 0:
            raise ValueError("X must contain at least one sample; got an empty Dask collection.")
        if weights is not None and not hasattr(weights, "__dask_graph__"):
            check_weights(weights, self.n)
        self.weights = self.blocks.aligned(weights, "weights")

    def chunks(self):
        """Yield ``(first row, X chunk, weights chunk)``: the blocks read through the client, one at a time."""
        for b, part in enumerate(self.blocks.parts):
            (Xb, wb) = self.dask.compute(part, self.weights[b])
            Xc, wc = _validated(Xb, wb, self.d, self.allow_object)
            if Xc.shape[0]:
                yield int(self.blocks.offsets[b]), Xc, wc

    def fold(self, part, merge):
        """``merge`` of ``part(first, X, w)`` over the blocks, computed on the workers (see ``_Rows.fold``)."""
        dask, tag = self.dask, uuid.uuid4().hex
        # the functions (and what they hold: centres, features, labels) are one key each, sent once
        part = dask.delayed(part, name=f"genmix-part-{tag}", traverse=False)
        merge = dask.delayed(merge, name=f"genmix-merge-{tag}", traverse=False)
        step = dask.delayed(_fold_part, pure=False)
        parts = [step(part, X, w, int(first), self.d, self.allow_object)
                 for X, w, first in zip(self.blocks.parts, self.weights, self.blocks.offsets)]
        combine = dask.delayed(_merge_skipping_none, pure=False)
        while len(parts) > 1:  # consecutive blocks merged in row order, as the merges require
            parts = [combine(merge, a, b) for a, b in zip(parts[::2], parts[1::2])] + \
                (parts[-1:] if len(parts) % 2 else [])
        (total,) = _compute(dask, parts[0], client=self.blocks.client)
        return total


def _validated(X, w, d, allow_object):
    """A block and its weights validated as ``from_samples`` reads them."""
    Xc, _ = check_X(X, d, allow_object=allow_object, allow_empty=True)
    return Xc, unit_weights(Xc.shape[0]) if w is None else check_weights(w, Xc.shape[0])


def _fold_part(part, X, w, first, d, allow_object):
    """One block's part of a pass, on a worker (None for an empty block)."""
    Xc, wc = _validated(X, w, d, allow_object)
    return part(first, Xc, wc, None) if Xc.shape[0] else None


def _merge_skipping_none(merge, a, b):
    """``merge(a, b)``, a None side (an empty block) skipped."""
    if a is None:
        return b
    return a if b is None else merge(a, b)
