"""Initialisation for ``GeneralMixtureModel.from_samples``: k-means seeding and Lloyd iterations.

Distances ignore missing (NaN) coordinates and are computed with GEMMs over row chunks, so memory stays
bounded by ``chunk × k``. Sample weights enter every step (a zero weight is the same as an absent row).
"""
import numpy as np

from ._validation import Interval, as_generator, check_int
from .data import check_weights, check_X

__all__ = ["kmeans", "initial_mixture", "INITS"]

INITS = ("kmeans++", "first-k", "random")
_CHUNK = 65536


def _sq_distances(X0, M, C):
    """Squared distances over observed coordinates: ``Σ_j M_ij (X_ij − C_kj)²``, shape (n, k)."""
    d2 = np.einsum("ij,ij->i", X0, X0)[:, None] - 2.0 * (X0 @ C.T) + M @ (C * C).T
    return np.maximum(d2, 0.0)


def _assign(X0, M, C):
    """Nearest centre and its squared distance for every row, chunk by chunk."""
    n = X0.shape[0]
    labels, dist = np.empty(n, dtype=np.intp), np.empty(n)
    for s in range(0, n, _CHUNK):
        d2 = _sq_distances(X0[s:s + _CHUNK], M[s:s + _CHUNK], C)
        labels[s:s + _CHUNK] = np.argmin(d2, axis=1)
        dist[s:s + _CHUNK] = d2[np.arange(d2.shape[0]), labels[s:s + _CHUNK]]
    return labels, dist


def _centres(X0, M, w, labels, k, old):
    """Weighted per-coordinate means of each cluster over observed values; empty ones keep ``old``."""
    R = np.zeros((X0.shape[0], k))
    R[np.arange(X0.shape[0]), labels] = w
    num = R.T @ X0
    den = R.T @ M
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), old)


def _seed(X0, M, w, k, init, rng):
    n = X0.shape[0]
    positive = np.nonzero(w > 0)[0]
    if init == "first-k":
        idx = positive[:k]
    elif init == "random":
        idx = rng.choice(n, size=k, replace=False, p=w / w.sum())
    else:  # greedy weighted k-means++ (D² sampling, best of 2 + log k candidates)
        trials = 2 + int(np.log(k))
        idx = [int(rng.choice(n, p=w / w.sum()))]
        closest = _sq_distances(X0, M, X0[idx])[:, 0]
        for _ in range(1, k):
            pot = w * closest
            total = pot.sum()
            if not total > 0:  # every remaining row coincides with a centre: take unused rows
                unused = np.setdiff1d(positive, idx)
                idx.append(int(unused[0] if unused.size else positive[0]))
                continue
            cands = np.searchsorted(np.cumsum(pot), rng.random(trials) * total)
            cands = np.minimum(cands, n - 1)
            d_c = np.minimum(closest[:, None], _sq_distances(X0, M, X0[cands]))
            best = int(np.argmin(w @ d_c))
            idx.append(int(cands[best]))
            closest = d_c[:, best]
    # A seed row's missing coordinates take the column's weighted mean.
    col_mean = np.where((w @ M) > 0, (w @ X0) / np.maximum(w @ M, 1e-300), 0.0)
    C = X0[np.asarray(idx)]
    return np.where(M[np.asarray(idx)] > 0, C, col_mean)


def kmeans(X, k, weights=None, *, init="kmeans++", n_init=1, max_iterations=1, random_state=None):
    """Weighted k-means (seeding then Lloyd's algorithm) ignoring NaN coordinates.

    Parameters
    ----------
    X : array-like of shape (n_samples, d)
    k : int
    weights : array-like of shape (n_samples,), default=None
    init : {'kmeans++', 'first-k', 'random'}, default='kmeans++'
    n_init : int, default=1
        Restarts; the lowest weighted objective wins ('first-k' is deterministic and runs once).
    max_iterations : int, default=1
        Lloyd iterations after seeding.
    random_state : None, int, Generator or RandomState

    Returns
    -------
    centres : ndarray of shape (k, d)
    labels : ndarray of shape (n_samples,)
    """
    X, _ = check_X(X, np.shape(X)[1] if np.ndim(X) == 2 else 1, allow_empty=False)
    w = check_weights(weights, X.shape[0])
    if init not in INITS:
        raise ValueError(f"init must be one of {', '.join(repr(i) for i in INITS)}; got {init!r}.")
    k = check_int(k, "n_components", Interval(1, np.inf))
    n_init = check_int(n_init, "n_init", Interval(1, np.inf))
    max_iterations = check_int(max_iterations, "max_kmeans_iterations", Interval(0, np.inf))
    n_pos = int(np.count_nonzero(w > 0))
    if k > n_pos:
        raise ValueError(f"n_components={k} is larger than the number of samples with positive weight ({n_pos}).")
    rng = as_generator(random_state)
    M = (~np.isnan(X)).astype(np.float64)
    X0 = np.where(np.isnan(X), 0.0, X)
    best = None
    for _ in range(1 if init == "first-k" else n_init):
        C = _seed(X0, M, w, k, init, rng)
        labels, dist = _assign(X0, M, C)
        for _ in range(max_iterations):
            C_new = _centres(X0, M, w, labels, k, C)
            if np.array_equal(C_new, C):
                break
            C = C_new
            labels, dist = _assign(X0, M, C)
        objective = float(w @ dist)
        if best is None or objective < best[0]:
            best = (objective, C, labels)
    return best[1], best[2]


def _component_factories(distributions, n_components, d):
    """A list of callables ``f(X, w) -> component`` from a pomegranate-style specification."""
    from .distributions import IndependentComponentsDistribution

    def single(cls):
        return lambda X, w: cls.from_samples(X, w)

    def per_column(classes):
        return lambda X, w: IndependentComponentsDistribution.from_samples(X, w, distributions=list(classes))

    if isinstance(distributions, type):
        if n_components is None:
            raise ValueError("n_components is required when distributions is a single class.")
        k = check_int(n_components, "n_components", Interval(1, np.inf))
        multivariate = d > 1 and getattr(distributions, "_multivariate", False)
        if d == 1 or multivariate:
            return [single(distributions)] * k
        return [per_column([distributions] * d)] * k
    if isinstance(distributions, (list, tuple)) and distributions:
        for c in distributions:
            if not isinstance(c, type):
                raise ValueError("must pass in uninitialized distributions: the list holds an instance "
                                 f"({c!r:.60}); give classes, or build the model from instances directly.")
        if d == 1:
            return [single(c) for c in distributions]
        if len(distributions) == d:
            k = check_int(n_components, "n_components", Interval(1, np.inf))
            return [per_column(distributions)] * k
        raise ValueError(f"must pass in a list with one distribution per dimension ({d}); got "
                         f"{len(distributions)}.")
    raise ValueError("distributions must be a distribution class or a list of classes (use the constructor "
                     "for initialised distributions).")


def _column_classes(distributions, d):
    """The class that models each column (for univariate data with a list of classes: the first)."""
    if isinstance(distributions, type):
        return [distributions] * d
    return list(distributions) if len(distributions) == d else [distributions[0]] * d


def kmeans_features(X, classes):
    """Numeric features for k-means: float data as they are; for mixed-type (object) data, numeric
    columns standardised and each categorical column one-hot encoded (scaled by 1/√2, so that two
    different categories are at distance 1), missing values NaN."""
    from .data import as_float
    from .distributions.discrete import _is_missing

    if X.dtype != object:
        return X
    columns = []
    for j, cls in enumerate(classes):
        col = X[:, j]
        if getattr(cls, "_accepts_objects", False):
            missing = np.fromiter((_is_missing(v) for v in col), dtype=bool, count=col.size)
            cats = list(dict.fromkeys(v for v, m in zip(col.tolist(), missing) if not m))
            lookup = {c: i for i, c in enumerate(cats)}
            onehot = np.zeros((col.size, len(cats)))
            rows = np.nonzero(~missing)[0]
            onehot[rows, [lookup[v] for v in col[rows]]] = np.sqrt(0.5)
            onehot[missing] = np.nan
            columns.append(onehot)
        else:
            x = as_float(col, name=f"column {j} of X")
            std = np.nanstd(x) if np.isfinite(x).any() else 0.0
            columns.append(((x - np.nanmean(x)) / (std if std > 0 else 1.0))[:, None])
    return np.hstack(columns)


def initial_mixture(cls, distributions, n_components, X, weights, *, n_init, init, max_kmeans_iterations,
                    random_state):
    """A mixture seeded by k-means: each component fitted to its cluster, weights the cluster shares."""
    if X is None:
        raise ValueError("X is required: the data to learn the mixture from.")
    d = np.shape(X)[1] if np.ndim(X) == 2 else 1
    factories = _component_factories(distributions, n_components, d)
    classes = _column_classes(distributions, d)
    X2, _ = check_X(X, d, allow_empty=False,
                    allow_object=any(getattr(c, "_accepts_objects", False) for c in classes))
    w = check_weights(weights, X2.shape[0])
    k = len(factories)
    _, labels = kmeans(kmeans_features(X2, classes), k, w, init=init, n_init=n_init,
                       max_iterations=max_kmeans_iterations, random_state=random_state)
    components, shares = [], np.zeros(k)
    for i, make in enumerate(factories):
        rows = labels == i
        shares[i] = w[rows].sum()
        components.append(make(X2[rows], w[rows]))
    return cls(components, shares)
