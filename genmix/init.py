"""Initialisation for ``GeneralMixtureModel.from_samples``: k-means seeding and Lloyd iterations.

Distances ignore missing (NaN) coordinates and are computed with GEMMs over row chunks, so memory stays
bounded by ``chunk × k``. Sample weights enter every step (a zero weight is the same as an absent row).
"""
import numpy as np

from ._validation import Interval, as_generator, check_int
from .data import check_labels, check_weights, check_X, is_generator, n_columns

__all__ = ["kmeans", "initial_mixture", "INITS"]

INITS = ("kmeans++", "first-k", "random", "kmeans||")
_CHUNK = 65536


class _Points:
    """Weighted rows prepared once for distance computations.

    Missing coordinates are set to 0 and tracked by an observed-mask ``M`` (only when there are any), so
    the squared distance over observed coordinates, ``Σ_j M_ij (X_ij − C_kj)²``, is
    ``‖x_i‖² − 2 x_i·c_k + M_i·(c_k ∘ c_k)``: two GEMMs per chunk of rows.
    """

    def __init__(self, X, w):
        self.X = X
        missing = np.isnan(X)
        self.M = (~missing).astype(np.float64) if missing.any() else None
        self.X0 = X if self.M is None else np.where(missing, 0.0, X)
        self.w = w
        self.norms = np.einsum("ij,ij->i", self.X0, self.X0)
        observed = np.ones_like(self.X0) if self.M is None else self.M
        mass = w @ observed
        self.column_means = np.where(mass > 0, (w @ self.X0) / np.where(mass > 0, mass, 1.0), 0.0)

    @property
    def n(self):
        return self.X0.shape[0]

    def sq_dist(self, C, rows=slice(None)):
        """Squared distances of the centres ``C`` to ``rows``, shape (k, rows).

        Centres along the first axis: every later reduction then runs over contiguous rows, and the
        (k, d) × (d, rows) product is faster than its transpose for small k.
        """
        d2 = (-2.0 * C) @ self.X0[rows].T
        d2 += self.norms[rows]
        if self.M is None:
            d2 += (C * C).sum(axis=1)[:, None]
        else:
            d2 += (C * C) @ self.M[rows].T
        return np.maximum(d2, 0.0, out=d2)

    def nearest(self, C):
        """Index of and squared distance to the nearest centre for every row, chunk by chunk."""
        labels, dist = np.empty(self.n, dtype=np.intp), np.empty(self.n)
        for s in range(0, self.n, _CHUNK):
            rows = slice(s, s + _CHUNK)
            d2 = self.sq_dist(C, rows)
            labels[rows] = np.argmin(d2, axis=0)
            dist[rows] = np.take_along_axis(d2, labels[rows][None, :], axis=0)[0]
        return labels, dist

    def centres(self, labels, k, old):
        """Weighted per-coordinate means of each cluster over observed values; empty ones keep ``old``."""
        num, den = np.zeros((k, self.X0.shape[1])), np.zeros((k, self.X0.shape[1]))
        for s in range(0, self.n, _CHUNK):
            rows = slice(s, s + _CHUNK)
            R = np.zeros((self.X0[rows].shape[0], k))
            R[np.arange(R.shape[0]), labels[rows]] = self.w[rows]
            num += R.T @ self.X0[rows]
            den += R.sum(axis=0)[:, None] if self.M is None else R.T @ self.M[rows]
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), old)

    def rows_as_centres(self, idx):
        """Rows ``idx`` as centres, their missing coordinates replaced by the column means."""
        C = self.X0[idx]
        return C if self.M is None else np.where(self.M[idx] > 0, C, self.column_means)


def _kmeans_plus_plus(P, k, rng, fixed=None):
    """Greedy weighted k-means++: D² sampling (∝ weight × distance²), best of 2 + log k candidates.

    ``fixed`` (m, d), if given, are centres already chosen; the others are seeded around them.
    """
    trials = 2 + int(np.log(k))
    w = P.w
    unit = bool(np.all(w == 1.0))  # unit weights: skip the multiplications
    if fixed is not None and len(fixed):
        idx, closest = [], P.nearest(fixed)[1]
    else:
        fixed = np.empty((0, P.X0.shape[1]))
        idx = [int(rng.choice(P.n, p=w / w.sum()))]
        closest = P.sq_dist(P.rows_as_centres(idx))[0]
    for _ in range(len(fixed) + len(idx), k):
        potential = np.cumsum(closest if unit else w * closest)
        total = potential[-1]
        if not total > 0:  # every row with weight coincides with a centre: take any unused row
            unused = np.setdiff1d(np.nonzero(w > 0)[0], idx)
            idx.append(int(unused[0] if unused.size else idx[0]))
            continue
        candidates = np.minimum(np.searchsorted(potential, rng.random(trials) * total), P.n - 1)
        d_c = P.sq_dist(P.rows_as_centres(candidates))  # (trials, n)
        np.minimum(closest, d_c, out=d_c)
        best = int(np.argmin(d_c.sum(axis=1) if unit else d_c @ w))
        idx.append(int(candidates[best]))
        closest = d_c[best]
    return np.vstack([fixed, P.rows_as_centres(np.asarray(idx, dtype=np.intp))])


def _kmeans_parallel(P, k, rng, rounds=5):
    """k-means|| (Bahmani et al., 2012): ``rounds`` passes that each keep every row independently with
    probability ``min(1, ℓ·w·d²/Σw·d²)`` (oversampling ℓ = 2k), then the candidates, weighted by the mass
    of the rows nearest to each, are reduced to ``k`` by weighted k-means++ and Lloyd's algorithm."""
    w = P.w
    chosen = [int(rng.choice(P.n, p=w / w.sum()))]
    closest = P.nearest(P.rows_as_centres(chosen))[1]
    for _ in range(rounds):
        potential = float(w @ closest)
        if not potential > 0:
            break
        keep = np.nonzero(rng.random(P.n) < np.minimum(1.0, 2.0 * k * w * closest / potential))[0]
        if keep.size:
            chosen.extend(keep.tolist())
            closest = np.minimum(closest, P.nearest(P.rows_as_centres(keep))[1])
    chosen = np.unique(chosen)
    if chosen.size < k:  # too few distinct candidates: top up with rows drawn ∝ weight
        rest = np.setdiff1d(np.nonzero(w > 0)[0], chosen)
        extra = rng.choice(rest, size=min(k - chosen.size, rest.size), replace=False, p=w[rest] / w[rest].sum())
        chosen = np.concatenate([chosen, extra])
    candidates = P.rows_as_centres(chosen)
    mass = np.bincount(P.nearest(candidates)[0], weights=w, minlength=chosen.size)
    reduced = _Points(candidates, mass)
    C = _kmeans_plus_plus(reduced, k, rng)
    return _lloyd(reduced, C, 20)[0]


def _lloyd(P, C, iterations, known=None):
    """Lloyd's algorithm; a cluster left empty is moved to the row farthest from its centre.

    ``known`` (n,), if given, holds fixed clusters (-1: free): those rows never change cluster.
    """
    k = C.shape[0]

    def assign(C):
        labels, dist = P.nearest(C)
        if known is not None:
            fixed = known >= 0
            labels[fixed] = known[fixed]
            dist[fixed] = 0.0  # fixed rows never move and must not be taken for an empty cluster
        return labels, dist

    labels, dist = assign(C)
    for _ in range(iterations):
        C_new = P.centres(labels, k, C)
        empty = np.nonzero(np.bincount(labels, weights=P.w, minlength=k) <= 0)[0]
        if empty.size:
            far = np.argsort(np.where(P.w > 0, dist, -1.0))[::-1][:empty.size]
            C_new[empty[:far.size]] = P.rows_as_centres(far)
        if np.array_equal(C_new, C):
            break
        C = C_new
        labels, dist = assign(C)
    return C, labels, dist


def _seed(P, k, init, rng, known=None):
    if known is not None and np.any(known >= 0):
        # Labelled clusters start at the weighted mean of their rows; the others are seeded by greedy
        # k-means++ around them (whatever ``init`` says), so that cluster i is label i.
        have = np.unique(known[known >= 0])
        rows = known >= 0
        means = _Points(P.X[rows], P.w[rows]).centres(known[rows], k, np.zeros((k, P.X0.shape[1])))
        seeded = _kmeans_plus_plus(P, k, rng, fixed=means[have])
        order = list(have) + [j for j in range(k) if j not in set(have.tolist())]
        out = np.empty_like(seeded)
        out[order] = seeded
        return out
    if init == "first-k":
        return P.rows_as_centres(np.nonzero(P.w > 0)[0][:k])
    if init == "random":
        return P.rows_as_centres(rng.choice(P.n, size=k, replace=False, p=P.w / P.w.sum()))
    if init == "kmeans||":
        return _kmeans_parallel(P, k, rng)
    return _kmeans_plus_plus(P, k, rng)


def kmeans(X, k, weights=None, *, init="kmeans++", n_init=1, max_iterations=1, random_state=None, labels=None):
    """Weighted k-means (seeding then Lloyd's algorithm) ignoring NaN coordinates.

    Parameters
    ----------
    X : array-like of shape (n_samples, d)
        The data; NaN coordinates are ignored in distances and centre updates.
    k : int
        The number of clusters.
    weights : array-like of shape (n_samples,), default=None
        Non-negative sample weights (a zero weight is the same as an absent row).
    init : {'kmeans++', 'first-k', 'random', 'kmeans||'}, default='kmeans++'
        'first-k' takes the first k rows with positive weight; 'random' draws k distinct rows with
        probability proportional to their weight; 'kmeans++' is greedy weighted D² sampling (the best of
        2 + log k candidates at each step); 'kmeans||' is Bahmani et al.'s scalable k-means++
        (oversampling rounds, then a weighted k-means++ reduction).
    n_init : int, default=1
        Restarts; the lowest weighted objective wins ('first-k' is deterministic and runs once).
    max_iterations : int, default=1
        Lloyd iterations after seeding. A cluster left empty is moved to the row farthest from its centre.
    random_state : None, int, Generator or RandomState
        The source of randomness; the global numpy state is never used.
    labels : array-like of int of shape (n_samples,), default=None
        Partial labels (cluster index, -1 unknown): labelled rows stay in their cluster, and a labelled
        cluster starts at the weighted mean of its rows (the others are seeded by k-means++ around them).

    Returns
    -------
    centres : ndarray of shape (k, d)
        The cluster centres.
    labels : ndarray of shape (n_samples,)
        The nearest centre of each row.
    """
    X, _ = check_X(X, np.shape(X)[1] if np.ndim(X) == 2 else 1, allow_empty=False)
    w = check_weights(weights, X.shape[0])
    if init not in INITS:
        raise ValueError(f"initialization must be one of {', '.join(repr(i) for i in INITS)}; got {init!r}.")
    k = check_int(k, "n_components", Interval(1, np.inf))
    n_init = check_int(n_init, "n_init", Interval(1, np.inf))
    max_iterations = check_int(max_iterations, "max_kmeans_iterations", Interval(0, np.inf))
    n_pos = int(np.count_nonzero(w > 0))
    if k > n_pos:
        raise ValueError(f"n_components={k} is larger than the number of samples with positive weight ({n_pos}).")
    known = None if labels is None else check_labels(labels, X.shape[0], k)
    rng = as_generator(random_state)
    P = _Points(X, w)
    best = None
    for _ in range(1 if init == "first-k" else n_init):
        C, labels, dist = _lloyd(P, _seed(P, k, init, rng, known), max_iterations, known)
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

    def check_class(c):
        from .distributions import Distribution

        if not (isinstance(c, type) and (issubclass(c, Distribution)
                                         or (hasattr(c, "from_samples") and hasattr(c, "blank")))):
            raise ValueError(f"distributions must be distribution classes with from_samples and blank; got {c!r:.60}.")

    if isinstance(distributions, type):
        check_class(distributions)
        if n_components is None:
            raise ValueError("n_components is required when distributions is a single class.")
        k = check_int(n_components, "n_components", Interval(1, np.inf))
        if d == 1 or _is_multivariate(distributions):
            return [single(distributions)] * k
        return [per_column([distributions] * d)] * k
    if isinstance(distributions, (list, tuple)) and distributions:
        for c in distributions:
            if not isinstance(c, type):
                raise ValueError("must pass in uninitialized distributions: the list holds an instance "
                                 f"({c!r:.60}); give classes, or build the model from instances directly.")
            check_class(c)
        if d == 1:
            return [single(c) for c in distributions]
        if len(distributions) == d:
            k = check_int(n_components, "n_components", Interval(1, np.inf))
            return [per_column(distributions)] * k
        raise ValueError(f"must pass in a list with one distribution per dimension ({d}); got "
                         f"{len(distributions)}.")
    raise ValueError("distributions must be a distribution class or a list of classes (use the constructor "
                     "for initialised distributions).")


def _is_multivariate(cls):
    """Whether a class models whole rows: a genmix multivariate family, or (pomegranate 0.x's rule, for a
    user-defined class) one whose ``blank()`` has ``d > 1``."""
    from .distributions import Distribution

    if issubclass(cls, Distribution):
        return bool(getattr(cls, "_multivariate", False))
    return getattr(cls.blank(), "d", 1) > 1


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
            try:
                cats = list(dict.fromkeys(v for v, m in zip(col.tolist(), missing) if not m))
            except TypeError:
                raise TypeError(f"column {j} of X holds an unhashable value; categories must be hashable "
                                "(strings, numbers, booleans).") from None
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
                    random_state, labels=None):
    """A mixture seeded by k-means: each component fitted to its cluster, weights the cluster shares."""
    if X is None:
        raise ValueError("X is required: the data to learn the mixture from.")
    if is_generator(X):  # as pomegranate 0.x: k-means on the first batch, EM over every batch
        if weights is not None or labels is not None:
            raise ValueError("with a data generator, weights come from its batches and labels need an array X.")
        X, weights = next(iter(X.batches()))
    d = n_columns(X)
    listed = [distributions] if isinstance(distributions, type) else \
        list(distributions) if isinstance(distributions, (list, tuple)) else []
    X2, _ = check_X(X, d, allow_empty=False,
                    allow_object=any(getattr(c, "_accepts_objects", False) for c in listed))
    w = check_weights(weights, X2.shape[0])
    if isinstance(n_components, (int, np.integer)) and not isinstance(n_components, (bool, np.bool_)) \
            and n_components > X2.shape[0]:  # before anything of that size is built
        raise ValueError(f"n_components={n_components} is larger than the number of samples ({X2.shape[0]}).")
    factories = _component_factories(distributions, n_components, d)
    classes = _column_classes(distributions, d)
    k = len(factories)
    known = None if labels is None else check_labels(labels, X2.shape[0], k)
    _, labels = kmeans(kmeans_features(X2, classes), k, w, init=init, n_init=n_init,
                       max_iterations=max_kmeans_iterations, random_state=random_state, labels=known)
    heterogeneous = (isinstance(distributions, (list, tuple)) and d == 1 and len(set(distributions)) > 1
                     and (known is None or not np.any(known >= 0)))  # labels fix which cluster is which
    order = _match_classes_to_clusters(factories, X2, w, labels) if heterogeneous else range(k)
    components, shares = [], np.zeros(k)
    for i, (make, cluster) in enumerate(zip(factories, order)):
        rows = labels == cluster
        shares[i] = w[rows].sum()
        if not shares[i] > 0:  # an empty cluster: a finite component (the fit to all rows), weight 0
            rows = np.ones(X2.shape[0], dtype=bool)
        components.append(make(X2[rows], w[rows]))
    return cls(components, shares)


def _match_classes_to_clusters(factories, X, w, labels):
    """For a heterogeneous univariate mixture, which cluster each class is fitted to: the assignment
    that maximises the total log-likelihood of the per-cluster fits (a class that cannot produce a
    cluster, e.g. an Exponential on negative values, scores -inf there). pomegranate 0.x paired class i
    with cluster i, whatever the data."""
    from scipy.optimize import linear_sum_assignment

    k = len(factories)
    score = np.full((k, k), -np.inf)
    for i, make in enumerate(factories):
        for j in range(k):
            rows = labels == j
            if not w[rows].sum() > 0:
                score[i, j] = 0.0
                continue
            try:
                component = make(X[rows], w[rows])
            except ValueError:  # the cluster lies outside the family's support
                continue
            score[i, j] = float(w[rows] @ component.log_probability(X[rows]))
    finite = np.where(np.isfinite(score), score, 0.0)
    worst = finite.min() - 1.0 - 1e6 * (np.abs(finite).max() + 1.0)
    _, cluster = linear_sum_assignment(np.where(np.isfinite(score), score, worst), maximize=True)
    if not np.all(np.isfinite(score[np.arange(k), cluster])):
        raise ValueError("from_samples could not give every class of the list a k-means cluster inside its "
                         "support; initialise the components yourself and call fit.")
    return cluster
