"""Sufficient statistics as immutable values.

Every family accumulates its E-step statistics in a ``Stats`` value stacked over components (leading
axis ``k``). Values add (``a + b`` is the statistics of the union of the two data sets) and never
reference the data they came from, so chunks, threads, processes and Dask workers can each compute a
``Stats`` and the results are simply summed.
"""
import dataclasses

import numpy as np

__all__ = ["Stats", "SumStats", "MomentStats", "TupleStats", "RangeStats"]


class Stats:
    """Base class: a frozen dataclass of arrays with a leading component axis."""

    #: the fields that grow with the data, which :meth:`scaled` multiplies (means, ranges and keys do not)
    _extensive = ()

    def scaled(self, c):
        """The statistics of the same rows with every weight multiplied by ``c >= 0`` (stepwise EM decays
        its running statistics so): ``a.scaled(c) + b.scaled(c) == (a + b).scaled(c)``. Only the sums
        scale (the ``_extensive`` fields); means, and a range's ends, are properties of the rows and stay."""
        c = float(c)
        if not (np.isfinite(c) and c >= 0.0):
            raise ValueError(f"c must be a finite number >= 0; got {c!r}.")
        return dataclasses.replace(self, **{f: getattr(self, f) * c for f in self._extensive})

    def take(self, i):
        """The statistics of component ``i``, as a stack of size 1."""
        return type(self)(**{f.name: getattr(self, f.name)[i:i + 1] for f in dataclasses.fields(self)})


@dataclasses.dataclass(frozen=True)
class SumStats(Stats):
    """Plain weighted sums (``w`` = Σw and ``sums`` = Σw·t(x) per component); ``+`` adds fields."""

    w: np.ndarray
    sums: np.ndarray
    _extensive = ("w", "sums")

    def __add__(self, other):
        return SumStats(self.w + other.w, self.sums + other.sums)


@dataclasses.dataclass(frozen=True)
class MomentStats(Stats):
    """Centred first and second moments: Σw, the weighted mean, and Σw(x−mean)² (or the scatter matrix).

    ``+`` merges two sets with the pairwise formula of Chan, Golub & LeVeque, so no raw power sums are
    ever formed and data far from zero (an offset of 1e6, say) keep their precision. ``mean`` has shape
    ``(k,)`` or ``(k, d)``; ``m2`` has shape ``(k,)``, ``(k, d, d)`` (scatter matrices) or ``(k, d)``
    (per coordinate: the diagonal of the scatter, for independent coordinates).
    """

    w: np.ndarray
    mean: np.ndarray
    m2: np.ndarray
    _extensive = ("w", "m2")

    def __add__(self, other):
        w = self.w + other.w
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.where(w > 0, other.w / np.where(w > 0, w, 1.0), 0.0)
        delta = other.mean - self.mean
        shape = (-1,) + (1,) * (self.mean.ndim - 1)
        mean = self.mean + frac.reshape(shape) * delta
        cross = self.w * frac  # = w_a w_b / (w_a + w_b)
        if self.m2.ndim == self.mean.ndim:  # per coordinate (or univariate)
            m2 = self.m2 + other.m2 + cross.reshape(shape) * delta * delta
        else:
            m2 = self.m2 + other.m2 + cross[:, None, None] * delta[:, :, None] * delta[:, None, :]
        return MomentStats(w, mean, m2)


@dataclasses.dataclass(frozen=True)
class RangeStats(Stats):
    """Σw and the smallest and largest value with positive weight (``+`` takes the min and max)."""

    w: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    _extensive = ("w",)

    def __add__(self, other):
        return RangeStats(self.w + other.w, np.minimum(self.lo, other.lo), np.maximum(self.hi, other.hi))


@dataclasses.dataclass(frozen=True)
class TupleStats(Stats):
    """The statistics of a composite distribution: one ``Stats`` (or None when frozen) per child."""

    children: tuple

    def scaled(self, c):
        """Each column's statistics scaled (see :meth:`Stats.scaled`)."""
        return TupleStats(tuple(None if s is None else s.scaled(c) for s in self.children))

    def __add__(self, other):
        return TupleStats(tuple(a if b is None else b if a is None else a + b
                                for a, b in zip(self.children, other.children)))


def sum_stats_1d(x, R, transform=None):
    """``SumStats`` of a column ``x`` (n,) under ``R`` (n, k), NaN skipped: Σw and Σw·t(x).

    ``transform`` maps the valid values to ``t(x)`` of shape (n,) or (n, m) (default: ``x`` itself);
    the sums then have shape (k,) or (k, m).
    """
    valid = ~np.isnan(x)
    if not valid.all():
        x, R = x[valid], R[valid]
    T = x if transform is None else transform(x)
    return SumStats(R.sum(axis=0), (R.T @ T) if T.ndim == 2 else T @ R)


def moment_stats_1d(x, R):
    """Centred weighted moments of a column ``x`` (n,) under responsibilities ``R`` (n, k); NaN skipped.

    The corrected two-pass algorithm: the mean is refined by the weighted mean of the residuals, which
    removes its rounding error (constant data give their value exactly), and ``m2`` is corrected to match.
    """
    valid = ~np.isnan(x)
    if not valid.all():
        x, R = x[valid], R[valid]
    w = R.sum(axis=0)
    safe_w = np.where(w > 0, w, 1.0)
    mean = np.where(w > 0, (x @ R) / safe_w, 0.0)
    diff = x[:, None] - mean[None, :]
    correction = np.where(w > 0, np.einsum("nk,nk->k", R, diff) / safe_w, 0.0)
    with np.errstate(over="ignore", invalid="ignore"):  # spreads beyond ~1e154 overflow to inf, then refused
        diff *= diff
        m2 = np.maximum(np.einsum("nk,nk->k", R, diff) - w * correction * correction, 0.0)
    return MomentStats(w, mean + correction, m2)


def moment_stats_diag(X, R):
    """Centred weighted moments of complete rows ``X`` (n, d) under ``R`` (n, k), per coordinate: ``m2`` of
    shape (k, d) is the diagonal of :func:`moment_stats`' scatter, at ``O(n k d)`` (corrected two-pass)."""
    w = R.sum(axis=0)
    safe_w = np.where(w > 0, w, 1.0)[:, None]
    mean = np.where(w[:, None] > 0, (R.T @ X) / safe_w, 0.0)
    m2 = np.empty_like(mean)
    for j in range(mean.shape[0]):
        diff = X - mean[j]
        correction = (R[:, j] @ diff) / safe_w[j]
        with np.errstate(over="ignore", invalid="ignore"):  # spreads beyond ~1e154: inf, then refused
            diff *= diff
            m2[j] = np.maximum(R[:, j] @ diff - w[j] * correction * correction, 0.0)
        mean[j] += correction
    return MomentStats(w, mean, m2)


def moment_stats(X, R):
    """Centred weighted moments of complete rows ``X`` (n, d) under ``R`` (n, k): scatter per component."""
    w = R.sum(axis=0)
    safe_w = np.where(w > 0, w, 1.0)[:, None]
    mean = np.where(w[:, None] > 0, (R.T @ X) / safe_w, 0.0)
    k, d = mean.shape
    m2 = np.empty((k, d, d))
    for j in range(k):  # corrected two-pass, as in moment_stats_1d
        diff = X - mean[j]
        weighted = diff * R[:, j:j + 1]
        correction = weighted.sum(axis=0) / safe_w[j]
        m2[j] = weighted.T @ diff - w[j] * np.outer(correction, correction)
        mean[j] += correction
    return MomentStats(w, mean, m2)
