"""``GeneralMixture``: a scikit-learn estimator for a mixture of any genmix family."""
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, DensityMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ..data import is_frame
from ..distributions import (BernoulliDistribution, DiscreteDistribution, Distribution, ExponentialDistribution,
                             GammaDistribution, LogNormalDistribution, MultivariateGaussianDistribution,
                             NormalDistribution, PoissonDistribution)
from ..mixture import GeneralMixtureModel
from ._base import MixtureEstimatorMixin

__all__ = ["GeneralMixture"]

#: the families a string names
FAMILIES = {"normal": NormalDistribution, "lognormal": LogNormalDistribution, "exponential": ExponentialDistribution,
            "gamma": GammaDistribution, "poisson": PoissonDistribution, "bernoulli": BernoulliDistribution,
            "categorical": DiscreteDistribution, "mvn": MultivariateGaussianDistribution}


def _family(value, where):
    if isinstance(value, str):
        try:
            return FAMILIES[value.lower()]
        except KeyError:
            raise ValueError(f"The 'distributions' parameter of GeneralMixture{where} must be a genmix distribution "
                             f"class or one of {sorted(FAMILIES)}; got {value!r}.") from None
    if isinstance(value, type) and (issubclass(value, Distribution) or hasattr(value, "from_samples")):
        return value
    raise TypeError(f"The 'distributions' parameter of GeneralMixture{where} must be a distribution class or a "
                    f"family name; got {value!r}.")


def _auto_family(column):
    """The family 'auto' picks for a column: categories for non-numeric (or boolean) values, Poisson for
    non-negative integers, Normal otherwise."""
    kind = np.asarray(column).dtype.kind if not hasattr(column, "dtype") or column.dtype.kind != "O" else "O"
    if getattr(column, "dtype", None) is not None and str(column.dtype) == "category":
        return DiscreteDistribution
    if kind in "OSUb":
        return DiscreteDistribution
    if kind in "iu":
        values = np.asarray(column)
        return PoissonDistribution if values.size and values.min() >= 0 else NormalDistribution
    return NormalDistribution


class GeneralMixture(MixtureEstimatorMixin, DensityMixin, BaseEstimator):
    """A mixture of any genmix family as a scikit-learn estimator (``Pipeline``, ``GridSearchCV``, ``clone``).

    Fitted by :meth:`genmix.GeneralMixtureModel.from_samples` (k-means seeding, per-cluster fits, EM).

    Parameters
    ----------
    distributions : class, str, list of classes/str, or 'auto', default=NormalDistribution
        A genmix distribution class (or a user-defined class with ``from_samples``), a family name
        ('normal', 'lognormal', 'exponential', 'gamma', 'poisson', 'bernoulli', 'categorical', 'mvn'), a
        list of one class or name per column, or 'auto': per column, categories for non-numeric, boolean
        or pandas categorical values, Poisson for non-negative integers, Normal otherwise. A univariate
        family on multivariate data models the columns as independent.
    n_components : int >= 1, default=1
        The number of components.
    init : {'kmeans++', 'first-k', 'random', 'kmeans||', 'hierarchical'}, default='kmeans++'
        The k-means seeding of :meth:`~genmix.GeneralMixtureModel.from_samples`.
    n_init : int >= 1, default=1
        Initialisations; the one with the best log-likelihood is kept.
    max_iter : int >= 0, default=100
        EM iterations (M-steps) at most.
    tol : float >= 0, default=1e-3
        Training stops when an iteration improves the mean per-sample log-likelihood (weighted by
        ``sample_weight``) by no more than ``tol``.
    max_kmeans_iterations : int >= 0, default=10
        Lloyd iterations of the initial k-means.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation and ``sample``.
    n_jobs : int, default=1
        Threads over row chunks (-1: all cores).
    decay, offset : float, default=0.6, 2.0
        The step sizes ``(t + offset)^(−decay)`` of :meth:`partial_fit`; ``decay`` in (0.5, 1], ``offset >= 1``.

    Attributes
    ----------
    model_ : genmix.GeneralMixtureModel
        The fitted core model.
    weights_ : ndarray of shape (n_components,)
    converged_ : bool
        Whether the last iteration improved by no more than ``tol`` (rather than reaching ``max_iter``).
    n_iter_ : int
        EM iterations run.
    lower_bound_ : float
        The mean log-likelihood of the training data under the fitted model.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Defined when ``X`` has string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from genmix.sklearn import GeneralMixture
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.exponential(1.0, 500), rng.exponential(10.0, 500)])[:, None]
    >>> gm = GeneralMixture("exponential", n_components=2, random_state=0).fit(X)
    >>> sorted(np.round(1 / np.array([c.parameters[0] for c in gm.model_.distributions]), 0))
    [1.0, 10.0]
    """

    _parameter_constraints: dict = {
        "distributions": [type, str, list, tuple],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "init": [StrOptions({"kmeans++", "first-k", "random", "kmeans||", "hierarchical"})],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "tol": [Interval(Real, 0.0, None, closed="left")],
        "max_kmeans_iterations": [Interval(Integral, 0, None, closed="left")],
        "random_state": ["random_state"],
        "n_jobs": [Integral],
        "decay": [Interval(Real, 0.5, 1.0, closed="right")],
        "offset": [Interval(Real, 1.0, None, closed="left")],
    }

    def __init__(self, distributions=NormalDistribution, n_components=1, *, init="kmeans++", n_init=1, max_iter=100,
                 tol=1e-3, max_kmeans_iterations=10, random_state=None, n_jobs=1, decay=0.6, offset=2.0):
        self.distributions = distributions
        self.n_components = n_components
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.max_kmeans_iterations = max_kmeans_iterations
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.decay = decay
        self.offset = offset

    def _families(self, X_original, d):
        """The ``distributions`` argument of ``from_samples``: one class, or one per column."""
        spec = self.distributions
        if isinstance(spec, str) and spec == "auto":
            if is_frame(X_original):
                return [_auto_family(X_original.iloc[:, j]) for j in range(d)]
            return [_auto_family(np.asarray(X_original)[:, j]) for j in range(d)] if d > 1 else \
                _auto_family(np.asarray(X_original).ravel())
        if isinstance(spec, (list, tuple)):
            if len(spec) != d:
                raise ValueError(f"The 'distributions' parameter of GeneralMixture holds {len(spec)} families but X "
                                 f"has {d} columns: give one per column.")
            return [_family(s, f" (column {j})") for j, s in enumerate(spec)]
        return _family(spec, "")

    def _checked_rows(self, X, reset):
        """The rows as the core reads them: numbers as float64, or an object array for categories."""
        if is_frame(X) and not all(kind in "biuf" for kind in X.dtypes.map(lambda t: t.kind)):
            validate_data(self, X, reset=reset, skip_check_array=True)  # names and width only
            if reset and len(X) < 2:
                raise ValueError(f"Found array with {len(X)} sample(s) while a minimum of 2 is required.")
            X = X.to_numpy(dtype=object)  # categories as their values, missing ones as NaN/None
        else:
            X = validate_data(self, X, reset=reset, dtype=None, ensure_all_finite="allow-nan",
                              ensure_min_samples=2 if reset else 1)
        if X.dtype.kind in "biuf":
            return np.ascontiguousarray(X, dtype=np.float64)
        return X

    def _validated(self, X):
        check_is_fitted(self)
        return self._checked_rows(X, reset=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, *, sample_weight=None):
        """Fit the mixture (k-means seeding, per-cluster fits, then EM).

        Parameters
        ----------
        X : array-like or pandas DataFrame of shape (n_samples, n_features)
            The data; NaN (or None in a categorical column) marks a missing value.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None, keyword-only
            Non-negative sample weights.

        Returns
        -------
        self : GeneralMixture
            The fitted estimator.
        """
        self._keeping_fitted_state(self._fit, X, sample_weight)
        return self

    def _fit(self, X, sample_weight):
        original = X
        rows = self._checked_rows(X, reset=True)
        n, d = rows.shape
        self._check_enough_rows(n)
        w = self._check_sample_weight(sample_weight, n)
        families = self._families(original, d)
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        model, history = GeneralMixtureModel.from_samples(
            families, self.n_components, rows, weights=w, n_init=self.n_init, init=self.init,
            max_kmeans_iterations=self.max_kmeans_iterations, stop_threshold=self.tol * float(w.sum()),
            max_iterations=self.max_iter, return_history=True, n_jobs=self.n_jobs, random_state=seed)
        self.model_ = model
        self.weights_ = np.array(model.weights, dtype=np.float64)
        self.n_iter_ = len(history.epochs)
        improvements = history.improvements
        self.converged_ = bool(improvements) and improvements[-1] <= self.tol * float(w.sum())
        total = history.log_probabilities[-1] if history.log_probabilities else history.initial_log_probability
        self.lower_bound_ = float(total) / float(w.sum())
        if not self.converged_ and self.max_iter > 0:
            warnings.warn("The EM fit did not converge: increase max_iter or tol.", ConvergenceWarning)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None, *, sample_weight=None):
        """One step of stepwise (online) EM on a batch.

        The first call initialises from its batch as :meth:`fit` does (k-means seeding and per-cluster
        fits, no EM) and takes the first step; every call is then
        :meth:`genmix.GeneralMixtureModel.partial_fit` with step sizes ``(t + offset)^(−decay)``.

        Parameters
        ----------
        X : array-like or pandas DataFrame of shape (n_samples, n_features)
            A batch.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None, keyword-only
            Non-negative weights of the samples (genmix's own; None: all 1).

        Returns
        -------
        self : GeneralMixture
            ``n_iter_`` counts the steps; ``lower_bound_`` is the batch's mean log-likelihood before its
            step; ``converged_`` is False.
        """
        self._keeping_fitted_state(self._partial_fit, X, sample_weight)
        return self

    def _partial_fit(self, X, sample_weight):
        first = not hasattr(self, "model_")
        original = X
        rows = self._checked_rows(X, reset=first)
        w = self._check_sample_weight(sample_weight, rows.shape[0])
        if first:
            self._check_enough_rows(rows.shape[0])
            seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
            model = GeneralMixtureModel.from_samples(
                self._families(original, rows.shape[1]), self.n_components, rows, weights=w, init=self.init,
                max_kmeans_iterations=self.max_kmeans_iterations, max_iterations=0, random_state=seed)
        else:
            model = self.model_.copy()
        model.partial_fit(rows, w, decay=self.decay, offset=self.offset, n_jobs=self.n_jobs)
        self.model_ = model
        self.weights_ = np.array(model.weights, dtype=np.float64)
        self._record_step(model)

    def sample(self, n_samples=1):
        """Draw samples from the fitted mixture (seeded by ``random_state``).

        Parameters
        ----------
        n_samples : int >= 1, default=1
            How many samples to draw.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            The samples (an object array when a column is categorical).
        """
        check_is_fitted(self)
        self._check_n_samples(n_samples)
        out = self.model_.sample(n_samples, random_state=check_random_state(self.random_state).randint(2 ** 31 - 1))
        return np.asarray(out).reshape(n_samples, -1)

    def _n_parameters(self):
        return self.model_.n_parameters

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        return tags
