"""The thin object around a family's pure kernels, and the stacked evaluation used by mixtures.

A family module defines module-level kernels and a subclass of :class:`Distribution` that declares:

``_param_names``
    the names of its parameters, in pomegranate 0.x's order (``parameters`` lists them in that order);
``_check_params(**params) -> dict``
    validate and normalise parameter values (raises ``ValueError``/``TypeError``);
``_scalar_params``
    instead of both, for families whose parameters are independent real numbers: ``{name: Interval}``
    in pomegranate's order, which sets ``_param_names`` and validates each with ``check_scalar``;
``_gather(components) -> dict``
    the parameters of several components stacked on a leading axis (plus derived caches);
``_logpdf(X, **stacked) -> (n, k)``
    the log density of every row under every component of the stack;
``_suffstats(X, R, **stacked) -> Stats``
    statistics stacked over components; ``R`` is ``(n, k)`` responsibilities times sample weights;
``_mle(stats, **options) -> dict or None``
    the maximum-likelihood parameters of one component (``None``: no information, keep parameters);
``_sample(rng, n, **params) -> array``
    ``n`` draws from one component;
``_support(X) -> bool array``
    the family's support (where *some* parameter values put mass), whatever the current parameters:
    ``summarize`` and ``fit`` refuse observed values outside it. A univariate family declares an
    elementwise predicate of its values (NaN, missing, is accepted by the base class); a multivariate
    one a predicate of rows ``(n,)`` that accepts missing coordinates itself. ``None`` (the default) is
    any value: the real line, or families whose support is a parameter (Uniform, Discrete, kernel
    densities), which a fit simply moves.

Everything else (``summarize``/``from_summaries``, inertia, freezing, copying, serialisation) lives here,
once. Statistics are values: ``summarize`` only adds a ``Stats`` to ``self.summaries``; ``from_summaries``
applies the M-step and clears them. Parameter updates are transactional: new values are computed and
validated, then assigned together, and derived caches are recomputed from the stored values in one
place (``_set_params``).
"""
import contextlib
import threading

import numpy as np

from .._model import Model
from .._registry import REGISTRY, register
from .._validation import INERTIA as _UNIT, PSEUDOCOUNT as _NONNEG, Interval, as_generator, check_int, check_scalar
from ..data import as_float, check_weights, check_X
from ..exceptions import naming_component
from ..io import numeric

__all__ = ["Distribution", "group_log_probability", "group_suffstats", "is_stackable", "register", "REGISTRY"]


_ESTEP = threading.local()


@contextlib.contextmanager
def estep_scope(memo=None):
    """Within one E-step (log densities, then statistics, of the same batch with the same parameters),
    families may share intermediate results through :func:`estep_memo`; nothing outlives the scope
    (``memo``: a dict to keep them in, for scopes entered again over the same rows)."""
    outer = getattr(_ESTEP, "memo", None)
    _ESTEP.memo = {} if memo is None else memo
    try:
        yield
    finally:
        _ESTEP.memo = outer


def estep_memo(key, compute):
    """``compute()``, or its value from earlier in the current E-step scope (no caching outside one)."""
    memo = getattr(_ESTEP, "memo", None)
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def is_stackable(obj):
    """Whether ``obj`` is a genmix distribution evaluated through vectorised kernels.

    Anything else (a user-defined component, or a composite holding one) takes the slow path: its own
    ``log_probability``, ``summarize`` and ``from_summaries`` are called.
    """
    return isinstance(obj, Distribution) and obj._stackable()


def _groups(components):
    """Indices of ``components`` grouped by family (``None``: a user object on the slow path)."""
    groups = {}
    for i, c in enumerate(components):
        key = type(c) if is_stackable(c) else None
        groups.setdefault(key, []).append(i)
    return groups


def _input_for(cls, X, name="X"):
    """``X`` as the family expects it: object columns become float64 unless the family reads categories."""
    if X.dtype == object and cls is not None and not cls._accepts_objects:
        return as_float(X, name=f"{name} (modelled by {cls.__name__})")
    return X


def _foreign_input(X, c):
    """What a user-defined component receives: a 1-D column for d == 1, as in pomegranate 0.x."""
    return X[:, 0] if getattr(c, "d", X.shape[1]) == 1 else X


def group_log_probability(components, X, name="X"):
    """Log density ``(n, k)`` of rows ``X`` under each of ``components``, one call per family (``name``: how
    error messages call ``X``)."""
    n = X.shape[0]
    out = np.empty((n, len(components)))
    for cls, idx in _groups(components).items():
        if cls is None:
            for i in idx:
                c = components[i]
                out[:, i] = np.asarray(c.log_probability(_foreign_input(X, c)), dtype=np.float64).reshape(n)
        else:
            out[:, idx] = cls._stack_logpdf(_input_for(cls, X, name), [components[i] for i in idx])
    return out


def group_suffstats(components, X, R):
    """Statistics of each component under responsibilities ``R`` (n, k): a list of ``Stats`` or None.

    Frozen components get ``None`` (nothing to accumulate). User-defined components are summarised
    through their own ``summarize`` only by :func:`summarize_foreign`; here they get ``None``.
    """
    out = [None] * len(components)
    for cls, idx in _groups(components).items():
        if cls is None:
            continue
        live = [i for i in idx if not components[i].frozen]
        if live:
            Xc = _input_for(cls, X)
            for i, s in zip(live, cls._stack_suffstats(Xc, R[:, live], [components[i] for i in live])):
                out[i] = s
    return out


def summarize_foreign(components, X, R):
    """Call ``summarize`` on the user-defined (slow-path) components, with their responsibilities."""
    for i, c in enumerate(components):
        if not is_stackable(c):
            c.summarize(_foreign_input(X, c), R[:, i])


def from_summaries_of(c, inertia, pseudocount):
    """``c.from_summaries``: a genmix distribution gets ``pseudocount`` too, a user-defined object only
    ``inertia`` (the signature pomegranate 0.x asks of it)."""
    if isinstance(c, Distribution):
        c.from_summaries(inertia, pseudocount)
    else:
        c.from_summaries(inertia)


class Distribution(Model):
    """Base class of genmix distributions (a stack of size 1 around a family's kernels).

    Parameters
    ----------
    params : dict
        The family's parameters by name; validated by the family's ``_check_params``.
    frozen : bool, default=False
        If True, fitting leaves the parameters unchanged.

    Attributes
    ----------
    name : str
        The class name, as in pomegranate 0.x's JSON.
    frozen : bool
        If True, ``fit`` and ``from_summaries`` leave the parameters unchanged.
    summaries : Stats or None
        The statistics accumulated by ``summarize`` since the last ``from_summaries``.
    """

    _param_names = ()
    #: ``{name: Interval}`` for families whose parameters are independent real numbers (see the module
    #: docstring); None for the others, which define ``_param_names`` and ``_check_params``
    _scalar_params = None
    #: the family's support as a predicate (see the module docstring); None accepts any value
    _support = None
    #: False for families whose fit is not a maximum-likelihood step (kernel densities): EM with such a
    #: component may lower the likelihood, so the driver does not warn about it
    _maximises_likelihood = True
    #: True for families that read non-numeric values (categories); others get float64 columns
    _accepts_objects = False
    #: genmix-only options (keyword arguments) with their defaults; serialised when not at the default
    _options = {}
    #: other keys a document of this family may carry (e.g. pomegranate's ``dtype`` for Discrete)
    _document_keys = ()

    def __init__(self, params, frozen=False):
        self._set_params(self._check_params(**params))
        self.frozen = bool(frozen)
        self.summaries = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("_scalar_params") is not None:
            cls._param_names = tuple(cls._scalar_params)

    @classmethod
    def _check_params(cls, **params):
        """Each of ``_scalar_params`` checked against its interval (families with other parameters
        override this)."""
        if cls._scalar_params is None:
            raise NotImplementedError(f"{cls.__name__} must define _check_params or _scalar_params.")
        return {k: check_scalar(params[k], k, interval, cls.__name__) for k, interval in cls._scalar_params.items()}

    # -- hooks a family may override ------------------------------------------------------------------
    def _stackable(self):
        return True

    @classmethod
    def _stack_logpdf(cls, X, components):
        return cls._logpdf(X, **cls._gather(components))

    @classmethod
    def _stack_suffstats(cls, X, R, components):
        stats = cls._suffstats(X, R, **cls._gather(components))
        return [stats.take(i) for i in range(len(components))]

    @classmethod
    def _gather(cls, components):
        """Each parameter of ``components`` stacked on a leading axis (families with caches override)."""
        return {k: np.array([c._params[k] for c in components]) for k in cls._param_names}

    def _check_options(self, inertia, pseudocount):
        """``inertia`` in [0, 1] and ``pseudocount`` >= 0 as floats, or the error naming the one that is not."""
        return (check_scalar(inertia, "inertia", _UNIT, self.name),
                check_scalar(pseudocount, "pseudocount", _NONNEG, self.name))

    def _mle_options(self):
        return {k: getattr(self, k) for k in self._options}

    @classmethod
    def _group_new_params(cls, components, stats, inertia, pseudocount, indices=None):
        """The M-step of several components of this family at once (a mixture's M-step calls it once per
        family): the new parameters of each of ``components`` (None: keep) from its statistics in
        ``stats`` (same order, none of them None). Frozen components are never passed: they keep their
        parameters and their statistics take no part.

        Per component by default. A family whose components share parameters (a tied covariance, say)
        overrides this and pools the statistics: the statistics of a stack are values that add.
        ``indices`` (the components' positions in the mixture) name the component in a repair warning.
        """
        out = []
        for j, (c, s) in enumerate(zip(components, stats)):
            with contextlib.nullcontext() if indices is None else naming_component(indices[j]):
                out.append(c._new_params(s, inertia, pseudocount))
        return out

    def _new_params(self, stats, inertia, pseudocount):
        """The parameters after an M-step from ``stats`` blended with ``inertia``; ``None`` keeps them."""
        mle = self._mle(stats, **self._mle_options())
        return None if mle is None else self._blend(mle, inertia)

    def _blend(self, estimate, inertia):
        """Validated ``inertia · current + (1 − inertia) · estimate``, parameter by parameter."""
        if inertia > 0.0:
            old = self._params
            estimate = {k: inertia * np.asarray(old[k]) + (1.0 - inertia) * np.asarray(v) for k, v in estimate.items()}
        return self._check_params(**estimate)

    def _set_params(self, params):
        """Store validated parameters and recompute every derived cache from them."""
        self._params = params

    def _params_to_list(self):
        """``parameters``: plain numbers and lists, so that ``type(self)(*self.parameters)`` rebuilds it."""
        return [np.asarray(self._params[k]).tolist() for k in self._param_names]

    def _document_params(self):
        """``parameters`` as a document writes them (composite families write their children's dicts)."""
        return self._params_to_list()

    @classmethod
    def _document_args(cls, params, doc, path, build_child):
        """Constructor arguments from a document's ``parameters`` (numbers or lists of numbers only).

        ``build_child(document, path)`` builds a nested distribution for composite families.
        """
        return [numeric(p, f"{path}.parameters[{i}]") for i, p in enumerate(params)]

    def _extra_dict(self):
        """genmix-only options serialised beside pomegranate's keys (omitted at their defaults)."""
        return {k: getattr(self, k) for k, default in self._options.items() if getattr(self, k) != default}

    # -- public API -----------------------------------------------------------------------------------
    @property
    def d(self):
        """The number of dimensions of a sample."""
        return 1

    @property
    def parameters(self):
        """The parameters, in pomegranate 0.x's order (e.g. ``[mean, std]`` for a Normal), so that
        ``type(d)(*d.parameters)`` rebuilds the distribution (an IndependentComponentsDistribution lists its
        column distributions themselves; ``to_dict`` writes their documents)."""
        return self._params_to_list()

    @parameters.setter
    def parameters(self, values):
        if isinstance(values, (str, bytes, dict)) or not hasattr(values, "__iter__"):
            raise TypeError(f"parameters of {self.name} must be a list ({', '.join(self._param_names)}); "
                            f"got {type(values).__name__}.")
        values = list(values)
        if len(values) != len(self._param_names):
            raise ValueError(f"parameters of {self.name} must be a list of {len(self._param_names)} values "
                             f"({', '.join(self._param_names)}); got {len(values)}.")
        self._set_params(self._check_params(**dict(zip(self._param_names, values))))

    @property
    def name(self):
        """The class name, as written in pomegranate 0.x's JSON."""
        return type(self).__name__

    @property
    def n_parameters(self):
        """The number of free parameters a fit estimates, as BIC and AIC count them (0 when frozen).

        By default every number of every parameter (a Normal: 2, a Poisson: 1); families with
        constrained parameters count only the free ones (a discrete table of m keys: m − 1; a covariance
        matrix: its d(d + 1)/2 distinct entries; a product of columns: the sum over its columns).
        """
        return 0 if self.frozen else int(self._n_free_parameters())

    def _n_free_parameters(self):
        return sum(int(np.size(self._params[k])) for k in self._param_names)

    @classmethod
    def _group_n_parameters(cls, components):
        """The free parameters of several components of this family in one mixture: a parameter shared by
        components (a tied covariance) counts once, so families that tie parameters override this."""
        return sum(c.n_parameters for c in components)

    def _check_input(self, X, name="X", allow_empty=True):
        return check_X(X, self.d, name=name, allow_empty=allow_empty, allow_object=self._accepts_objects)

    def log_probability(self, X):
        """Log density of each sample.

        Parameters
        ----------
        X : float or array-like of shape (n_samples,) or (n_samples, d)
            The samples. NaN marks a missing value (log density 0 for a univariate family).

        Returns
        -------
        logp : float or ndarray of shape (n_samples,)
            A float for a single scalar (or, for a multivariate family, a single 1-D sample).
            Points outside the support have log density ``-inf``.
        """
        X2, scalar = self._check_input(X)
        lp = type(self)._stack_logpdf(X2, [self])[:, 0]
        single = scalar or (self.d > 1 and np.ndim(X) == 1 and X2.shape[0] == 1)
        return float(lp[0]) if single else lp

    def probability(self, X):
        """Density (or mass) of each sample: ``exp(log_probability(X))``.

        Parameters
        ----------
        X : float or array-like of shape (n_samples,) or (n_samples, d)
            The samples; NaN marks a missing value.

        Returns
        -------
        p : float or ndarray of shape (n_samples,)
            The densities.
        """
        lp = self.log_probability(X)
        with np.errstate(under="ignore"):
            return np.exp(lp)

    def _stats_of(self, X, weights):
        """Validated statistics of ``(X, weights)`` under the current parameters."""
        X2, _ = self._check_input(X)
        w = check_weights(weights, X2.shape[0])
        self._check_support(X2, w)
        return type(self)._stack_suffstats(X2, w[:, None], [self])[0]

    def _check_support(self, X, w):
        """Raise naming the rows (with positive weight) whose observed values lie outside the family's
        support. The current parameters play no part: ``PoissonDistribution(0)`` (the point mass at 0)
        fits counts, and a fitted Bernoulli with ``p = 0`` summarizes ones (DESIGN §6.8)."""
        cls = type(self)
        if cls._support is None:
            return
        X = _input_for(cls, X)
        inside = np.asarray(cls._support(X))
        if inside.ndim == 2:  # an elementwise predicate: missing values are inside
            inside = (inside | np.isnan(X)).all(axis=1)
        bad = ~inside & (w > 0)
        if bad.any():
            rows = np.nonzero(bad)[0]
            raise ValueError(f"X rows {rows[:10].tolist()} lie outside the support of {self.name} "
                             f"({rows.size} rows in all).")

    def summarize(self, X, weights=None):
        """Add the weighted sufficient statistics of ``X`` to ``self.summaries``.

        Parameters
        ----------
        X : array-like of shape (n_samples,) or (n_samples, d)
            The samples; NaN values are ignored.
        weights : array-like of shape (n_samples,), default=None
            Non-negative sample weights (ones if None).

        Raises
        ------
        ValueError
            For malformed input or a sample outside the support (with positive weight).
        """
        stats = self._stats_of(X, weights)
        self.summaries = stats if self.summaries is None else self.summaries + stats

    def from_summaries(self, inertia=0.0, pseudocount=0.0):
        """Set the parameters to the maximum-likelihood estimate from ``summaries``, then clear them.

        Parameters
        ----------
        inertia : float in [0, 1], default=0.0
            New parameters are ``inertia * old + (1 - inertia) * estimate`` (per parameter).
        pseudocount : float >= 0, default=0.0
            Added to the count of every key of a DiscreteDistribution (also of the Discrete columns of an
            IndependentComponentsDistribution) before normalising; other families ignore it.

        Notes
        -----
        A frozen distribution, or one with no (or zero-weight) statistics, keeps its parameters.
        """
        inertia, pseudocount = self._check_options(inertia, pseudocount)
        if self.summaries is not None and not self.frozen:
            new = self._new_params(self.summaries, inertia, pseudocount)
            if new is not None:
                self._set_params(new)
        self.summaries = None

    def clear_summaries(self):
        """Discard the statistics accumulated by ``summarize``."""
        self.summaries = None

    def fit(self, X, weights=None, inertia=0.0, pseudocount=0.0):
        """Fit the parameters to weighted data by maximum likelihood (blended with ``inertia``).

        Statistics already accumulated by ``summarize`` are left untouched. A frozen distribution is
        unchanged. If the call raises, the distribution is unchanged.

        Parameters
        ----------
        X : array-like of shape (n_samples,) or (n_samples, d)
            The samples; NaN values are ignored.
        weights : array-like of shape (n_samples,), default=None
            Non-negative sample weights (ones if None).
        inertia : float in [0, 1], default=0.0
            New parameters are ``inertia * old + (1 - inertia) * estimate``.
        pseudocount : float >= 0, default=0.0
            As in :meth:`from_summaries`: added to the count of every key of a DiscreteDistribution (also
            of the Discrete columns of an IndependentComponentsDistribution); other families ignore it.

        Returns
        -------
        self : Distribution
            The fitted distribution.
        """
        inertia, pseudocount = self._check_options(inertia, pseudocount)
        if self.frozen:
            return self
        stats = self._stats_of(X, weights)
        new = self._new_params(stats, inertia, pseudocount)
        if new is not None:
            self._set_params(new)
        return self

    def sample(self, n=None, random_state=None):
        """Draw samples.

        Parameters
        ----------
        n : int or None, default=None
            The number of samples; None draws a single sample (a float, or a 1-D row for multivariate).
        random_state : None, int, numpy.random.Generator or numpy.random.RandomState
            The source of randomness; the global numpy state is never used.

        Returns
        -------
        sample : float, key, ndarray of shape (n,) or ndarray of shape (n, d)
            The draws (a DiscreteDistribution draws its keys, as the plain Python values it holds).
        """
        rng = as_generator(random_state)
        m = 1 if n is None else check_int(n, "n", Interval(0, 2**40), self.name)
        draws = self._sample_n(rng, m)
        if n is None:  # a category (Discrete) is returned as its key
            return (draws[0] if draws.dtype == object else float(draws[0])) if self.d == 1 else draws[0]
        return draws

    def _mean(self):
        """The expectation (univariate families); used to impute a missing value."""
        raise NotImplementedError(f"{self.name} cannot impute missing values.")

    def _fill(self, X):
        """``X`` with its missing values replaced by their expectation under this distribution given the
        observed coordinates (univariate: the mean)."""
        X = np.array(X, dtype=np.float64, copy=True)
        X[np.isnan(X)] = self._mean()
        return X

    def _sample_n(self, rng, n):
        """``n`` draws as ``(n,)`` for univariate families, ``(n, d)`` otherwise."""
        return self._sample(rng, n, **self._params)

    @classmethod
    def from_samples(cls, X, weights=None):
        """A distribution fitted to ``X`` by maximum likelihood, starting from :meth:`blank`.

        Parameters
        ----------
        X : array-like of shape (n_samples,) or (n_samples, d)
            The samples; NaN values are ignored.
        weights : array-like of shape (n_samples,), default=None
            Non-negative sample weights (ones if None).

        Returns
        -------
        distribution : Distribution
            The fitted distribution.
        """
        return cls.blank().fit(X, weights)

    def to_dict(self):
        """A dict in pomegranate 0.x's layout: ``class``, ``name``, ``parameters``, ``frozen``.

        Returns
        -------
        d : dict
            The document; genmix-only options appear only when not at their defaults.
        """
        out = {"class": "Distribution", "name": self.name, "parameters": self._document_params(),
               "frozen": bool(self.frozen)}
        out.update(self._extra_dict())
        return out

    def __repr__(self):
        args = ", ".join(repr(np.asarray(self._params[k]).tolist()) for k in self._param_names)
        return f"{self.name}({args}{', frozen=True' if self.frozen else ''})"
