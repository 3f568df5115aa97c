"""The EM driver: the loop, the stop rule, minibatch step sizes, callbacks and history.

The driver talks to the model only through the protocol below, so the same loop serves in-memory,
batched and streaming data (and any model that implements it):

- ``model.d``, ``model.n``, ``model.distributions``, ``model.feature_names``;
- ``model._check_input(X, allow_empty=False, dtype=...) -> (X2, scalar)``: a batch validated as the model reads
  it (numeric data in the fit's working dtype, float64 or float32);
- ``model._estep(X2, w, log_priors, n_jobs, row_offset) -> EStepResult``: the pure E-step of validated rows
  (an impossible row named by its index in the whole data, ``row_offset`` being the batch's first row);
- ``model.add_summaries(result)``, ``model.from_summaries(inertia, pseudocount)`` (the M-step),
  ``model.clear_summaries()``.

The data reach it as a batch source (``batches()`` and ``n_batches``, and optionally random access
``order()``, ``batch(b)``, ``start(b)``; :class:`genmix.data.DataGenerator` over arrays, memmaps, DataFrames
and other sliceable arrays), read batch by batch, so nothing converts a foreign array whole.

Semantics are pomegranate 0.x's: each epoch is ``from_summaries(step_size, pseudocount)`` (a no-op at
epoch 0, when nothing has been summarised) followed by an E-step over the epoch's batches; the
improvement is the difference of the total weighted log-likelihood between consecutive epochs; training
stops when it is ``<= stop_threshold`` or after ``max_iterations`` M-steps; statistics are cleared at the
end. ``step_size = 1 - (1 - inertia) * (2 + epoch) ** -lr_decay`` is passed to the M-step as its inertia.

Streaming (``batches_per_epoch`` smaller than the number of batches) is incremental EM (Neal & Hinton,
1998): epochs walk through the batches in order, continuing where the previous epoch stopped and
wrapping around, so every row is seen (pomegranate 0.x replayed the first batches forever). The driver
keeps each batch's latest statistics (a few small ``Stats`` values per batch, never data) and every
M-step uses their sum, so each update reflects every row seen so far, the mixture weights included,
and the fixed points are those of full-batch EM. Consecutive epochs score different
rows, so the stop rule compares whole passes: each batch keeps its log-likelihood at its latest visit,
and at the epoch that completes a pass over the data the improvement is the sum of those over all rows
minus the same sum at the end of the previous pass; training stops when its absolute value is at most
``stop_threshold`` (a pass that lowers that sum by more, which incremental EM allows while the early
batches' statistics are stale, does not stop training). Other epochs report NaN and never stop training.
With user-defined components, whose statistics are not values, streaming falls back to
M-steps from the epoch's batches alone.
"""
import dataclasses
import time

import numpy as np

from ._encoded import Encoded, encode_table
from ._state import fitted_objects as _objects, restore, snapshot
from ._validation import INERTIA, PSEUDOCOUNT, Interval, check_bool, check_int, check_scalar, check_threshold
from .callbacks import History
from .data import (DataGenerator, align_columns, check_dtype, check_weights, frame_names, is_dask_collection,
                   is_generator, is_sliceable, row_log_priors, unit_weights)
from .distributions._base import is_stackable
from .exceptions import ConvergenceWarning, once_per_fit, warn_once
from .parallel import resolve_n_jobs

__all__ = ["EMOptions", "fit_em"]

_OWNER = "GeneralMixtureModel.fit"


def _check_callbacks(callbacks, owner=_OWNER):
    if callbacks is None:
        return []
    if isinstance(callbacks, (str, bytes)) or not isinstance(callbacks, (list, tuple)):
        raise TypeError(f"The 'callbacks' parameter of {owner} must be a list of callback objects; "
                        f"got {type(callbacks).__name__}.")
    for cb in callbacks:
        if not any(hasattr(cb, h) for h in ("on_training_begin", "on_epoch_end", "on_batch_end",
                                            "on_training_end")):
            raise TypeError(f"callback {cb!r} has none of on_training_begin, on_epoch_end, on_batch_end, "
                            "on_training_end.")
    return list(callbacks)


def _call(cbs, hook, *args):
    for cb in cbs:
        fn = getattr(cb, hook, None)
        if fn is not None:
            fn(*args)


def _total(batch_results):
    """The sum of the stored per-batch E-step results (batches not yet visited are skipped)."""
    total = None
    for result in batch_results:
        if result is not None:
            total = result if total is None else total + result
    return total


def batch_source(model, X, weights, batch_size, labels=None, priors=None, shuffle=False, random_state=None,
                 dtype=np.float64):
    """The batches EM reads: ``(source, log_priors)``.

    A user generator (``batches()`` and ``n_batches``) is used as it is. A numeric array that can be
    sliced (an ndarray, a memmap, a numeric DataFrame, or any 2-D array type with ``shape``, ``dtype`` and
    slicing, such as a Dask or HDF5 array) is sliced batch by batch, each batch converted and validated on
    its own, so the data are never copied whole and sample weights of one are never materialised.
    Anything else (lists, mixed types, sequences) is validated up front. Numeric batches are read in
    ``dtype`` (float32: the fit's opt-in working precision); an in-memory ndarray of another dtype is
    converted to float32 once for the fit, not once per epoch (a memmap, batch by batch).
    """
    dtype = np.dtype(dtype)
    validated = False  # whether X is validated as a whole (its batches then need no check of their own)
    if is_generator(X):
        if weights is not None or labels is not None or priors is not None:
            raise ValueError("with a data generator, sample weights come from its batches; labels and priors "
                             "need an array X.")
        return _Cursor(model, X, dtype), None
    if is_dask_collection(X):  # the row blocks are the batches, their E-steps run on the workers
        if batch_size is not None or shuffle:
            raise ValueError("with a Dask collection the row blocks are the batches: rechunk X instead of "
                             "passing batch_size, and shuffle is not supported.")
        from .dask import DaskCursor
        return DaskCursor(model, X, weights, labels, priors, dtype), None
    if not is_sliceable(X, model.d):
        X, _ = model._check_input(X, allow_empty=False, dtype=dtype)
        if all(is_stackable(c) for c in model.distributions):  # (user-defined components read values)
            X = encode_table(X)  # categorical columns as codes, once per fit (genmix/_encoded.py)
    elif type(X) is np.ndarray and (X.dtype == dtype and X.ndim in (1, 2) or dtype == np.float32 and X.ndim == 2
                                    and X.dtype.kind in "biuf"):
        # in memory: converted to float32 (if asked) and validated once for the fit, not by every E-step
        # again (already in the working dtype: a view, no copy; n = 1M, d = 10: ~5.5 ms of an inf scan
        # per E-step)
        X, _ = model._check_input(X, allow_empty=False, dtype=dtype)
        validated = True
    n = X.shape[0]
    if n == 0:
        raise ValueError("X must contain at least one sample; got an empty array.")
    if weights is not None:
        weights = check_weights(weights, n)
        if not weights.sum() > 0:
            raise ValueError("weights must not all be zero: there is nothing to fit.")
    generator = DataGenerator(X, weights, batch_size, shuffle=shuffle, random_state=random_state)
    return _Cursor(model, generator, dtype, validated), row_log_priors(n, model.n, labels, priors)


class _Cursor:
    """Walks through the batches of a source in pass order, wrapping around; each batch validated (numeric
    batches read in ``dtype``) unless the data were as a whole (``validated``)."""

    def __init__(self, model, source, dtype=np.float64, validated=False):
        self.model, self.source, self.dtype, self.validated = model, source, dtype, validated
        self.n_batches = int(source.n_batches)
        self._order, self._iter, self._index, self._first = None, None, 0, 0

    def esteps(self, count, log_priors, n_jobs, summed=False):
        """Yield the pure E-steps of the next ``count`` batches as ``(batch id, EStepResult, rows)``, one
        batch read at a time (``summed``, which lets a backend return one total for them all, changes
        nothing here: the driver sums the batches as they come)."""
        for _ in range(count):
            (b, Xb, wb, first), = self.take(1)
            prior = None if log_priors is None else log_priors[first:first + Xb.shape[0]]
            yield b, self.model._estep(Xb, wb, prior, n_jobs, first), Xb.shape[0]

    def epoch_batches(self, count, summed=False):
        """How many results :meth:`esteps` yields for ``count`` batches."""
        return count

    def take(self, count):
        """The next ``count`` batches as ``(batch id, X, weights, first row)``."""
        out = []
        for _ in range(count):
            if self._index == 0:
                self._start_pass()
            b = self._order[self._index] if self._order is not None else self._index
            if self._order is not None:
                Xb, wb = self.source.batch(b)
                first = self.source.start(b)
            else:
                try:
                    Xb, wb = next(self._iter)
                except StopIteration:
                    raise ValueError(f"the data generator yielded {self._index} batches in a pass but declares "
                                     f"n_batches={self.n_batches}.") from None
                first = self._first
            Xc = Xb if isinstance(Xb, Encoded) or self.validated else \
                self.model._check_input(Xb, allow_empty=False, dtype=self.dtype)[0]
            wc = unit_weights(Xc.shape[0]) if wb is None else check_weights(wb, Xc.shape[0])
            self._first = first + Xc.shape[0]
            out.append((b, Xc, wc, first))
            self._index = (self._index + 1) % self.n_batches
        return out

    def _start_pass(self):
        self._first = 0
        if all(callable(getattr(self.source, m, None)) for m in ("order", "batch", "start")):  # random access
            self._order = self.source.order()
        else:
            self._iter = iter(self.source.batches())


@dataclasses.dataclass(frozen=True)
class EMOptions:
    """The validated options of an EM fit (see :meth:`GeneralMixtureModel.fit`), checked once per call of
    ``fit`` or ``from_samples`` (before any work, and not again for each of ``from_samples``' runs)."""

    inertia: float = 0.0
    pseudocount: float = 0.0
    stop_threshold: float = 0.1
    max_iterations: float = 1e8
    batch_size: int = None
    batches_per_epoch: int = None
    lr_decay: float = 0.0
    callbacks: tuple = ()
    return_history: bool = False
    verbose: bool = False
    n_jobs: int = 1
    dtype: np.dtype = np.dtype(np.float64)

    @classmethod
    def check(cls, owner=_OWNER, *, inertia, pseudocount, stop_threshold, max_iterations, batch_size,
              batches_per_epoch, lr_decay, callbacks, return_history, verbose, n_jobs, dtype=None):
        """The options validated (a ``ValueError``/``TypeError`` naming the first bad one and ``owner``)."""
        return cls(
            inertia=check_scalar(inertia, "inertia", INERTIA, owner),
            pseudocount=check_scalar(pseudocount, "pseudocount", PSEUDOCOUNT, owner),
            stop_threshold=check_threshold(stop_threshold, "stop_threshold", owner),
            max_iterations=check_int(max_iterations, "max_iterations", Interval(0, np.inf), owner, allow_inf=True,
                                     allow_float=True),
            batch_size=check_int(batch_size, "batch_size", Interval(1, np.inf), owner, allow_none=True,
                                 allow_float=True),
            batches_per_epoch=check_int(batches_per_epoch, "batches_per_epoch", Interval(1, np.inf), owner,
                                        allow_none=True, allow_float=True),
            lr_decay=check_scalar(lr_decay, "lr_decay", Interval(0.0, np.inf), owner),
            callbacks=tuple(_check_callbacks(callbacks, owner)),
            return_history=check_bool(return_history, "return_history", owner),
            verbose=check_bool(verbose, "verbose", owner),
            n_jobs=resolve_n_jobs(n_jobs, owner),
            dtype=check_dtype(dtype, owner))


def fit_em(model, X, options, *, weights=None, labels=None, priors=None, shuffle=False, random_state=None):
    """Run EM on ``model`` with validated :class:`EMOptions` (see :meth:`GeneralMixtureModel.fit`)."""
    X = align_columns(X, getattr(model, "feature_names", None))  # a DataFrame is matched by name to the last fit
    source, log_priors = batch_source(model, X, weights, options.batch_size, labels, priors, shuffle, random_state,
                                      options.dtype)

    saved = snapshot(model)
    try:
        with once_per_fit():  # a repair repeated by every M-step is reported once
            history = _run(model, source, log_priors, options)
    except BaseException:
        restore(saved)
        raise
    model.feature_names = frame_names(X)  # the DataFrame's column names, or None after an array
    return (model, history) if options.return_history else model


def _run(model, cursor, log_priors, options):
    inertia, pseudocount, stop_threshold = options.inertia, options.pseudocount, options.stop_threshold
    max_iterations, batches_per_epoch, lr_decay = options.max_iterations, options.batches_per_epoch, options.lr_decay
    verbose, n_jobs = options.verbose, options.n_jobs
    history = History()
    cbs = [history] + list(options.callbacks)
    for cb in cbs:
        try:
            cb.model = model
        except AttributeError:
            pass
    _call(cbs, "on_training_begin")

    n_batches = cursor.n_batches
    streaming = batches_per_epoch is not None and batches_per_epoch < n_batches
    latest_visit = np.full(n_batches, np.nan)  # each batch's log-likelihood at its latest visit
    visited, last_pass_logp = 0, None
    incremental = streaming and all(is_stackable(c) for c in _objects(model)[1:])
    # EM cannot lower the likelihood when every component's fit maximises it: a drop is then reported
    monotone = all(getattr(c, "_maximises_likelihood", False) for c in _objects(model)[1:])
    slack = 1e-9 if options.dtype == np.float64 else 1e-6  # the log-likelihood's rounding (float32: ~1e-7)
    batch_stats = [None] * n_batches  # incremental EM: each batch's latest EStepResult

    improvement, total_improvement = np.nan, 0.0  # NaN: no comparison yet (a threshold of +inf still runs one)
    iteration, last_logp, initial_logp, logs = 0, None, None, None
    training_start = time.time()
    for cb in cbs:  # a callback ends training by setting its stop_training (EarlyStopping does)
        if hasattr(cb, "stop_training"):
            cb.stop_training = False
    while not (abs(improvement) if streaming else improvement) <= stop_threshold \
            and iteration < max_iterations + 1 and not any(getattr(cb, "stop_training", False) for cb in cbs):
        epoch_start = time.time()
        step_size = 1.0 - (1.0 - inertia) * (2.0 + iteration) ** (-lr_decay)
        model.from_summaries(step_size, pseudocount)
        count = batches_per_epoch if streaming else n_batches
        batch_ids, batch_logp = [], []
        for b, result, n_samples in cursor.esteps(count, log_priors, n_jobs, summed=not incremental):
            batch_ids.append(b)  # each E-step is pure: nothing is added until here
            batch_logp.append(result.log_likelihood if incremental else model.add_summaries(result))
            if incremental:
                batch_stats[b] = result
            _call(cbs, "on_batch_end", {"epoch": iteration, "batch": len(batch_ids),
                                        "n_batches": cursor.epoch_batches(count, summed=not incremental),
                                        "n_samples": n_samples, "log_probability": float(batch_logp[-1])})
        batch_logp = np.asarray(batch_logp, dtype=np.float64)
        if incremental:  # the pending statistics become the sum of every batch's latest
            model.clear_summaries()
            model.add_summaries(_total(batch_stats))
        logp = float(batch_logp.sum())
        epoch_end = time.time()
        pass_improvement = np.nan
        if streaming:
            latest_visit[list(batch_ids)] = batch_logp
            if (visited + len(batch_ids)) // n_batches > visited // n_batches:  # this epoch completes a pass
                pass_logp = float(latest_visit.sum())
                if last_pass_logp is not None:
                    pass_improvement = pass_logp - last_pass_logp
                last_pass_logp = pass_logp
            visited += len(batch_ids)

        if iteration == 0:
            initial_logp = logp
        else:
            if streaming:
                improvement = pass_improvement
            else:
                improvement = logp - last_logp
                if step_size == 0.0 and monotone and improvement < -slack * max(1.0, abs(logp)):
                    warn_once(f"EM epoch {iteration} decreased the log-likelihood by {-improvement:.6g}; "
                              "this indicates a numerical problem.", ConvergenceWarning, stacklevel=4)
            if np.isfinite(improvement):
                total_improvement += improvement
            logs = {"learning_rate": step_size, "n_seen_batches": len(batch_ids), "epoch": iteration,
                    "improvement": improvement, "total_improvement": total_improvement,
                    "log_probability": logp, "last_log_probability": last_logp,
                    "initial_log_probability": initial_logp, "epoch_start_time": epoch_start,
                    "epoch_end_time": epoch_end, "duration": epoch_end - epoch_start}
            if verbose:
                print("[{}] Improvement: {}\tTime (s): {:.4}".format(iteration, improvement,
                                                                     epoch_end - epoch_start))
            _call(cbs, "on_epoch_end", logs)
        iteration += 1
        last_logp = logp

    if logs is None:  # max_iterations=0: only the initial E-step ran
        logs = {"learning_rate": inertia, "n_seen_batches": None, "epoch": 0, "improvement": np.nan,
                "total_improvement": 0.0, "log_probability": initial_logp, "last_log_probability": None,
                "initial_log_probability": initial_logp, "epoch_start_time": training_start,
                "epoch_end_time": time.time(), "duration": time.time() - training_start}
    _call(cbs, "on_training_end", logs)
    model.clear_summaries()
    if verbose:
        print("Total Improvement: {}".format(total_improvement))
        print("Total Time (s): {:.4f}".format(time.time() - training_start))
    return history
