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
exact under missing-at-random.
"""
import numpy as np
from scipy import linalg

from .._math import LOG_2PI, cholesky_lower, floor_eigenvalues, precision_cholesky
from .._validation import Interval, check_scalar
from ..data import check_weights
from ..exceptions import NumericalWarning
from ._base import Distribution, register
from ._stats import MomentStats, moment_stats

_NONNEG = Interval(0.0, np.inf, closed="left")
#: An absolute eigenvalue floor under the relative ones, so that data with no (or subnormal) spread
#: still give a factorisable covariance (the univariate families floor the std at 1e-150).
_MIN_VARIANCE = 1e-150


def _patterns(nanmask):
    """Groups of incomplete rows sharing a missingness pattern: ``[(observed_mask, row_indices), ...]``."""
    rows = np.nonzero(nanmask.any(axis=1))[0]
    if rows.size == 0:
        return []
    pats, inverse = np.unique(nanmask[rows], axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    return [(~pats[p], rows[inverse == p]) for p in range(len(pats))]


def _logpdf(X, means, prec_chol, log_det_prec, covariances):
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
    for obs, rows in _patterns(nanmask):
        n_obs = int(obs.sum())
        if n_obs == 0:
            out[rows, :] = 0.0
            continue
        Xo = X[np.ix_(rows, obs)]
        for j in range(k):
            L = linalg.cholesky(covariances[j][np.ix_(obs, obs)], lower=True, check_finite=False)
            z = linalg.solve_triangular(L, (Xo - means[j, obs]).T, lower=True, check_finite=False)
            out[rows, j] = (-0.5 * (n_obs * LOG_2PI + np.einsum("ij,ij->j", z, z))
                            - np.log(np.diag(L)).sum())
    return out


def _suffstats(X, R, means, covariances, **_):
    nanmask = np.isnan(X)
    patterns = _patterns(nanmask)
    if not patterns:
        return moment_stats(X, R)
    k, d = means.shape
    w, mean, m2 = np.empty(k), np.empty((k, d)), np.empty((k, d, d))
    for j in range(k):
        Xj = X.copy()
        correction = np.zeros((d, d))
        for obs, rows in patterns:
            mis = ~obs
            cov = covariances[j]
            if obs.any():
                cho = linalg.cho_factor(cov[np.ix_(obs, obs)], lower=True, check_finite=False)
                A = linalg.cho_solve(cho, cov[np.ix_(obs, mis)], check_finite=False)
                Xj[np.ix_(rows, mis)] = means[j, mis] + (X[np.ix_(rows, obs)] - means[j, obs]) @ A
                cond_cov = cov[np.ix_(mis, mis)] - cov[np.ix_(mis, obs)] @ A
            else:
                Xj[np.ix_(rows, mis)] = means[j, mis]
                cond_cov = cov[np.ix_(mis, mis)]
            correction[np.ix_(mis, mis)] += R[rows, j].sum() * cond_cov
        s = moment_stats(Xj, R[:, j:j + 1])
        w[j], mean[j], m2[j] = s.w[0], s.mean[0], s.m2[0] + correction
    return MomentStats(w, mean, m2)


def _repair_covariance(cov, mean, min_covar):
    """Return ``(cov, repaired)``: ``cov`` if numerically positive definite, else its eigenvalue floor.

    The floor is ``max(min_covar · trace/d, (4·eps·max|mean|)², 1e-150)``: relative to the spread where
    there is one, and for data without spread at the rounding level of the location (as the univariate
    families' standard-deviation floor), never below an absolute 1e-150.
    """
    cov = 0.5 * (cov + cov.T)
    if _is_well_conditioned(cov):
        return cov, False
    scale = np.trace(cov) / cov.shape[0]
    if min_covar == 0.0:
        raise ValueError(
            "The fitted covariance of a MultivariateGaussianDistribution is singular (e.g. fewer points "
            "than dimensions, or collinear columns) and min_covar=0 forbids repairing it. Pass "
            "min_covar > 0 (an eigenvalue floor relative to the mean variance), or use fewer dimensions.")
    rounding = (4.0 * np.finfo(np.float64).eps * np.max(np.abs(mean))) ** 2
    return floor_eigenvalues(cov, max(min_covar * scale, rounding, _MIN_VARIANCE)), True


def _is_well_conditioned(cov):
    L = cholesky_lower(cov)
    if L is None:
        return False
    diag = np.diag(L) ** 2
    return bool(diag.min() > np.finfo(np.float64).eps * cov.shape[0] * diag.max())


def _mle(stats, min_covar=1e-6):
    w = float(stats.w[0])
    if not w > 0.0:
        return None
    cov, repaired = _repair_covariance(stats.m2[0] / w, stats.mean[0], min_covar)
    if repaired:
        import warnings

        warnings.warn("A MultivariateGaussianDistribution's fitted covariance was not numerically positive "
                      f"definite; its eigenvalues were floored at min_covar={min_covar} times the mean "
                      "variance.", NumericalWarning, stacklevel=4)
    return {"means": stats.mean[0].copy(), "covariance": cov}


@register
class MultivariateGaussianDistribution(Distribution):
    """A multivariate Gaussian with full covariance.

    Parameters
    ----------
    means : array-like of shape (d,)
        The mean vector.
    covariance : array-like of shape (d, d)
        A symmetric positive definite covariance matrix.
    frozen : bool, default=False
        If True, fitting leaves the parameters unchanged.
    min_covar : float >= 0, default=1e-6, keyword-only
        When a fitted covariance is not numerically positive definite, its eigenvalues are floored at
        ``min_covar`` times its mean variance (``trace / d``) and a :class:`genmix.NumericalWarning` is
        issued; the floor is never below ``(4·eps·max|mean|)²`` nor 1e-150, so data without any spread
        still give a finite density. A covariance that factorises cleanly is never changed, so fits
        equal the exact MLE. ``0`` turns a singular fit into a ``ValueError``.
    """

    _options = {"min_covar": 1e-6}
    _param_names = ("means", "covariance")
    _multivariate = True
    _logpdf = staticmethod(_logpdf)
    _suffstats = staticmethod(_suffstats)
    _mle = staticmethod(_mle)

    def __init__(self, means, covariance, frozen=False, *, min_covar=1e-6):
        self.min_covar = check_scalar(min_covar, "min_covar", _NONNEG, "MultivariateGaussianDistribution")
        super().__init__({"means": means, "covariance": covariance}, frozen)

    @classmethod
    def _check_params(cls, means, covariance):
        name = cls.__name__
        try:
            mu = np.array(means, dtype=np.float64)
            cov = np.array(covariance, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"The 'means' and 'covariance' parameters of {name} must be numeric arrays.") from None
        if mu.ndim != 1 or mu.size == 0:
            raise ValueError(f"The 'means' parameter of {name} must be a non-empty 1-D array; got shape {mu.shape}.")
        d = mu.size
        if cov.shape != (d, d):
            raise ValueError(f"The 'covariance' parameter of {name} must have shape ({d}, {d}) to match 'means'; "
                             f"got shape {cov.shape}.")
        if not (np.all(np.isfinite(mu)) and np.all(np.isfinite(cov))):
            raise ValueError(f"The 'means' and 'covariance' parameters of {name} must be finite.")
        if not np.allclose(cov, cov.T, rtol=1e-10, atol=1e-12 * np.abs(cov).max()):
            raise ValueError(f"The 'covariance' parameter of {name} must be symmetric.")
        cov = 0.5 * (cov + cov.T)
        L = cholesky_lower(cov)
        if L is None:
            raise ValueError(f"The 'covariance' parameter of {name} must be positive definite (its Cholesky "
                             "factorisation failed): the matrix is not invertible.")
        return {"means": mu, "covariance": cov, "_chol": L}

    def _set_params(self, params):
        params = dict(params)
        L = params.pop("_chol", None)
        L = cholesky_lower(params["covariance"]) if L is None else L
        prec = precision_cholesky(L)
        self._params = params
        self._cache = {"prec_chol": prec, "log_det_prec": float(np.log(np.diag(prec)).sum()), "chol": L}

    @staticmethod
    def _gather(components):
        return {"means": np.stack([c._params["means"] for c in components]),
                "prec_chol": np.stack([c._cache["prec_chol"] for c in components]),
                "log_det_prec": np.array([c._cache["log_det_prec"] for c in components]),
                "covariances": np.stack([c._params["covariance"] for c in components])}

    def _fill(self, X):
        """``X`` with each row's missing coordinates replaced by ``E[x_m | x_o]`` (the conditional mean)."""
        X = np.array(X, dtype=np.float64, copy=True)
        mean, cov = self._params["means"], self._params["covariance"]
        for obs, rows in _patterns(np.isnan(X)):
            mis = ~obs
            if obs.any():
                cho = linalg.cho_factor(cov[np.ix_(obs, obs)], lower=True, check_finite=False)
                A = linalg.cho_solve(cho, cov[np.ix_(obs, mis)], check_finite=False)
                X[np.ix_(rows, mis)] = mean[mis] + (X[np.ix_(rows, obs)] - mean[obs]) @ A
            else:
                X[np.ix_(rows, mis)] = mean[mis]
        return X

    def _sample_n(self, rng, n):
        z = rng.standard_normal((n, self.d))
        return self._params["means"] + z @ self._cache["chol"].T

    @property
    def d(self):
        """The number of dimensions."""
        return int(self._params["means"].size)

    def fit(self, X, weights=None, inertia=0.0):
        """Fit by maximum likelihood (blended with ``inertia``); NaN marks a missing value.

        Parameters
        ----------
        X : array-like of shape (n_samples, d)
            The samples.
        weights : array-like of shape (n_samples,), default=None
            Non-negative sample weights (ones if None).
        inertia : float in [0, 1], default=0.0
            New parameters are ``inertia * old + (1 - inertia) * estimate``.

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
        inertia = check_scalar(inertia, "inertia", Interval(0.0, 1.0), self.name)
        X2, _ = self._check_input(X)
        if self.frozen or not np.isnan(X2).any():
            return super().fit(X2, weights, inertia)
        w = check_weights(weights, X2.shape[0])
        trial = self.copy()
        observed = ~np.isnan(X2) & (w[:, None] > 0)
        if not observed.any(axis=0).all():
            raise ValueError("X has a column with no observed value (with positive weight): its mean cannot be "
                             "estimated.")
        X0 = np.where(observed, X2, 0.0)
        mean = (w @ X0) / (w @ observed)
        var = (w @ np.where(observed, (X2 - mean) ** 2, 0.0)) / (w @ observed)
        scale = float(np.mean(var)) if np.mean(var) > 0 else 1.0
        trial._set_params({"means": mean, "covariance": np.diag(np.maximum(var, 1e-6 * scale))})
        for _ in range(1000):
            new = trial._new_params(trial._stats_of(X2, w), 0.0, 0.0)
            if new is None:
                return self
            old = trial._params
            trial._set_params(new)
            change = max(np.max(np.abs(new["means"] - old["means"])) / (np.max(np.abs(old["means"])) + scale ** 0.5),
                         np.max(np.abs(new["covariance"] - old["covariance"])) / scale)
            if change < 1e-10:
                break
        params = trial._params
        if inertia > 0.0:
            params = self._check_params(**{k: inertia * self._params[k] + (1 - inertia) * params[k] for k in params})
        self._set_params(params)
        return self

    @classmethod
    def blank(cls, d=2):
        """The standard Gaussian N(0, I) in ``d`` dimensions.

        Parameters
        ----------
        d : int, default=2
            The number of dimensions.

        Returns
        -------
        distribution : MultivariateGaussianDistribution
            N(0, I).
        """
        return cls(np.zeros(d), np.eye(d))

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
        d = np.shape(X)[1] if np.ndim(X) == 2 else 1
        return cls.blank(d).fit(X, weights)
