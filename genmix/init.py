"""Initialisation for ``GeneralMixtureModel.from_samples``: k-means seeding and Lloyd iterations.

The data (an array, a memmap, a DataFrame or a data generator) are only ever read in row chunks: one
pass surveys them and draws the seeding sample (reservoir sampling, see :class:`_Survey`), the seeding
runs in memory on that sample, each Lloyd iteration is one pass, and the initial components are fitted
from each family's statistics summed chunk by chunk. Memory therefore stays bounded by the sample and
``chunk × k`` whatever the size of the data. Distances ignore missing (NaN) coordinates and are computed
with GEMMs. Sample weights enter every step (a zero weight is the same as an absent row).
"""
import functools

import numpy as np

from ._validation import Interval, as_generator, check_int, check_scalar
from .distributions._base import _input_for, is_stackable
from .data import (DataGenerator, check_labels, check_weights, check_X, is_dask_collection, is_generator,
                   is_sliceable, n_columns, unit_weights)
from .exceptions import naming_component
from .parallel import fold_in_threads

__all__ = ["kmeans", "initial_mixtures", "INITS"]

INITS = ("kmeans++", "first-k", "random", "kmeans||", "hierarchical")
#: seedings that do not draw random numbers: one run, whatever ``n_init`` says
DETERMINISTIC = ("first-k", "hierarchical")
#: rows of the seeding sample that Ward's agglomeration sees at most (its cost grows as rows²)
_HIERARCHICAL_ROWS = 2000
_CHUNK = 65536
#: the most rows the seeding looks at (a sample drawn across all the data; see _Survey)
_SAMPLE_ROWS = 65536
#: the seed of the survey's key stream: the sample depends on the data alone, never on random_state
_SAMPLE_SEED = 20261202
#: Lloyd's algorithm stops when the centres move by at most this share of the data's mean per-column
#: variance (the sum of the squared moves of all centres; scikit-learn's ``KMeans`` rule and default)
TOL = 1e-4
#: the most Lloyd iterations on the seeding sample, when it is a strict subset of the data
_SAMPLE_ITERATIONS = 100


class _Points:
    """Weighted rows prepared once for distance computations.

    Missing coordinates are set to 0 and tracked by an observed-mask ``M`` (only when there are any), so
    the squared distance over observed coordinates, ``Σ_j M_ij (X_ij − C_kj)²``, is
    ``‖x_i‖² − 2 x_i·c_k + M_i·(c_k ∘ c_k)``: two GEMMs per chunk of rows.
    """

    def __init__(self, X, w, column_means=None):
        self.X = X
        missing = np.isnan(X)
        self.M = (~missing).astype(np.float64) if missing.any() else None
        self.X0 = X if self.M is None else np.where(missing, 0.0, X)
        self.w = w
        self.norms = np.einsum("ij,ij->i", self.X0, self.X0)
        if column_means is None:
            mass = w.sum() if self.M is None else w @ self.M
            column_means = np.where(mass > 0, (w @ self.X0) / np.where(mass > 0, mass, 1.0), 0.0)
        self.column_means = column_means

    @property
    def n(self):
        return self.X0.shape[0]

    def spread(self):
        """The mean over the columns of the weighted variance of their observed values (0 for none)."""
        mass = self.w.sum() if self.M is None else self.w @ self.M
        centred = self.X0 - self.column_means
        if self.M is not None:
            centred *= self.M
        var = np.where(mass > 0, (self.w @ (centred * centred)) / np.where(mass > 0, mass, 1.0), 0.0)
        return float(var.mean()) if var.size else 0.0

    def _cross(self, C, rows):
        """``‖c_k‖² − 2 x_i·c_k`` over the observed coordinates of ``rows``, shape (k, rows): the squared
        distances without the rows' own norms, which do not change which centre is nearest."""
        d2 = (-2.0 * C) @ self.X0[rows].T
        d2 += (C * C).sum(axis=1)[:, None] if self.M is None else (C * C) @ self.M[rows].T
        return d2

    def sq_dist(self, C, rows=slice(None)):
        """Squared distances of the centres ``C`` to ``rows``, shape (k, rows).

        Centres along the first axis: every later reduction then runs over contiguous rows, and the
        (k, d) × (d, rows) product is faster than its transpose for small k.
        """
        d2 = self._cross(C, rows)
        d2 += self.norms[rows]
        return np.maximum(d2, 0.0, out=d2)

    def nearest(self, C):
        """Index of and squared distance to the nearest centre for every row, chunk by chunk.

        The rows' own norms are added to the smallest distance only (see :meth:`_cross`). The index is the
        first centre reaching the minimum (as ``argmin``), found by one comparison per centre: ``argmin``
        over the short centre axis is 3× slower.
        """
        labels, dist = np.empty(self.n, dtype=np.intp), np.empty(self.n)
        step = int(min(_CHUNK, max(1024, (1 << 19) // max(len(C), 1))))  # (centres × rows) at most ~4 MiB
        for s in range(0, self.n, step):
            rows = slice(s, s + step)
            d2 = self._cross(C, rows)
            smallest = d2.min(axis=0)
            lab, found = np.zeros(smallest.size, dtype=np.intp), np.zeros(smallest.size, dtype=bool)
            for j in range(1, len(C)):
                found |= d2[j - 1] == smallest
                lab += j * ~(found | (d2[j] != smallest))
            labels[rows] = lab
            smallest += self.norms[rows]
            dist[rows] = np.maximum(smallest, 0.0, out=smallest)
        return labels, dist

    def cluster_sums(self, labels, k):
        """Per-cluster weighted sums of the observed coordinates and their masses, each (k, d)."""
        R = (labels == np.arange(k)[:, None]).astype(np.float64)  # (k, n) one-hot, then times the weights
        R *= self.w
        num = R @ self.X0
        den = np.broadcast_to(R.sum(axis=1)[:, None], num.shape) if self.M is None else R @ self.M
        return num, den

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
    return _lloyd(_Rows(candidates, mass, candidates.shape[1]), _identity, C, 20, None, reduced.column_means)[0]


class _Rows:
    """The data as validated row chunks, one pass at a time: an array, memmap or DataFrame is sliced
    (never copied whole, each chunk converted on its own), a generator is read batch by batch.

    :meth:`fold` is how a pass reads them: a part of each chunk, merged in row order. A Dask collection
    gets ``genmix.dask.DaskRows`` instead (the same protocol: ``n``, ``d``, ``distributed``, ``chunks``,
    ``fold``), whose parts are computed on the workers and merged there in a tree (see :func:`_rows`)."""

    distributed = False

    def __init__(self, X, weights, d, allow_object=False, n_jobs=1):
        if is_generator(X):
            if weights is not None:
                raise ValueError("with a data generator, weights come from its batches and labels need an array X.")
            self._source, self.n = X, None
        else:
            if not is_sliceable(X, d):
                X, _ = check_X(X, d, allow_empty=False, allow_object=allow_object)
            self.n = X.shape[0]
            if self.n == 0:
                raise ValueError("X must contain at least one sample; got an empty array.")
            w = None if weights is None else check_weights(weights, self.n)
            self._source = DataGenerator(X, w, batch_size=_CHUNK)
        self.d, self.allow_object, self.n_jobs = d, allow_object, n_jobs

    def chunks(self):
        """Yield ``(first row, X chunk, weights chunk)`` over one pass, each chunk validated."""
        first = 0
        for Xb, wb in self._source.batches():
            Xc, _ = check_X(Xb, self.d, allow_object=self.allow_object)
            wc = unit_weights(Xc.shape[0]) if wb is None else check_weights(wb, Xc.shape[0])
            yield first, Xc, wc
            first += Xc.shape[0]

    def fold(self, part, merge):
        """``merge(… merge(part(chunk 0), part(chunk 1)) …)`` over one pass, in row order (None for no
        rows); ``part(first, X, w, so_far)`` sees each validated chunk and the merge of the chunks before
        it (None for the first, and always None on Dask and with ``n_jobs`` threads, where chunks are
        independent: a part may use it only to leave out what the merge would drop anyway). With
        ``n_jobs > 1`` the parts run in threads, merged in row order (the same result)."""
        if self.n_jobs > 1:
            return fold_in_threads((functools.partial(part, first, Xc, wc, None) for first, Xc, wc in self.chunks()),
                                   merge, self.n_jobs)
        return _fold_in_order(self, part, merge)


def _fold_in_order(rows, part, merge):
    """``rows.fold`` in this thread, chunk after chunk, each ``part`` seeing the merge so far: for a pass
    whose parts must run in the client (a collector that keeps rows), or that gains from ``so_far``."""
    total = None
    for first, Xc, wc in rows.chunks():
        p = part(first, Xc, wc, total)
        total = p if total is None else merge(total, p)
    return total


def _rows(X, weights, d, allow_object=False, n_jobs=1):
    """The row source of ``X``: :class:`_Rows` (its passes in ``n_jobs`` threads), or
    ``genmix.dask.DaskRows`` for a Dask collection."""
    if is_dask_collection(X):
        from .dask import DaskRows

        return DaskRows(X, weights, d, allow_object)
    return _Rows(X, weights, d, allow_object, n_jobs)


class _Survey:
    """One pass over the data: its size, the first ``k`` rows with positive weight, whether values are
    missing, and a uniform sample of at most ``size`` rows with positive weight (with their weights), in
    row order, on which the seeding runs.

    The sample is reservoir sampling: every row draws a key from a fixed pseudo-random stream, in row
    order, and the rows with the ``size`` largest keys are kept. The sample is therefore a function of
    the data alone: the same for an array, a memmap or any batching of the same rows, and it consumes
    nothing of ``random_state``. With no more than ``size`` rows of positive weight it is all of them.
    """

    def __init__(self, rows, k, size):
        def part_of(first, Xc, wc, so_far):
            return _survey_part(first, Xc, wc, k, size, so_far)

        def merge(a, b):
            return _survey_merge(a, b, k, size)

        # off Dask in order, never in threads: each chunk keeps only the keys above the sample's floor so far
        part = rows.fold(part_of, merge) if rows.distributed else _fold_in_order(rows, part_of, merge)
        if part is None or part["n"] == 0:
            raise ValueError("X must contain at least one sample; got an empty array.")
        part = _survey_compact(part, size, whole=True)
        self.n, self.n_pos, self.missing = part["n"], part["n_pos"], part["missing"]
        if part["pieces"]:
            _, sample, weights, index = part["pieces"][0]
            order = np.argsort(index, kind="stable")
            self.sample, self.sample_weights = sample[order], weights[order]
        else:
            self.sample, self.sample_weights = np.empty((0, rows.d)), np.empty(0)
        self.head = part["head"] if part["head"] is not None else np.empty((0, rows.d))


def _survey_part(first, Xc, wc, k, size, so_far=None):
    """The survey of one chunk that starts at row ``first``: its counts, its first ``k`` rows with
    positive weight, and its rows with positive weight whose keys are among its ``size`` largest and
    above the floor of the survey ``so_far`` of the rows before (no row under it can enter the sample).
    Row ``i``'s key is draw ``i`` of the fixed stream (the generator advanced to ``first``), so every
    chunking of the same rows draws the same keys.

    The candidates are kept as ``pieces`` (keys, rows, weights, row indices), ``count`` of them, and
    ``floor`` is a key that at least ``size`` candidates reach (-1 until they are that many)."""
    stream = np.random.PCG64(_SAMPLE_SEED)
    stream.advance(first)
    u = np.random.Generator(stream).random(Xc.shape[0])
    positive = wc > 0
    new = np.nonzero(positive & (u > (-1.0 if so_far is None else so_far["floor"])))[0]
    if new.size > size:
        new = new[np.argpartition(u[new], new.size - size)[new.size - size:]]
    keys = u[new]
    return {"n": Xc.shape[0], "n_pos": int(np.count_nonzero(positive)),
            "missing": Xc.dtype != object and bool(np.isnan(Xc).any()),
            "head": Xc[np.nonzero(positive)[0][:k]],
            "pieces": [(keys, Xc[new], wc[new], first + new)] if new.size else [], "count": int(new.size),
            "floor": float(keys.min()) if new.size >= size else -1.0}


def _survey_merge(a, b, k, size):
    """Two surveys of consecutive rows as one (``a``'s rows first): the counts added, the first ``k``
    rows, the candidates of both (reduced to the ``size`` largest keys once they are 1.5 times that
    many: the merges of a pass copy each candidate a few times, not once per chunk)."""
    head = a["head"] if len(a["head"]) >= k else np.concatenate([a["head"], b["head"][:k - len(a["head"])]])
    merged = {"n": a["n"] + b["n"], "n_pos": a["n_pos"] + b["n_pos"], "missing": a["missing"] or b["missing"],
              "head": head, "pieces": a["pieces"] + b["pieces"], "count": a["count"] + b["count"],
              "floor": max(a["floor"], b["floor"])}
    return _survey_compact(merged, size) if 2 * merged["count"] >= 3 * size else merged


def _survey_compact(part, size, whole=False):
    """``part`` keeping the ``size`` candidates with the largest keys, piece by piece (the rows are never
    all copied at once); ``whole`` joins them into one piece."""
    pieces, count = part["pieces"], part["count"]
    if count > size:
        keys = np.concatenate([p[0] for p in pieces])
        keep = np.zeros(keys.size, dtype=bool)
        keep[np.argpartition(keys, keys.size - size)[keys.size - size:]] = True
        ends = np.cumsum([p[0].size for p in pieces])
        pieces = [tuple(a[kept] for a in p) for p, kept in zip(pieces, np.split(keep, ends[:-1])) if kept.any()]
        part = dict(part, pieces=pieces, count=size, floor=float(keys[keep].min()))
    if whole and len(pieces) > 1:
        part = dict(part, pieces=[tuple(np.concatenate(p) for p in zip(*pieces))])
    return part


def _sample_size(k, width):
    """Rows of the seeding sample: 65,536 (at most 32 MiB of float64 features), and at least 16 per cluster."""
    return int(max(min(_SAMPLE_ROWS, (32 << 20) // (8 * max(width, 1))), 16 * k))


class _Pass:
    """What one assignment pass over the data gives: per-cluster weighted coordinate sums ``num`` and
    masses ``den`` (over observed coordinates), cluster masses, the objective Σ w·d², and the ``k``
    farthest rows with positive weight (as centres), farthest first."""

    def __init__(self, rows, features, C, known, column_means, collect=None):
        k = C.shape[0]
        if collect is not None and not ((rows.distributed or getattr(rows, "n_jobs", 1) > 1)
                                        and hasattr(collect, "fresh")):
            # a collector that only the client's one thread can run (it keeps rows or labels): chunk by chunk
            part = _fold_in_order(rows, lambda first, Xc, wc, _: _pass_part(first, Xc, wc, features, C, known,
                                                                            column_means, collect),
                                  lambda a, b: _pass_merge(a, b, k))
        else:
            part = rows.fold(lambda first, Xc, wc, _: _pass_part(first, Xc, wc, features, C, known, column_means,
                                                                 None if collect is None else collect.fresh()),
                             lambda a, b: _pass_merge(a, b, k))
            if collect is not None and part["collected"] is not None:
                collect.merge(part["collected"])
        self.num, self.den, self.mass, self.objective = part["num"], part["den"], part["mass"], part["objective"]
        self.far = part["far"]

    def centres(self, old):
        """The weighted means of the clusters over observed values; empty ones keep ``old``."""
        return np.where(self.den > 0, self.num / np.where(self.den > 0, self.den, 1.0), old)


def _pass_part(first, Xc, wc, features, C, known, column_means, collect):
    """One chunk's share of an assignment pass (see :class:`_Pass`); ``collect`` sees the chunk."""
    k = C.shape[0]
    P = _Points(features(Xc, first), wc, column_means)
    labels, dist = P.nearest(C)
    movable = wc > 0
    if known is not None:
        fixed = known[first:first + Xc.shape[0]] >= 0
        labels[fixed] = known[first:first + Xc.shape[0]][fixed]
        dist[fixed] = 0.0
        movable &= ~fixed
    num, den = P.cluster_sums(labels, k)
    cand = np.nonzero(movable)[0]
    if cand.size > k:
        cand = cand[np.argpartition(-dist[cand], k - 1)[:k]]
    if collect is not None:
        collect(first, Xc, labels, wc)
    return _top_far({"num": num, "den": den, "mass": np.bincount(labels, weights=wc, minlength=k),
                     "objective": float(wc @ dist), "far_d": dist[cand], "far_i": first + cand,
                     "far": P.rows_as_centres(cand), "collected": collect if hasattr(collect, "fresh") else None}, k)


def _top_far(part, k):
    """``part`` keeping its ``k`` farthest rows, farthest first (ties to the earlier row)."""
    top = np.lexsort((part["far_i"], -part["far_d"]))[:k]
    return dict(part, far_d=part["far_d"][top], far_i=part["far_i"][top], far=part["far"][top])


def _pass_merge(a, b, k):
    """Two passes' shares as one: sums added, the ``k`` farthest rows of both, the collectors merged."""
    collected = a["collected"]
    if collected is not None and b["collected"] is not None and collected is not b["collected"]:
        collected.merge(b["collected"])
    return _top_far({"num": a["num"] + b["num"], "den": a["den"] + b["den"], "mass": a["mass"] + b["mass"],
                     "objective": a["objective"] + b["objective"],
                     "far_d": np.concatenate([a["far_d"], b["far_d"]]),
                     "far_i": np.concatenate([a["far_i"], b["far_i"]]),
                     "far": np.concatenate([a["far"], b["far"]]), "collected": collected}, k)


def _lloyd(rows, features, C, iterations, known, column_means, collect=None, tol=0.0):
    """Lloyd's algorithm over ``rows``, one pass per iteration; a cluster left empty is moved to the row
    farthest from its centre. ``known`` (n,), if given, holds fixed clusters (-1: free): those rows never
    change cluster. It stops early when the centres no longer move, or move by at most ``tol`` (the sum
    of their squared moves). ``collect(first, X, labels, w)`` sees every chunk of the pass that gives the
    final assignment. Returns the centres and that pass (an assignment to the returned centres)."""
    result = _Pass(rows, features, C, known, column_means, collect if iterations == 0 else None)
    for it in range(iterations):
        C_new = result.centres(C)
        empty = np.nonzero(result.mass <= 0)[0]
        if empty.size:
            m = min(empty.size, len(result.far))
            C_new[empty[:m]] = result.far[:m]
        unchanged = np.array_equal(C_new, C)
        moved = 0.0 if unchanged else float(np.square(C_new - C).sum())
        C = C_new
        if moved <= tol:
            # converged: one more pass assigns to the final centres (unmoved: the last pass's assignment,
            # seen again only by a collector)
            if not unchanged or collect is not None:
                result = _Pass(rows, features, C, known, column_means, collect)
            break
        result = _Pass(rows, features, C, known, column_means, collect if it == iterations - 1 else None)
    return C, result


def _identity(X, first=0):
    """The features of float rows: the rows themselves."""
    return X


class _Features:
    """The k-means features of the rows of a chunk that starts at row ``first`` of the data: ``transform``
    applied to the chunk, or, for mixed-type data held in memory, a slice of the features of all rows,
    computed once (the rows are in memory already, and encoding categories is the slow part)."""

    def __init__(self, transform, rows=None):
        self.transform = transform
        self.all = None if rows is None else np.concatenate([transform(Xc) for _, Xc, _ in rows.chunks()])

    def __call__(self, X, first=0):
        return self.transform(X) if self.all is None else self.all[first:first + X.shape[0]]


def _seed(survey, P, k, init, rng, labelled=None):
    """Initial centres from the survey's sample ``P``; ``labelled`` (k, width) holds the means of the
    labelled clusters (NaN rows for clusters without labels)."""
    if labelled is not None:
        # Labelled clusters start at the weighted mean of their rows; the others are seeded by greedy
        # k-means++ around them (whatever ``init`` says), so that cluster i is label i.
        have = np.nonzero(~np.isnan(labelled).all(axis=1))[0]
        seeded = _kmeans_plus_plus(P, k, rng, fixed=labelled[have])
        order = list(have) + [j for j in range(k) if j not in set(have.tolist())]
        out = np.empty_like(seeded)
        out[order] = seeded
        return out
    if init == "first-k":
        return np.where(np.isnan(survey.head_features), P.column_means, survey.head_features)
    if init == "random":
        return P.rows_as_centres(rng.choice(P.n, size=k, replace=False, p=P.w / P.w.sum()))
    if init == "kmeans||":
        return _kmeans_parallel(P, k, rng)
    if init == "hierarchical":
        return _ward_centres(P, k, rng)
    return _kmeans_plus_plus(P, k, rng)


def _ward_centres(P, k, rng):
    """Deterministic centres: Ward's agglomeration of the sample (at most ``_HIERARCHICAL_ROWS`` evenly
    spaced rows of it, missing values at the column means) in whitened coordinates — principal axes
    scaled to unit variance, so that no column dominates by its units (mclust's default 'SVD'
    transformation before its agglomeration) — cut into ``k`` clusters; the centres are the clusters'
    weighted means in the original coordinates. Should there be fewer than ``k`` clusters (fewer distinct
    rows), k-means++ adds the rest around them."""
    from scipy.cluster.hierarchy import fcluster, ward

    rows = np.unique(np.linspace(0, P.n - 1, min(P.n, _HIERARCHICAL_ROWS)).round().astype(np.intp))
    keep = rows[P.w[rows] > 0]
    X = P.X0[keep] if P.M is None else np.where(P.M[keep] > 0, P.X0[keep], P.column_means)
    w = P.w[keep]
    if k == 1 or X.shape[0] <= k:
        return _kmeans_plus_plus(P, k, rng)
    Z = X - X.mean(axis=0)
    _, s, Vt = np.linalg.svd(Z, full_matrices=False)
    scale = np.where(s > s[0] * 1e-12, s, np.inf) / np.sqrt(max(X.shape[0] - 1, 1))
    labels = fcluster(ward(Z @ Vt.T / scale), k, criterion="maxclust") - 1
    found = np.unique(labels)
    centres = np.array([(w[labels == j] @ X[labels == j]) / w[labels == j].sum() for j in found])
    if found.size < k:
        return _kmeans_plus_plus(P, k, rng, fixed=centres)
    return centres


class _KMeans:
    """k-means over a row source: one survey pass, then, per run, seeding on the survey's sample and
    Lloyd's algorithm over all the rows."""

    def __init__(self, rows, k, init, max_iterations, fit_features=None, labels=None, tol=TOL):
        self.rows, self.k, self.init, self.max_iterations = rows, k, init, max_iterations
        size = _sample_size(k, rows.d)
        self.survey = survey = _Survey(rows, k, size)
        if k > survey.n_pos:
            raise ValueError(f"n_components={k} is larger than the number of samples with positive weight "
                             f"({survey.n_pos}).")
        transform = _identity if fit_features is None else fit_features(survey.sample)
        in_memory = rows.n is not None and survey.sample.dtype == object and not rows.distributed
        self.features = _identity if transform is _identity else _Features(transform, rows if in_memory else None)
        self.P = _Points(transform(survey.sample), survey.sample_weights)
        survey.head_features = transform(survey.head)
        self.tol = tol * self.P.spread()
        self.known = None if labels is None else check_labels(labels, survey.n, k)
        # a sample smaller than the data: the seeding is refined by Lloyd's algorithm on it (cheap, in
        # memory), so that the passes over all the data start near convergence (labelled rows aside)
        self.refine = self.known is None and survey.n_pos > self.P.n
        self.labelled = None
        if self.known is not None and np.any(self.known >= 0):  # the weighted means of the labelled rows
            known, features, column_means = self.known, self.features, self.P.column_means

            def labelled_sums(first, Xc, wc, _):
                y = known[first:first + Xc.shape[0]]
                sel = np.nonzero(y >= 0)[0]
                return _Points(features(Xc, first)[sel], wc[sel], column_means).cluster_sums(y[sel], k)

            num, den = rows.fold(labelled_sums, lambda a, b: (a[0] + b[0], a[1] + b[1]))
            self.labelled = np.full(num.shape, np.nan)
            have = np.unique(self.known[self.known >= 0])
            self.labelled[have] = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)[have]

    def run(self, rng, collect=None):
        """One seeding and Lloyd's algorithm: ``(centres, final pass)``."""
        C = _seed(self.survey, self.P, self.k, self.init, rng, self.labelled)
        if self.refine:
            sample = _Rows(self.P.X, self.P.w, self.P.X.shape[1])
            C = _lloyd(sample, _identity, C, _SAMPLE_ITERATIONS, None, self.P.column_means, tol=self.tol)[0]
        return _lloyd(self.rows, self.features, C, self.max_iterations, self.known, self.P.column_means, collect,
                      tol=self.tol)


def kmeans(X, k, weights=None, *, init="kmeans++", n_init=1, max_iterations=1, tol=TOL, random_state=None,
           labels=None):
    """Weighted k-means (seeding then Lloyd's algorithm) ignoring NaN coordinates.

    The seeding looks at a uniform sample of at most 65,536 rows with positive weight (all of them when
    there are no more), drawn by reservoir sampling with a fixed key stream, so that it depends only on
    the data; Lloyd's algorithm runs over all the rows, chunk by chunk, so memory stays bounded whatever
    the size of ``X`` (a memmap or a data generator is read, never copied).

    Parameters
    ----------
    X : array-like of shape (n_samples, d), numpy.memmap or data generator
        The data; NaN coordinates are ignored in distances and centre updates.
    k : int
        The number of clusters.
    weights : array-like of shape (n_samples,), default=None
        Non-negative sample weights (a zero weight is the same as an absent row).
    init : {'kmeans++', 'first-k', 'random', 'kmeans||', 'hierarchical'}, default='kmeans++'
        'first-k' takes the first k rows with positive weight; 'random' draws k distinct rows of the
        sample with probability proportional to their weight; 'kmeans++' is greedy weighted D² sampling
        (the best of 2 + log k candidates at each step); 'kmeans||' is Bahmani et al.'s scalable
        k-means++ (oversampling rounds, then a weighted k-means++ reduction); 'hierarchical' cuts Ward's
        agglomeration of at most 2,000 evenly spaced rows of the sample, in whitened coordinates, into k
        clusters (deterministic: one run; the merges count rows, not their weights, which only enter the
        clusters' means).
    n_init : int, default=1
        Restarts; the lowest weighted objective wins ('first-k' is deterministic and runs once).
    max_iterations : int, default=1
        Lloyd iterations after seeding. A cluster left empty is moved to the row farthest from its centre.
        When the seeding sample is a strict subset of the data, the seeding is first refined by Lloyd's
        algorithm on the sample (in memory, at most 100 iterations, the same stopping rule).
    tol : float, default=1e-4
        Lloyd's algorithm stops when the sum of the squared moves of the centres is at most ``tol`` times
        the mean per-column variance of the seeding sample (scikit-learn's ``KMeans`` rule and default),
        and then assigns the rows to the final centres. 0 stops only when the centres no longer move.
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
    d = n_columns(X) if not is_generator(X) else None
    runner = _kmeans_runner(X, k, weights, d, init=init, max_iterations=max_iterations, labels=labels, tol=tol)
    n_init = check_int(n_init, "n_init", Interval(1, np.inf))
    rng = as_generator(random_state)
    best = None
    for _ in range(1 if init in DETERMINISTIC else n_init):
        assigned = np.empty(runner.survey.n, dtype=np.intp)
        C, result = runner.run(rng, lambda first, X, labels, w: assigned.__setitem__(slice(first, first + len(X)),
                                                                                     labels))
        if best is None or result.objective < best[0]:
            best = (result.objective, C, assigned)
    return best[1], best[2]


def _kmeans_runner(X, k, weights, d, *, init, max_iterations, labels=None, fit_features=None,
                   allow_object=False, n_jobs=1, tol=TOL):
    """Validated options and a :class:`_KMeans` over ``X``."""
    if init not in INITS:
        raise ValueError(f"initialization must be one of {', '.join(repr(i) for i in INITS)}; got {init!r}.")
    k = check_int(k, "n_components", Interval(1, np.inf))
    max_iterations = check_int(max_iterations, "max_kmeans_iterations", Interval(0, np.inf))
    tol = check_scalar(tol, "tol", Interval(0, np.inf, closed="left"))
    if d is None:
        first = next(iter(X.batches()), None)
        d = 1 if first is None else n_columns(first[0])
    rows = _rows(X, weights, d, allow_object, n_jobs)
    if rows.n is not None and k > rows.n:  # before anything of that size is built
        raise ValueError(f"n_components={k} is larger than the number of samples ({rows.n}).")
    return _KMeans(rows, k, init, max_iterations, fit_features, labels, tol)


class _Factory:
    """How a component is fitted to a cluster: one class modelling whole rows, or one class per column
    (an :class:`IndependentComponentsDistribution`)."""

    def __init__(self, classes, whole_rows):
        self.classes, self.whole_rows = tuple(classes), whole_rows

    def __call__(self, X, w):
        """The slow path: the class's own ``from_samples`` on the cluster's rows."""
        if self.whole_rows:
            return self.classes[0].from_samples(X, w)
        from .distributions import IndependentComponentsDistribution

        return IndependentComponentsDistribution.from_samples(X, w, distributions=list(self.classes))

    def blank(self, d):
        """The genmix component whose statistics, summed over chunks, give the same fit as ``self(X, w)``
        (``cls.from_samples`` is ``cls.blank().fit``; see :meth:`iterates` for the one exception); None
        for a user-defined class, which is fitted to its cluster's rows."""
        from .distributions import Distribution, IndependentComponentsDistribution

        if not all(issubclass(c, Distribution) for c in self.classes):
            return None
        if not self.whole_rows:
            b = IndependentComponentsDistribution([c.blank() for c in self.classes])
        elif getattr(self.classes[0], "_multivariate", False):
            b = self.classes[0].blank(d)
        else:
            b = self.classes[0].blank()
        return b if is_stackable(b) else None

    def iterates(self, missing):
        """Whether the fit is iterative: a multivariate Gaussian on data with missing values, whose
        maximum-likelihood fit is an EM over its cluster's rows (one pass over the data per iteration,
        every cluster at once; see :func:`_incomplete_gaussians`)."""
        from .distributions import MultivariateGaussianDistribution

        return bool(missing) and self.whole_rows and issubclass(self.classes[0], MultivariateGaussianDistribution)


def _component_factories(distributions, n_components, d):
    """A list of :class:`_Factory` (one per component) from a pomegranate-style specification."""

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
            return [_Factory([distributions], True)] * k
        return [_Factory([distributions] * d, False)] * k
    if isinstance(distributions, (list, tuple)) and distributions:
        for c in distributions:
            if not isinstance(c, type):
                raise ValueError("must pass in uninitialized distributions: the list holds an instance "
                                 f"({c!r:.60}); give classes, or build the model from instances directly.")
            check_class(c)
        if d == 1:
            return [_Factory([c], True) for c in distributions]
        if len(distributions) == d:
            k = check_int(n_components, "n_components", Interval(1, np.inf))
            return [_Factory(distributions, False)] * k
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


def kmeans_features(classes):
    """Numeric features for k-means, as a function fitted to a sample of rows that returns the transform.

    Float data are used as they are. For mixed-type (object) data, numeric columns are standardised by
    the sample's mean and spread and each categorical column is one-hot encoded over the sample's
    categories (scaled by 1/√2, so that two different categories are at distance 1; a category the
    sample lacks is all zeros); missing values are NaN.
    """
    from .data import as_float
    from .distributions.discrete import _is_missing

    def codes(col, j, lookup=None):
        missing = np.fromiter((_is_missing(v) for v in col), dtype=bool, count=col.size)
        try:
            if lookup is None:
                return missing, list(dict.fromkeys(v for v, m in zip(col.tolist(), missing) if not m))
            return missing, np.array([-1 if m else lookup.get(v, -1) for v, m in zip(col.tolist(), missing)],
                                     dtype=np.intp)
        except TypeError:
            raise TypeError(f"column {j} of X holds an unhashable value; categories must be hashable "
                            "(strings, numbers, booleans).") from None

    def fit(sample):
        if sample.dtype != object:
            return _identity
        spec = []
        for j, cls in enumerate(classes):
            if getattr(cls, "_accepts_objects", False):
                spec.append({c: i for i, c in enumerate(codes(sample[:, j], j)[1])})
            else:
                x = as_float(sample[:, j], name=f"column {j} of X")
                std = np.nanstd(x) if np.isfinite(x).any() else 0.0
                spec.append((np.nanmean(x) if np.isfinite(x).any() else 0.0, std if std > 0 else 1.0))

        def transform(X):
            if X.dtype != object:
                X = X.astype(object)
            columns = []
            for j, s in enumerate(spec):
                if isinstance(s, dict):
                    missing, c = codes(X[:, j], j, s)
                    onehot = np.zeros((X.shape[0], len(s)))
                    rows = np.nonzero(c >= 0)[0]
                    onehot[rows, c[rows]] = np.sqrt(0.5)
                    onehot[missing] = np.nan
                    columns.append(onehot)
                else:
                    columns.append(((as_float(X[:, j], name=f"column {j} of X") - s[0]) / s[1])[:, None])
            return np.hstack(columns)

        return transform

    return fit


def initial_mixtures(cls, distributions, n_components, X, weights, *, n_init, init, max_kmeans_iterations,
                     random_state, labels=None, n_jobs=1):
    """Yield ``n_init`` mixtures (one for 'first-k') seeded by k-means: each run seeds and iterates
    k-means, each component is fitted to its cluster and the weights are the clusters' weighted shares.

    The data are read in chunks: one pass to survey them (size, the seeding sample), one per Lloyd
    iteration, and the component fits come from each family's statistics under one-hot
    responsibilities summed chunk by chunk (the same ``Stats`` path as EM). User-defined classes, mixed-type
    data and a multivariate Gaussian with missing values take the slow path instead: each cluster's rows
    are gathered and given to the class's ``from_samples``. ``n_jobs`` threads share each pass's chunks
    (the result does not depend on it).
    """
    if X is None:
        raise ValueError("X is required: the data to learn the mixture from.")
    listed = [distributions] if isinstance(distributions, type) else \
        list(distributions) if isinstance(distributions, (list, tuple)) else []
    allow_object = any(getattr(c, "_accepts_objects", False) for c in listed)
    if is_generator(X):
        if weights is not None or labels is not None:
            raise ValueError("with a data generator, weights come from its batches and labels need an array X.")
        first = next(iter(X.batches()), None)
        if first is None:
            raise ValueError("X must contain at least one sample; the data generator yielded no batch.")
        d, n = n_columns(first[0]), None
    elif is_dask_collection(X):  # validated block by block on the workers; its row count is lazy
        d, n = n_columns(X), None
    else:
        d = n_columns(X)
        if not is_sliceable(X, d):  # validated whole (lists, mixed types); arrays are validated chunk by chunk
            X, _ = check_X(X, d, allow_empty=False, allow_object=allow_object)
        n = X.shape[0]
        if n == 0:
            raise ValueError("X must contain at least one sample; got an empty array.")
    if n is not None and isinstance(n_components, (int, np.integer)) \
            and not isinstance(n_components, (bool, np.bool_)) and n_components > n:
        raise ValueError(f"n_components={n_components} is larger than the number of samples ({n}).")
    factories = _component_factories(distributions, n_components, d)
    k = len(factories)
    runner = _kmeans_runner(X, k, weights, d, init=init, max_iterations=max_kmeans_iterations, labels=labels,
                            fit_features=kmeans_features(_column_classes(distributions, d)),
                            allow_object=allow_object, n_jobs=n_jobs)
    n_init = check_int(n_init, "n_init", Interval(1, np.inf))
    rng = as_generator(random_state)
    heterogeneous = (isinstance(distributions, (list, tuple)) and d == 1 and len(set(distributions)) > 1
                     and runner.labelled is None)  # labels fix which cluster is which
    blanks = [f.blank(d) for f in factories]
    iterative = [f.iterates(runner.survey.missing) for f in factories]
    fast = all(b is not None for b in blanks) and not (heterogeneous and any(iterative))
    for _ in range(1 if init in DETERMINISTIC else n_init):
        if fast:
            yield _mixture_from_stats(cls, runner, factories, blanks, iterative, heterogeneous, rng)
        else:
            yield _mixture_from_rows(cls, runner, factories, heterogeneous, rng)


class _ClusterStats:
    """Each distinct blank component's statistics on each of ``k`` clusters, summed chunk by chunk: the
    family's statistics under one-hot responsibilities (times the sample weights), computed on each
    cluster's rows of the chunk, so every cluster's fit comes without gathering its rows.

    With ``per_cluster`` (matching classes to clusters), a class whose support a cluster leaves is marked
    in ``supported`` instead of raising.
    """

    def __init__(self, blanks, k, per_cluster=False, skip=()):
        self.blanks, self.k, self.per_cluster, self.skip = blanks, k, per_cluster, frozenset(skip)
        self.stats = [[None] * k for _ in blanks]
        self.supported = np.ones((len(blanks), k), dtype=bool)

    def __call__(self, first, X, labels, w):
        for j in range(self.k):
            rows = np.nonzero((labels == j) & (w > 0))[0]
            if not rows.size:
                continue
            Xj, wj = X[rows], w[rows]
            for i, b in enumerate(self.blanks):
                if i in self.skip:  # fitted by its own iterations (see _incomplete_gaussians)
                    continue
                try:
                    b._check_support(Xj, wj)
                except ValueError:
                    if not self.per_cluster:
                        _raise_outside_support(b, X, w, first)
                    self.supported[i, j] = False
                    continue
                s = type(b)._stack_suffstats(_input_for(type(b), Xj), wj[:, None], [b])[0]
                self.stats[i][j] = s if self.stats[i][j] is None else self.stats[i][j] + s

    def fresh(self):
        """An empty collector of the same kind (a pass on Dask fills one per block, then merges them)."""
        return _ClusterStats(self.blanks, self.k, self.per_cluster, self.skip)

    def merge(self, other):
        """Add the statistics ``other`` collected on other rows (support flags: both must hold)."""
        for i in range(len(self.blanks)):
            for j in range(self.k):
                s = other.stats[i][j]
                if s is not None:
                    self.stats[i][j] = s if self.stats[i][j] is None else self.stats[i][j] + s
        self.supported &= other.supported
        return self

    def fitted(self, i, j):
        """Blank ``i`` fitted to cluster ``j`` by its M-step (the blank itself if the cluster is empty)."""
        c = self.blanks[i].copy()
        if self.stats[i][j] is not None:
            new = c._new_params(self.stats[i][j], 0.0, 0.0)
            if new is not None:
                c._set_params(new)
        return c


def _raise_outside_support(component, X, w, first):
    """Raise the family's support error for the chunk ``X``, which starts at row ``first`` of the data."""
    try:
        component._check_support(X, w)
    except ValueError as exc:
        if not first:
            raise
        raise ValueError(f"{exc} (Rows are counted from row {first} of X, where that chunk starts.)") from None


def _mixture_from_stats(cls, runner, factories, blanks, iterative, heterogeneous, rng):
    distinct = list(dict.fromkeys(factories))  # one blank per distinct factory
    index = [distinct.index(f) for f in factories]
    skip = [i for i, f in enumerate(distinct) if iterative[factories.index(f)]]
    collector = _ClusterStats([blanks[factories.index(f)] for f in distinct], runner.k, per_cluster=heterogeneous,
                              skip=skip)
    C, result = runner.run(rng, collector)
    k = runner.k
    if heterogeneous:  # (never with an iterative fit: those take the rows)
        fits = [[None] * k for _ in range(k)]
        for i in range(k):
            for j in range(k):
                if collector.supported[index[i], j] and result.mass[j] > 0:
                    try:
                        fits[i][j] = collector.fitted(index[i], j)
                    except ValueError:  # no fit inside the family's parameter space
                        pass
        score = np.zeros((k, k))

        def add_scores(first, X, labels, w):
            for j in range(k):
                rows = (labels == j) & (w > 0)
                for i in range(k):
                    if fits[i][j] is not None and rows.any():
                        score[i, j] += float(w[rows] @ fits[i][j].log_probability(X[rows]))

        _Pass(runner.rows, runner.features, C, runner.known, runner.P.column_means, add_scores)
        impossible = np.array([[fits[i][j] is None for j in range(k)] for i in range(k)]) & (result.mass > 0)
        score[impossible] = -np.inf
        order = _best_assignment(score)
    else:
        order = range(k)
    iterated = {}  # distinct blank -> {cluster: its fit}, the clusters of that blank's components
    for i in skip:
        clusters = [j for c, j in enumerate(order) if index[c] == i and result.mass[j] > 0]
        if clusters:
            iterated[i] = _incomplete_gaussians(runner, C, collector.blanks[i], clusters)
    components, shares = [], np.zeros(k)
    everything, everything_iterated = None, {}  # the fits to all rows, for empty clusters
    for i, cluster in enumerate(order):
        shares[i] = result.mass[cluster]
        if shares[i] > 0:
            if index[i] in iterated:
                components.append(iterated[index[i]][cluster])
                continue
            with naming_component(i):  # a repaired estimate is reported with its component, once per fit
                components.append(collector.fitted(index[i], cluster))
            continue
        # an empty cluster: a finite component (the fit to all rows), weight 0
        with naming_component(i):
            if index[i] in skip:
                if index[i] not in everything_iterated:
                    everything_iterated[index[i]] = _incomplete_gaussians(runner, C, collector.blanks[index[i]], [0],
                                                                          all_rows=True)[0]
                components.append(everything_iterated[index[i]].copy())
                continue
            if everything is None:
                everything = _over_all_rows(runner.rows, _ClusterStats(collector.blanks, 1, skip=skip))
            components.append(everything.fitted(index[i], 0))
    return cls(components, shares)


def _over_all_rows(rows, collector):
    """``collector`` (a :class:`_ClusterStats` or :class:`_PerCluster`) fed every row as cluster 0: one
    pass, a fold over the data (on Dask, on the workers)."""
    def part(first, Xc, wc, _):
        fresh = collector.fresh()
        fresh(first, Xc, np.zeros(Xc.shape[0], dtype=np.intp), wc)
        return fresh

    total = rows.fold(part, lambda a, b: a.merge(b))
    return collector if total is None else collector.merge(total)


class _PerCluster:
    """A collector of a k-means pass: ``compute(j, X_j, w_j)`` on each listed cluster's rows (with positive
    weight) of each chunk, summed over the chunks (tuples element by element)."""

    def __init__(self, compute, clusters):
        self.compute, self.clusters, self.sums = compute, tuple(clusters), {}

    def __call__(self, first, X, labels, w):
        for j in self.clusters:
            rows = np.nonzero((labels == j) & (w > 0))[0]
            if rows.size:
                self._add(j, self.compute(j, X[rows], w[rows]))

    def _add(self, j, value):
        if j not in self.sums:
            self.sums[j] = value
        elif isinstance(value, tuple):
            self.sums[j] = tuple(a + b for a, b in zip(self.sums[j], value))
        else:
            self.sums[j] = self.sums[j] + value

    def fresh(self):
        """An empty collector of the same kind (a pass on Dask fills one per block, then merges them)."""
        return _PerCluster(self.compute, self.clusters)

    def merge(self, other):
        """Add what ``other`` collected on other rows."""
        for j, value in other.sums.items():
            self._add(j, value)
        return self


def _incomplete_gaussians(runner, C, blank, clusters, all_rows=False):
    """The maximum-likelihood multivariate Gaussian of each listed k-means cluster of data with missing
    values — what ``blank.fit`` gives on the cluster's rows (the available-case start, then EM over the
    conditional expectations of the missing coordinates, each cluster stopping by its own rule) — with
    every cluster's iteration sharing one pass over the data, so that no cluster's rows are gathered
    (the data may be a memmap, a generator or a Dask collection). ``all_rows`` fits all the rows as one
    cluster (0) instead. Returns ``{cluster: distribution}``."""
    from .distributions.multivariate_gaussian import (available_mean, incomplete_em, observed_squares,
                                                      observed_sums)

    X_of = (lambda X: _input_for(type(blank), X).astype(np.float64, copy=False))

    def one_pass(compute, among):
        collector = _PerCluster(compute, among)
        if all_rows:
            return _over_all_rows(runner.rows, collector).sums
        _Pass(runner.rows, runner.features, C, runner.known, runner.P.column_means, collector)
        return collector.sums

    sums = one_pass(lambda j, X, w: observed_sums(X_of(X), w), clusters)
    means = {j: available_mean(*sums[j]) for j in clusters}
    squares = one_pass(lambda j, X, w: observed_squares(X_of(X), w, means[j]), clusters)
    trials, scales = zip(*[blank._available_case(means[j], squares[j], sums[j][0]) for j in clusters])

    def stats_of(active):
        on = {clusters[i]: trials[i] for i in active}
        stats = one_pass(lambda j, X, w: on[j]._stats_of(X_of(X), w), list(on))
        return [stats[clusters[i]] for i in active]

    fitted = incomplete_em(list(trials), list(scales), stats_of)
    out = {}
    for j, params in zip(clusters, fitted):
        c = blank.copy()
        if params is not None:
            c._set_params(params)
        out[j] = c
    return out


def _mixture_from_rows(cls, runner, factories, heterogeneous, rng):
    parts = []
    C, result = runner.run(rng, lambda first, X, labels, w: parts.append((X, labels, w)))
    k = runner.k

    def rows_of(j):
        return (np.concatenate([X[labels == j] for X, labels, _ in parts]),
                np.concatenate([w[labels == j] for _, labels, w in parts]))

    if heterogeneous:
        X, labels, w = (np.concatenate(p) for p in zip(*parts))
        order = _match_classes_to_clusters(factories, X, w, labels)
    else:
        order = range(k)
    components, shares = [], np.zeros(k)
    for i, (make, cluster) in enumerate(zip(factories, order)):
        shares[i] = result.mass[cluster]
        if shares[i] > 0:
            components.append(make(*rows_of(cluster)))
        else:  # an empty cluster: a finite component (the fit to all rows), weight 0
            components.append(make(np.concatenate([X for X, _, _ in parts]), np.concatenate([w for *_, w in parts])))
    return cls(components, shares)


def _match_classes_to_clusters(factories, X, w, labels):
    """For a heterogeneous univariate mixture, which cluster each class is fitted to: the assignment
    that maximises the total log-likelihood of the per-cluster fits (a class that cannot produce a
    cluster, e.g. an Exponential on negative values, scores -inf there). pomegranate 0.x paired class i
    with cluster i, whatever the data."""
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
    return _best_assignment(score)


def _best_assignment(score):
    """The cluster of each class maximising the total score (k × k, -inf: impossible)."""
    from scipy.optimize import linear_sum_assignment

    k = score.shape[0]
    finite = np.where(np.isfinite(score), score, 0.0)
    worst = finite.min() - 1.0 - 1e6 * (np.abs(finite).max() + 1.0)
    _, cluster = linear_sum_assignment(np.where(np.isfinite(score), score, worst), maximize=True)
    if not np.all(np.isfinite(score[np.arange(k), cluster])):
        raise ValueError("from_samples could not give every class of the list a k-means cluster inside its "
                         "support; initialise the components yourself and call fit.")
    return cluster
