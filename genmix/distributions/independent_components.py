r"""Independent components: one univariate distribution per column.

.. math:: \log p(x) = \sum_j w_j \log p_j(x_j)

The column weights ``w_j`` multiply the log densities and are not normalised (pomegranate 0.x's
behaviour; the default is all ones, a plain product of densities). A missing column contributes 0. In a
mixture, the ``j``-th children of all components are evaluated as one stack per family, one vectorised
call per column; with unit column weights and columns whose families declare a fused feature term (Normal,
LogNormal, Exponential, Gamma, Poisson, Bernoulli) all components are scored at once by ``genmix._fused``
(one GEMM over the columns' features).
"""
import numpy as np

from .._fused import FusedEStep, Product
from ._base import (Distribution, _foreign_input, _input_for, from_summaries_of, group_log_probability,
                    group_suffstats, is_stackable, register)
from ._stats import TupleStats


def _package(component, column_stats):
    """The ``TupleStats`` of a product from its columns' statistics (None for a frozen column)."""
    return TupleStats(tuple(None if ch.frozen else cs for ch, cs in zip(component.distributions, column_stats)))


@register
class IndependentComponentsDistribution(Distribution):
    """A product of independent univariate distributions, one per column.

    Parameters
    ----------
    distributions : list of Distribution
        One initialised univariate distribution per column (their ``d`` must be 1).
    weights : array-like of shape (n_columns,), default=None
        Non-negative multipliers of each column's log density (all ones if None; not normalised).
    frozen : bool, default=False
        If True, fitting leaves every column unchanged.

    Notes
    -----
    A user-defined column (any object with ``log_probability``, ``summarize`` and ``from_summaries``) is
    summarised through its own methods, after every genmix column has been validated, so a call that
    fails changes nothing. ``fit`` then applies that column's statistics with its ``from_summaries``
    (its earlier pending statistics too), while the genmix columns, as always, leave theirs pending.
    """

    _param_names = ("distributions", "weights")
    _accepts_objects = True  # columns are converted per child family (categories stay for Discrete)

    def __init__(self, distributions, weights=None, frozen=False):
        super().__init__({"distributions": distributions, "weights": weights}, frozen)

    @classmethod
    def _check_params(cls, distributions, weights):
        name = cls.__name__
        if isinstance(distributions, (str, bytes)) or not hasattr(distributions, "__len__"):
            raise TypeError(f"The 'distributions' parameter of {name} must be a list of distributions.")
        dists = list(distributions)
        if not dists:
            raise ValueError(f"The 'distributions' parameter of {name} must hold at least one distribution.")
        for j, c in enumerate(dists):
            if isinstance(c, type):
                raise TypeError(f"The 'distributions' parameter of {name} must hold initialised distributions; "
                                f"entry {j} is the class {c.__name__}.")
            if not hasattr(c, "log_probability"):
                raise TypeError(f"Entry {j} of the 'distributions' parameter of {name} has no log_probability.")
            if getattr(c, "d", 1) != 1:
                raise ValueError(f"Entry {j} of the 'distributions' parameter of {name} must be univariate "
                                 f"(d == 1); got d={c.d}.")
        if weights is None:
            w = np.ones(len(dists))
        else:
            try:
                w = np.array(weights, dtype=np.float64)
            except (TypeError, ValueError):
                raise TypeError(f"The 'weights' parameter of {name} must be numeric.") from None
            if w.ndim != 1:
                raise ValueError(f"The 'weights' parameter of {name} must be 1-D; got shape {w.shape}.")
            if w.size != len(dists):
                raise ValueError(f"The 'weights' parameter of {name} must have one entry per distribution "
                                 f"({len(dists)}); got {w.size}.")
            if not np.all(np.isfinite(w)) or np.any(w < 0):
                raise ValueError(f"The 'weights' parameter of {name} must be finite and non-negative.")
        return {"distributions": dists, "weights": w}

    @property
    def distributions(self):
        """The per-column distributions."""
        return self._params["distributions"]

    @property
    def weights(self):
        """The per-column multipliers of the log densities."""
        return self._params["weights"]

    @property
    def d(self):
        """The number of columns."""
        return len(self._params["distributions"])

    def _n_free_parameters(self):
        """The sum over the columns (frozen columns count 0; the column weights are not estimated)."""
        total = 0
        for j, child in enumerate(self.distributions):
            count = getattr(child, "n_parameters", None)
            if count is None:
                raise TypeError(f"column {j} of {self.name} ({type(child).__name__}) does not say how many free "
                                "parameters it has: give it an n_parameters attribute.")
            total += int(count)
        return total

    def _stackable(self):
        return all(is_stackable(c) for c in self.distributions)

    def __getitem__(self, j):
        return self._params["distributions"][j]

    @classmethod
    def _feature_term(cls, components):
        """The fused path's term (see ``genmix._fused``): the product of the columns' terms, or None unless
        every column weight is 1 and each column has one family, with a term, in every component."""
        if len({c.d for c in components}) != 1 or not all(np.all(c.weights == 1.0) for c in components):
            return None
        terms = []
        for j in range(components[0].d):
            children = [c.distributions[j] for c in components]
            family = type(children[0])
            hook = getattr(family, "_feature_term", None)
            if hook is None or any(type(ch) is not family for ch in children):
                return None
            term = hook(children)
            if term is None or isinstance(term, Product):
                return None
            terms.append(term)
        return Product(terms, _package)

    @classmethod
    def _stack_logpdf(cls, X, components):
        fused = FusedEStep.build(components, np.zeros(len(components)), X)
        if fused is not None:  # Normal / Gamma / Poisson … columns: one GEMM over their features
            return fused.weighted_log_prob(X)
        W = np.stack([c.weights for c in components])
        out = np.zeros((X.shape[0], len(components)))
        for j in range(X.shape[1]):
            lp = group_log_probability([c.distributions[j] for c in components], X[:, j:j + 1], f"column {j} of X")
            if np.all(W[:, j] == 1.0):  # the usual plain product of densities
                out += lp
            else:  # a zero weight drops the column (also where its log density is -inf)
                out += np.where(W[:, j] == 0.0, 0.0, lp * np.where(W[:, j] == 0.0, 1.0, W[:, j]))
        return out

    @classmethod
    def _stack_suffstats(cls, X, R, components):
        per_column = [group_suffstats([c.distributions[j] for c in components], X[:, j:j + 1], R)
                      for j in range(X.shape[1])]
        return [TupleStats(tuple(col[i] for col in per_column)) for i in range(len(components))]

    def _check_support(self, X, w):
        """Each column against its own distribution's support."""
        for j, child in enumerate(self.distributions):
            child._check_support(X[:, j:j + 1], w)

    def _new_params(self, stats, inertia, pseudocount):
        new = []
        for child, s in zip(self.distributions, stats.children):
            new.append(None if s is None or child.frozen else child._new_params(s, inertia, pseudocount))
        return {"children": new}

    def _set_params(self, params):
        if "children" in params:  # an M-step: update the children in place, all at once
            for child, p in zip(self._params["distributions"], params["children"]):
                if p is not None:
                    child._set_params(p)
        else:
            self._params = params

    def summarize(self, X, weights=None):
        if not self._stackable():
            stats, user = self._foreign_columns(X, weights)
            for j, c in enumerate(self.distributions):
                if j in stats:
                    c.summaries = stats[j] if c.summaries is None else c.summaries + stats[j]
                else:
                    c.summarize(*user[j])
        else:
            super().summarize(X, weights)

    def _foreign_columns(self, X, weights):
        """With a user-defined column: ``({j: Stats}, {j: (column, weights)})``, the statistics of every
        genmix column (so that all of them are validated before anything changes) and the arguments of
        each user-defined column's own ``summarize``."""
        from ..data import check_weights

        X2, _ = self._check_input(X)
        w = check_weights(weights, X2.shape[0])
        stats, user = {}, {}
        for j, c in enumerate(self.distributions):
            if isinstance(c, Distribution):
                stats[j] = c._stats_of(_input_for(type(c), X2[:, j:j + 1]), w)
            else:
                user[j] = (_foreign_input(X2[:, j:j + 1], c), w)
        return stats, user

    def from_summaries(self, inertia=0.0, pseudocount=0.0):
        if not self._stackable():
            inertia, pseudocount = self._check_options(inertia, pseudocount)
            if self.frozen:  # nothing changes, and the pending statistics go, as for any frozen distribution
                self.clear_summaries()
                return
            for c in self.distributions:  # user-defined columns take only inertia, as in pomegranate 0.x
                from_summaries_of(c, inertia, pseudocount)
            return
        super().from_summaries(inertia, pseudocount)

    def clear_summaries(self):
        self.summaries = None
        for c in self.distributions:
            c.clear_summaries()

    def fit(self, X, weights=None, inertia=0.0, pseudocount=0.0):
        if not self._stackable():
            inertia, pseudocount = self._check_options(inertia, pseudocount)
            if self.frozen:
                return self
            # genmix columns: validated and estimated first, their pending statistics left alone, as on
            # the stacked path; user-defined columns can only summarize and then apply their statistics
            stats, user = self._foreign_columns(X, weights)
            new = {j: self.distributions[j]._new_params(s, inertia, pseudocount)
                   for j, s in stats.items() if not self.distributions[j].frozen}
            for j, (column, w) in user.items():
                c = self.distributions[j]
                c.summarize(column, w)
                c.from_summaries(inertia)
            for j, p in new.items():
                if p is not None:
                    self.distributions[j]._set_params(p)
            return self
        return super().fit(X, weights, inertia, pseudocount)

    def _fill(self, X):
        """Each column's missing values replaced by its distribution's expectation (or mode)."""
        columns = [c._fill(_input_for(type(c), X[:, j:j + 1]))[:, 0] for j, c in enumerate(self.distributions)]
        return np.column_stack(columns) if all(col.dtype != object for col in columns) else \
            np.array(columns, dtype=object).T

    def _sample_n(self, rng, n):
        return np.column_stack([c._sample_n(rng, n) if is_stackable(c) else np.asarray(c.sample(n))
                                for c in self.distributions])

    @classmethod
    def _document_args(cls, params, doc, path, build_child):
        from ..io import numeric

        children, weights = params
        if not isinstance(children, list):
            raise ValueError(f"{path}: the first parameter of {cls.__name__} must be a list of distributions.")
        built = [build_child(c, f"{path}.parameters[0][{i}]") for i, c in enumerate(children)]
        return [built, None if weights is None else numeric(weights, f"{path}.parameters[1]")]

    def _params_to_list(self):
        """``[distributions, weights]``: the column distributions themselves, as in pomegranate 0.x."""
        return [list(self.distributions), self.weights.tolist()]

    def _document_params(self):
        """``[[child documents], weights]``, pomegranate 0.x's layout."""
        return [[c.to_dict() for c in self.distributions], self.weights.tolist()]

    def __repr__(self):
        return f"{self.name}({self.distributions!r}, weights={self.weights.tolist()!r})"

    @classmethod
    def blank(cls, d=2):
        """Standard normals on ``d`` columns.

        Parameters
        ----------
        d : int, default=2
            The number of columns.

        Returns
        -------
        distribution : IndependentComponentsDistribution
            ``d`` independent N(0, 1) columns.
        """
        from .normal import NormalDistribution

        return cls([NormalDistribution(0.0, 1.0) for _ in range(d)])

    @classmethod
    def from_samples(cls, X, weights=None, distribution_weights=None, pseudocount=0.0, distributions=None):
        """Fit one distribution of the given class(es) per column of ``X`` (pomegranate 0.x's signature).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_columns)
            The samples; NaN values are ignored.
        weights : array-like of shape (n_samples,), default=None
            Non-negative sample weights (ones if None).
        distribution_weights : array-like of shape (n_columns,), default=None
            The column multipliers of the result.
        pseudocount : float >= 0, default=0.0
            Smoothing of the Discrete columns (added to the count of every key).
        distributions : class or list of classes
            One class for every column, or one class per column (required).

        Returns
        -------
        distribution : IndependentComponentsDistribution
            The fitted distribution.
        """
        if distributions is None:
            raise ValueError("IndependentComponentsDistribution.from_samples needs 'distributions': a class or "
                             "a list of one class per column.")
        from ..data import n_columns

        d = n_columns(X)
        if np.ndim(X) != 2:
            raise ValueError(f"X must be 2-D of shape (n_samples, n_columns); got {np.ndim(X)} dimension(s).")
        classes = list(distributions) if isinstance(distributions, (list, tuple)) else [distributions] * d
        for c in classes:
            if not (isinstance(c, type) and hasattr(c, "blank")):
                raise ValueError(f"distributions must be distribution classes (with blank()); got {c!r:.60}.")
        if len(classes) != d:
            raise ValueError(f"'distributions' must give one class per column ({d}); got {len(classes)}.")
        model = cls([c.blank() for c in classes], distribution_weights)
        return model.fit(X, weights, pseudocount=pseudocount)


# The overrides above only route user-defined columns to the slow path: same contract as the base class.
for _name in ("summarize", "from_summaries", "clear_summaries", "fit"):
    getattr(IndependentComponentsDistribution, _name).__doc__ = getattr(Distribution, _name).__doc__
