"""The pure E-step: a batch of rows in, an :class:`EStepResult` out; nothing is modified.

``estep(components, log_weights, X, w, log_priors)`` evaluates every component on the rows (one stacked
call per family, or the fused two-GEMM path of ``genmix._fused`` where it applies), combines them with the
mixture's log weights into responsibilities (times the sample weights) and turns those into each
component's sufficient statistics. The result holds only values that add: the weighted log-likelihood,
the responsibility sums and one ``Stats`` per component. Row blocks, threads, batches of a stream and (later)
Dask workers each compute one, and the results are summed with ``+``; the caller decides what to do with
the total (``summarize`` adds it to the model's pending statistics, incremental EM replaces them).

User-defined components have no ``Stats`` values; :func:`estep_with_responsibilities` also returns the
(n, k) responsibilities so that the caller can hand them to those components' own ``summarize``.
"""
import dataclasses

import numpy as np

from ._encoded import decoded
from ._fused import FusedEStep, _plus, as_float64
from ._math import responsibilities_in_place, rows_from
from .distributions._base import estep_scope, group_log_probability, group_suffstats, is_stackable
from .parallel import map_reduce

__all__ = ["EStepResult", "estep", "estep_from_responsibilities", "estep_with_responsibilities", "weighted_log_prob"]

#: rows per E-step block: (block, k) temporaries stay in cache (measured: 1.2–1.9x faster than one block)
BLOCK_ROWS = 16384


@dataclasses.dataclass(frozen=True)
class EStepResult:
    """What an E-step over some rows contributes: values that add over disjoint sets of rows.

    Attributes
    ----------
    log_likelihood : float
        ``Σ_i w_i log p(x_i)`` over the rows (with their per-row priors, if any).
    resp_sum : ndarray of shape (n_components,)
        ``Σ_i w_i r_ik``, the responsibility mass of each component.
    stats : tuple of length n_components
        Each component's ``Stats`` under its responsibilities, or None (frozen or user-defined components).
    """

    log_likelihood: float
    resp_sum: np.ndarray
    stats: tuple

    def __add__(self, other):
        return EStepResult(self.log_likelihood + other.log_likelihood, self.resp_sum + other.resp_sum,
                           tuple(_plus(a, b) for a, b in zip(self.stats, other.stats)))

    def scaled(self, c):
        """The result of the same rows with every weight multiplied by ``c >= 0``."""
        return EStepResult(self.log_likelihood * c, self.resp_sum * c,
                           tuple(None if s is None else s.scaled(c) for s in self.stats))


def weighted_log_prob(components, log_weights, X):
    """``log w_k + log p_k(x_i)`` of rows ``X`` through each family's own kernels, shape (n, k)."""
    lp = group_log_probability(components, X)
    lp += log_weights  # log 0 = -inf, and no log density is +inf
    return lp


def _block(components, log_weights, X, w, log_priors):
    """``(logp, R (n, k), stats)`` of one block on the general path (R already times the weights)."""
    with estep_scope():  # the log densities and the statistics may share work on this block
        L = weighted_log_prob(components, log_weights, X)
        if log_priors is not None:
            L += log_priors
        Lt = np.ascontiguousarray(L.T)
        del L
        logp = responsibilities_in_place(Lt, None if np.all(w == 1.0) else w)
        R = Lt.T  # (n, k), a view
        return logp, R, group_suffstats(components, X, R)


def estep(components, log_weights, X, w, log_priors=None, *, n_jobs=1):
    """The E-step of validated rows ``X`` under genmix components: an :class:`EStepResult`.

    Parameters
    ----------
    components : sequence of Distribution
        The mixture's components (genmix families only; see :func:`estep_with_responsibilities`).
    log_weights : ndarray of shape (n_components,)
        The log mixture weights (``-inf`` for a component of weight 0).
    X : ndarray of shape (n_samples, d)
        Validated rows (float64, or object for categorical columns); NaN marks a missing value.
    w : ndarray of shape (n_samples,)
        Non-negative sample weights.
    log_priors : ndarray of shape (n_samples, n_components), default=None
        Added to each row's log prior before normalising (labels are ``-inf`` outside the label).
    n_jobs : int, default=1
        Threads over row chunks; each thread sums its cache-sized blocks.

    Returns
    -------
    result : EStepResult

    Raises
    ------
    ImpossibleRowsError
        A ``ValueError`` naming the rows of ``X`` (numbered from 0) with positive weight that no component
        can produce; the caller renumbers them if ``X`` is a block of larger data.
    """
    fused = FusedEStep.build(components, log_weights, X)
    if fused is not None:  # exponential-family features: two GEMMs per block (genmix/_fused.py)
        logp, resp, stats = fused.run(X, w, log_priors, n_jobs)
        return EStepResult(logp, resp, tuple(stats))
    X = as_float64(decoded(X))  # the general path reads the categories' values, in float64

    def rows(sl):
        """The E-step of a thread's rows, in cache-sized blocks whose results are summed."""
        total = EStepResult(0.0, np.zeros(len(components)), (None,) * len(components))
        for s in range(sl.start, sl.stop, BLOCK_ROWS):
            b = slice(s, min(s + BLOCK_ROWS, sl.stop))
            with rows_from(s):
                logp, R, stats = _block(components, log_weights, X[b], w[b],
                                        None if log_priors is None else log_priors[b])
            total = total + EStepResult(logp, R.sum(axis=0), tuple(stats))
        return total

    return map_reduce(rows, X.shape[0], n_jobs)


def estep_with_responsibilities(components, log_weights, X, w, log_priors=None):
    """:func:`estep` in one block and one thread, also returning the responsibilities ``R`` (n, k), for
    mixtures with user-defined components (their statistics are accumulated by their own ``summarize``,
    which the caller calls with ``R``). ``stats`` holds None for those components."""
    logp, R, stats = _block(components, log_weights, X, w, log_priors)
    return EStepResult(logp, R.sum(axis=0), tuple(stats)), R


def all_stackable(components):
    """Whether every component is a genmix family (whose statistics are values)."""
    return all(is_stackable(c) for c in components)


def estep_from_responsibilities(components, X, R, w=None, *, n_jobs=1):
    """The statistics of rows ``X`` under given responsibilities ``R`` (n, k) instead of an E-step's (an
    initialisation from a hard or soft assignment): an :class:`EStepResult` whose ``log_likelihood`` is NaN
    (no likelihood was evaluated). ``w`` (n,) multiplies the rows' responsibilities (ones if None);
    ``n_jobs`` threads split the rows on the fused path."""
    R = np.asarray(R, dtype=np.float64)
    if w is not None:
        R = R * np.asarray(w, dtype=np.float64)[:, None]
    fused = FusedEStep.build(components, np.zeros(len(components)), X)
    if fused is not None:  # the fused path's features: one GEMM per block
        resp_sum, stats = fused.statistics(X, R, n_jobs)
        return EStepResult(float("nan"), resp_sum, tuple(stats))
    with estep_scope():
        stats = group_suffstats(components, as_float64(X), R)
    return EStepResult(float("nan"), R.sum(axis=0), tuple(stats))
