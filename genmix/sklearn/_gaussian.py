"""``GaussianMixture``: scikit-learn's estimator, computed by genmix's core.

The parameters, attributes, methods, stopping rule, initialisations, warnings and error types are
scikit-learn's (1.9); the E-step and M-step are genmix's (the fused E-step, the pooled M-step of tied
covariances, the exact missing-data EM). The EM loop is scikit-learn's: each iteration is an E-step (whose
mean log-likelihood is the lower bound) followed by an M-step, until the lower bound changes by less than
``tol``.
"""
import time
import warnings
from numbers import Integral, Real

import numpy as np
from scipy import linalg
from sklearn import cluster
from sklearn.base import BaseEstimator, DensityMixin, _fit_context
from sklearn.cluster import kmeans_plusplus
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ..distributions import MultivariateGaussianDistribution
from ..distributions._covariance import covariance_type
from ..estep import estep_from_responsibilities
from ..mixture import GeneralMixtureModel
from ..parallel import resolve_n_jobs
from ._base import MixtureEstimatorMixin

__all__ = ["GaussianMixture"]

#: scikit-learn's ``10 * eps`` added to each component's mass in its M-step (see ``GaussianMixture._m_step``)
_ORIGIN_MASS = 10.0 * np.finfo(np.float64).eps
#: scikit-learn's message when a covariance cannot be factorised
_ILL_DEFINED = ("Fitting the mixture model failed because some components have ill-defined empirical covariance "
                "(for instance caused by singleton or collapsed samples). Try to decrease the number of "
                "components, increase reg_covar, or scale the input data.")


def _check_shape(array, shape, name):
    if array.shape != shape:
        raise ValueError(f"The parameter '{name}' should have the shape of {shape}, but got {array.shape}")


def _as_float_array(value, name, ndim_max=2):
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"The parameter '{name}' must be an array of numbers; got {value!r}.") from None
    if array.ndim > ndim_max:
        raise ValueError(f"Found array with dim {array.ndim} for '{name}'. Expected <= {ndim_max}.")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"The parameter '{name}' must not contain NaN or infinity.")
    return array


def _check_precision_matrix(precision, covariance_type):
    if not (np.allclose(precision, precision.T) and np.all(np.linalg.eigvalsh(precision) > 0.0)):
        raise ValueError(f"'{covariance_type} precision' should be symmetric, positive-definite")


def _upper_cholesky_of_precision(precision):
    """``U`` upper triangular with ``U Uᵀ = precision`` (the layout of ``precisions_cholesky_``)."""
    flipped = precision[::-1, ::-1]
    return linalg.cholesky(flipped, lower=True)[::-1, ::-1]


def _precision_cholesky_of_covariance(cov):
    """``P = L⁻ᵀ`` for ``cov = L Lᵀ`` (upper triangular, ``P Pᵀ = cov⁻¹``), or scikit-learn's error."""
    try:
        L = linalg.cholesky(cov, lower=True)
    except linalg.LinAlgError:
        raise ValueError(_ILL_DEFINED) from None
    return linalg.solve_triangular(L, np.eye(cov.shape[0]), lower=True).T


def _covariance_of_precision_cholesky(P):
    """``(P Pᵀ)⁻¹`` through the triangular factor: ``cov = L Lᵀ`` with ``L = P⁻ᵀ``."""
    L = linalg.solve_triangular(P, np.eye(P.shape[0]), lower=False).T
    return L @ L.T


class _Full:
    """One (d, d) covariance per component."""

    name = "full"

    def precision_shape(self, k, d):
        return (k, d, d)

    def check_precisions(self, precisions):
        for p in precisions:
            _check_precision_matrix(p, self.name)

    def per_component(self, covariances, k):
        return [covariances[j] for j in range(k)]

    def stacked(self, covs):
        return np.array(covs)

    def precisions_cholesky(self, covariances):
        return np.array([_precision_cholesky_of_covariance(c) for c in covariances])

    def precisions_cholesky_of_precisions(self, precisions):
        return np.array([_upper_cholesky_of_precision(p) for p in precisions])

    def covariances_of_precisions_cholesky(self, prec_chol):
        return np.array([_covariance_of_precision_cholesky(P) for P in prec_chol])

    def precisions(self, prec_chol):
        return np.einsum("kij,klj->kil", prec_chol, prec_chol)

    def sample(self, rng, means, covariances, counts):
        return [rng.multivariate_normal(m, c, int(n)) for m, c, n in zip(means, covariances, counts)]


class _Tied(_Full):
    """One (d, d) covariance shared by all components."""

    name = "tied"

    def precision_shape(self, k, d):
        return (d, d)

    def check_precisions(self, precisions):
        _check_precision_matrix(precisions, self.name)

    def per_component(self, covariances, k):
        return [covariances] * k

    def stacked(self, covs):
        return np.array(covs[0])

    def precisions_cholesky(self, covariances):
        return _precision_cholesky_of_covariance(covariances)

    def precisions_cholesky_of_precisions(self, precisions):
        return _upper_cholesky_of_precision(precisions)

    def covariances_of_precisions_cholesky(self, prec_chol):
        return _covariance_of_precision_cholesky(prec_chol)

    def precisions(self, prec_chol):
        return prec_chol @ prec_chol.T

    def sample(self, rng, means, covariances, counts):
        return [rng.multivariate_normal(m, covariances, int(n)) for m, n in zip(means, counts)]


class _Diagonal:
    """Per component a vector of variances (``diag``); ``spherical`` is one variance per component."""

    name = "diag"

    def precision_shape(self, k, d):
        return (k, d)

    def check_precisions(self, precisions):
        if np.any(precisions <= 0.0):
            raise ValueError(f"'{self.name} precision' should be positive")

    def per_component(self, covariances, k):
        return [covariances[j] for j in range(k)]

    def stacked(self, covs):
        return np.array(covs, dtype=np.float64)

    def precisions_cholesky(self, covariances):
        if np.any(covariances <= 0.0):
            raise ValueError(_ILL_DEFINED)
        return 1.0 / np.sqrt(covariances)

    def precisions_cholesky_of_precisions(self, precisions):
        return np.sqrt(precisions)

    def covariances_of_precisions_cholesky(self, prec_chol):
        return 1.0 / prec_chol ** 2

    def precisions(self, prec_chol):
        return prec_chol ** 2

    def sample(self, rng, means, covariances, counts):
        d = means.shape[1]
        return [m + rng.standard_normal(size=(int(n), d)) * np.sqrt(c) for m, c, n in zip(means, covariances, counts)]


class _Spherical(_Diagonal):
    name = "spherical"

    def precision_shape(self, k, d):
        return (k,)


_COVARIANCES = {"full": _Full(), "tied": _Tied(), "diag": _Diagonal(), "spherical": _Spherical()}


class GaussianMixture(MixtureEstimatorMixin, DensityMixin, BaseEstimator):
    """Gaussian mixture: scikit-learn's ``GaussianMixture`` computed by genmix.

    The same parameters, defaults, fitted attributes, methods and results (from the same starting point)
    as ``sklearn.mixture.GaussianMixture`` (scikit-learn 1.9), so that a script runs unchanged after
    ``from genmix.sklearn import GaussianMixture``. Beyond scikit-learn: ``fit(X, y=None, *,
    sample_weight=None)``, missing values (NaN) in ``X`` (exact EM under missing-at-random; ``score_samples``
    is then the density of the observed coordinates) and ``n_jobs``.

    Parameters
    ----------
    n_components : int, default=1
        The number of mixture components.
    covariance_type : {'full', 'tied', 'diag', 'spherical'}, default='full'
        'full': each component its own covariance matrix; 'tied': one covariance matrix shared by all;
        'diag': each component its own diagonal covariance; 'spherical': each component its own variance.
    tol : float >= 0, default=1e-3
        Training stops when the lower bound (the mean per-sample log-likelihood, weighted by
        ``sample_weight``) changes by less than ``tol`` between iterations.
    reg_covar : float >= 0, default=1e-6
        Added to the diagonal of every covariance estimate, so that they stay positive definite.
    max_iter : int >= 0, default=100
        The number of EM iterations per initialisation.
    n_init : int >= 1, default=1
        The number of initialisations; the one with the largest lower bound is kept.
    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data'}, default='kmeans'
        The initial responsibilities: the labels of ``sklearn.cluster.KMeans(n_init=1)``; one-hot rows at
        the centres of ``sklearn.cluster.kmeans_plusplus``; uniform random rows, normalised; or one-hot
        rows at ``n_components`` rows chosen at random. (With missing values, the initialisation sees
        each missing value replaced by its column's mean.)
    weights_init : array-like of shape (n_components,), default=None
        Initial weights (else from the initial responsibilities).
    means_init : array-like of shape (n_components, n_features), default=None
        Initial means (else from the initial responsibilities).
    precisions_init : array-like, default=None
        Initial precisions (inverse covariances), of shape (n_components, n_features, n_features) for
        'full', (n_features, n_features) for 'tied', (n_components, n_features) for 'diag' and
        (n_components,) for 'spherical' (else from the initial responsibilities).
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation (and ``sample``), as in scikit-learn.
    warm_start : bool, default=False
        If True, each ``fit`` continues from the previous solution (``n_init`` is then ignored after the
        first).
    verbose : int, default=0
        0 silent, 1 the current initialisation and iteration, 2 also timings and the lower bound.
    verbose_interval : int >= 1, default=10
        Iterations between messages.
    n_jobs : int, default=1
        genmix's own: threads over row chunks in the E-step (-1: all cores).
    decay, offset : float, default=0.6, 2.0
        genmix's own: the step sizes ``η_t = (t + offset)^(−decay)`` of :meth:`partial_fit` (stepwise EM;
        see :meth:`genmix.GeneralMixtureModel.partial_fit`); ``decay`` in (0.5, 1], ``offset >= 1``.

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
    means_ : ndarray of shape (n_components, n_features)
    covariances_ : ndarray
        Shaped by ``covariance_type`` as ``precisions_init``.
    precisions_ : ndarray
        The inverses of ``covariances_``.
    precisions_cholesky_ : ndarray
        Upper-triangular ``U`` with ``U Uᵀ = precision`` ('full', 'tied'); ``sqrt(precisions_)`` otherwise.
    converged_ : bool
    n_iter_ : int
        Iterations of the best initialisation.
    lower_bound_ : float
        The lower bound (mean log-likelihood) of the best initialisation.
    lower_bounds_ : list of float
        The lower bound after each iteration of the best initialisation.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined when ``X`` has string column names.
    model_ : genmix.GeneralMixtureModel
        genmix's own: the fitted core model (MultivariateGaussianDistribution components).

    Examples
    --------
    >>> import numpy as np
    >>> from genmix.sklearn import GaussianMixture
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]])
    >>> gm = GaussianMixture(n_components=2, random_state=0).fit(X)
    >>> gm.means_
    array([[10.,  2.],
           [ 1.,  2.]])
    >>> gm.predict([[0, 0], [12, 3]])
    array([1, 0])
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "covariance_type": [StrOptions({"full", "tied", "diag", "spherical"})],
        "tol": [Interval(Real, 0.0, None, closed="left")],
        "reg_covar": [Interval(Real, 0.0, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "init_params": [StrOptions({"kmeans", "random", "random_from_data", "k-means++"})],
        "weights_init": ["array-like", None],
        "means_init": ["array-like", None],
        "precisions_init": ["array-like", None],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "verbose_interval": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [Integral],
        "decay": [Interval(Real, 0.5, 1.0, closed="right")],
        "offset": [Interval(Real, 1.0, None, closed="left")],
    }

    def __init__(self, n_components=1, *, covariance_type="full", tol=1e-3, reg_covar=1e-6, max_iter=100,
                 n_init=1, init_params="kmeans", weights_init=None, means_init=None, precisions_init=None,
                 random_state=None, warm_start=False, verbose=0, verbose_interval=10, n_jobs=1, decay=0.6,
                 offset=2.0):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weights_init = weights_init
        self.means_init = means_init
        self.precisions_init = precisions_init
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval
        self.n_jobs = n_jobs
        self.decay = decay
        self.offset = offset

    # -- fitting ------------------------------------------------------------------------------------------
    def fit(self, X, y=None, *, sample_weight=None):
        """Estimate the parameters with the EM algorithm (``n_init`` initialisations, the best kept).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The data; NaN marks a missing value (genmix's own).
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None, keyword-only
            Non-negative weights (replication counts); genmix's own.

        Returns
        -------
        self : GaussianMixture
            The fitted estimator.
        """
        self.fit_predict(X, y, sample_weight=sample_weight)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_predict(self, X, y=None, *, sample_weight=None):
        """Fit as :meth:`fit`, then return the most probable component of each row of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples; NaN marks a missing value.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None, keyword-only
            Non-negative weights of the samples (genmix's own; None: all 1).

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            The index of each sample's most probable component under the fitted model.
        """
        return self._keeping_fitted_state(self._fit, X, sample_weight)

    def _fit(self, X, sample_weight):
        fitted = hasattr(self, "converged_")
        X = validate_data(self, X, dtype=[np.float64, np.float32], ensure_min_samples=2,
                          ensure_all_finite="allow-nan", reset=not (self.warm_start and fitted))
        self._check_enough_rows(X.shape[0])
        X = np.ascontiguousarray(X, dtype=np.float64)
        w = self._check_sample_weight(sample_weight, X.shape[0])
        init = self._check_initial_parameters(X.shape[1])
        n_jobs = resolve_n_jobs(self.n_jobs, type(self).__name__)
        cov = _COVARIANCES[self.covariance_type]

        do_init = not (self.warm_start and fitted)
        n_init = self.n_init if do_init else 1
        random_state = check_random_state(self.random_state)
        total = float(w.sum())
        best = None
        for i in range(n_init):
            self._print_verbose_msg_init_beg(i)
            offset = 0.0
            if do_init:
                model, offset = self._initial_model(X, w, random_state, init, cov)
                lower_bound = -np.inf
            else:
                model = self.model_.copy()
                lower_bound = self.lower_bound_
            bounds, converged, n_iter = [], False, 0
            for n_iter in range(1, self.max_iter + 1):
                previous = lower_bound
                result = model._estep(X, w, None, n_jobs)
                self._m_step(model, result)
                lower_bound = result.log_likelihood / total + (offset if n_iter == 1 else 0.0)
                bounds.append(lower_bound)
                change = lower_bound - previous
                self._print_verbose_msg_iter_end(n_iter, change)
                if abs(change) < self.tol:
                    converged = True
                    break
            if self.max_iter > 0:
                self._print_verbose_msg_init_end(lower_bound, converged)
            if best is None or self.max_iter == 0 or lower_bound > best[1] or best[1] == -np.inf:
                best = (model, lower_bound if self.max_iter > 0 else -np.inf, bounds, n_iter, converged)

        model, lower_bound, bounds, n_iter, converged = best
        if not converged and self.max_iter > 0:
            warnings.warn("Best performing initialization did not converge. Try different init parameters, or "
                          "increase max_iter, tol, or check for degenerate data.", ConvergenceWarning)
        self._set_model(model, cov)
        self.converged_ = converged
        self.n_iter_ = n_iter
        self.lower_bound_ = lower_bound
        self.lower_bounds_ = bounds
        # the final E-step: fit_predict(X) equals fit(X).predict(X) for any max_iter and tol
        return model.predict(X, n_jobs=n_jobs)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None, *, sample_weight=None):
        """One step of stepwise (online) EM on a batch (genmix's own).

        The first call initialises from its batch as :meth:`fit` would (``init_params``, ``weights_init``,
        ``means_init``, ``precisions_init``, ``random_state``) and takes the first step; every call is then
        an E-step on its batch and an M-step from running statistics that decay with step sizes
        ``(t + offset)^(−decay)`` (see :meth:`genmix.GeneralMixtureModel.partial_fit`). ``fit`` starts over.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A batch; NaN marks a missing value.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None, keyword-only
            Non-negative weights of the samples (genmix's own; None: all 1).

        Returns
        -------
        self : GaussianMixture
            ``n_iter_`` counts the steps since the start of the schedule; ``lower_bound_`` is the batch's
            mean log-likelihood before its step and ``lower_bounds_`` those of every call since the first;
            ``converged_`` is False (no stopping rule applies).
        """
        return self._keeping_fitted_state(self._partial_fit, X, sample_weight)

    def _partial_fit(self, X, sample_weight):
        first = not hasattr(self, "model_")
        X = validate_data(self, X, dtype=[np.float64, np.float32], ensure_all_finite="allow-nan", reset=first,
                          ensure_min_samples=2 if first else 1)
        X = np.ascontiguousarray(X, dtype=np.float64)
        w = self._check_sample_weight(sample_weight, X.shape[0])
        cov = _COVARIANCES[self.covariance_type]
        if first:
            self._check_enough_rows(X.shape[0])
            init = self._check_initial_parameters(X.shape[1])
            model, _ = self._initial_model(X, w, check_random_state(self.random_state), init, cov)
        else:
            model = self.model_.copy()
        try:
            model.partial_fit(X, w, decay=self.decay, offset=self.offset, n_jobs=resolve_n_jobs(self.n_jobs))
        except ValueError as exc:
            if "covariance" in str(exc) or "singular" in str(exc):
                raise ValueError(_ILL_DEFINED) from exc
            raise
        self._set_model(model, cov)
        self._record_step(model)
        self.lower_bounds_ = ([] if first else list(self.lower_bounds_)) + [self.lower_bound_]
        return self

    def _m_step(self, model, result):
        """The core's M-step from an E-step's result, as scikit-learn's estimator (and its error for a
        singular covariance).

        scikit-learn divides by ``nk + 10 eps`` instead of ``nk``. For 'tied', 'diag' and 'spherical'
        (raw-moment formulas) that is exactly the maximum-likelihood estimate with a point of mass ``10 eps``
        at the origin added to every component, which is how it is done here. It matters only where a
        component is degenerate: an empty component becomes ``N(0, reg_covar)``, and one collapsed onto a
        single point away from the origin keeps a variance of order ``eps`` where the exact estimate is 0
        — so the same fits fail and succeed as in scikit-learn. Its 'full' formula is centred, which the
        extra point would not be (its scatter ``10 eps μμᵀ`` is visible beside a covariance of
        ``reg_covar``): there the point is added to empty components only, the others differing from
        scikit-learn by a relative ``10 eps / nk``."""
        model.add_summaries(result)
        mass = np.full((1, model.n), _ORIGIN_MASS)
        if self.covariance_type == "full":
            mass[0, result.resp_sum > 0] = 0.0
        model.add_summaries(estep_from_responsibilities(model.distributions, np.zeros((1, model.d)), mass))
        try:
            model.from_summaries()
        except ValueError as exc:
            raise ValueError(_ILL_DEFINED) from exc

    def _check_initial_parameters(self, d):
        """``(weights, means, precisions)`` given by the user (validated with scikit-learn's messages)."""
        k = self.n_components
        weights = means = precisions = None
        if self.weights_init is not None:
            weights = _as_float_array(self.weights_init, "weights")
            _check_shape(weights, (k,), "weights")
            if np.any(weights < 0.0) or np.any(weights > 1.0):
                # scikit-learn's text, which prints the minimum as "max value" (kept so that code and tests
                # matching its message keep working)
                raise ValueError("The parameter 'weights' should be in the range [0, 1], but got max value "
                                 f"{np.min(weights):.5f}, min value {np.max(weights):.5f}")
            if not abs(1.0 - np.sum(weights)) <= 1e-8:
                raise ValueError("The parameter 'weights' should be normalized, but got sum(weights) = "
                                 f"{np.sum(weights):.5f}")
        if self.means_init is not None:
            means = _as_float_array(self.means_init, "means")
            _check_shape(means, (k, d), "means")
        if self.precisions_init is not None:
            cov = _COVARIANCES[self.covariance_type]
            precisions = _as_float_array(self.precisions_init, f"{self.covariance_type} precision",
                                         3 if self.covariance_type == "full" else 2)
            _check_shape(precisions, cov.precision_shape(k, d), f"{self.covariance_type} precision")
            cov.check_precisions(precisions)
        return weights, means, precisions

    def _initial_resp(self, X, w, random_state):
        """scikit-learn's initial responsibilities for ``init_params`` (missing values at column means)."""
        n, k = X.shape[0], self.n_components
        with np.errstate(over="ignore", invalid="ignore"):
            maybe_missing = np.isnan(np.sum(X))  # one pass, no (n, d) mask for complete data (X is finite or NaN)
        missing = np.isnan(X) if maybe_missing else None
        if missing is not None and missing.any():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # an all-missing column has no mean
                means = np.nanmean(X, axis=0)
            X = np.where(missing, np.where(np.isnan(means), 0.0, means), X)
        weighted = None if np.all(w == 1.0) else w
        resp = np.zeros((n, k))
        if self.init_params == "kmeans":
            labels = cluster.KMeans(n_clusters=k, n_init=1, random_state=random_state).fit(
                X, sample_weight=weighted).labels_
            resp[np.arange(n), labels] = 1.0
        elif self.init_params == "random":
            resp = random_state.uniform(size=(n, k))
            resp /= resp.sum(axis=1)[:, np.newaxis]
        elif self.init_params == "random_from_data":
            resp[random_state.choice(n, size=k, replace=False), np.arange(k)] = 1.0
        else:  # 'k-means++'
            _, indices = kmeans_plusplus(X, k, random_state=random_state, sample_weight=weighted)
            resp[indices, np.arange(k)] = 1.0
        return resp

    def _initial_model(self, X, w, random_state, init, cov):
        """``(model, offset)``: the core model at the start of EM, an M-step from the initial
        responsibilities overridden by ``weights_init``, ``means_init`` and ``precisions_init`` (as
        scikit-learn does), and the amount scikit-learn's first lower bound differs by (see below)."""
        weights, means, precisions = init
        d, k = X.shape[1], self.n_components
        identity = covariance_type(self.covariance_type).shape.identity(d)
        model = GeneralMixtureModel([self._component(np.zeros(d), identity) for _ in range(k)])
        offset = 0.0
        if weights is None or means is None or precisions is None:
            resp = self._initial_resp(X, w, random_state)
            result = estep_from_responsibilities(model.distributions, X, resp, w, n_jobs=resolve_n_jobs(self.n_jobs))
            if weights is None:
                # scikit-learn starts from weights resp.sum(0) / n, which sum to k / n for the one-hot rows of
                # 'k-means++' and 'random_from_data': its first lower bound is then log(k / n) lower (the
                # responsibilities are not affected). The core normalises; the offset reproduces the bound.
                offset = float(np.log(result.resp_sum.sum() / w.sum()))
            self._m_step(model, result)
            if cov.name == "tied" and not np.all(np.isclose(resp.sum(axis=1), 1.0)) and not np.isnan(X).any():
                model = self._tied_start_over_all_rows(model, X, w, result.resp_sum)
        if weights is None and means is None and precisions is None:
            return model, offset
        current = [c.parameters for c in model.distributions]
        means = np.array([p[0] for p in current]) if means is None else means
        if precisions is None:
            covariances = [p[1] for p in current]
        else:
            covariances = cov.per_component(cov.covariances_of_precisions_cholesky(
                cov.precisions_cholesky_of_precisions(precisions)), k)
        return GeneralMixtureModel([self._component(m, c) for m, c in zip(means, covariances)],
                                   model.weights if weights is None else weights), offset

    def _tied_start_over_all_rows(self, model, X, w, nk):
        """scikit-learn's tied covariance from responsibilities that leave rows out ('k-means++' and
        'random_from_data' mark one row per component): its formula ``(Xᵀ X − Σ_k nk μ_k μ_kᵀ) / Σ nk`` runs
        over every row, so the start is wider than the scatter of the marked rows; reproduced so that the
        same seed gives the same fit."""
        means = np.array([c.parameters[0] for c in model.distributions])
        scatter = X.T @ (X * w[:, None]) - (nk[:, None] * means).T @ means
        shared = scatter / nk.sum() + self.reg_covar * np.eye(X.shape[1])
        return GeneralMixtureModel([self._component(m, shared) for m in means], model.weights)

    def _component(self, mean, covariance):
        return MultivariateGaussianDistribution(mean, covariance, min_covar=0.0,
                                                covariance_type=self.covariance_type, reg_covar=self.reg_covar)

    def _set_model(self, model, cov):
        """The fitted attributes from the core model."""
        params = [c.parameters for c in model.distributions]
        self.model_ = model
        self.weights_ = np.array(model.weights, dtype=np.float64)
        self.means_ = np.array([p[0] for p in params], dtype=np.float64)
        self.covariances_ = cov.stacked([p[1] for p in params])
        self.precisions_cholesky_ = cov.precisions_cholesky(self.covariances_)
        self.precisions_ = cov.precisions(self.precisions_cholesky_)

    # -- evaluation ---------------------------------------------------------------------------------------
    def _validated(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan")
        return np.ascontiguousarray(X, dtype=np.float64)

    def sample(self, n_samples=1):
        """Draw samples from the fitted mixture (seeded by ``random_state``, as scikit-learn).

        Parameters
        ----------
        n_samples : int >= 1, default=1
            How many samples to draw.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            The samples, grouped by component.
        y : ndarray of shape (n_samples,)
            The component of each sample.
        """
        check_is_fitted(self)
        self._check_n_samples(n_samples)
        rng = check_random_state(self.random_state)
        counts = rng.multinomial(n_samples, self.weights_)
        parts = _COVARIANCES[self.covariance_type].sample(rng, self.means_, self.covariances_, counts)
        y = np.concatenate([np.full(int(c), j, dtype=np.int64) for j, c in enumerate(counts)])
        return np.vstack(parts), y

    def _n_parameters(self):
        """The number of free parameters (means, covariances by type, weights): the core model's count."""
        return self.model_.n_parameters

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # genmix's exact missing-data EM
        return tags

    # -- scikit-learn's progress messages ---------------------------------------------------------------
    def _print_verbose_msg_init_beg(self, n_init):
        if self.verbose >= 1:
            print("Initialization %d" % n_init)
        if self.verbose >= 2:
            self._init_prev_time = self._iter_prev_time = time.time()

    def _print_verbose_msg_iter_end(self, n_iter, diff_ll):
        if n_iter % self.verbose_interval == 0:
            if self.verbose == 1:
                print("  Iteration %d" % n_iter)
            elif self.verbose >= 2:
                now = time.time()
                print("  Iteration %d\t time lapse %.5fs\t ll change %.5f" % (n_iter, now - self._iter_prev_time,
                                                                            diff_ll))
                self._iter_prev_time = now

    def _print_verbose_msg_init_end(self, lb, converged):
        message = "converged" if converged else "did not converge"
        if self.verbose == 1:
            print(f"Initialization {message}.")
        elif self.verbose >= 2:
            print(f"Initialization {message}. time lapse {time.time() - self._init_prev_time:.5f}s\t lower bound "
                  f"{lb:.5f}.")
