r"""Multivariate Gaussian distribution with a full covariance matrix.

.. math:: \log p(x \mid \mu, \Sigma) = -\tfrac d2\log 2\pi - \tfrac12\log|\Sigma|
          - \tfrac12 (x-\mu)^\top \Sigma^{-1} (x-\mu)

Evaluated through the precision Cholesky factor ``P = L^{-T}`` (``Σ = L Lᵀ``): the quadratic form is one
GEMM per component, ``‖X P − μ P‖²``, and the log-determinant comes from the factor's diagonal; no
matrix is ever inverted.

Missing values (NaN): a row is scored by its marginal density over the observed coordinates (a row with
nothing observed has log density 0); rows are grouped by missingness pattern, with one factorisation
per pattern and component. The statistics use the conditional expectation of the missing coordinates
given the observed ones, ``E[x_m | x_o]`` and ``Cov[x_m | x_o]`` (Ghahramani & Jordan, 1994), so EM is
exact under missing-at-random. In a mixture's E-step the full term (``_GaussianTerm.marginals``) puts
the common patterns on the fused path, one coefficient matrix per pattern (``genmix._fused``); this
module's conditional kernel (:class:`_Missing`, batched over components and patterns) takes the rest.
"""
import contextlib
import functools

import numpy as np

from .. import _kernels
from .._fused import WORKING_DTYPES, RowTerm, moments, remembered
from .._math import LOG_2PI, cholesky_lower, floor_eigenvalues, lower_inverse, precision_cholesky
from .._validation import NONNEGATIVE as _NONNEG, check_scalar
from ..data import check_weights
from ..exceptions import NumericalWarning, naming_component, warn_once
from ._base import Distribution, estep_memo, estep_scope, register
from ._covariance import FULL, covariance_type as _covariance_type
from ._stats import MomentStats, moment_stats, moment_stats_diag


def _patterns(nanmask):
    """``(rows, groups, masks, n_obs)`` of a missingness mask (see :class:`_Missing`), remembered per mask
    (``genmix._fused.remembered``): grouping the patterns costs more than conditioning on them, and EM meets
    the same masks every iteration."""
    return remembered(nanmask, "mvn-groups", _group_patterns)


def _group_patterns(nanmask):
    """The grouping of :class:`_Missing`, from the mask alone."""
    rows = np.nonzero(nanmask.any(axis=1))[0]
    groups = []
    if not rows.size:
        return rows, groups, None, None
    masks = nanmask[rows]
    keys = np.packbits(masks, axis=1)
    keys = np.ascontiguousarray(keys).view(np.dtype((np.void, keys.shape[1]))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    patterns = masks[first]
    counts = patterns.sum(axis=1)
    order = np.argsort(counts[inverse], kind="stable")  # rows of one group become one contiguous slice
    rows, masks, inverse = rows[order], masks[order], inverse[order]
    n_obs = nanmask.shape[1] - masks.sum(axis=1)
    sizes = np.bincount(counts[inverse], minlength=nanmask.shape[1] + 1)
    start = 0
    for m in np.nonzero(sizes)[0]:
        at = slice(start, start + sizes[m])
        start += sizes[m]
        ids = np.nonzero(counts == m)[0]
        local = np.full(len(patterns), -1)
        local[ids] = np.arange(ids.size)
        mis = np.nonzero(patterns[ids])[1].reshape(ids.size, m)
        groups.append((at, local[inverse[at]], mis))
    for a in (rows, masks, n_obs):
        a.flags.writeable = False  # shared between calls: never written
    return rows, groups, masks, n_obs


class _Missing:
    """The incomplete rows of ``X``, grouped for conditioning on their observed coordinates, batched.

    ``rows`` are the incomplete rows; they are grouped by their number ``m`` of missing coordinates, and
    within a group every distinct pattern is one entry of a batch (``mis``: its missing indices), with
    ``which[i]`` the pattern of the group's i-th row (``at``: its position in ``rows``). The work is then
    GEMMs over all incomplete rows plus small batched m × m solves: no Python loop over rows or patterns.
    """

    def __init__(self, X, nanmask):
        structure = _patterns(nanmask)
        self.rows, self.groups, self.masks, self.n_obs = structure
        if self.rows.size:
            self.X = np.where(self.masks, 0.0, np.take(X, self.rows, axis=0))

    def condition(self, means, prec_chol):
        """Condition every incomplete row on its observed part under each N(μ_j, (P_j P_jᵀ)⁻¹) of a stack.

        With ``z`` the row with its missing coordinates set to the mean, ``y = (z − μ) P`` and
        ``v = y Pᵀ = Λ (z − μ)``, the conditional mean is ``x̂_m = μ_m − Λ_mm⁻¹ v_m``, the conditional
        covariance ``Λ_mm⁻¹``, and the observed quadratic form ``‖y‖² − v_mᵀ Λ_mm⁻¹ v_m`` (a Schur
        complement); ``log|Σ_oo| = log|Λ_mm| − log|Λ|``. Batched over the components as well as the
        patterns (one call per missing count for the whole stack).

        Parameters
        ----------
        means : ndarray (k, d)
        prec_chol : ndarray (k, d, d)

        Returns
        -------
        filled : ndarray (k, n_incomplete, d)
            The rows with the conditional means filled in, per component.
        quad : ndarray (k, n_incomplete)
            The quadratic form of the observed coordinates.
        log_det_mm : ndarray (k, n_incomplete)
            ``log|Λ_mm|`` of each row's pattern.
        conditionals : list of (which, inv_mm, mis, at)
            Per group, each row's pattern, ``Λ_mm⁻¹`` per component and pattern (k, P, m, m), the missing
            indices and the group's rows.
        """
        k, d = means.shape
        precision = prec_chol @ np.swapaxes(prec_chol, 1, 2)
        centre = means[:, None, :]
        filled = np.where(self.masks, centre, self.X)
        flat = filled.reshape(k, -1)  # a view (filled is fresh, contiguous): the missing cells written through it
        y = (filled - centre) @ prec_chol
        quad = (y * y).sum(axis=2)
        v = y @ np.swapaxes(prec_chol, 1, 2)
        log_det_mm = np.zeros((k, self.rows.size))
        conditionals = []
        for at, which, mis in self.groups:
            chol = np.linalg.cholesky(precision[:, mis[:, :, None], mis[:, None, :]])  # (k, P, m, m)
            inv_chol = lower_inverse(chol)
            inv_mm = np.swapaxes(inv_chol, 2, 3) @ inv_chol
            B, m = which.size, mis.shape[1]
            cells = (np.arange(B)[:, None] * d + np.take(mis, which, axis=0)).ravel()  # the rows' missing cells
            vm = np.take(v[:, at].reshape(k, B * d), cells, axis=1).reshape(k, B, m)
            u = (np.take(inv_mm, which, axis=1) @ vm[..., None])[..., 0]
            quad[:, at] -= (vm * u).sum(axis=2)
            centre_m = np.take(means, cells % d, axis=1).reshape(k, B, m)
            flat[:, at.start * d + cells] = (centre_m - u).reshape(k, B * m)
            log_det_mm[:, at] = np.take(2.0 * np.log(np.diagonal(chol, axis1=2, axis2=3)).sum(axis=2), which, axis=1)
            conditionals.append((which, inv_mm, mis, at))
        return filled, quad, log_det_mm, conditionals


#: Values (patterns x components x d x d) of each temporary of ``_GaussianTerm._marginals_into``: its patterns
#: are taken in chunks of at most this many values (1 MiB per temporary).
_MARGINAL_CELLS = 2 ** 17

#: Components conditioned together: at most this many values of (components x incomplete rows x d) at once.
_CONDITION_CELLS = 2 ** 21


def _conditioned(X, nanmask, means, prec_chol):
    """:meth:`_Missing.condition` for a stack of components, in chunks of components that keep its
    temporaries within ``_CONDITION_CELLS``: ``(missing, [(components, result)])``, shared by the log density
    and the statistics of one E-step (see ``estep_memo``)."""
    missing = estep_memo(("mvn-missing", id(X)), lambda: _Missing(X, nanmask))
    step = max(1, _CONDITION_CELLS // max(1, missing.rows.size * X.shape[1]))
    parts = []
    for start in range(0, means.shape[0], step):
        comps = slice(start, min(start + step, means.shape[0]))
        m, p = means[comps], prec_chol[comps]
        parts.append((comps, estep_memo(("mvn-condition", id(X), m.tobytes(), p.tobytes()),
                                        lambda: missing.condition(m, p))))
    return missing, parts


def _logpdf(X, means, prec_chol, log_det_prec):
    n, d = X.shape
    k = means.shape[0]
    out = np.empty((n, k))
    nanmask = np.isnan(X)
    complete = ~nanmask.any(axis=1)
    every = bool(complete.all())
    Xc = X if every else X[complete]
    if Xc.shape[0]:
        rows = slice(None) if every else complete
        for j in range(k):
            y = Xc @ prec_chol[j]
            y -= means[j] @ prec_chol[j]
            out[rows, j] = -0.5 * (d * LOG_2PI + np.einsum("ij,ij->i", y, y)) + log_det_prec[j]
    if every:
        return out
    missing, parts = _conditioned(X, nanmask, means, prec_chol)  # marginal densities of the observed coordinates
    for comps, (_, quad, log_det_mm, _) in parts:
        value = (-0.5 * (missing.n_obs * LOG_2PI + quad) - 0.5 * (log_det_mm - 2.0 * log_det_prec[comps, None]))
        out[missing.rows, comps] = np.where(missing.n_obs == 0, 0.0, value).T  # over no coordinates: exactly log 1
    return out


def _suffstats(X, R, means, prec_chol, **_):
    nanmask = np.isnan(X)
    if not nanmask.any():
        return moment_stats(X, R)
    k, d = means.shape
    w, mean, m2 = np.empty(k), np.empty((k, d)), np.empty((k, d, d))
    filled_all = X.copy()  # one buffer: each component overwrites only the incomplete rows
    missing, parts = _conditioned(X, nanmask, means, prec_chol)
    R_missing = np.take(R, missing.rows, axis=0)
    for comps, (filled, _, _, conditionals) in parts:
        first = comps.start
        correction = np.zeros((filled.shape[0], d, d))  # Σ r · Cov[x_m | x_o], embedded at (m, m)
        for which, inv_mm, mis, at in conditionals:
            cells = (mis[:, :, None] * d + mis[:, None, :]).ravel()  # each pattern's (m, m) cells
            for i, r in enumerate(R_missing[at, comps].T):
                mass = np.bincount(which, weights=r, minlength=inv_mm.shape[1])
                correction[i] += np.bincount(cells, (mass[:, None, None] * inv_mm[i]).ravel(), d * d).reshape(d, d)
        for i in range(filled.shape[0]):
            j = first + i
            filled_all[missing.rows] = filled[i]
            s = moment_stats(filled_all, R[:, j:j + 1])
            w[j], mean[j], m2[j] = s.w[0], s.mean[0], s.m2[0] + correction[i]
    return MomentStats(w, mean, m2)


def _scatter(shape, m2):
    """The scatter in the form ``shape.estimate`` reads: the matrix, or its diagonal for diagonal shapes
    (whose statistics already hold only the diagonal)."""
    return np.diag(m2).copy() if shape.diagonal and m2.ndim == 2 else m2


class _Estimate(dict):
    """An M-step's parameters whose covariance the repair check already factored: ``root`` is its lower
    Cholesky factor, so the estimate is symmetric positive definite by construction and neither its
    validation nor its factorisation is done again (``_blend`` at ``inertia=0``, ``_set_params``)."""

    def __init__(self, params, root):
        super().__init__(params)
        self.root = root


def _repaired(shape, cov, mean, min_covar):
    """``(cov, root)``: the covariance (floored if it had to be, with a warning) and its lower Cholesky
    factor when the check computed it (None otherwise)."""
    cov, repaired, root = shape.repair(cov, mean, min_covar)
    if repaired:
        warn_once("A MultivariateGaussianDistribution's fitted covariance was not numerically positive "
                  f"definite; it was floored at min_covar={min_covar} times the mean variance.",
                  NumericalWarning, stacklevel=5)
    return cov, root


def _estimate(means, cov, root):
    params = {"means": means, "covariance": cov}
    return params if root is None else _Estimate(params, root)


def _mle(stats, min_covar=1e-6, covariance_type="full", reg_covar=0.0):
    w = float(stats.w[0])
    if not w > 0.0:
        return None
    shape = _covariance_type(covariance_type).shape
    cov = shape.estimate(w, _scatter(shape, stats.m2[0]), reg_covar)
    return _estimate(stats.mean[0].copy(), *_repaired(shape, cov, stats.mean[0], min_covar))


class _RowGaussianTerm(RowTerm):
    """What the full and the diagonal Gaussian terms share: the shift (the sample mean), the log
    normaliser and the exact fallback through the component's whitening (``_whiten``)."""

    def __init__(self, means, log_det_prec):
        self.means, self.log_det_prec = means, log_det_prec
        self.log_norm = log_det_prec - 0.5 * means.shape[1] * LOG_2PI

    def set_shift(self, sample):
        observed = ~np.isnan(sample)
        if observed.all():
            shift = sample.mean(axis=0)
            return shift, np.sqrt(np.mean((sample - shift) ** 2, axis=0))
        count = np.maximum(observed.sum(axis=0), 1)  # over the observed values (a column without any: 0)
        shift = np.where(observed, sample, 0.0).sum(axis=0) / count
        deviations = np.where(observed, sample - shift, 0.0)
        return shift, np.sqrt((deviations ** 2).sum(axis=0) / count)

    def exact(self, rows, j, shift):
        d = self.means.shape[1]  # in the rows' dtype (float32 rows: a float32 GEMM, no cancellation)
        D = self._whiten(j, rows[:d] - (self.means[j] - shift).astype(rows.dtype)[:, None])
        return float(self.log_norm[j]) - 0.5 * np.einsum("db,db->b", D, D)


class _GaussianTerm(_RowGaussianTerm):
    """The fused path's term of full-covariance Gaussians: features ``t(z) = [z, z_i z_j (i ≤ j)]`` of
    ``z = x − c``.

    Per component ``a = μ − c`` and precision ``Λ``: ``log p = log_norm − ½aᵀΛa + (Λa)ᵀz − ½ zᵀΛz``. The
    statistics are centred ``MomentStats`` from the raw sums, or recomputed centred where they cancel.

    Parameters
    ----------
    means : ndarray, shape (k, d)
    prec_chol : ndarray, shape (k, d, d)
        Cholesky factors of the precisions.
    log_det_prec : ndarray, shape (k,)
    """

    layout = "quadratic"  # genmix._kernels: the features below, compiled where numba is installed

    def __init__(self, means, prec_chol, log_det_prec):
        super().__init__(means, log_det_prec)
        self.chol = prec_chol
        self.precisions = prec_chol @ np.swapaxes(prec_chol, 1, 2)

    @staticmethod
    def n_features(d):
        return d + d * (d + 1) // 2

    def _whiten(self, j, Z):
        return self.chol[j].T.astype(Z.dtype) @ Z

    def coefficients(self, shift, W):
        precisions, d = self.precisions, self.means.shape[1]
        a = self.means - shift
        lam_a = np.einsum("kij,kj->ki", precisions, a)
        W[:, 0] = self.log_norm - 0.5 * np.einsum("ki,ki->k", lam_a, a)
        W[:, 1:1 + d] = lam_a
        _quadratic_coefficients(precisions, W[:, 1 + d:])

    def needs_exact(self, shift, spread):
        """Components whose expanded log density could lose more than the term's ``tolerance``.

        The rounding error is a few ``eps·(|a| + s)ᵀ|Λ|(|a| + s)`` for rows within the data's spread ``s``
        of ``c`` (absolute), and a few ``eps·κ`` relative for rows far away, with ``κ`` the ratio of
        ``‖|Λ|‖`` to ``Λ``'s smallest eigenvalue (eps: the term's ``eps``); the limits are ``tolerance``
        and ``10·tolerance``.
        """
        precisions = self.precisions
        b = np.abs(self.means - shift) + spread
        absP = np.abs(precisions)
        near = np.einsum("ki,kij,kj->k", b, absP, b)
        smallest = np.linalg.eigvalsh(precisions)[:, 0]
        with np.errstate(divide="ignore"):
            kappa = np.where(smallest > 0, absP.sum(axis=2).max(axis=1) / smallest, np.inf)
        return (4.0 * self.eps * near > self.tolerance) | (4.0 * self.eps * kappa > 10.0 * self.tolerance)

    def features(self, X, shift, out):
        d = X.shape[1]
        Zt = out[:d]
        np.subtract(X.T, shift.astype(out.dtype)[:, None], out=Zt)
        at = d
        for i in range(d):
            np.multiply(Zt[i], Zt[i:], out=out[at:at + d - i])
            at += d - i

    def stats(self, N, S, shift):
        d = self.means.shape[1]
        raw = np.take(S, _augmented_index(d)[1:, 1:] - 1, axis=1)  # Σr z zᵀ (k, d, d) from its upper triangle
        return [self._moments(N[j], S[j, :d], raw[j], shift) for j in range(N.size)]

    def _moments(self, n, s1, s2, shift):
        """One component's ``MomentStats`` from ``Σr``, ``Σr z`` and ``Σr z zᵀ`` about ``shift``: zero
        statistics without mass, None where the subtraction cancels (see :func:`genmix._fused.moments`)."""
        d = s1.size
        if not n > 0:
            return MomentStats(np.array([0.0]), np.zeros((1, d)), np.zeros((1, d, d)))
        m = moments(n, s1, s2, shift, self.eps, self.tolerance)
        return None if m is None else MomentStats(np.array([n]), m[0][None, :], m[1][None, :, :])

    def centred(self, X, R):
        return moment_stats(X, R)

    def bound(self, span):
        return np.abs(self.precisions).max() * (2.0 * span) ** 2 + np.abs(self.log_norm).max()

    def marginals(self, masks, shift, spread, span, compiled=False):
        """Coefficients ``(G, k, 1 + n_features)`` of each component's marginal log density over the observed
        coordinates of each missingness pattern (``masks`` (G, d), True where missing), in the features of
        rows whose missing coordinates read as the shift; None where an expansion could lose more than the
        term's ``tolerance`` or reach ``span``'s overflow bound (the general path then conditions).

        Through the precision, as the family's own kernel: with ``K = Λ_mm⁻¹`` embedded at (m, m), the
        observed block's precision is the Schur complement ``Q = (Λ − ΛKΛ)_oo = Σ_oo⁻¹`` and
        ``log|Σ_oo| = log|Λ_mm| − log|Λ|``; with ``ã`` the observed part of ``a = μ − c``,
        ``log p(x_o) = −½|o| log 2π − ½ log|Σ_oo| − ½(z̃ − ã)ᵀQ(z̃ − ã)``. The precision guard is
        :meth:`needs_exact`'s with ``|Λ|`` replaced by ``√(Λ_ii Λ_jj)``, which bounds both ``|Q|`` and the
        subtracted ``ΛKΛ`` of every pattern. Keeps, for :meth:`pattern_stats`, ``E[z | z_o] = T z̃ + b``
        (``T = I − KΛ``, ``b = a_m + KΛã``) and ``Cov[z | z_o] = K``. With ``compiled`` (the caller's E-step
        runs the compiled kernels, :mod:`genmix._kernels`) the coefficients come from a compiled loop over
        the patterns' ``m × m`` blocks (n = 100k, d = 10, k = 5, 20% missing, 400 patterns: 1.7 against
        7.2 ms per E-step), the numpy code below being the reference.
        """
        G, d = masks.shape
        k = self.means.shape[0]
        lam = self.precisions
        root = np.sqrt(np.diagonal(lam, axis1=1, axis2=2))  # (k, d)
        a = self.means - shift
        b = (np.abs(a) + spread) * root
        smallest = np.linalg.eigvalsh(lam)[:, 0]
        with np.errstate(divide="ignore"):
            kappa = np.where(smallest > 0, root.max(axis=1) * root.sum(axis=1) / smallest, np.inf)
        if (np.any(4.0 * self.eps * b.sum(axis=1) ** 2 > self.tolerance)
                or np.any(4.0 * self.eps * kappa > 10.0 * self.tolerance)):
            return None
        W = np.empty((G, k, 1 + self.n_features(d)))
        T = np.empty((G, k, d, d + 1))  # [b | T]: acting on [1; z̃]
        K = np.empty((G, k, d, d))
        if not (compiled and _kernels.quadratic_marginals(masks, lam, a, self.log_norm, W, T, K)):
            step = max(1, _MARGINAL_CELLS // (k * d * d))
            for start in range(0, G, step):
                at = slice(start, min(start + step, G))
                self._marginals_into(masks[at], a, W[at], T[at], K[at])
        W[masks.all(axis=1), :, 0] = 0.0  # a density over no coordinates: exactly log 1
        if not root.max() ** 2 * (2.0 * span) ** 2 + np.abs(W[..., 0]).max() < WORKING_DTYPES[np.dtype(np.float64)][2]:
            return None
        self._conditional = (T, K)
        return W

    def _marginals_into(self, masks, a, W, T, K):
        """:meth:`marginals` of a chunk of patterns, written into ``W``, ``T`` and ``K`` (chunks bounded by
        ``_MARGINAL_CELLS`` keep the temporaries' memory bounded for many patterns, components or
        dimensions)."""
        d = a.shape[1]
        lam = self.precisions
        m = masks[:, None, :]  # (g, 1, d)
        o = ~m
        mm = m[..., :, None] & m[..., None, :]
        eye = np.eye(d)
        chol = np.linalg.cholesky(np.where(mm, lam, eye * o[..., None, :]))  # Λ_mm, the identity elsewhere
        inv_chol = lower_inverse(chol)
        np.matmul(np.swapaxes(inv_chol, 2, 3), inv_chol, out=K)
        K -= eye * o[..., None, :]  # exactly 0 outside (m, m)
        k_lam = K @ lam
        Q = lam - lam @ k_lam
        Q *= o[..., :, None] & o[..., None, :]  # exactly 0 outside (o, o)
        log_det_mm = 2.0 * np.log(np.diagonal(chol, axis1=2, axis2=3)).sum(axis=2)
        a_o = np.where(o, a, 0.0)  # (g, k, d)
        q_a = (Q @ a_o[..., None])[..., 0]
        W[..., 0] = (self.log_norm + 0.5 * m.sum(axis=2) * LOG_2PI - 0.5 * log_det_mm
                     - 0.5 * (q_a * a_o).sum(axis=2))
        W[..., 1:1 + d] = q_a
        _quadratic_coefficients(Q, W[..., 1 + d:])
        T[..., 0] = np.where(m, a, 0.0) + (k_lam @ a_o[..., None])[..., 0]
        np.subtract(eye, k_lam, out=T[..., 1:])

    def pattern_stats(self, N, S, shift):
        """Per component its ``MomentStats`` (None where the sums cancel) from the per-pattern sums of
        :meth:`marginals`' features, ``N`` (G, k) and ``S`` (G, k, n_features): with ``y = [1; z̃]``,
        ``T' = [b | T]`` and the sums ``Σ r y yᵀ``, ``Σ r E[z] = T' Σ r y`` and
        ``Σ r E[z zᵀ] = T' (Σ r y yᵀ) T'ᵀ + Σ r K``, summed over the patterns."""
        T, K = self._conditional
        G, k = N.shape
        d = self.means.shape[1]
        Y = np.take(np.concatenate([N[..., None], S], axis=2), _augmented_index(d), axis=2)  # (G, k, d+1, d+1)
        E1 = (T @ Y[..., :, :1])[..., 0].sum(axis=0)
        E2 = (T @ Y @ np.swapaxes(T, 2, 3)).sum(axis=0)
        E2 += (N.T[:, None, :] @ np.swapaxes(K, 0, 1).reshape(k, G, d * d)).reshape(k, d, d)
        return [self._moments(n_j, E1[j], E2[j], shift) for j, n_j in enumerate(N.sum(axis=0))]

    def missing_rows(self, X, comps=None, scores=True):
        """Rows with missing values through the family's own conditional kernels (exact, centred):
        ``(log densities (B, k) or None without scores, stats)``, where ``stats(R)`` gives the
        ``MomentStats`` of the components ``comps`` (all if None) under ``R`` (B, len(comps)), sharing the
        conditioning with the log densities."""
        comps = slice(None) if comps is None else comps
        memo = {}
        logp = None
        if scores:
            with estep_scope(memo):
                logp = _logpdf(X, self.means, self.chol, self.log_det_prec)

        def stats(R):
            with estep_scope(memo):
                return _suffstats(X, R, self.means[comps], self.chol[comps])

        return logp, stats


def _quadratic_coefficients(P, out):
    """Write into ``out`` (..., d(d+1)/2) the coefficients of ``−½ zᵀPz`` in the features ``z_i z_j`` (i ≤ j,
    row by row) for a stack of symmetric ``P`` (..., d, d): ``−½ P_ii`` and ``−P_ij``."""
    d = P.shape[-1]
    iu = np.triu_indices(d)
    np.multiply(np.take(P.reshape(P.shape[:-2] + (d * d,)), iu[0] * d + iu[1], axis=-1),
                np.where(iu[0] == iu[1], -0.5, -1.0), out=out)


@functools.lru_cache(maxsize=16)
def _augmented_index(d):
    """Positions in ``[1, z, z_i z_j (i ≤ j)]`` of the entries of ``y yᵀ`` for ``y = [1; z]``, (d+1, d+1)."""
    index = np.zeros((d + 1, d + 1), dtype=np.intp)
    index[0, 1:] = index[1:, 0] = np.arange(1, d + 1)
    at = 1 + d
    for i in range(d):
        for j in range(i, d):
            index[1 + i, 1 + j] = index[1 + j, 1 + i] = at
            at += 1
    return index


class _TiedTerm(_GaussianTerm):
    """The fused path's term of full-covariance Gaussians sharing one precision ``Λ = C Cᵀ`` (the tied
    type): features ``[z, ‖Cᵀz‖²]`` of ``z = x − c``, d + 1 per row instead of d(d + 3)/2.

    Per component ``a = μ − c``: ``log p = log_norm − ½aᵀΛa + (Λa)ᵀz − ½‖Cᵀz‖²``; the whitening is one
    GEMM shared by all components. The M-step of a tied covariance reads only the pooled within-component
    scatter ``Σ_i w_i z zᵀ − Σ_k N_k z̄_k z̄_kᵀ``, whose first term needs each row's weight alone (a mass
    sum, once for all components): each component's ``MomentStats`` holds its own mass and mean, and the
    pooled scatter split in proportion to the masses (their sum is the pooled scatter, and sums of such
    statistics over blocks and batches stay exact, which is all a tied M-step reads). Where the
    subtraction cancels, the statistics are recomputed centred per component.

    Parameters
    ----------
    means : ndarray, shape (k, d)
    prec_chol : ndarray, shape (d, d)
        The shared Cholesky factor of the precision.
    log_det_prec : ndarray, shape (k,)
    """

    layout = None  # features of its own: the numpy path

    def __init__(self, means, prec_chol, log_det_prec):
        k = means.shape[0]
        super().__init__(means, np.broadcast_to(prec_chol, (k,) + prec_chol.shape), log_det_prec)
        self.shared = prec_chol

    marginals = None  # one shared whitening has no per-pattern form: rows with missing values go the general way

    @staticmethod
    def n_features(d):
        return d + 1

    def coefficients(self, shift, W):
        d = self.means.shape[1]
        a = self.means - shift
        lam_a = a @ self.precisions[0]
        W[:, 0] = self.log_norm - 0.5 * np.einsum("ki,ki->k", lam_a, a)
        W[:, 1:1 + d] = lam_a
        W[:, 1 + d] = -0.5

    def features(self, X, shift, out):
        d = X.shape[1]
        Zt = out[:d]
        np.subtract(X.T, shift.astype(out.dtype)[:, None], out=Zt)
        Y = self.shared.T.astype(Zt.dtype) @ Zt
        np.einsum("db,db->b", Y, Y, out=out[d])

    def mass_sums(self, Phi, mass):
        """``Σ_i w_i z zᵀ`` of a block (d, d)."""
        Zt = Phi[:self.means.shape[1]]
        return (Zt * mass) @ Zt.T

    def stats(self, N, S, shift, M):
        k, d = self.means.shape
        live = N > 0
        zs = S[:, :d]
        between = (zs[live].T / N[live]) @ zs[live]
        pooled = M - between
        if np.any(np.diag(pooled) * self.tolerance <= 64.0 * self.eps * np.diag(M)):  # cancelled:
            return [None] * k  # all recomputed centred
        share = N / N.sum() if N.sum() > 0 else N
        return [MomentStats(np.array([N[j]]), (shift + zs[j] / N[j])[None, :], (share[j] * pooled)[None, :, :])
                if live[j] else MomentStats(np.array([0.0]), np.zeros((1, d)), np.zeros((1, d, d)))
                for j in range(k)]


class _DiagonalTerm(_RowGaussianTerm):
    """The fused path's term of diagonal (or spherical) Gaussians: features ``t(z) = [z, z²]`` of
    ``z = x − c``, 2d per row instead of the full term's d(d + 3)/2.

    Per component ``a = μ − c`` and precisions ``λ = 1/σ²`` per coordinate:
    ``log p = log_norm − ½ Σ λa² + Σ (λa)·z − ½ Σ λ z²``. The statistics are per-coordinate centred
    ``MomentStats`` from the raw sums, or recomputed centred where they cancel.

    Parameters
    ----------
    means : ndarray, shape (k, d)
    prec : ndarray, shape (k, d)
        Inverse standard deviations.
    log_det_prec : ndarray, shape (k,)
    """

    def __init__(self, means, prec, log_det_prec):
        super().__init__(means, log_det_prec)
        self.prec, self.lam = prec, prec * prec

    @staticmethod
    def n_features(d):
        return 2 * d

    def _whiten(self, j, Z):
        return self.prec[j].astype(Z.dtype)[:, None] * Z

    def coefficients(self, shift, W):
        d = self.means.shape[1]
        a = self.means - shift
        W[:, 0] = self.log_norm - 0.5 * np.einsum("ki,ki->k", self.lam * a, a)
        W[:, 1:1 + d] = self.lam * a
        W[:, 1 + d:1 + 2 * d] = -0.5 * self.lam

    def needs_exact(self, shift, spread):
        """Components whose expanded log density could lose more than the term's ``tolerance``: a few
        ``eps·Σ λ(|a| + s)²`` for rows within the spread ``s`` of ``c``. Every coordinate's quadratic is
        non-negative, so rows far away lose only a few eps relative (no condition number enters)."""
        b = np.abs(self.means - shift) + spread
        return 4.0 * self.eps * np.einsum("ki,ki->k", self.lam * b, b) > self.tolerance

    def features(self, X, shift, out):
        d = X.shape[1]
        np.subtract(X.T, shift.astype(out.dtype)[:, None], out=out[:d])
        np.multiply(out[:d], out[:d], out=out[d:2 * d])

    def stats(self, N, S, shift):
        d = self.means.shape[1]
        out = []
        for j in range(N.size):
            if not N[j] > 0:
                out.append(MomentStats(np.array([0.0]), np.zeros((1, d)), np.zeros((1, d))))
                continue
            zbar = S[j, :d] / N[j]
            raw = S[j, d:2 * d]
            m2 = raw - N[j] * zbar * zbar
            if np.any(m2 * self.tolerance <= 64.0 * self.eps * raw):  # cancelled: recomputed centred
                out.append(None)
                continue
            out.append(MomentStats(np.array([N[j]]), (shift + zbar)[None, :], m2[None, :]))
        return out

    def centred(self, X, R):
        return moment_stats_diag(X, R)

    def bound(self, span):
        return self.lam.max() * (2.0 * span) ** 2 + np.abs(self.log_norm).max()


def observed_sums(X, w):
    """Per column of ``X``: the weight of its observed values (rows with positive weight) and their
    weighted sum, the first pass of the available-case estimate."""
    observed = ~np.isnan(X) & (w[:, None] > 0)
    return w @ observed, w @ np.where(observed, X, 0.0)


def available_mean(mass, sums):
    """The available-case means from :func:`observed_sums` (summed over chunks)."""
    if not np.all(mass > 0):
        raise ValueError("X has a column with no observed value (with positive weight): its mean cannot be "
                         "estimated.")
    return sums / mass


def observed_squares(X, w, mean):
    """Per column: the weighted sum of squared deviations of the observed values from ``mean``."""
    observed = ~np.isnan(X) & (w[:, None] > 0)
    return w @ np.where(observed, (X - mean) ** 2, 0.0)


def incomplete_em(trials, scales, stats_of, max_iterations=1000, tolerance=1e-10):
    """EM for the maximum-likelihood Gaussian of each of several incomplete data sets at once.

    ``trials`` are the starting distributions (changed in place), ``scales`` their data's scales, and
    ``stats_of(active)`` the statistics of each trial whose index is in the list ``active``, on its own
    data, in that order (one pass over the data serves every trial). A trial stops when its parameters change by less than
    ``tolerance`` relative (means against their largest magnitude plus √scale, covariances against the
    scale), so each follows exactly the iterations it would alone. Returns each trial's parameters, or
    None for a trial whose data gave no M-step.
    """
    fitted, active = [None] * len(trials), list(range(len(trials)))
    for _ in range(max_iterations):
        if not active:
            break
        still = []
        for j, stats in zip(active, stats_of(active)):
            new = trials[j]._new_params(stats, 0.0, 0.0)
            if new is None:  # no data (as in the first iteration): the trial gives nothing
                fitted[j] = None
                continue
            old = trials[j]._params
            trials[j]._set_params(new)
            fitted[j] = trials[j]._params
            scale = scales[j]
            change = max(np.max(np.abs(new["means"] - old["means"])) / (np.max(np.abs(old["means"])) + scale ** 0.5),
                         np.max(np.abs(new["covariance"] - old["covariance"])) / scale)
            if change >= tolerance:
                still.append(j)
        active = still
    return fitted


@register
class MultivariateGaussianDistribution(Distribution):
    """A multivariate Gaussian: full covariance by default, or any of the ``covariance_type`` structures.

    Parameters
    ----------
    means : array-like of shape (d,)
        The mean vector.
    covariance : array-like of shape (d, d), (d,) or scalar
        A symmetric positive definite covariance matrix (the variances for 'diag' and 'EEI', one
        variance for 'spherical' and 'EII').
    frozen : bool, default=False
        If True, fitting leaves the parameters unchanged.
    min_covar : float >= 0, default=1e-6, keyword-only
        When a fitted covariance is not numerically positive definite, its eigenvalues are floored at
        ``min_covar`` times its mean variance (``trace / d``) and a :class:`genmix.NumericalWarning` is
        issued; the floor is never below ``(4·eps·max|mean|)²`` nor 1e-150, so data without any spread
        still give a finite density. A covariance that factorises cleanly is never changed, so fits
        equal the exact MLE. ``0`` uses every fitted covariance that can be factorised (a Cholesky factor,
        positive variances) as it is, however ill-conditioned, as scikit-learn does, and turns one that
        cannot into a ``ValueError``.
    covariance_type : str, default='full', keyword-only
        genmix's own. 'full' (a (d, d) matrix), 'diag' ((d,) variances), 'spherical' (one variance), and
        the tied types 'tied' ((d, d)), 'EEI' ((d,)) and 'EII' (one variance), whose components in a
        mixture share one covariance (the M-step pools their within-component scatter); mclust's names
        'VVV', 'EEE', 'VVI', 'VII' are accepted for full, tied, diag and spherical. ``covariance`` has
        the shape of the type; the attribute holds the scikit-learn name.
    reg_covar : float >= 0, default=0.0, keyword-only
        genmix's own: added to the diagonal of every fitted covariance (scikit-learn's ``reg_covar``).
    """

    _options = {"min_covar": 1e-6, "covariance_type": "full", "reg_covar": 0.0}
    _param_names = ("means", "covariance")
    _multivariate = True
    _logpdf = staticmethod(_logpdf)
    _suffstats = staticmethod(_suffstats)
    _mle = staticmethod(_mle)

    def __init__(self, means, covariance, frozen=False, *, min_covar=1e-6, covariance_type="full", reg_covar=0.0):
        self.min_covar = check_scalar(min_covar, "min_covar", _NONNEG, "MultivariateGaussianDistribution")
        self._type = _covariance_type(covariance_type)
        self.covariance_type = self._type.name
        self.reg_covar = check_scalar(reg_covar, "reg_covar", _NONNEG, "MultivariateGaussianDistribution")
        super().__init__({"means": means, "covariance": covariance}, frozen)

    def __setstate__(self, state):  # objects pickled before covariance types existed are full
        state.setdefault("_type", _covariance_type(state.get("covariance_type", "full")))
        state.setdefault("covariance_type", state["_type"].name)
        state.setdefault("reg_covar", 0.0)
        self.__dict__.update(state)

    def _n_free_parameters(self):
        d = self.d
        return d + d * (d + 1) // 2  # the mean and the distinct entries of the symmetric covariance

    def _check_params(self, means, covariance):
        name = type(self).__name__
        try:
            mu = np.array(means, dtype=np.float64)
            cov = np.array(covariance, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"The 'means' and 'covariance' parameters of {name} must be numeric arrays.") from None
        if mu.ndim != 1 or mu.size == 0:
            raise ValueError(f"The 'means' parameter of {name} must be a non-empty 1-D array; got shape {mu.shape}.")
        if not np.all(np.isfinite(mu)):
            raise ValueError(f"The 'means' and 'covariance' parameters of {name} must be finite.")
        return {"means": mu, "covariance": self._type.shape.check(cov, mu.size, name)}

    def _blend(self, estimate, inertia):
        if inertia == 0.0 and isinstance(estimate, _Estimate) and np.all(np.isfinite(estimate["means"])):
            return estimate  # valid by construction (see _Estimate)
        return super()._blend(dict(estimate), inertia)

    def _set_params(self, params):
        root = params.root if isinstance(params, _Estimate) else None
        params = dict(params)
        d = params["means"].size
        factor = self._type.shape.factor(params["covariance"], d, root)
        if self._type.shape is FULL:
            prec, L = factor.prec, factor.root
        else:  # the kernels read (d, d) factors: diagonal ones
            prec, L = np.diag(factor.prec), np.diag(factor.root)
        self._params = params
        self._cache = {"prec_chol": prec, "log_det_prec": factor.log_det_prec, "chol": L}

    def _n_free_parameters(self):
        d = self.d
        return d + self._type.shape.n_parameters(d)

    @classmethod
    def _group_n_parameters(cls, components):
        """A tied covariance counts once among the components that share it."""
        total, tied = 0, {}
        for c in components:
            if c._type.tied:
                tied.setdefault(c.covariance_type, []).append(c)
            else:
                total += c.n_parameters
        for group in tied.values():
            d = group[0].d
            total += len(group) * d + group[0]._type.shape.n_parameters(d)
        return total

    @classmethod
    def _group_new_params(cls, components, stats, inertia, pseudocount, indices=None):
        """Untied components per component; the components of each tied type share one covariance, the
        estimate from their pooled within-component scatter ``(Σ_k w_k, Σ_k m2_k)`` (scikit-learn's tied
        covariance), each keeping its own mean."""
        out = [None] * len(components)
        untied = [j for j, c in enumerate(components) if not c._type.tied]
        if untied:
            new = super()._group_new_params([components[j] for j in untied], [stats[j] for j in untied], inertia,
                                            pseudocount, None if indices is None else [indices[j] for j in untied])
            for j, p in zip(untied, new):
                out[j] = p
        groups = {}
        for j, c in enumerate(components):
            if c._type.tied:
                groups.setdefault(c.covariance_type, []).append(j)
        for members in groups.values():
            first = components[members[0]]
            shape = first._type.shape
            w = sum(float(stats[j].w[0]) for j in members)
            if not w > 0.0:
                continue
            m2 = sum(stats[j].m2[0] for j in members)
            pooled_mean = sum(float(stats[j].w[0]) * stats[j].mean[0] for j in members) / w
            cov = shape.estimate(w, _scatter(shape, m2), first.reg_covar)
            with contextlib.nullcontext() if indices is None else naming_component([indices[j] for j in members]):
                cov, root = _repaired(shape, cov, pooled_mean, first.min_covar)
            for j in members:
                c, s = components[j], stats[j]
                mean = s.mean[0].copy() if float(s.w[0]) > 0.0 else c._params["means"]
                out[j] = c._blend(_estimate(mean, cov, root), inertia)
        return out

    @staticmethod
    def _gather(components):
        return {"means": np.stack([c._params["means"] for c in components]),
                "prec_chol": np.stack([c._cache["prec_chol"] for c in components]),
                "log_det_prec": np.array([c._cache["log_det_prec"] for c in components])}

    @classmethod
    def _feature_term(cls, components):
        """The fused path's term of a stack of Gaussians (see ``genmix._fused``): the full term, for
        diagonal and spherical components the cheaper ``[z, z²]`` term, for tied components sharing one
        precision the ``[z, ‖Cᵀz‖²]`` term; None for a stack mixing diagonal and full shapes."""
        g = cls._gather(components)
        diagonal = [c._type.shape.diagonal for c in components]
        if all(diagonal):
            return _DiagonalTerm(g["means"], np.diagonal(g["prec_chol"], axis1=1, axis2=2), g["log_det_prec"])
        if any(diagonal):  # a stack mixing shapes: the general path
            return None
        chol = g["prec_chol"]
        if all(c._type.tied for c in components) and np.all(chol == chol[0]):  # one shared precision
            return _TiedTerm(g["means"], chol[0], g["log_det_prec"])
        return _GaussianTerm(g["means"], chol, g["log_det_prec"])

    @classmethod
    def _stack_logpdf(cls, X, components):
        """Diagonal and spherical components on complete rows: ``Σ_i ((x_i − μ_i)/σ_i)²`` per component, in
        O(n k d) (centred, so data far from zero keep their precision); the rest through the full kernels."""
        if not all(c._type.shape.diagonal for c in components) or np.isnan(X).any():
            return super()._stack_logpdf(X, components)
        n, d = X.shape
        out = np.empty((n, len(components)))
        for j, c in enumerate(components):
            y = X - c._params["means"]
            y *= np.diag(c._cache["prec_chol"])
            out[:, j] = -0.5 * (d * LOG_2PI + np.einsum("ij,ij->i", y, y)) + c._cache["log_det_prec"]
        return out

    @classmethod
    def _stack_suffstats(cls, X, R, components):
        """Per-coordinate moments (m2 of shape (d,)) for diagonal and spherical components, scatter matrices
        for the others; complete rows of a diagonal-only stack in O(n k d)."""
        if all(c._type.shape.diagonal for c in components) and not np.isnan(X).any():
            stats = moment_stats_diag(X, R)
            return [stats.take(i) for i in range(len(components))]
        out = super()._stack_suffstats(X, R, components)
        return [MomentStats(s.w, s.mean, np.diagonal(s.m2, axis1=1, axis2=2).copy()) if c._type.shape.diagonal
                else s for c, s in zip(components, out)]

    def _fill(self, X):
        """``X`` with each row's missing coordinates replaced by ``E[x_m | x_o]`` (the conditional mean)."""
        X = np.array(X, dtype=np.float64, copy=True)
        missing = _Missing(X, np.isnan(X))
        if missing.rows.size:
            X[missing.rows] = missing.condition(self._params["means"][None], self._cache["prec_chol"][None])[0][0]
        return X

    def _sample_n(self, rng, n):
        z = rng.standard_normal((n, self.d))
        return self._params["means"] + z @ self._cache["chol"].T

    @property
    def d(self):
        """The number of dimensions."""
        return int(self._params["means"].size)

    def fit(self, X, weights=None, inertia=0.0, pseudocount=0.0):
        """Fit by maximum likelihood (blended with ``inertia``); NaN marks a missing value.

        Parameters
        ----------
        X : array-like of shape (n_samples, d)
            The samples.
        weights : array-like of shape (n_samples,), default=None
            Non-negative sample weights (ones if None).
        inertia : float in [0, 1], default=0.0
            New parameters are ``inertia * old + (1 - inertia) * estimate``.
        pseudocount : float >= 0, default=0.0
            Accepted for the common signature; a Gaussian has no counts to smooth, so it is ignored.

        Returns
        -------
        self : MultivariateGaussianDistribution
            The fitted distribution.

        Notes
        -----
        With complete data this is the closed-form weighted MLE. With missing values the MLE has no closed
        form: EM (conditional expectations of the missing coordinates) is iterated from the
        available-case estimate until the parameters change by less than 1e-10 relative (at most 1000
        iterations), which maximises the observed-data likelihood under missing-at-random. A frozen
        distribution is unchanged; if the call raises, the distribution is unchanged.
        """
        inertia, pseudocount = self._check_options(inertia, pseudocount)
        X2, _ = self._check_input(X)
        if self.frozen or not np.isnan(X2).any():
            return super().fit(X2, weights, inertia, pseudocount)
        w = check_weights(weights, X2.shape[0])
        mass, sums = observed_sums(X2, w)
        mean = available_mean(mass, sums)
        trial, scale = self._available_case(mean, observed_squares(X2, w, mean), mass)
        (fitted,) = incomplete_em([trial], [scale], lambda active: [trial._stats_of(X2, w)])
        if fitted is None:
            return self
        self._set_params(self._blend(fitted, inertia))
        return self

    def _available_case(self, mean, squares, mass):
        """A copy of this distribution at the available-case estimate (the observed values' weighted
        means and variances, floored at 1e-6 of their mean), the start of the missing-data EM, and the
        scale its stopping rule measures changes against."""
        var = squares / mass
        scale = float(np.mean(var)) if np.mean(var) > 0 else 1.0
        trial = self.copy()
        covariance = self._type.shape.from_variances(np.maximum(var, 1e-6 * scale))
        trial._set_params({"means": mean, "covariance": covariance})
        return trial, scale

    @classmethod
    def blank(cls, d=2, covariance_type="full"):
        """The standard Gaussian N(0, I) in ``d`` dimensions.

        Parameters
        ----------
        d : int, default=2
            The number of dimensions.
        covariance_type : str, default='full'
            The covariance type (see the class).

        Returns
        -------
        distribution : MultivariateGaussianDistribution
            N(0, I).
        """
        ctype = _covariance_type(covariance_type)
        return cls(np.zeros(d), ctype.shape.identity(d), covariance_type=ctype.name)

    @classmethod
    def _typed(cls, components, weights, covariance_type, **options):
        """Full-covariance components (per-cluster fits) as components of ``covariance_type``: the diagonal
        of each covariance, its mean for spherical ones, and for tied types the weighted average over
        the components (the pooled within-component scatter over the total weight)."""
        ctype = _covariance_type(covariance_type, "GeneralMixtureModel.from_samples")
        covs = [np.asarray(c._params["covariance"]) for c in components]
        if ctype.tied:
            w = np.asarray(weights, dtype=np.float64)
            covs = [sum(wi * c for wi, c in zip(w / w.sum(), covs))] * len(covs)
        variances = [np.diag(c) for c in covs]
        shaped = [c if ctype.shape is FULL else ctype.shape.from_variances(v) for c, v in zip(covs, variances)]
        return [cls(c._params["means"], cov, min_covar=c.min_covar, covariance_type=ctype.name, **options)
                for c, cov in zip(components, shaped)]

    @classmethod
    def from_samples(cls, X, weights=None):
        """The maximum-likelihood Gaussian of weighted rows ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, d)
            The samples; NaN marks a missing value.
        weights : array-like of shape (n_samples,), default=None
            Non-negative sample weights (ones if None).

        Returns
        -------
        distribution : MultivariateGaussianDistribution
            The fitted distribution.
        """
        from ..data import n_columns

        d = n_columns(X)  # checks first that X is rectangular
        if np.shape(X)[0] == 0:  # no rows: nothing tells the dimension, let alone the parameters
            raise ValueError("X must contain at least one sample to learn a MultivariateGaussianDistribution "
                             "from; got an empty array.")
        return cls.blank(d).fit(X, weights)
