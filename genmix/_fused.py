r"""The fused E-step: one feature block serves the log densities and the statistics of every component.

Many families are exponential families, ``log p(x) = ηᵀ t(x) − A(η) + h(x)``: the log density is linear in
a few features of the row. The engine knows no family: a family joins by declaring its *feature term*,
``_feature_term(components) -> term | None`` (a classmethod next to its kernels, given the stack of
components of that family), and the engine only knows the term protocol (:class:`ColumnTerm` for one
column, :class:`RowTerm` for a whole row). It composes

* a product of column terms (:class:`Product`, or one univariate family's term): the mixture's
  components are products of per-column families, the same family per column in every component;
* one row term: e.g. the full-covariance Gaussian, ``t(z) = [z, z_i z_j (i ≤ j)]`` of ``z = x − c``.

With the features ``t(x)`` of every column (a column with missing values, NaN, gets an indicator row
that carries its constant, so a missing value contributes log density 0 and no statistics, as in the
families' own kernels), the log densities of all ``k`` components (plus their log weights) are one GEMM
``W Φ`` of the ``(k, F)`` coefficient matrix ``W`` with the ``(F, B)`` feature block ``Φ = [1; t(x)]``,
and the E-step's statistics (Σr and Σr·t of every component, which is what the M-steps need) are one more
GEMM ``R Φᵀ`` with the *same* block. Rows go in blocks sized to keep ``Φ`` in cache, in the ``(k, B)``
layout in which the log-sum-exp's reductions run along contiguous memory; each entry is exponentiated once.

Precision. The expansion of a quadratic form cancels where a component is narrow compared with its
distance from the shift ``c`` (and, for a full covariance, where its precision matrix is badly
conditioned). Both are measured before they matter: a component whose coefficients could lose more than
about ``TOLERANCE`` gets its log density from the exact (factorised) form instead, and a component whose
scatter ``Σr·z zᵀ − N·z̄ z̄ᵀ`` would cancel too much has its statistics recomputed centred (the corrected
two-pass algorithm of ``distributions._stats``) in a second pass. Results keep the precision of the
general path; tests/test_fused_estep.py compares both with scipy.
"""
import collections
import functools
import hashlib
import threading

import numpy as np

from . import _kernels
from ._math import ImpossibleRowsError, responsibilities_in_place, rows_from
from .parallel import _single_threaded_blas, map_chunks

__all__ = ["FusedEStep", "ColumnTerm", "RowTerm", "LinearTerm", "CategoricalTerm", "Product", "moments", "EPS",
           "TOLERANCE", "LOG_BOUND", "EPS32", "TOLERANCE32", "WORKING_DTYPES", "working_dtype",
           "as_float64", "remembered", "missingness_patterns"]

EPS = np.finfo(np.float64).eps
#: The largest acceptable estimated rounding error of a log density (absolute) or a variance (relative).
TOLERANCE = 1e-10
#: float32 E-steps (``fit(dtype=np.float32)``): features and GEMMs in float32, sums accumulated in float64.
EPS32 = float(np.finfo(np.float32).eps)
#: The float32 counterpart of ``TOLERANCE``: a log density may lose about this much (absolute), a variance
#: this much relative, before the component's log density is computed factorised or its statistics centred.
TOLERANCE32 = 1e-3
#: The dtypes a fused E-step computes in, and each one's ``(eps, tolerance, largest magnitude)``: data, and
#: the expansion's terms, must stay below the magnitude (float32's range ends at 3.4e38).
WORKING_DTYPES = {np.dtype(np.float64): (EPS, TOLERANCE, 1e100), np.dtype(np.float32): (EPS32, TOLERANCE32, 1e30)}
#: Bytes of one feature block (rows × features × 8): a few MiB keeps it in the last-level cache.
_BLOCK_BYTES = 5 * 2 ** 20
#: A feature block of at most this many rows (univariate, a few columns) spends its time in the per-call
#: overhead of numpy, under the interpreter lock, so its blocks may be 4x longer (measured per E-step at
#: n_jobs=2 with 32768 rows: univariate 18.9 -> 10.4 ms, three Normal/Exponential/LogNormal columns
#: 10.7 -> 7.1 ms; with 21 feature rows longer blocks are slower). The data-size bound still applies.
_NARROW = 8
#: How many rows of a batch give the common shift ``c`` and the spread used by the precision checks.
_SHIFT_ROWS = 4096
#: ``|log x|`` of any positive float64: the bound of a logarithmic feature.
LOG_BOUND = 745.0
#: Categorical columns are looked up in groups whose joint codes (the product of their category counts,
#: missing included) stay below this: one lookup and one weighted bincount per group and block instead of
#: one per column, the joint counts summed over the blocks and split into each column's once per E-step.
#: 2**14 cells of k components keep a group's table within the last-level cache.
_JOINT_CELLS = 2 ** 14


#: A missingness pattern goes on the fused path (its own coefficient matrix) when it holds at least this many
#: rows; rarer patterns' rows are scored by the family's own kernels (see ``_PatternRowEStep``).
_PATTERN_ROWS = 16
#: ... at least this many where the compiled kernels run them (a pattern's own matrix and BLAS calls cost
#: less there: n = 100k, d = 10, k = 5, 20% MAR: 37.1 ms per E-step at 8 rows, 42.2 at 16, 38.6 at 4).
_PATTERN_ROWS_COMPILED = 8
#: ... and while the per-pattern matrices (patterns x components x d x d values) stay below this (the
#: largest patterns first; the others join the rarer ones).
_PATTERN_CELLS = 2 ** 21
#: Rows per block of the tail (the rows of rarer patterns, through the family's kernels; as ``estep.BLOCK_ROWS``).
_TAIL_ROWS = 16384
#: The structures of recent missingness masks (the same rows are visited by every E-step of a fit), at most
#: ``_REMEMBERED_KEPT`` of them and ``_REMEMBERED_CELLS`` mask cells in all (~1.5-9 bytes kept per cell).
_REMEMBERED = collections.OrderedDict()
_REMEMBERED_KEPT = 64
_REMEMBERED_CELLS = 1 << 25
_REMEMBERED_LOCK = threading.Lock()


def remembered(nanmask, kind, build):
    """``build(nanmask)``, remembered for the last masks: grouping rows by missingness pattern (a sort)
    costs more than using the groups, and EM meets the same masks every iteration. Keyed by ``kind`` and
    the mask's bits, so a changed mask is never served a stale structure; masks of more than
    ``_REMEMBERED_CELLS`` cells are not kept. The structure's arrays must be read-only."""
    packed = np.packbits(nanmask, axis=None)
    key = (nanmask.shape, kind, hashlib.blake2b(packed.tobytes(), digest_size=16).digest())
    with _REMEMBERED_LOCK:
        if key in _REMEMBERED:
            _REMEMBERED.move_to_end(key)
            return _REMEMBERED[key]
    structure = build(nanmask)
    if nanmask.size > _REMEMBERED_CELLS:
        return structure  # too large to keep
    with _REMEMBERED_LOCK:
        _REMEMBERED[key] = structure
        while (len(_REMEMBERED) > _REMEMBERED_KEPT
               or sum(k[0][0] * k[0][1] for k in _REMEMBERED) > _REMEMBERED_CELLS):
            _REMEMBERED.popitem(last=False)
    return structure


def _sorted_patterns(nanmask):
    """``(order, starts, masks)``: the rows sorted by missingness pattern (``order``; the patterns by their
    number of rows, largest first, the rows of one pattern in their order), pattern ``g`` holding
    ``order[starts[g]:starts[g + 1]]``, with mask ``masks[g]`` (True where missing)."""
    keys = np.packbits(nanmask, axis=1)
    keys = np.ascontiguousarray(keys).view(np.dtype((np.void, keys.shape[1]))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    counts = np.bincount(inverse.ravel(), minlength=first.size)
    rank = np.argsort(-counts, kind="stable")
    relabel = np.empty_like(rank)
    relabel[rank] = np.arange(rank.size)
    order = np.argsort(relabel[inverse.ravel()], kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts[rank])])
    masks = nanmask[first[rank]]
    for a in (order, starts, masks):
        a.flags.writeable = False  # shared between calls: never written
    return order, starts, masks


def missingness_patterns(nanmask):
    """:func:`_sorted_patterns` of a mask, remembered (see :func:`remembered`)."""
    return remembered(nanmask, "sorted", _sorted_patterns)


def moments(N, s1, s2, shift, eps=EPS, tolerance=TOLERANCE):
    """Centred ``(mean, m2)`` from raw sums about ``shift`` (scalars, or a vector and a matrix), or None
    where the subtraction cancels.

    ``m2 = s2 − N z̄ z̄ᵀ`` loses about ``eps·√rows·s2/m2`` relative on its diagonal; past ``tolerance``
    the caller recomputes centred.

    Parameters
    ----------
    N : float
        Σr of the component.
    s1, s2 : float or ndarray
        Σr·z and Σr·z zᵀ (or Σr·z²) of the shifted values ``z = t(x) − shift``.
    shift : float or ndarray
        The shift ``c``.
    eps, tolerance : float, optional
        The precision the sums were computed in (a term's :attr:`~ColumnTerm.eps`) and the relative loss
        accepted (its :attr:`~ColumnTerm.tolerance`).

    Returns
    -------
    tuple or None
        ``(mean, m2)``, or None where the raw sums cancel too much.
    """
    zbar = s1 / N
    m2 = s2 - N * np.multiply.outer(zbar, zbar)
    var, raw = (m2, s2) if np.ndim(m2) == 0 else (np.diag(m2), np.diag(s2))
    if np.any(var * tolerance <= 64.0 * eps * raw):
        return None
    return shift + zbar, m2


class ColumnTerm:
    """The protocol of a column's feature term: its features, coefficients and statistics.

    A family's ``_feature_term(components)`` returns one, for the stack ``components`` of that family
    (``k`` of them), or None where the fused path does not apply (a parameter at the edge of its range).
    The engine sets :attr:`column`. Subclasses implement:

    ``n_features``
        Rows of the feature block the term fills.
    ``valid(x)``
        Whether every (observed) value of the column lies where the features are finite.
    ``transform(x)``, ``set_shift(t_sample)``
        The transformed column ``t(x)`` and, from a sample of it, the shift ``c`` (and spread) the
        features are taken about.
    ``features(x, out)``
        Writes the ``(n_features, B)`` features of the values ``x``.
    ``coefficients()``
        ``(const (k,), W (k, n_features))``: ``log p_k(x) = const_k + W_k · features``.
    ``rounding()``
        Estimated absolute rounding error of the expansion per component (the precision guard: past
        ``TOLERANCE`` the component gets its log density from :meth:`exact`).
    ``exact(rows, j)``
        The factorised log density of component ``j`` from the term's feature rows (the exact fallback).
    ``stats(N, S)``
        Per component, the family's ``Stats`` from Σr ``N (k,)`` and the feature sums ``S (k, n_features)``;
        None for one whose sums cancel too much.
    ``centred(x, R)``
        The centred ``Stats`` of the column under ``R (B, m)``, for the second pass (needed only by a
        term whose :meth:`stats` can return None).
    ``precisions()``, ``magnitude(span)``
        For the overflow check: the coefficients of squared features (empty if none) and a bound on the
        other terms' magnitudes for data within ``span``.

    The engine also sets :attr:`eps` and :attr:`tolerance`, the precision its features and sums are
    computed in and the rounding it accepts (``EPS`` and ``TOLERANCE`` in float64, ``EPS32`` and
    ``TOLERANCE32`` in float32): :meth:`rounding` and :meth:`stats` measure with them.
    """

    column = 0
    n_features = 0
    eps, tolerance = EPS, TOLERANCE

    def valid(self, x):
        return True

    def transform(self, x):
        return x

    def set_shift(self, t_sample):
        pass

    def rounding(self):
        return np.zeros(len(self.coefficients()[0]))

    def precisions(self):
        return np.zeros(0)


class LinearTerm(ColumnTerm):
    """A column whose log density is linear in a few plain features, ``log p = c + Σ_m η_m t_m(x) + h(x)``.

    No quadratic form, so no cancellation beyond a dot product's (e.g. Exponential ``t = x``, Poisson
    ``t = x``, ``h = −log x!``, Gamma ``t = [x, log x]``). ``h`` is one more feature row whose coefficient
    is 1 for every component. The statistics are ``stats(Σr, Σr·t)``, a family's ``SumStats``.

    Parameters
    ----------
    const : ndarray, shape (k,)
        ``c`` per component.
    coef : ndarray, shape (k, m)
        ``η`` per component.
    transforms : list
        Per feature ``t_m``: None for ``x`` itself, else a ufunc-like ``f(x, out=...)``.
    stats : callable
        ``stats(w (1,), sums)`` -> the family's ``Stats`` of one component.
    base : callable, optional
        ``h(x)``.
    support : callable, optional
        Predicate of the values where the features are finite.
    bounds : callable, optional
        ``bounds(span)`` -> per-feature magnitude bound for data within ``span``; by default ``span`` for
        ``x`` itself and ``LOG_BOUND`` for another transform (a logarithm).
    """

    def __init__(self, const, coef, transforms, stats, base=None, support=None, bounds=None):
        self.const, self.coef = const, coef  # (k,), (k, m)
        self.transforms, self.base, self.support, self._stats, self.bounds = transforms, base, support, stats, bounds
        self.n_features = coef.shape[1] + (base is not None)

    @classmethod
    def of(cls, const, coef, transforms, stats, **kwargs):
        """The term, or None if a coefficient is infinite (a parameter at the edge of its range: the
        general path handles it)."""
        if not (np.all(np.isfinite(const)) and np.all(np.isfinite(coef))):
            return None
        return cls(const, coef, transforms, stats, **kwargs)

    def valid(self, x):
        return bool(np.all(self.support(x)))

    def features(self, x, out):
        for m, f in enumerate(self.transforms):
            if f is None:
                out[m] = x
            else:
                f(x, out=out[m])
        if self.base is not None:
            out[-1] = self.base(x)

    def coefficients(self):
        coef = self.coef if self.base is None else np.column_stack([self.coef, np.ones(len(self.coef))])
        return self.const, coef

    def rounding(self):
        return np.zeros(len(self.const))

    def exact(self, rows, j):
        out = self.const[j] + self.coef[j] @ rows[:self.coef.shape[1]]
        return out + rows[-1] if self.base is not None else out

    def stats(self, N, S):
        m = self.coef.shape[1]
        return [self._stats(np.array([N[j]]), S[j, 0:1].copy() if m == 1 else S[j:j + 1, :m].copy())
                for j in range(N.size)]

    def magnitude(self, span):
        bounds = (np.array([span if f is None else LOG_BOUND for f in self.transforms]) if self.bounds is None
                  else np.asarray(self.bounds(span)))
        return np.abs(self.const).max() + (np.abs(self.coef) * bounds).sum(axis=1).max()


class CategoricalTerm(ColumnTerm):
    """A categorical column, looked up instead of multiplied: ``log p_k(x) = T[k, code(x)]``.

    The term adds no row to the feature block: the engine takes each block's codes once (:meth:`block_codes`),
    adds ``T[:, codes]`` to the scores and sums the responsibilities per code (a weighted bincount) for the
    statistics, so a column of ``m`` categories costs O(k) per row, not the O(k m) of one-hot features;
    columns whose joint codes are few are looked up together (``_JointGroup``: ``take`` on the group's summed
    table, one bincount per component). The codes are the column of a :class:`genmix._encoded.Encoded` array
    (indices into its ``categories``), or, for a numeric column, the positions of the values among numeric
    keys. A missing value reads a column of zeros (log density 0, no statistics). :meth:`valid` is False where
    a value has probability 0 under every component (the general path then names it) or a numeric value is no
    key.

    Parameters
    ----------
    keys : tuple
        The categories of the stacked components (their union, in order).
    log_probs : ndarray, shape (k, len(keys))
        ``log p_k(key)``, ``-inf`` where a component does not have the key.
    stats : callable
        ``stats(w (k,), keys, counts (k, len(keys)))`` -> the family's per-component ``Stats`` list.
    """

    n_features = 0
    gathered = True

    def __init__(self, keys, log_probs, stats):
        self.keys, self.log_probs, self._stats = tuple(keys), log_probs, stats
        self.index, self.table, self.impossible, self.numeric = None, None, None, None

    def bind(self, categories):
        """Match the codes to the keys: ``categories`` are the column's distinct values (an encoded
        column), or None for a numeric column (its values are looked up among the numeric keys)."""
        k = self.log_probs.shape[0]
        position = {key: i for i, key in enumerate(self.keys)}
        if categories is None:
            if not all(isinstance(key, (int, float, np.integer, np.floating)) for key in self.keys):
                return False
            order = np.argsort(np.array(self.keys, dtype=np.float64), kind="stable")
            self.numeric = np.array(self.keys, dtype=np.float64)[order]
            self.index = order
            columns = self.log_probs[:, order]
        else:
            self.index = np.array([position.get(v, -1) for v in categories.tolist()], dtype=np.intp)
            columns = np.where(self.index >= 0, self.log_probs[:, np.maximum(self.index, 0)], -np.inf) \
                if self.index.size else np.empty((k, 0))
        self.m = columns.shape[1]
        self.table = np.column_stack([columns, np.zeros(k)])  # the last column: a missing value
        self.impossible = np.all(np.isneginf(columns), axis=0)
        return True

    def _codes(self, x):
        """The lookup positions of the values ``x`` (``m`` where missing; -1 for a numeric non-key). An
        encoded column holds them already (its missing code is ``m``)."""
        if self.numeric is None:
            return x.astype(np.intp)
        missing = np.isnan(x)
        pos = np.minimum(np.searchsorted(self.numeric, np.where(missing, 0.0, x)), self.m - 1)
        hit = self.numeric[pos] == x
        return np.where(missing, self.m, np.where(hit, pos, -1)).astype(np.intp)

    def valid(self, x):
        if self.numeric is None and not self.impossible.any():
            return True  # every code of an encoded column is a category some component has
        codes = self._codes(x)
        codes = codes[codes != self.m]
        return bool(np.all(codes >= 0) and not np.any(self.impossible[codes]))

    def block_codes(self, x):
        """The lookup positions of a block's values (an encoded column's codes as integers)."""
        return self._codes(x)

    def features(self, x, out):
        pass  # no feature rows: see block_codes

    def coefficients(self):
        k = self.log_probs.shape[0]
        return np.zeros(k), np.zeros((k, 0))

    def exact(self, codes, j):
        return self.table[j, codes]

    def stats_of_counts(self, C):
        """The family's per-component statistics from the per-code sums ``C`` (k, m + 1)."""
        counts = np.zeros((C.shape[0], len(self.keys)))
        observed = C[:, :self.m]
        if self.numeric is None:
            known = self.index >= 0
            np.add.at(counts.T, self.index[known], observed[:, known].T)
        else:
            counts[:, self.index] = observed
        return self._stats(counts.sum(axis=1), self.keys, counts)

    def magnitude(self, span):
        return 0.0  # looked up, not expanded: nothing to overflow


class _Masked(ColumnTerm):
    """A column term whose column has missing values (NaN): log density 0 and no statistics there.

    An indicator row ``o = [x observed]`` comes first and carries the term's constant; the term's own
    features are zero where ``x`` is missing. The indicator's sums are the column's own ``Σr``.
    """

    def __init__(self, term, fill):
        self.term, self.column, self.fill = term, term.column, fill
        self.n_features = term.n_features + 1
        self.eps, self.tolerance = term.eps, term.tolerance

    def valid(self, x):
        x = x[~np.isnan(x)]
        return x.size == 0 or self.term.valid(x)

    def transform(self, x):
        return self.term.transform(x)

    def set_shift(self, t_sample):
        t = t_sample[~np.isnan(t_sample)]
        self.term.set_shift(t if t.size else np.zeros(1))

    def features(self, x, out):
        observed = ~np.isnan(x)
        out[0] = observed
        self.term.features(np.where(observed, x, self.fill), out[1:])
        out[1:] *= out[0]

    def coefficients(self):
        const, coef = self.term.coefficients()
        return np.zeros(len(coef)), np.column_stack([const * np.ones(len(coef)), coef])

    def rounding(self):
        return self.term.rounding()

    def exact(self, rows, j):
        return rows[0] * self.term.exact(rows[1:], j)

    def stats(self, N, S):
        return self.term.stats(S[:, 0], S[:, 1:])

    def centred(self, x, R):
        return self.term.centred(x, R)

    def precisions(self):
        return self.term.precisions()

    def magnitude(self, span):
        return self.term.magnitude(span)


class Product:
    """A product of column terms, one per column, and how the per-column statistics become one ``Stats``.

    Parameters
    ----------
    terms : list of ColumnTerm
        Column ``j``'s term at position ``j`` (their :attr:`~ColumnTerm.column` is set here).
    package : callable
        ``package(component, column_stats)`` -> the ``Stats`` value the component's family expects.
    """

    def __init__(self, terms, package):
        for j, t in enumerate(terms):
            t.column = j
        self.terms, self.package = terms, package


class RowTerm:
    """The protocol of a feature term over whole rows, e.g. full-covariance Gaussians (rows with missing values
    only through the optional methods below).

    A family's ``_feature_term(components)`` may return one. Subclasses implement:

    ``n_features(d)``
        Rows of the feature block for rows of ``d`` values.
    ``set_shift(sample)``
        ``(shift, spread)`` of a sample of rows: the features are taken about ``shift``.
    ``coefficients(shift, W)``
        Writes the ``(k, 1 + n_features)`` coefficients, the constant first.
    ``needs_exact(shift, spread)``
        Bool (k,): components whose expansion could lose more than ``TOLERANCE`` (the precision guard).
    ``features(X, shift, out)``
        Writes the ``(n_features, B)`` features of the rows ``X``.
    ``exact(rows, j, shift)``
        The factorised log density of component ``j`` from the feature rows (the exact fallback).
    ``stats(N, S, shift)``
        Per component the family's ``Stats`` from Σr and the feature sums, None where they cancel.
    ``mass_sums(Phi, mass)`` (optional)
        Sums of a feature block that need only each row's total responsibility ``mass`` (B,), its weight;
        they are added over blocks and handed to ``stats(N, S, shift, M)``. For statistics that the
        components pool (a tied covariance's total scatter), computed once instead of per component.
    ``centred(X, R)``
        The centred ``Stats`` of the rows under ``R (B, m)``, for the second pass.
    ``bound(span)``
        A bound on the expansion's terms for data within ``span`` (the overflow check).
    ``marginals(masks, shift, spread, span)``, ``pattern_stats(N, S, shift)``, ``missing_rows(X, comps, scores)``
        (optional; ``marginals = None`` for a term without them) Rows with missing values: per missingness
        pattern (``masks`` (G, d), True where missing) the coefficients ``(G, k, 1 + n_features)`` of each
        component's marginal log density over the observed coordinates, in the features of rows whose
        missing coordinates read as the shift (None where the precision guard or the overflow bound
        fails); from the per-pattern sums ``N`` (G, k) and ``S`` (G, k, n_features), each component's
        expected complete-data ``Stats`` (None where they cancel); and, through the family's own kernels,
        the log densities ``(B, k)`` of rows with missing values (when ``scores``) with a function of
        ``R`` (B, len(comps)) giving the centred ``Stats`` of the components ``comps`` (all if None): the
        rarer patterns' rows and the second pass.

    As for column terms, the engine sets :attr:`eps` and :attr:`tolerance`, which :meth:`needs_exact` and
    :meth:`stats` measure with.
    """

    eps, tolerance = EPS, TOLERANCE
    marginals = None
    #: The name of the features' layout where it is one of :data:`genmix._kernels.LAYOUTS` (e.g.
    #: ``"quadratic"``: ``[z, z_i z_j (i ≤ j)]``), so the compiled kernel may run the E-step; None: numpy.
    layout = None


class FusedEStep:
    """The E-step of a mixture whose components are all of one fused form, as two GEMMs per block.

    Build it with :meth:`build` (None where it does not apply) once per batch and parameter set;
    :meth:`run` returns the values of an :class:`genmix.estep.EStepResult`. The two forms,
    :class:`_ColumnsEStep` (a product of column terms) and :class:`_RowEStep` (one term over whole rows),
    share the block loops here and supply the shift, coefficients, features, exact rows and statistics.
    """

    #: The features' layout for a compiled kernel (:mod:`genmix._kernels`): the row term's where there
    #: is one term (:class:`_RowEStep`), else None (numpy only).
    layout = None

    def __init__(self, components, log_weights, n_features):
        self.components = components
        self.log_weights = log_weights
        self.k = len(components)
        self.n_features = n_features
        self.block_rows = None  # set by build() for the data at hand
        self.dtype = np.dtype(np.float64)  # of the feature blocks and GEMMs; set by build() (see working_dtype)

    def _block_rows(self, n, d):
        """Rows per block: a power of two near ``_BLOCK_BYTES`` of features, at most 8192 (32768 for a block
        of at most ``_NARROW`` feature rows), and for small data at most what keeps the block's buffers
        (features, scores) under ~1/8 of the data's size."""
        size = self.dtype.itemsize
        rows = min(_BLOCK_BYTES / (size * self.n_features), n * d / (size * (self.n_features + 2 * self.k)))
        most = 32768 if self.n_features <= _NARROW else 8192
        return int(np.clip(2 ** round(np.log2(max(rows, 1.0))), 256, most))

    # -- construction ----------------------------------------------------------------------------------
    @classmethod
    def build(cls, components, log_weights, X):
        """The fused E-step of ``components`` on the rows ``X``, or None where it does not apply.

        It applies when ``X`` is a float array whose magnitudes leave the expansion far from overflow
        and the components are all of one family whose ``_feature_term(components)`` gives a term: a
        :class:`RowTerm` (rows with missing values only through its optional per-pattern methods, see
        :class:`_PatternRowEStep`; otherwise the general path conditions on the
        observed coordinates), or a column term or a :class:`Product` of them (NaN allowed, observed
        values inside each column's support, a product's terms one per column of ``X``). Elsewhere the
        general path scores the rows. A float32 ``X`` is scored in float32 (:func:`working_dtype`).
        """
        if len(components) == 0 or X.dtype == object or X.ndim != 2 or X.shape[0] == 0:
            return None
        family = type(components[0])
        hook = getattr(family, "_feature_term", None)
        if hook is None or any(type(c) is not family for c in components):
            return None
        term = hook(list(components))
        if term is None:
            return None
        dtype = working_dtype(X)
        eps, tolerance, _ = WORKING_DTYPES[dtype]
        for t in term.terms if isinstance(term, Product) else [term]:
            t.eps, t.tolerance = eps, tolerance
        if isinstance(term, RowTerm):
            fused = _RowEStep.of(components, log_weights, term, X)
        else:
            if isinstance(term, Product) and len(term.terms) != X.shape[1]:
                return None
            if not isinstance(term, Product):
                term = Product([term], _only_column)
            fused = _ColumnsEStep.of(components, log_weights, term, X)
        if fused is None:
            return None
        fused.dtype = dtype
        fused.block_rows = fused._block_rows(*X.shape)
        return fused

    # -- the pieces ------------------------------------------------------------------------------------
    def _scores(self, Phi, W, exact, shift, dead, out=None):
        """``log w_k + log p_k`` of a block, shape (k, B): the GEMM, then the exact rows and dead components
        (written into ``out``, a (k, ≥B) buffer, when given)."""
        if exact.size == self.k:  # every row of L is the factorised density: no GEMM
            L = np.empty((self.k, Phi.shape[1]), self.dtype) if out is None else out[:, :Phi.shape[1]]
        else:
            L = W @ Phi if out is None else np.matmul(W, Phi, out=out[:, :Phi.shape[1]])
            self._add_gathered(L, Phi)
        if exact.size:
            self._exact_rows(L, Phi, exact, shift)
        if dead.size:
            L[dead] = -np.inf
        return L

    def _weights_into(self, W, exact):
        """Add the log weights to the constant column of ``W`` (…, k, F) (one such matrix per pattern on the
        pattern path); ``W`` in the working dtype and the exact components."""
        finite = np.isfinite(self.log_weights)
        W[..., finite, 0] += self.log_weights[finite]
        return W.astype(self.dtype, copy=False), np.nonzero(exact)[0]

    def _buffers(self, sl):
        """One feature buffer and one score buffer for a thread's blocks (fresh pages per block are slow), the
        thread's own, kept between E-steps (:func:`_scratch`)."""
        B = min(self.block_rows, sl.stop - sl.start)
        return _scratch("features", (self.n_features, B), self.dtype), _scratch("scores", (self.k, B), self.dtype)

    def weighted_log_prob(self, X):
        """``log w_k + log p_k(x_i)`` of the complete rows ``X``, shape (n, k), block by block."""
        W, shift, exact = self._prepare(X)
        dead = np.nonzero(~np.isfinite(self.log_weights))[0]
        out = np.empty((X.shape[0], self.k))
        features, scores = self._buffers(slice(0, X.shape[0]))
        with _single_threaded_blas(True):
            for start in range(0, X.shape[0], self.block_rows):
                rows = slice(start, min(start + self.block_rows, X.shape[0]))
                out[rows] = self._scores(self._features(X, rows, shift, features), W, exact, shift, dead, scores).T
        return out

    # -- the E-step ------------------------------------------------------------------------------------
    def run(self, X, w, log_priors=None, n_jobs=1):
        """``(logp, responsibility sums, per-component Stats)`` of the rows ``X`` under weights ``w``.

        Rows with positive weight that no component can produce (possible only through ``log_priors``,
        i.e. labels, and zero weights) raise ``ImpossibleRowsError`` naming them, numbered from 0.
        """
        n = X.shape[0]
        W, shift, exact_lp = self._prepare(X)
        unit = bool(np.all(w == 1.0))
        dead = np.nonzero(~np.isfinite(self.log_weights))[0]
        compiled_lse = _kernels.enabled() and n * self.k >= _kernels.MIN_EXPS  # the log-sum-exp compiled

        def responsibilities(rows, buffers):
            """``(R (k, B), logp, Φ)`` of one block of rows: responsibilities times the weights."""
            Phi = self._features(X, rows, shift, buffers[0])
            L = self._scores(Phi, W, exact_lp, shift, dead, buffers[1])
            if log_priors is not None:
                L += log_priors[rows].T
            with rows_from(rows.start):
                logp = _responsibilities(L, None if unit else w[rows], compiled_lse)
            return L, logp, Phi

        compiled = self._compiled(X, shift, exact_lp, W, None if unit else w, log_priors, n_jobs)
        if compiled is None:  # the numpy path (the reference), or the compiled rows met an impossible one
            logp, S, M = self._feature_sums(n, n_jobs, responsibilities)
        else:
            (logp, S), M = compiled, None
        stats, redo = self._stats(S, shift, M)
        if redo:  # raw sums that cancel too much: those statistics again, centred, in a second pass
            self._centred_pass(X, redo, stats, responsibilities, n, n_jobs)
        return logp, S[:, 0].copy(), [self._package(j, s) for j, s in enumerate(stats)]

    def _compiled(self, X, shift, exact, W, w, log_priors, n_jobs):
        """``(logp, Σ r φ(x) (k, F))`` from the compiled kernel of the term's feature layout
        (:mod:`genmix._kernels`), in threads over row chunks; None where there is none (numba absent or
        turned off, a layout without a kernel, less work than ``_kernels.MIN_WORK``, components on the
        exact form, rows not C-contiguous) or
        a row turned out impossible (the numpy path then names every such row)."""
        if (self.layout not in _kernels.LAYOUTS or not _kernels.enabled() or exact.size
                or X.shape[0] * self.n_features * self.k < _kernels.MIN_WORK
                or not isinstance(X, np.ndarray) or not X.flags.c_contiguous):
            return None
        dead = ~np.isfinite(self.log_weights)

        def chunk(sl):
            S = np.zeros((self.k, self.n_features))
            out = _kernels.quadratic_estep(X[sl], shift, W, dead, None if w is None else w[sl],
                                           None if log_priors is None else log_priors[sl], S)
            return None if out is None or out[1] >= 0 else (out[0], S)

        with _single_threaded_blas(True):  # the kernel's per-block BLAS calls are too small to split
            parts = map_chunks(chunk, X.shape[0], n_jobs)
        if any(p is None for p in parts):  # numba failed to import, or an impossible row
            return None
        return sum(p[0] for p in parts), sum(p[1] for p in parts)

    def statistics(self, X, R, n_jobs=1):
        """``(responsibility sums, per-component Stats)`` of the rows ``X`` under given responsibilities
        ``R`` (n, k), already times the weights (an initialisation from a hard or soft assignment): the
        statistics half of :meth:`run`, one GEMM per block, with the same centred second pass."""
        n = X.shape[0]
        shift = self._prepare(X)[1]

        def given(rows, buffers):
            return R[rows].T.astype(self.dtype, copy=False), 0.0, self._features(X, rows, shift, buffers[0])

        _, S, M = self._feature_sums(n, n_jobs, given)
        stats, redo = self._stats(S, shift, M)
        if redo:
            self._centred_pass(X, redo, stats, given, n, n_jobs)
        return S[:, 0].copy(), [self._package(j, s) for j, s in enumerate(stats)]

    def _feature_sums(self, n, n_jobs, block):
        """Pass 1 over the rows, in threads of cache-sized blocks: ``(logp, Σ r φ(x) (k, F), the term's mass
        sums or None)``, where ``block(rows, buffers)`` gives a block's ``(R (k, B), logp, Φ (F, B))``."""
        def chunk(sl):
            logp, S, M = 0.0, np.zeros((self.k, self.n_features)), None
            buffers = self._buffers(sl)
            for start in range(sl.start, sl.stop, self.block_rows):
                R, block_logp, Phi = block(slice(start, min(start + self.block_rows, sl.stop)), buffers)
                logp += block_logp
                S += (Phi @ R.T).T  # this order runs ~30% faster than R @ Phi.T (measured); float64 sums
                M = _plus(M, _float64(self._mass_sums(Phi, R)))
            return logp, S, M

        with _single_threaded_blas(True):  # per-block GEMMs are too small to split; n_jobs splits rows
            parts = map_chunks(chunk, n, n_jobs)
        return (sum(p[0] for p in parts), sum(p[1] for p in parts),
                functools.reduce(_plus, (p[2] for p in parts), None))

    def _centred_pass(self, X, redo, stats, responsibilities, n, n_jobs):
        """Recompute the ``redo`` statistics centred (the corrected two-pass algorithm), over all rows."""
        comps = sorted(redo)
        parts_of = self._redo_parts(redo)

        def chunk(sl):
            out = None
            buffers = self._buffers(sl)
            for start in range(sl.start, sl.stop, self.block_rows):
                rows = slice(start, min(start + self.block_rows, sl.stop))
                R = responsibilities(rows, buffers)[0][comps].T.astype(np.float64)  # (B, m)
                part = [self._centred(X, rows, R, c) for c in parts_of]  # in float64 (see _centred)
                out = part if out is None else [a + b for a, b in zip(out, part)]
            return out

        with _single_threaded_blas(True):
            parts = [p for p in map_chunks(chunk, n, n_jobs) if p is not None]
        total = parts[0]
        for p in parts[1:]:
            total = [a + b for a, b in zip(total, p)]
        self._store(stats, redo, comps, dict(zip(parts_of, total)))

    def _mass_sums(self, Phi, R):
        """The term's sums of a block that need only the rows' total responsibilities (None: it has none)."""
        return None

    def _add_gathered(self, L, Phi):
        """Add the looked-up log densities of categorical columns to the scores (none here)."""

    def _package(self, j, s):
        """The ``Stats`` value component ``j``'s family expects; None for a frozen one."""
        c = self.components[j]
        if c.frozen:
            return None
        return self._packaged(c, s)


_SCRATCH = threading.local()


def _scratch(name, shape, dtype):
    """A buffer of ``shape`` for this thread, the memory of its last request of that ``name`` when large
    enough. Fresh buffers every E-step were measured to fault their pages in again (within a fit the heap
    was handed back to the system between iterations: 1,000-2,500 page faults per E-step on 100k rows); at
    most one feature and one score block (~``_BLOCK_BYTES``) are kept per thread. Callers never hold two
    buffers of one name at once (the E-step's block loops run one after the other in a thread)."""
    store = getattr(_SCRATCH, "arrays", None)
    if store is None:
        store = _SCRATCH.arrays = {}
    size = int(np.prod(shape))
    a = store.get(name)
    if a is None or a.dtype != dtype or a.size < size:
        a = store[name] = np.empty(size, dtype)
    return a[:size].reshape(shape)


def _plus(a, b):
    """``a + b`` where None is nothing."""
    return b if a is None else a if b is None else a + b


def _float64(a):
    """``a`` as float64 (None stays None): a float32 block's sums are accumulated in float64."""
    return None if a is None else np.asarray(a, dtype=np.float64)


def as_float64(X):
    """``X`` itself, or a float64 copy of float32 data: only the fused path computes in float32, the
    families' own kernels (the general path) read float64."""
    return X.astype(np.float64) if X.dtype == np.float32 else X


def working_dtype(X):
    """The dtype a fused E-step of ``X`` computes in: float32 for float32 data (``fit(dtype=np.float32)``
    keeps the data so), else float64. In float32 the features, both GEMMs and the log-sum-exp run in
    float32, the sums over blocks, the statistics and the log-likelihood are accumulated in float64, and
    the precision guards measure with ``EPS32`` against ``TOLERANCE32``."""
    return np.dtype(np.float32) if X.dtype == np.float32 else np.dtype(np.float64)


def _only_column(component, column_stats):
    """A univariate family's ``Stats``: its one column's."""
    return column_stats[0]


class _ColumnsEStep(FusedEStep):
    """The fused E-step of products of column terms (one univariate family is a product of one)."""

    def __init__(self, components, log_weights, product):
        self.columns, self.package = list(product.terms), product.package
        super().__init__(components, log_weights, 1 + sum(t.n_features for t in self.columns))
        self.d = len(self.columns)
        #: the categorical (looked-up) column terms; never wrapped, so fixed from here on
        self._gathered = [t for t in self.columns if getattr(t, "gathered", False)]
        #: per thread, the current block's categorical codes (each thread scores its own blocks)
        self._local = threading.local()
        self._groups = []

    @classmethod
    def of(cls, components, log_weights, product, X):
        """The E-step, or None where the data leave the terms' supports or risk overflow."""
        fused = cls(components, log_weights, product)
        categories = getattr(X, "categories", {})
        for t in fused.columns:  # categorical columns: codes of an encoded column, or numeric keys
            if getattr(t, "gathered", False) and not t.bind(categories.get(t.column)):
                return None
        fused._groups = _joint_groups(fused._gathered)
        limit = WORKING_DTYPES[working_dtype(X)][2]
        # NaN propagates: rows with missing values. Categorical columns hold codes in [0, m] (never NaN),
        # which can only raise the span, and with it the overflow bound's caution, to m.
        span = max(float(X.max()), -float(X.min()))
        if span != span:  # missing values: the numeric columns that have them get an indicator row
            span = 0.0
            for i, t in enumerate(fused.columns):
                if getattr(t, "gathered", False):
                    continue  # a missing category reads the table's column of zeros
                x = X[:, t.column]
                observed = x[~np.isnan(x)]
                if observed.size < x.size:
                    fused.columns[i] = _Masked(t, 1.0)
                if observed.size:
                    span = max(span, float(observed.max()), -float(observed.min()))
            fused.n_features = 1 + sum(t.n_features for t in fused.columns)
        if not span < limit:
            return None
        if not all(t.valid(X[:, t.column]) for t in fused.columns):
            return None
        precisions = np.concatenate([t.precisions() for t in fused.columns] + [np.zeros(1)])
        with np.errstate(over="ignore"):
            log_norm = np.concatenate([np.atleast_1d(t.magnitude(span)) for t in fused.columns])
        span = max(span, LOG_BOUND)  # |log x| of any positive float64 (logarithmic columns)
        with np.errstate(over="ignore", invalid="ignore"):
            bound = np.abs(precisions).max() * (2.0 * span) ** 2 + np.abs(log_norm).max()
        if not bound < limit:
            return None
        return fused

    @property
    def terms(self):
        """The column terms composed, in column order (a masked column's wrapper around its term)."""
        return list(self.columns)



    def _prepare(self, X):
        """Shifts from the first rows; coefficients ``W`` (k, F); components needing the exact form."""
        sample = np.asarray(X[:_SHIFT_ROWS], dtype=np.float64)
        W = np.empty((self.k, self.n_features))
        W[:, 0] = 0.0
        at = 1
        rounding = np.zeros(self.k)
        for t in self.columns:
            t.set_shift(t.transform(sample[:, t.column]))
            const, coef = t.coefficients()
            W[:, 0] += const
            W[:, at:at + t.n_features] = coef
            at += t.n_features
            rounding += t.rounding()
        W, exact = self._weights_into(W, rounding > WORKING_DTYPES[self.dtype][1])
        return W, None, exact

    def _features(self, X, rows, shift, buffer=None):
        """The ``(F, B)`` feature block of ``X[rows]`` (written into ``buffer[:, :B]`` when given: reusing
        one buffer per thread avoids fresh pages for every block). The categorical columns' codes of the
        block are kept for this thread (:attr:`_codes`), read by the scores and sums of the same block."""
        B = rows.stop - rows.start
        Phi = np.empty((self.n_features, B)) if buffer is None else buffer[:, :B]
        Phi[0] = 1.0
        at = 1
        for t in self.columns:
            t.features(X[rows, t.column], Phi[at:at + t.n_features])
            at += t.n_features
        if self._gathered:
            codes = [t.block_codes(X[rows, t.column]) for t in self._gathered]
            self._local.codes = codes
            self._local.joint = [g.joint(codes) for g in self._groups]
        return Phi

    def _exact_rows(self, L, Phi, exact, shift):
        """Overwrite row j of ``L`` with the factorised log density (plus log weight) for j in ``exact``."""
        codes = dict(zip(map(id, self._gathered), self._local.codes)) if self._gathered else {}
        for j in exact:
            L[j] = 0.0
            at = 1
            for t in self.columns:
                L[j] += t.exact(codes[id(t)] if id(t) in codes else Phi[at:at + t.n_features], j)
                at += t.n_features
            L[j] += self.log_weights[j]

    def _add_gathered(self, L, Phi):
        for g, joint in zip(self._groups, self._local.joint if self._gathered else ()):
            np.add(L, np.take(g.table, joint, axis=1), out=L)

    def _mass_sums(self, Phi, R):
        """Σr per joint code of each group of categorical columns, side by side: (k, Σ cells); None without
        one (split into each column's counts by :meth:`_stats`)."""
        if not self._gathered:
            return None
        parts = [np.stack([np.bincount(joint, weights=r, minlength=g.cells) for r in R])
                 for g, joint in zip(self._groups, self._local.joint)]
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)

    def _stats(self, S, shift, M=None):
        """Per component its statistics, a list per column, and ``redo``: ``{component: [columns]}`` whose
        raw sums cancel too much (``M``: the categorical columns' per-code sums, see :meth:`_mass_sums`)."""
        N = S[:, 0]
        stats, redo = [None] * self.k, {}
        counts, off = {}, 0
        for g in self._groups:
            counts.update(g.split(M[:, off:off + g.cells]))
            off += g.cells
        per_column = []
        at = 1
        for t in self.columns:
            if getattr(t, "gathered", False):
                per_column.append(t.stats_of_counts(counts[id(t)]))
            else:
                per_column.append(t.stats(N, S[:, at:at + t.n_features]))
            at += t.n_features
        for j in range(self.k):
            stats[j] = [col[j] for col in per_column]
            bad = [i for i, s in enumerate(stats[j]) if s is None]
            if bad:
                redo[j] = bad
        return stats, redo

    def _redo_parts(self, redo):
        return sorted({c for j in redo for c in redo[j]})  # only the columns that cancelled

    def _centred(self, X, rows, R, c):
        return self.columns[c].centred(np.asarray(X[rows, c], dtype=np.float64), R)

    def _store(self, stats, redo, comps, total):
        for i, j in enumerate(comps):
            for c in redo[j]:
                stats[j][c] = total[c].take(i)

    def _packaged(self, component, s):
        return self.package(component, s)


class _JointGroup:
    """Categorical columns looked up together: the joint code ``Σ code_i · stride_i`` of a row indexes
    ``table`` (k, cells), the sum of the columns' log-probability tables over every combination."""

    def __init__(self, terms, positions):
        self.terms, self.positions = terms, positions  # the terms, and their places among the gathered
        sizes = [t.m + 1 for t in terms]
        self.strides = np.cumprod([1] + sizes[:-1])
        self.cells = int(np.prod(sizes))
        k = terms[0].table.shape[0]
        table = np.zeros([k] + sizes[::-1])  # C order: the first column's code varies fastest
        for i, t in enumerate(terms):
            shape = [k] + [1] * len(terms)
            shape[len(terms) - i] = sizes[i]
            table = table + t.table.reshape(shape)
        self.table = table.reshape(k, self.cells) if len(terms) > 1 else terms[0].table

    def joint(self, codes_of):
        """The joint codes of a block from each gathered column's codes (``codes_of``, in gathered order)."""
        codes = [codes_of[i] for i in self.positions]
        if len(codes) == 1:
            return codes[0]
        out = codes[0].copy()
        for c, stride in zip(codes[1:], self.strides[1:]):
            out += c * stride
        return out

    def split(self, C):
        """Each column's counts (k, m + 1) from the joint counts ``C`` (k, cells), keyed by ``id(term)``."""
        if len(self.terms) == 1:
            return {id(self.terms[0]): C}
        k, n = C.shape[0], len(self.terms)
        cube = C.reshape([k] + [t.m + 1 for t in self.terms][::-1])
        return {id(t): cube.sum(axis=tuple(a for a in range(1, n + 1) if a != n - i))
                for i, t in enumerate(self.terms)}


def _joint_groups(gathered):
    """The gathered columns packed in order into groups of at most ``_JOINT_CELLS`` joint codes."""
    groups, current, cells = [], [], 1
    for i, t in enumerate(gathered):
        if current and cells * (t.m + 1) > _JOINT_CELLS:
            groups.append(current)
            current, cells = [], 1
        current.append(i)
        cells *= t.m + 1
    if current:
        groups.append(current)
    return [_JointGroup([gathered[i] for i in positions], positions) for positions in groups]


class _RowEStep(FusedEStep):
    """The fused E-step of one term over whole rows (e.g. full-covariance Gaussians), complete rows (rows with
    missing values: :class:`_PatternRowEStep`)."""

    def __init__(self, components, log_weights, term, d):
        self.term, self.d = term, d
        super().__init__(components, log_weights, 1 + term.n_features(d))

    @classmethod
    def of(cls, components, log_weights, term, X):
        """The E-step (:class:`_PatternRowEStep` for rows with missing values), or None where it does not
        apply (an overflow risk)."""
        span = max(float(X.max()), -float(X.min()))
        limit = WORKING_DTYPES[working_dtype(X)][2]
        if span != span:  # missing values: one coefficient matrix per pattern, or the general path
            return _PatternRowEStep.of(components, log_weights, term, X)
        if not span < limit:
            return None
        with np.errstate(over="ignore", invalid="ignore"):
            bound = term.bound(span)
        if not bound < limit:
            return None
        return cls(components, log_weights, term, X.shape[1])

    @property
    def terms(self):
        """The one row term, as a list."""
        return [self.term]

    @property
    def layout(self):
        """The term's feature layout, for a compiled kernel (:mod:`genmix._kernels`); None: numpy only."""
        return self.term.layout

    def _prepare(self, X):
        """The shift from the first rows; coefficients ``W`` (k, F); components needing the exact form."""
        shift, spread = self.term.set_shift(np.asarray(X[:_SHIFT_ROWS], dtype=np.float64))
        W = np.empty((self.k, self.n_features))
        self.term.coefficients(shift, W)
        W, exact = self._weights_into(W, self.term.needs_exact(shift, spread))
        return W, shift, exact

    def _features(self, X, rows, shift, buffer=None):
        """The ``(F, B)`` feature block of ``X[rows]`` (into ``buffer[:, :B]`` when given)."""
        B = rows.stop - rows.start
        Phi = np.empty((self.n_features, B)) if buffer is None else buffer[:, :B]
        Phi[0] = 1.0
        self.term.features(X[rows], shift, Phi[1:])
        return Phi

    def _exact_rows(self, L, Phi, exact, shift):
        """Overwrite row j of ``L`` with the factorised log density (plus log weight) for j in ``exact``."""
        for j in exact:
            L[j] = self.term.exact(Phi[1:], j, shift)
            L[j] += self.log_weights[j]

    def _stats(self, S, shift, M=None):
        """Per component its ``Stats``, and ``redo``: ``{component: None}`` whose raw sums cancel too much."""
        extra = () if M is None else (M,)
        stats = self.term.stats(S[:, 0], S[:, 1:], shift, *extra)
        return stats, {j: None for j, s in enumerate(stats) if s is None}

    def _mass_sums(self, Phi, R):
        sums = getattr(self.term, "mass_sums", None)
        return None if sums is None else sums(Phi[1:], R.sum(axis=0))

    def _redo_parts(self, redo):
        return [None]  # the one scatter

    def _centred(self, X, rows, R, c):
        return self.term.centred(np.asarray(X[rows], dtype=np.float64), R)

    def _store(self, stats, redo, comps, total):
        for i, j in enumerate(comps):
            stats[j] = total[None].take(i)

    def _packaged(self, component, s):
        return s


class _PatternRowEStep(_RowEStep):
    """The fused E-step of a row term on rows with missing values: one coefficient matrix per pattern.

    A row's missing coordinates read as the shift ``c``, so that its centred features vanish there. The
    term's ``marginals`` gives, per missingness pattern and component, the coefficients of the marginal log
    density over the observed coordinates in those features, and its ``pattern_stats`` turns each
    pattern's sums into the expected complete-data statistics (conditional expectations of the missing
    coordinates given the observed ones): the exact EM of the family's own kernels. The rows are visited
    sorted by pattern (:func:`missingness_patterns`, largest patterns first) in gathered blocks; in a
    block, each pattern's rows are one contiguous segment whose scores are one GEMM with that pattern's
    coefficients and whose sums are another. Patterns of fewer than ``_PATTERN_ROWS`` rows (their
    matrices would cost more than their rows) form the *tail*, scored and summarised by the term's
    ``missing_rows`` (the family's own conditional kernels).
    """

    def __init__(self, components, log_weights, term, d, patterns, n_fused, shift, W):
        super().__init__(components, log_weights, term, d)
        self.order, self.starts, self.masks = patterns
        self.n_patterns, self.tail = n_fused, int(self.starts[n_fused])  # fused patterns; first tail position
        self.shift = shift
        self.W = self._weights_into(W, np.zeros(self.k, dtype=bool))[0]
        self.dead = np.nonzero(~np.isfinite(log_weights))[0]
        self.compiled = False  # set by of(): the compiled kernels run (genmix._kernels)

    @classmethod
    def of(cls, components, log_weights, term, X):
        """The E-step, or None: a term without ``marginals``, float32 rows, common patterns holding less than
        half of the rows (n = 50,000, d = 32, k = 4, 20% MAR: 1.10x the kernel alone), or a pattern whose
        expansion could lose precision or overflow."""
        if getattr(term, "marginals", None) is None or working_dtype(X) != np.float64:
            return None
        nanmask = np.isnan(X)
        patterns = missingness_patterns(nanmask)
        d, k = X.shape[1], len(components)
        sizes = np.diff(patterns[1])
        # the compiled kernels (numba) for the fused rows' E-step and the patterns' coefficients
        compiled = (term.layout in _kernels.LAYOUTS and _kernels.enabled()
                    and X.shape[0] * (1 + term.n_features(d)) * k >= _kernels.MIN_WORK)
        least = _PATTERN_ROWS_COMPILED if compiled else _PATTERN_ROWS
        n_fused = min(int(np.count_nonzero(sizes >= least)), _PATTERN_CELLS // (k * d * d))
        if patterns[1][n_fused] < 0.5 * X.shape[0]:  # most rows on the kernel anyway: gathering them costs more
            return None
        span = 0.0 if nanmask.all() else max(float(np.nanmax(X)), -float(np.nanmin(X)))
        if not span < WORKING_DTYPES[np.dtype(np.float64)][2]:
            return None
        shift, spread = term.set_shift(np.asarray(X[:_SHIFT_ROWS], dtype=np.float64))
        with np.errstate(over="ignore", invalid="ignore"):
            W = term.marginals(patterns[2][:n_fused], shift, spread, span, compiled=compiled)
        if W is None:
            return None
        fused = cls(components, log_weights, term, d, patterns, n_fused, shift, W)
        fused.compiled = compiled  # the fused rows' E-step, too (see _compiled)
        return fused

    def _block_rows(self, n, d):
        """As the complete path's blocks, without its small-data bound: a block's fixed costs (its gather, its
        segments cut at the block's ends) matter more here than the buffers, which the per-pattern matrices
        outweigh (n=100k d=10 k=5: 8192-row blocks 30.5 ms per E-step, 2048-row blocks 33 ms)."""
        rows = _BLOCK_BYTES / (self.dtype.itemsize * self.n_features)
        return int(np.clip(2 ** round(np.log2(max(rows, 1.0))), 256, 8192))

    def _blocks(self, sl):
        """Per block of the sorted positions ``sl``: ``(rows, segments)``, the block's rows of ``X`` and its
        ``(pattern, slice within the block)`` segments, or None for a block of the tail (a block is one or
        the other)."""
        if sl.start < self.tail < sl.stop:
            yield from self._blocks(slice(sl.start, self.tail))
            yield from self._blocks(slice(self.tail, sl.stop))
            return
        starts, G = self.starts, self.n_patterns
        if sl.start >= self.tail:  # the family's kernels: their own (longer) blocks
            for b0 in range(sl.start, sl.stop, _TAIL_ROWS):
                yield self.order[b0:min(b0 + _TAIL_ROWS, sl.stop)], None
            return
        for b0 in range(sl.start, sl.stop, self.block_rows):
            b1 = min(b0 + self.block_rows, sl.stop)
            g = int(np.searchsorted(starts, b0, side="right")) - 1
            segments = []
            while g < G and starts[g] < b1:
                segments.append((g, slice(max(int(starts[g]), b0) - b0, min(int(starts[g + 1]), b1) - b0)))
                g += 1
            yield self.order[b0:b1], segments

    def _block_features(self, X, rows, buffer):
        """The ``(F, B)`` features of the gathered rows, their missing coordinates read as the shift."""
        Xb = _gather(X, rows)
        np.copyto(Xb, self.shift, where=np.isnan(Xb))
        return self._features(Xb, slice(0, Xb.shape[0]), self.shift, buffer)

    def _block_scores(self, X, rows, segments, buffers):
        """``(L (k, B), Φ, stats)``: the block's scores with the log weights; for a tail block Φ is None and
        ``stats(R)`` the term's statistics of its rows."""
        if segments is None:
            logp, stats = self.term.missing_rows(_gather(X, rows))
            return logp.T + self.log_weights[:, None], None, stats  # log 0 = -inf, no log density is +inf
        L = buffers[1][:, :rows.size]
        Phi = self._block_features(X, rows, buffers[0])
        for g, seg in segments:
            np.matmul(self.W[g], Phi[:, seg], out=L[:, seg])
        if self.dead.size:
            L[self.dead] = -np.inf
        return L, Phi, None

    def weighted_log_prob(self, X):
        """``log w_k + log p_k(x_i)`` of the rows ``X`` (marginal over each row's observed coordinates)."""
        out = np.empty((X.shape[0], self.k))
        buffers = self._buffers(slice(0, X.shape[0]))
        with _single_threaded_blas(True):
            for rows, segments in self._blocks(slice(0, X.shape[0])):
                out[rows] = self._block_scores(X, rows, segments, buffers)[0].T
        return out

    def run(self, X, w, log_priors=None, n_jobs=1):
        """As :meth:`FusedEStep.run`; impossible rows are named by their index in ``X``."""
        unit = bool(np.all(w == 1.0))

        def responsibilities(rows, segments, buffers):
            L, Phi, stats = self._block_scores(X, rows, segments, buffers)
            if log_priors is not None:
                L += np.take(log_priors, rows, axis=0).T
            try:
                logp = responsibilities_in_place(L, None if unit else np.take(w, rows))
            except ImpossibleRowsError as exc:
                raise ImpossibleRowsError(np.sort(rows[exc.rows])) from None
            return L, logp, Phi, stats

        kernel = self._compiled(X, None if unit else w, log_priors)
        if kernel is not None:
            try:
                return self._pattern_pass(X, responsibilities, n_jobs, kernel)
            except _CompiledDeclined:  # numba failed to import, or an impossible row: the numpy path names it
                pass
        return self._pattern_pass(X, responsibilities, n_jobs)

    def _compiled(self, X, w, log_priors):
        """``kernel(lo, hi, S) -> logp`` over the sorted positions ``lo:hi`` of the fused patterns, from the
        compiled kernel of the term's layout (:func:`genmix._kernels.quadratic_patterns_estep`), raising
        :class:`_CompiledDeclined` where it cannot finish; None where it does not apply (as
        :meth:`FusedEStep._compiled`: numba absent or off, another layout, less work than
        ``_kernels.MIN_WORK``, rows not a C-contiguous float64 array)."""
        if (not self.compiled or not isinstance(X, np.ndarray) or X.dtype != np.float64
                or not X.flags.c_contiguous):
            return None
        dead = ~np.isfinite(self.log_weights)
        order = np.ascontiguousarray(self.order, dtype=np.intp)
        starts = np.ascontiguousarray(self.starts[:self.n_patterns + 1], dtype=np.intp)
        WT = _kernels.transposed_patterns(self.W)  # once for every thread's chunk

        def kernel(lo, hi, S):
            out = _kernels.quadratic_patterns_estep(X, order, lo, hi, starts, WT, self.shift, dead, w, log_priors, S)
            if out is None or out[1] >= 0:
                raise _CompiledDeclined
            return out[0]

        return kernel

    def statistics(self, X, R, n_jobs=1):
        """As :meth:`FusedEStep.statistics`: the statistics of given responsibilities ``R`` (n, k)."""
        def given(rows, segments, buffers):
            if segments is None:
                Xb = _gather(X, rows)
                return np.take(R, rows, axis=0).T, 0.0, None, self.term.missing_rows(Xb, scores=False)[1]
            return np.take(R, rows, axis=0).T.copy(), 0.0, self._block_features(X, rows, buffers[0]), None

        return self._pattern_pass(X, given, n_jobs)[1:]

    def _pattern_pass(self, X, block, n_jobs, kernel=None):
        """``(logp, Σr, Stats)``: per pattern the sums ``Σ r φ`` (G, k, F) over blocks and threads and the
        term's expected statistics from them, plus the tail's statistics; a centred second pass for fused
        statistics that cancel. ``block(rows, segments, buffers)`` gives ``(R (k, B), logp, Φ, stats)``;
        ``kernel(lo, hi, S)``, where given, the fused positions' log-likelihood, adding their sums into S."""
        n = X.shape[0]

        def chunk(sl):
            logp, S, tail = 0.0, np.zeros((self.n_patterns, self.k, self.n_features)), None
            if kernel is not None and sl.start < self.tail:  # the fused positions compiled, the tail below
                logp += kernel(sl.start, min(sl.stop, self.tail), S)
                sl = slice(min(sl.stop, self.tail), sl.stop)
            buffers = self._buffers(sl)
            for rows, segments in self._blocks(sl):
                R, block_logp, Phi, stats = block(rows, segments, buffers)
                logp += block_logp
                if segments is None:
                    tail = _plus(tail, stats(R.T))
                    continue
                for g, seg in segments:
                    S[g] += (Phi[:, seg] @ R[:, seg].T).T
            return logp, S, tail

        with _single_threaded_blas(True):
            parts = map_chunks(chunk, n, n_jobs)
        logp, S = sum(p[0] for p in parts), sum(p[1] for p in parts)
        tail = functools.reduce(_plus, (p[2] for p in parts), None)
        stats = self.term.pattern_stats(S[..., 0], S[..., 1:], self.shift)
        redo = [j for j, s in enumerate(stats) if s is None]
        if redo:  # expected sums that cancel too much: those statistics again, centred, in a second pass
            def centred(sl):
                total = None
                buffers = self._buffers(sl)
                for rows, segments in self._blocks(slice(sl.start, min(sl.stop, self.tail))):
                    R = block(rows, segments, buffers)[0][redo].T.astype(np.float64)  # (B, m)
                    Xb = _gather(X, rows)
                    total = _plus(total, self.term.missing_rows(Xb, redo, scores=False)[1](R))
                return total

            with _single_threaded_blas(True):
                total = functools.reduce(_plus, map_chunks(centred, self.tail, n_jobs))
            for i, j in enumerate(redo):
                stats[j] = total.take(i)
        resp = S[..., 0].sum(axis=0)
        if tail is not None:
            stats = [s + tail.take(j) for j, s in enumerate(stats)]
            resp = resp + tail.w
        return logp, resp, [self._package(j, s) for j, s in enumerate(stats)]


def _responsibilities(L, w, compiled):
    """:func:`genmix._math.responsibilities_in_place`, through the compiled kernel where ``compiled``
    (:func:`genmix._kernels.responsibilities`: the same rule, a vectorised ``exp``) and numba imports."""
    if compiled:
        logp = _kernels.responsibilities(L, w)
        if logp is not None:
            return logp
    return responsibilities_in_place(L, w)


class _CompiledDeclined(Exception):
    """A compiled kernel could not finish an E-step (numba failed to import, or an impossible row): the
    numpy path runs it again."""


def _gather(X, rows):
    """``X[rows]`` as float64, by ``np.take`` (measured 3x faster than fancy indexing on 2,048 of 100,000
    rows of 10 values)."""
    return np.take(np.asarray(X), rows, axis=0).astype(np.float64, copy=False)
