"""GeneralMixtureModel: p(x) = Σ_k w_k p_k(x) over components of any family.

The E-step evaluates all components of one family in one stacked call (a mixture of different
families makes one call per family), combines them with a guarded log-sum-exp, and hands each family
its responsibilities to turn into sufficient statistics. ``summarize`` only adds statistics (the
responsibility sums here, a ``Stats`` value in each component); ``from_summaries`` is the M-step.
"""
import contextlib

import numpy as np

from ._encoded import decoded
from ._fused import FusedEStep, as_float64
from ._math import ImpossibleRowsError, logsumexp_rows, raise_impossible, rows_from
from ._model import Model
from ._columns import blame, imputed_frame, impute_rows
from ._docs import CRITERION_PARAMETERS, DTYPE_PARAMETER, EM_PARAMETERS, LABELS_PARAMETERS, fill_docstring
from ._registry import register_mixture
from ._state import restore, snapshot
from ._validation import (INERTIA as _UNIT, PSEUDOCOUNT as _NONNEG, Interval, as_generator, check_bool, check_int,
                          check_scalar)
from .data import (align_columns, batch_slices, check_labels, check_weights, check_X, is_dask_collection,
                   is_duck_array, is_frame, is_generator, row_log_priors)
from .distributions import MultivariateGaussianDistribution
from .distributions._base import from_summaries_of, group_log_probability, is_stackable, summarize_foreign
from .distributions._covariance import covariance_type as _covariance_type
from .em import EMOptions, batch_source, fit_em
from .estep import EStepResult, all_stackable, estep, estep_with_responsibilities, weighted_log_prob
from .exceptions import once_per_fit
from .init import DETERMINISTIC, initial_mixtures
from .parallel import map_chunks, resolve_n_jobs

__all__ = ["GeneralMixtureModel"]


def _check_batch_size(batch_size):
    return check_int(batch_size, "batch_size", Interval(1, np.inf), "GeneralMixtureModel", allow_none=True,
                     allow_float=True)


def criteria(loglik, log_map, n, p):
    """``{'bic', 'aic', 'icl'}`` from the weighted log-likelihood ``Σ w log p(x)``, the weighted log posterior
    of each sample's most probable component ``Σ w log P(ĉ | x)``, the sample size ``n = Σ w`` and the
    number of free parameters ``p`` (scikit-learn's sign: lower is better)."""
    bic = -2.0 * loglik + p * float(np.log(n))
    return {"bic": bic, "aic": -2.0 * loglik + 2.0 * p, "icl": bic - 2.0 * log_map}


@register_mixture
class GeneralMixtureModel(Model):
    """A mixture of arbitrary distributions, fitted by expectation–maximisation.

    Parameters
    ----------
    distributions : array-like of shape (n_components,)
        Initialised component distributions, all of the same dimensionality ``d``. They may be of
        different families, and any object with ``d``, ``log_probability``, ``summarize``,
        ``from_summaries`` and ``clear_summaries`` works as a component (on a slower path).
    weights : array-like of shape (n_components,), default=None
        The prior probability of each component; normalised to sum to one (uniform if None).

    Attributes
    ----------
    distributions : ndarray of object, shape (n_components,)
        The component distributions.
    weights : ndarray of shape (n_components,)
        The component probabilities, summing to one. (pomegranate 0.x stored their logs here; see
        ``log_weights``.)
    log_weights : ndarray of shape (n_components,)
        ``log(weights)``.
    summaries : ndarray of shape (n_components,)
        The responsibility mass accumulated by ``summarize`` since the last ``from_summaries``.
    n : int
        The number of components.
    d : int
        The dimensionality of a sample.
    frozen : bool
        If True, ``from_summaries`` (and so ``fit``) changes neither weights nor components.
    feature_names : tuple of str or None
        The column names of the pandas DataFrame the model was last fitted on (genmix's own; None after
        a fit on an array). A DataFrame given to any method is then matched to them by name (its columns
        reordered if needed; a missing or unknown column is a ``ValueError``); arrays are matched by
        position, as in pomegranate.

    Examples
    --------
    >>> from genmix import GeneralMixtureModel, NormalDistribution
    >>> clf = GeneralMixtureModel([NormalDistribution(5, 2), NormalDistribution(1, 1)])
    >>> round(clf.log_probability(5), 12)
    -2.304562194038
    """

    def __init__(self, distributions, weights=None):
        if isinstance(distributions, (str, bytes, dict)) or not hasattr(distributions, "__len__") \
                or hasattr(distributions, "log_probability"):
            raise TypeError("distributions must be a list of initialised distributions.")
        dists = list(distributions)
        if not dists:
            raise ValueError("distributions must hold at least one distribution.")
        for i, c in enumerate(dists):
            if isinstance(c, type):
                raise TypeError(f"must have initialized distributions in list: entry {i} is the class "
                                f"{c.__name__}; pass an instance, or use GeneralMixtureModel.from_samples.")
            if not callable(getattr(c, "log_probability", None)):
                raise TypeError(f"entry {i} of distributions has no log_probability method.")
        d = getattr(dists[0], "d", 1)
        if any(getattr(c, "d", 1) != d for c in dists):
            raise TypeError("mis-matching dimensions between distributions in list: "
                            f"{[getattr(c, 'd', 1) for c in dists]}.")
        self.distributions = np.empty(len(dists), dtype=object)
        self.distributions[:] = dists
        self.d = int(d)
        self.n = len(dists)
        self.weights = weights
        self.summaries = np.zeros(self.n)
        self.frozen = False
        self.feature_names = None

    # -- weights ----------------------------------------------------------------------------------------
    @property
    def weights(self):
        """The component probabilities (sum to one)."""
        return self._weights

    @weights.setter
    def weights(self, value):
        self._weights = self._check_mixture_weights(value, self.n)

    @staticmethod
    def _check_mixture_weights(value, k):
        if value is None:
            return np.full(k, 1.0 / k)
        try:
            w = np.array(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError("weights must be a 1-D array of non-negative numbers.") from None
        if w.ndim != 1:
            raise ValueError(f"weights must be 1-D of shape ({k},); got shape {w.shape}.")
        if w.size != k:
            raise ValueError(f"weights must have one entry per component ({k}); got {w.size}.")
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError(f"weights must be finite and non-negative; got {w.tolist()}.")
        total = w.sum()
        if not total > 0:
            raise ValueError("weights must not all be zero.")
        return w if abs(total - 1.0) <= 4 * np.finfo(float).eps * k else w / total  # normalised input stays exact

    @property
    def log_weights(self):
        """``log(weights)`` (``-inf`` for a component of weight 0)."""
        with np.errstate(divide="ignore"):
            return np.log(self._weights)

    @property
    def n_parameters(self):
        """The number of free parameters a fit estimates, as BIC and AIC count them.

        Each component's (see ``Distribution.n_parameters``; frozen components and frozen columns count 0,
        a parameter tied across the components of a family counts once) plus ``n − 1`` mixture weights.
        A frozen mixture estimates nothing: 0.
        """
        if self.frozen:
            return 0
        families, total = {}, self.n - 1
        for j, c in enumerate(self.distributions):
            if is_stackable(c):
                if not c.frozen:
                    families.setdefault(type(c), []).append(c)
                continue
            count = getattr(c, "n_parameters", None)
            if count is None:
                raise TypeError(f"component {j} ({type(c).__name__}) does not say how many free parameters it "
                                "has: give it an n_parameters attribute.")
            total += int(count)
        return int(total + sum(family._group_n_parameters(comps) for family, comps in families.items()))

    # -- evaluation -------------------------------------------------------------------------------------
    def _weighted_log_prob(self, X):
        """``log w_k + log p_k(x_i)``, shape (n, k); zero-weight components are ``-inf``."""
        fused = FusedEStep.build(self.distributions, self.log_weights, X) if isinstance(X, np.ndarray) else None
        if fused is not None:  # exponential-family features: one GEMM per block (genmix/_fused.py)
            return fused.weighted_log_prob(X)
        return self._general_log_prob(X)

    def _general_log_prob(self, X):
        """:meth:`_weighted_log_prob` through each family's own kernels."""
        return weighted_log_prob(self.distributions, self.log_weights, X)

    def _chunks(self, X, batch_size):
        """Row slices of at most ``batch_size`` rows (``_PREDICT_ROWS`` if None: every temporary of a
        prediction is then bounded, whatever the size of ``X``; results do not depend on it)."""
        batch_size = _check_batch_size(batch_size)
        return batch_slices(X.shape[0], _PREDICT_ROWS if batch_size is None else batch_size)

    def _checked(self, X, n_jobs, batch_size=None):
        resolve_n_jobs(n_jobs, "GeneralMixtureModel")
        _check_batch_size(batch_size)
        if (isinstance(X, np.memmap) and X.ndim == 2) or (is_duck_array(X) and X.shape[1] == self.d):
            return X, False  # never converted (or scanned) whole: _rowwise converts and validates each chunk
        if is_generator(X):  # batches are validated one at a time by _rowwise
            return X, False
        return self._check_input(X)

    def _lazy(self, method, X, n_jobs, batch_size):
        """``method`` over a Dask collection, lazily (see :mod:`genmix.dask`)."""
        from .dask import predict_lazily

        resolve_n_jobs(n_jobs, "GeneralMixtureModel")
        _check_batch_size(batch_size)
        return predict_lazily(self, method, X, n_jobs, batch_size)

    def _rowwise(self, fn, X, batch_size, n_jobs, out, offset=0):
        """``out[rows] = fn(X[rows])`` over chunks of ``batch_size`` rows, each split over threads (rows named
        in an error numbered from ``offset``).

        ``X`` may be a data generator: its batches are validated and processed one at a time and the
        results concatenated (``out`` is then ignored).
        """
        if is_generator(X):
            parts, first = [], 0
            for Xb, _ in X.batches():
                Xc, _ = self._check_input(Xb)
                parts.append(self._rowwise(fn, Xc, batch_size, n_jobs,
                                           np.empty((Xc.shape[0],) + out.shape[1:], dtype=out.dtype), first))
                first += Xc.shape[0]
            return np.concatenate(parts) if parts else out
        threads = resolve_n_jobs(n_jobs)
        stackable = all(is_stackable(c) for c in self.distributions)
        for sl in self._chunks(X, batch_size):
            part, start = X[sl], offset + sl.start
            if isinstance(part, np.memmap) or is_duck_array(part):
                part, _ = self._check_input(part)
            with self._explaining(part, start):
                if threads > 1 and stackable:
                    results = map_chunks(lambda rows: _numbered(fn, part[rows], rows.start), part.shape[0], threads)
                    out[sl] = np.concatenate(results)
                else:
                    out[sl] = fn(part)
        return out

    @contextlib.contextmanager
    def _explaining(self, X, first=0):
        """Turn an ``ImpossibleRowsError`` raised for rows of ``X`` (numbered from 0) into a ``ValueError``
        that numbers them from ``first`` (the index of ``X``'s first row in the data) and says which column
        and value no component can produce."""
        try:
            yield
        except ImpossibleRowsError as exc:  # the public boundary raises a plain ValueError (DESIGN §5)
            row = int(exc.rows[0])
            X = decoded(X)  # name the value, not its code
            detail = (blame(self.distributions, self._weights, X, row, getattr(self, "feature_names", None), first)
                      if 0 <= row < len(X) else "")
            raise ValueError(f"{exc.shifted(first)} {detail}".rstrip()) from None

    def _check_input(self, X, allow_empty=True, dtype=np.float64):
        """``(X2, scalar)``: validated data (numeric data in ``dtype``: float32 is a fit's opt-in working
        precision), or a column of sequences for user-defined components."""
        X = align_columns(X, getattr(self, "feature_names", None))
        if self._is_sequence_list(X):
            column = np.empty((len(X), 1), dtype=object)
            column[:, 0] = list(X)
            if not allow_empty and not len(X):
                raise ValueError("X must contain at least one sample; got an empty list.")
            return column, False
        return check_X(X, self.d, allow_object=self._accepts_objects, allow_empty=allow_empty, dtype=dtype)

    def _is_sequence_list(self, X):
        """A list of variable-length sequences (e.g. for mixtures of HMM-like user components) is passed
        through item by item when every component is user-defined and the items do not form an
        ``(n, d)`` array."""
        if not isinstance(X, (list, tuple)) or not X or any(is_stackable(c) for c in self.distributions):
            return False
        if any(np.ndim(item) == 0 for item in X):
            return False
        shapes = {np.shape(item) for item in X}
        return not (len(shapes) == 1 and shapes.pop() == (self.d,))

    @property
    def _accepts_objects(self):
        """Whether a component reads non-numeric values (categories, or anything a user object takes)."""
        return any(getattr(c, "_accepts_objects", True) for c in self.distributions)

    def log_probability(self, X, n_jobs=1, batch_size=None):
        """Log density of each sample under the mixture: ``logsumexp_k(log w_k + log p_k(x))``.

        Parameters
        ----------
        X : float or array-like of shape (n_samples,) or (n_samples, d)
            The samples; NaN marks a missing value. For a univariate model a 1-D array is
            ``n_samples`` samples.
        n_jobs : int, default=1
            Threads to split the rows over (-1: all cores); the results do not depend on it.
        batch_size : int or None, default=None
            Evaluate in chunks of this many rows to bound memory (None: chunks of 65,536 rows; a
            ``numpy.memmap`` or an array of another library, such as a Dask or HDF5 array, is read and
            converted one chunk at a time).

        Returns
        -------
        logp : float or ndarray of shape (n_samples,)
            A float for a scalar input. A sample no component can produce has ``-inf``.
        """
        if is_dask_collection(X):
            return self._lazy("log_probability", X, n_jobs, batch_size)
        X2, scalar = self._checked(X, n_jobs, batch_size)
        out = self._rowwise(lambda part: self._log_sum(self._weighted_log_prob(part)), X2, batch_size, n_jobs,
                            np.empty(_rows_of(X2)))
        single = scalar or (self.d > 1 and np.ndim(X) == 1 and X2.shape[0] == 1)
        return float(out[0]) if single else out

    def probability(self, X, n_jobs=1, batch_size=None):
        """Density of each sample under the mixture, ``exp(log_probability(X))``.

        Parameters
        ----------
        X : float or array-like of shape (n_samples,) or (n_samples, d)
            The samples; NaN marks a missing value.
        n_jobs : int, default=1
            Threads to split the rows over (-1: all cores); the results do not depend on it.
        batch_size : int or None, default=None
            Evaluate in chunks of this many rows to bound memory (None: chunks of 65,536 rows; a
            ``numpy.memmap`` or an array of another library, such as a Dask or HDF5 array, is read and
            converted one chunk at a time).

        Returns
        -------
        p : float or ndarray of shape (n_samples,)
            The densities.
        """
        if is_dask_collection(X):
            return self._lazy("probability", X, n_jobs, batch_size)
        lp = self.log_probability(X, n_jobs=n_jobs, batch_size=batch_size)
        with np.errstate(under="ignore"):
            return np.exp(lp)

    def predict_log_proba(self, X, n_jobs=1, batch_size=None):
        """Posterior log probability ``log P(component | x)`` of each component for each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, d)
            The samples; NaN marks a missing value.
        n_jobs : int, default=1
            Threads to split the rows over (-1: all cores); the results do not depend on it.
        batch_size : int or None, default=None
            Evaluate in chunks of this many rows to bound memory (None: chunks of 65,536 rows; a
            ``numpy.memmap`` or an array of another library, such as a Dask or HDF5 array, is read and
            converted one chunk at a time).

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_components)
            Normalised log posteriors (each row's exponentials sum to one).

        Raises
        ------
        ValueError
            If a sample has probability 0 under every component.
        """
        if is_dask_collection(X):
            return self._lazy("predict_log_proba", X, n_jobs, batch_size)
        X2, _ = self._checked(X, n_jobs, batch_size)

        def posterior(part):
            wlp = self._weighted_log_prob(part)
            lse = self._log_sum(wlp)
            raise_impossible(lse)
            wlp -= lse[:, None]
            return wlp

        return self._rowwise(posterior, X2, batch_size, n_jobs, np.empty((_rows_of(X2), self.n)))

    def predict_proba(self, X, n_jobs=1, batch_size=None):
        """Posterior probability ``P(component | x)``; each row sums to one.

        Parameters
        ----------
        X : array-like of shape (n_samples, d)
            The samples; NaN marks a missing value.
        n_jobs : int, default=1
            Threads to split the rows over (-1: all cores); the results do not depend on it.
        batch_size : int or None, default=None
            Evaluate in chunks of this many rows to bound memory (None: chunks of 65,536 rows; a
            ``numpy.memmap`` or an array of another library, such as a Dask or HDF5 array, is read and
            converted one chunk at a time).

        Returns
        -------
        proba : ndarray of shape (n_samples, n_components)
            The posterior probabilities.
        """
        if is_dask_collection(X):
            return self._lazy("predict_proba", X, n_jobs, batch_size)
        lp = self.predict_log_proba(X, n_jobs=n_jobs, batch_size=batch_size)
        unobserved = _weights_only(lp, self.log_weights)
        with np.errstate(under="ignore"):
            proba = np.exp(lp, out=lp)  # in place: one (n, k) array
        proba[unobserved] = self._weights  # exactly, not exp(log w)
        return proba

    def _log_sum(self, wlp):
        """Row-wise log-sum-exp of ``wlp`` (n, k). A row that every component gives log density exactly 0
        (nothing observed: each marginal is over no coordinates) gets exactly ``log Σ w_k = 0``, not the
        rounding of ``logsumexp(log w)``; its posterior is then exactly ``log w``."""
        lse = logsumexp_rows(wlp)
        lse[_weights_only(wlp, self.log_weights)] = 0.0
        return lse

    def predict(self, X, n_jobs=1, batch_size=None):
        """The most probable component of each sample (ties go to the lowest index).

        Parameters
        ----------
        X : array-like of shape (n_samples, d)
            The samples; NaN marks a missing value.
        n_jobs : int, default=1
            Threads to split the rows over (-1: all cores); the results do not depend on it.
        batch_size : int or None, default=None
            Evaluate in chunks of this many rows to bound memory (None: chunks of 65,536 rows; a
            ``numpy.memmap`` or an array of another library, such as a Dask or HDF5 array, is read and
            converted one chunk at a time).

        Returns
        -------
        y : ndarray of int of shape (n_samples,)
            The index of the most probable component.
        """
        if is_dask_collection(X):
            return self._lazy("predict", X, n_jobs, batch_size)
        X2, _ = self._checked(X, n_jobs, batch_size)

        def most_probable(part):
            wlp = self._weighted_log_prob(part)
            raise_impossible(np.max(wlp, axis=1))
            return np.argmax(wlp, axis=1)

        return self._rowwise(most_probable, X2, batch_size, n_jobs, np.empty(_rows_of(X2), dtype=np.int64))

    def impute(self, X, n_jobs=1, batch_size=None):
        """Fill missing values with their conditional expectation (or, for discrete columns, their
        conditional mode) under the fitted mixture.

        A missing coordinate ``x_m`` of a row with observed part ``x_o`` becomes
        ``E[x_m | x_o] = Σ_k P(k | x_o) · E_k[x_m | x_o]``: the posterior over components given the
        observed values, times each component's conditional expectation (the conditional mean of a
        multivariate Gaussian, the mean of an independent column, the aggregated share of a Dirichlet).
        A missing value of a discrete column (categories, Poisson counts, Bernoulli 0/1 — in every
        component) becomes its most probable value under the same posterior,
        ``argmax_c Σ_k P(k | x_o) p_k(c)``, so it stays in the support: an integer count, 0 or 1, a
        known category. (For a Poisson column the maximum is sought over the integers within ten
        standard deviations of some component's mean, which contain it.) Each missing value of a row
        is filled on its own, given the row's observed values.

        Parameters
        ----------
        X : array-like or pandas.DataFrame of shape (n_samples, d)
            The samples; NaN (and, for discrete columns, None) marks a missing value.
        n_jobs : int, default=1
            Threads to split the rows over (-1: all cores); the results do not depend on it.
        batch_size : int or None, default=None
            Process in chunks of this many rows to bound memory.

        Returns
        -------
        X_imputed : ndarray or pandas.DataFrame of shape (n_samples, d)
            A copy of ``X`` without missing values: for a DataFrame, a DataFrame with the same index,
            columns (in the same order) and dtypes; otherwise an ndarray (object dtype when ``X`` has
            categorical columns).

        Raises
        ------
        ValueError
            If a row is impossible under every component, or a component cannot impute (a user-defined
            component without ``_fill``).
        """
        if is_dask_collection(X):
            return self._lazy("impute", X, n_jobs, batch_size)
        resolve_n_jobs(n_jobs, "GeneralMixtureModel")
        aligned = align_columns(X, getattr(self, "feature_names", None))
        X2, _ = self._check_input(aligned)
        if X2.dtype == object:  # validate every row's values (numbers in numeric columns, hashable categories)
            for sl in self._chunks(X2, batch_size):
                group_log_probability(self.distributions, X2[sl])
        out, missing = impute_rows(self.distributions, X2, lambda Xm: self.predict_proba(Xm, n_jobs=n_jobs),
                                   lambda rows: self._chunks(rows, batch_size))
        return imputed_frame(X, aligned, out, missing) if is_frame(X) else out

    def score(self, X, y):
        """Accuracy of :meth:`predict` against labels ``y`` (as in pomegranate 0.x).

        Parameters
        ----------
        X : array-like of shape (n_samples, d)
            The samples.
        y : array-like of shape (n_samples,)
            The component index of each sample.

        Returns
        -------
        accuracy : float
            The fraction of samples whose predicted component equals ``y``.
        """
        pred = self.predict(X)
        if is_dask_collection(pred):  # a Dask X: the accuracy is reduced on the workers
            if not hasattr(y, "__dask_graph__"):
                y = check_labels(np.asarray(y), np.shape(y)[0] if np.ndim(y) else 0, self.n, name="y")
            if np.ndim(y) != 1 or y.shape[0] != pred.shape[0]:
                raise ValueError(f"y must be 1-D with one label per sample ({pred.shape[0]}); got shape "
                                 f"{np.shape(y)}.")
            return float((pred == y).mean().compute())
        y = np.asarray(y)
        if y.ndim != 1 or y.shape[0] != pred.shape[0]:
            raise ValueError(f"y must be 1-D with one label per sample ({pred.shape[0]}); got shape {y.shape}.")
        y = check_labels(y, y.shape[0], self.n, name="y")
        return float(np.mean(pred == y))

    # -- information criteria -----------------------------------------------------------------------------
    def _criterion_terms(self, X, weights, n_jobs, batch_size):
        """``(Σ w log p(x), Σ w log max_k P(k | x), Σ w)`` of the samples, in one pass over them."""
        if is_dask_collection(X):  # reduced on the workers
            from .dask import criterion_terms

            return criterion_terms(self, X, weights)
        X2, _ = self._checked(X, n_jobs, batch_size)

        def terms(part):
            wlp = self._weighted_log_prob(part)
            lse = self._log_sum(wlp)
            raise_impossible(lse)
            return np.column_stack([lse, wlp.max(axis=1) - lse])

        T = self._rowwise(terms, X2, batch_size, n_jobs, np.empty((_rows_of(X2), 2)))
        w = np.ones(T.shape[0]) if weights is None else check_weights(weights, T.shape[0])
        total = float(w.sum())
        if not total > 0:
            raise ValueError("weights must not all be zero: the criteria need at least one sample.")
        return float(w @ T[:, 0]), float(w @ T[:, 1]), total

    def bic(self, X, weights=None, *, n_jobs=1, batch_size=None):
        """The Bayesian information criterion on ``X``: ``−2 log L + p log n`` (lower is better).

        ``p`` is :attr:`n_parameters`; ``log L = Σ w_i log p(x_i)`` (the observed values' density where
        some are missing) and ``n = Σ w_i``: weights count as repeated samples, as in ``fit``. The sign is
        scikit-learn's; mclust reports ``−bic``.

        Parameters
        ----------
        {criterion_parameters}

        Returns
        -------
        bic : float
            The criterion.
        """
        return criteria(*self._criterion_terms(X, weights, n_jobs, batch_size), self.n_parameters)["bic"]

    def aic(self, X, weights=None, *, n_jobs=1, batch_size=None):
        """The Akaike information criterion on ``X``: ``−2 log L + 2p`` (lower is better).

        The log-likelihood as in :meth:`bic`.

        Parameters
        ----------
        {criterion_parameters}

        Returns
        -------
        aic : float
            The criterion.
        """
        return criteria(*self._criterion_terms(X, weights, n_jobs, batch_size), self.n_parameters)["aic"]

    def icl(self, X, weights=None, *, n_jobs=1, batch_size=None):
        """The integrated complete-data likelihood criterion: :meth:`bic` plus twice the classification
        entropy ``−Σ_i w_i log P(ĉ_i | x_i)``, with ``ĉ_i`` the most probable component of each sample
        (mclust's definition; Biernacki, Celeux & Govaert 2000). Lower is better; it penalises components
        that overlap.

        Parameters
        ----------
        {criterion_parameters}

        Returns
        -------
        icl : float
            The criterion.
        """
        return criteria(*self._criterion_terms(X, weights, n_jobs, batch_size), self.n_parameters)["icl"]

    # -- EM pieces ------------------------------------------------------------------------------------------
    def estep(self, X, weights=None, *, labels=None, priors=None, n_jobs=1):
        """The E-step of a batch as a value, changing nothing: what :meth:`summarize` would add.

        ``model.add_summaries(model.estep(X))`` is ``model.summarize(X)``; results of disjoint batches add
        with ``+``, so batches can be evaluated anywhere (threads, processes, workers) and their sum added
        once before :meth:`from_summaries`.

        Parameters
        ----------
        X : array-like of shape (n_samples, d)
            The samples; NaN marks a missing value.
        weights : array-like of shape (n_samples,), default=None
            Non-negative sample weights (ones if None).
        labels : array-like of int of shape (n_samples,), default=None, keyword-only
            Partial labels, as in :meth:`summarize`.
        priors : array-like of shape (n_samples, n_components), default=None, keyword-only
            Per-row prior multipliers, as in :meth:`summarize`.
        n_jobs : int, default=1, keyword-only
            Threads to split the rows over (-1: all cores); the result does not depend on it beyond the
            rounding of its sums.

        Returns
        -------
        result : genmix.estep.EStepResult
            ``log_likelihood`` (the weighted log-likelihood of the batch), ``resp_sum`` (each component's
            responsibility mass) and ``stats`` (each component's sufficient statistics, None for frozen
            components).

        Raises
        ------
        ValueError, TypeError
            For malformed input, or a sample (with positive weight) that no component can produce.
        NotImplementedError
            If a component is user-defined: its statistics are accumulated inside the object by its own
            ``summarize``, so they are not a value (use :meth:`summarize`).
        """
        n_jobs = resolve_n_jobs(n_jobs, "GeneralMixtureModel")
        if not all_stackable(self.distributions):
            raise NotImplementedError("estep needs genmix components: a user-defined component accumulates its "
                                      "statistics inside the object (use summarize).")
        X2, _ = self._check_input(X)
        w = check_weights(weights, X2.shape[0])
        return self._estep(X2, w, row_log_priors(X2.shape[0], self.n, labels, priors), n_jobs)

    def _estep(self, X, w, log_priors=None, n_jobs=1, row_offset=0):
        """The E-step of rows validated by ``_check_input`` (the EM driver's protocol, see ``genmix.em``): an
        :class:`~genmix.estep.EStepResult`, row chunks in threads, an impossible row explained and numbered
        from ``row_offset``. Nothing is added to the pending statistics, except that user-defined components
        (whose statistics are not values) are summarised by their own ``summarize``, in the calling thread."""
        with self._explaining(X, row_offset):
            if all_stackable(self.distributions):
                return estep(self.distributions, self.log_weights, X, w, log_priors, n_jobs=n_jobs)
            X = as_float64(X)  # user-defined components read float64 values
            result, R = estep_with_responsibilities(self.distributions, self.log_weights, X, w, log_priors)
            summarize_foreign(self.distributions, X, R)
            return result

    def add_summaries(self, result):
        """Add an E-step's result (:meth:`estep`, or a sum of them) to the pending statistics.

        Parameters
        ----------
        result : genmix.estep.EStepResult
            An E-step of this model (or of a copy with the same components and parameters).

        Returns
        -------
        logp : float
            The result's weighted log-likelihood.
        """
        if not isinstance(result, EStepResult):
            raise TypeError(f"result must be a genmix.estep.EStepResult (from estep); got {type(result).__name__}.")
        if np.shape(result.resp_sum) != (self.n,) or len(result.stats) != self.n:
            raise ValueError(f"result must come from a model with {self.n} components; it has "
                             f"{len(result.stats)}.")
        self.summaries = self.summaries + result.resp_sum
        for c, s in zip(self.distributions, result.stats):
            if s is not None:
                c.summaries = s if c.summaries is None else c.summaries + s
        return float(result.log_likelihood)

    def summarize(self, X, weights=None, *, labels=None, priors=None):
        """E-step on a batch: accumulate responsibility sums and each component's statistics.

        Parameters
        ----------
        X : array-like of shape (n_samples, d)
            The samples; NaN marks a missing value.
        weights : array-like of shape (n_samples,), default=None
            Non-negative sample weights (ones if None).
        labels : array-like of int of shape (n_samples,), default=None, keyword-only
            Partial labels: the component of each row, or -1 if unknown. A labelled row's
            responsibilities are fixed to its component.
        priors : array-like of shape (n_samples, n_components), default=None, keyword-only
            Soft knowledge: each row's prior over the components is multiplied by its row of
            ``priors`` (a one-hot row is a label, a row of ones changes nothing).

        Returns
        -------
        logp : float
            The weighted log-likelihood ``Σ_i w_i log p(x_i)`` of the batch under the current model.

        Raises
        ------
        ValueError
            For malformed input or a sample (with positive weight) that no component can produce; the
            model is then unchanged.
        """
        if is_dask_collection(X):  # one graph over the blocks, the summed result added
            from .dask import summarize

            saved = snapshot(self)
            try:
                return summarize(self, X, weights, labels, priors)
            except BaseException:
                restore(saved)
                raise
        if is_generator(X):
            cursor, _ = batch_source(self, X, weights, None, labels, priors)
            saved = snapshot(self)
            try:  # all batches or none
                return float(sum(self.add_summaries(self._estep(Xb, wb, None, 1, first))
                                 for _, Xb, wb, first in cursor.take(cursor.n_batches)))
            except BaseException:
                restore(saved)
                raise
        X2, _ = self._check_input(X)
        w = check_weights(weights, X2.shape[0])
        return self.add_summaries(self._estep(X2, w, row_log_priors(X2.shape[0], self.n, labels, priors)))

    def from_summaries(self, inertia=0.0, pseudocount=0.0):
        """M-step from the accumulated statistics, then clear them.

        Parameters
        ----------
        inertia : float in [0, 1], default=0.0
            Passed to every component: ``new = inertia * old + (1 - inertia) * estimate``. As in
            pomegranate 0.x it does not apply to the mixture weights.
        pseudocount : float >= 0, default=0.0
            Added to every component's responsibility mass before normalising the weights, and passed to
            the components (discrete families use it to smooth their probabilities).

        Notes
        -----
        A frozen mixture changes nothing. With no accumulated mass nothing changes. Frozen components
        keep their parameters while the weights still update.
        """
        inertia = check_scalar(inertia, "inertia", _UNIT, "GeneralMixtureModel")
        pseudocount = check_scalar(pseudocount, "pseudocount", _NONNEG, "GeneralMixtureModel")
        if self.frozen or not self.summaries.sum() > 0:
            return
        mass = self.summaries + pseudocount
        new_weights = mass / mass.sum()
        families = {}  # the live components of each family: one M-step call per family
        for i, c in enumerate(self.distributions):
            if is_stackable(c) and not c.frozen and c.summaries is not None:
                families.setdefault(type(c), []).append(i)
        updates = []
        for family, idx in families.items():  # a repair is reported once per fit (or call), with its component
            comps = [self.distributions[i] for i in idx]
            new = family._group_new_params(comps, [c.summaries for c in comps], inertia, pseudocount, idx)
            updates.extend(zip(comps, new))
        for c, p in updates:  # every estimate computed and validated before anything is assigned
            if p is not None:
                c._set_params(p)
        for c in self.distributions:
            if is_stackable(c):
                c.summaries = None
            else:  # a genmix composite holding a user-defined object gets pseudocount too (DESIGN §6.5)
                from_summaries_of(c, inertia, pseudocount)
        self._weights = new_weights
        self.summaries = np.zeros(self.n)

    def partial_fit(self, X, weights=None, *, decay=0.6, offset=2.0, n_jobs=1):
        """One step of stepwise (online) EM on a batch: E-step on the batch, then an M-step from running
        statistics that decay geometrically (genmix's own; scikit-learn's mixtures have none).

        The running statistics ``s`` are those of a data set of total weight 1 (each batch's E-step result
        divided by its responsibility mass): the first call sets ``s`` to the batch's, call ``t`` (from 1)
        sets ``s ← (1 − η_t) s + η_t s_batch`` with ``η_t = (t + offset)^(−decay)``, then the model's
        parameters and weights are the M-step from ``s`` (Sato & Ishii 2000; Cappé & Moulines 2009).
        With ``decay`` in (0.5, 1] the steps satisfy Σ η = ∞ and Σ η² < ∞, so for batches drawn from a fixed
        distribution the iterates converge to a stationary point of the expected log-likelihood; smaller
        ``decay`` forgets old batches faster (tracks drift), ``offset`` damps the first steps. The model
        must be initialised (its components given, e.g. by ``from_samples`` on a first batch). ``fit``
        restarts the schedule.

        The step count and the running statistics are part of the model: a copy or a pickle continues the
        schedule where the original stands (``fit`` and a JSON/YAML round trip start a new one). Kernel
        densities' statistics are their points, so their running statistics grow with every batch (each
        point's weight decays but is kept); uniform components keep the range of every batch seen.
        ``labels`` and ``priors`` are not taken here (use ``fit`` for semi-supervised data).

        Parameters
        ----------
        X : array-like of shape (n_samples, d)
            A batch; NaN marks a missing value.
        weights : array-like of shape (n_samples,), default=None
            Non-negative sample weights (ones if None).
        decay : float in (0.5, 1], default=0.6, keyword-only
            The exponent ``κ`` of the step sizes.
        offset : float >= 1, default=2.0, keyword-only
            ``t0`` in the step sizes (``η_t ≤ 1``).
        n_jobs : int, default=1, keyword-only
            Threads for the E-step.

        Returns
        -------
        self : GeneralMixtureModel
            The updated model.

        Raises
        ------
        ValueError, TypeError
            For bad input or options; the model and the running statistics are then unchanged.
        NotImplementedError
            For user-defined components, whose statistics are not values.
        """
        decay = check_scalar(decay, "decay", Interval(0.5, 1.0, closed="right"), "GeneralMixtureModel.partial_fit")
        offset = check_scalar(offset, "offset", Interval(1.0, np.inf), "GeneralMixtureModel.partial_fit")
        result = self.estep(X, weights, n_jobs=n_jobs)
        mass = float(result.resp_sum.sum())
        if not mass > 0:
            raise ValueError("the batch has no weight: there is nothing to fit.")
        batch = result.scaled(1.0 / mass)
        state = getattr(self, "_online", None)
        if self.frozen:
            return self
        if state is None:
            t, running = 0, batch
        else:
            t = state[0]
            eta = (t + offset) ** (-decay)
            running = state[1].scaled(1.0 - eta) + batch.scaled(eta)
        saved = snapshot(self)
        try:
            self.clear_summaries()
            self.add_summaries(running)
            self.from_summaries()
        except BaseException:
            restore(saved)
            raise
        # (calls so far, running statistics, the batch's mean log-likelihood before the step; the mass of
        # the responsibilities is the batch's total weight, since each row's posteriors sum to one)
        self._online = (t + 1, running, result.log_likelihood / mass)
        return self

    def clear_summaries(self):
        """Discard the accumulated statistics of the mixture and of every component."""
        self.summaries = np.zeros(self.n)
        for c in self.distributions:
            c.clear_summaries()

    def fit(self, X, weights=None, inertia=0.0, pseudocount=0.0, stop_threshold=0.1, max_iterations=1e8,
            batch_size=None, batches_per_epoch=None, lr_decay=0.0, callbacks=[], return_history=False,
            verbose=False, n_jobs=1, *, labels=None, priors=None, shuffle=False, random_state=None, dtype=None):
        """Fit the model by expectation–maximisation.

        Each epoch is an M-step from the accumulated statistics followed by an E-step over the data;
        training stops when an epoch improves the total weighted log-likelihood by no more than
        ``stop_threshold``, or after ``max_iterations`` epochs.

        Parameters
        ----------
        X : array-like of shape (n_samples, d)
            The training data; NaN marks a missing value.
        weights : array-like of shape (n_samples,), default=None
            Non-negative sample weights (they act as replication counts). This is the second positional
            argument, as in pomegranate 0.x: scikit-learn's ``fit(X, y)`` would use ``y`` as weights, so
            call ``fit(X)`` (or ``fit(X, weights=w)``); scikit-learn users will find
            ``fit(X, y=None, *, sample_weight=None)`` in the ``genmix.sklearn`` estimators.
        {em_parameters}
        {labels_parameters}
        {dtype_parameter}

        Returns
        -------
        self : GeneralMixtureModel
            The fitted model, or ``(self, history)`` if ``return_history``.

        Raises
        ------
        ValueError, TypeError
            For invalid input or options, or data a component cannot produce; the model is then
            exactly as it was before the call.
        """
        options = EMOptions.check(inertia=inertia, pseudocount=pseudocount, stop_threshold=stop_threshold,
                                  max_iterations=max_iterations, batch_size=batch_size,
                                  batches_per_epoch=batches_per_epoch, lr_decay=lr_decay, callbacks=callbacks,
                                  return_history=return_history, verbose=verbose, n_jobs=n_jobs, dtype=dtype)
        self._online = None  # a fit starts stepwise EM (partial_fit) afresh
        return fit_em(self, X, options, weights=weights, labels=labels, priors=priors, shuffle=shuffle,
                      random_state=random_state)

    @classmethod
    def from_samples(cls, distributions, n_components=None, X=None, weights=None, n_init=1, init="kmeans++",
                     max_kmeans_iterations=10, inertia=0.0, pseudocount=0.0, stop_threshold=0.1,
                     max_iterations=1e8, batch_size=None, batches_per_epoch=None, lr_decay=0.0, callbacks=[],
                     return_history=False, verbose=False, n_jobs=1, *, random_state=None, labels=None,
                     priors=None, covariance_type=None, dtype=None):
        """Learn a mixture from data alone: k-means seeding, per-cluster fits, then EM.

        Parameters
        ----------
        distributions : class or list of classes
            One class gives ``n_components`` components of that class (a univariate class on
            multivariate data gives one :class:`~genmix.IndependentComponentsDistribution` per component,
            i.e. a diagonal model); a class is multivariate if it is a genmix multivariate family or,
            for a user-defined class, if its ``blank().d > 1`` (pomegranate 0.x's rule), and its
            ``from_samples`` then receives whole rows. A list of one class per column gives per-column
            families; a list of classes on univariate data gives one component per class, each class
            fitted to the k-means cluster that it explains best (an optimal assignment).
        n_components : int
            The number of components (ignored for a list of classes on univariate data).
        X : array-like of shape (n_samples, d), numpy.memmap, DataFrame or data generator
            The training data. Initialisation reads it in chunks and never copies it whole (except
            for user-defined classes, mixed-type data and a multivariate Gaussian with missing
            values, whose fits receive each cluster's rows).
        weights : array-like of shape (n_samples,), default=None
            Sample weights, used by k-means and EM.
        n_init : int, default=1
            Initialisations: each is a k-means run (seeding and Lloyd iterations) followed by EM, and
            the fitted model with the highest weighted log-likelihood is kept (pomegranate 0.x kept the
            lowest k-means objective, which need not give the best mixture). The runs draw their
            seeds one after the other from ``random_state``; callbacks see every run, and
            ``return_history`` returns the kept run's history. 'first-k' and 'hierarchical' are
            deterministic and run once.
        init : {'kmeans++', 'first-k', 'random', 'kmeans||', 'hierarchical'}, default='kmeans++'
            The k-means seeding (``genmix.init.kmeans``): greedy weighted k-means++, the first
            k rows with positive weight, k rows drawn in proportion to their weight, scalable
            k-means|| (oversampling rounds reduced by weighted k-means++), or the clusters of Ward's
            agglomeration of (at most 2,000 evenly spaced rows of) the sample in whitened coordinates
            (deterministic, like mclust's hierarchical start; the merges count rows, not their weights,
            which only enter the clusters' means). Except for 'first-k', the
            seeding looks at a uniform sample of at most 65,536 rows with positive weight drawn
            across all the data (all of them when there are fewer), by reservoir sampling with a
            fixed key stream: the sample depends only on the rows and their order, so an array, a
            memmap, a DataFrame and any batching of the same rows give the same start for the same
            ``random_state``. (pomegranate 0.x seeded from the first batch of a generator.) When the
            sample is a strict subset of the data (and no labels are given), the seeding is refined by
            Lloyd's algorithm on the sample, in memory (at most 100 iterations, the stopping rule below).
        max_kmeans_iterations : int, default=10
            Lloyd iterations after seeding, over all the data (one chunked pass each). They stop early
            when the centres no longer move, or move by at most 1e-4 of the sample's mean per-column
            variance (the sum of their squared moves: scikit-learn's ``KMeans`` rule and default ``tol``),
            and the rows are then assigned to the final centres. A cluster left empty moves to the row farthest from its
            centre; a component whose cluster is still empty (fewer distinct rows than components) is
            its family's fit to all the data, with initial weight 0. pomegranate 0.x's default was 1:
            on standardised wine (3 full-covariance components, seeds 0–19) one iteration gives an
            adjusted Rand index of 0.33–0.93 against the classes, 10 give 0.86–0.90, as reliable as
            scikit-learn's ``GaussianMixture`` (0.85–0.90), and the whole fit takes less time (EM
            converges sooner from the better start).
        {em_parameters}
        random_state : None, int, numpy.random.Generator or numpy.random.RandomState, keyword-only
            Seeds k-means; the same seed gives the same model.
        labels : array-like of int of shape (n_samples,), default=None, keyword-only
            Partial labels (component index, -1 for unknown): component i is seeded from the rows
            labelled i (their k-means centre is fixed to those rows' mean and they stay in it), so that
            component i means label i; EM then keeps labelled rows in their component.
        priors : array-like of shape (n_samples, n_components), default=None, keyword-only
            Soft per-row priors for EM (see :meth:`fit`).
        covariance_type : str, default=None, keyword-only
            genmix's own, with ``distributions=MultivariateGaussianDistribution`` only: the components'
            covariance type ('full', 'tied', 'diag', 'spherical', 'EEI', 'EII', or mclust's 'VVV', 'EEE',
            'VVI', 'VII'; see :class:`MultivariateGaussianDistribution`). Each cluster's initial fit is of
            that type (tied types pooled over the clusters). None is 'full'.
        {dtype_parameter}

        Returns
        -------
        model : GeneralMixtureModel
            Or ``(model, history)`` if ``return_history``.
        """
        runs = check_int(n_init, "n_init", Interval(1, np.inf), "GeneralMixtureModel")
        runs = 1 if init in DETERMINISTIC else runs  # deterministic: one run
        if covariance_type is not None:
            if distributions is not MultivariateGaussianDistribution:
                raise ValueError("The 'covariance_type' parameter of GeneralMixtureModel.from_samples applies to "
                                 "distributions=MultivariateGaussianDistribution only; got "
                                 f"{getattr(distributions, '__name__', distributions)!r}.")
            covariance_type = _covariance_type(covariance_type, "GeneralMixtureModel.from_samples").name
        options = EMOptions.check(  # once, before any work (k-means included) and not again for each run
            "GeneralMixtureModel.from_samples", inertia=inertia, pseudocount=pseudocount,
            stop_threshold=stop_threshold, max_iterations=max_iterations, batch_size=batch_size,
            batches_per_epoch=batches_per_epoch, lr_decay=lr_decay, callbacks=callbacks, return_history=True,
            verbose=verbose, n_jobs=n_jobs, dtype=dtype)
        with once_per_fit():  # a repair repeated by every run and M-step is reported once
            return cls._best_of_runs(distributions, n_components, X, weights, runs, init, max_kmeans_iterations,
                                     random_state, labels, priors, check_bool(return_history, "return_history",
                                                                              "GeneralMixtureModel.from_samples"),
                                     options, covariance_type)

    @classmethod
    def _best_of_runs(cls, distributions, n_components, X, weights, runs, init, max_kmeans_iterations, random_state,
                      labels, priors, return_history, em_options, covariance_type=None):
        """``from_samples``' runs: k-means then EM from each start, keeping the best log-likelihood."""
        if is_dask_collection(X):  # read by the initialisation's passes and by EM: computed once
            X = X.persist()
        best = None
        for model in initial_mixtures(cls, distributions, n_components, X, weights, n_init=runs, init=init,
                                      max_kmeans_iterations=max_kmeans_iterations, random_state=random_state,
                                      labels=labels, n_jobs=em_options.n_jobs):
            if covariance_type not in (None, "full"):
                model = cls(MultivariateGaussianDistribution._typed(model.distributions, model.weights,
                                                                    covariance_type), model.weights)
            run = fit_em(model, X, em_options, weights=None if is_generator(X) else weights, labels=labels,
                         priors=priors)
            logp = 0.0
            if runs > 1:  # the weighted log-likelihood of the fitted model over all the rows
                history = run[1]
                if (em_options.batches_per_epoch is None and not em_options.callbacks and labels is None
                        and priors is None):
                    # full-batch EM scored every row with the final parameters in its last E-step (no
                    # callback can have restored others, no prior entered the score): reuse that total
                    logp = history.log_probabilities[-1] if history.log_probabilities else \
                        history.initial_log_probability
                else:  # streaming scores epochs by parts, and priors enter the fit's scores: one more E-step
                    logp = model.summarize(X, weights=None if is_generator(X) else weights)
                    model.clear_summaries()
            if best is None or logp > best[0]:
                best = (logp, run)
        return best[1] if return_history else best[1][0]

    # -- plotting ---------------------------------------------------------------------------------------------
    def plot(self, X, *, kind="auto", ax=None, **options):
        """Draw the fitted mixture over data ``X`` (genmix's own; needs matplotlib).

        One column: a histogram with the mixture's density and each weighted component; several numeric
        columns: the rows coloured by component and sized by uncertainty, with each Gaussian's 1σ/2σ
        ellipses (on the first two principal axes of more than two columns); a categorical column: one
        panel per column. See :func:`genmix.plotting.plot_mixture`.

        Parameters
        ----------
        X : array-like of shape (n_samples, d) or DataFrame
            The data.
        kind : {'auto', 'density', 'classification', 'uncertainty', 'columns'}, default='auto', keyword-only
            The plot.
        ax : matplotlib.axes.Axes, default=None, keyword-only
            Where to draw (None: a new figure; a sequence of Axes for 'columns').
        **options
            Passed to the plotting function (e.g. ``columns=`` for 'classification').

        Returns
        -------
        ax : matplotlib.axes.Axes or ndarray of Axes
            The axes drawn on.
        """
        from .plotting import plot_mixture

        return plot_mixture(self, X, kind=kind, ax=ax, **options)

    # -- sampling ---------------------------------------------------------------------------------------------
    def sample(self, n=1, random_state=None):
        """Draw samples: multinomial component counts, each component's draws, then a shuffle.

        Parameters
        ----------
        n : int, default=1
            The number of samples.
        random_state : None, int, numpy.random.Generator or numpy.random.RandomState
            The source of randomness; the global numpy state is never used.

        Returns
        -------
        sample : float, ndarray of shape (d,), ndarray of shape (n,) or ndarray of shape (n, d)
            A single sample when ``n == 1`` (as in pomegranate 0.x), else an array of ``n`` samples
            (1-D for a univariate model).
        """
        n = check_int(n, "n", Interval(0, 2**40), "GeneralMixtureModel.sample")
        rng = as_generator(random_state)
        counts = rng.multinomial(n, self._weights)
        parts = []
        for c, m in zip(self.distributions, counts):
            if m == 0:
                continue
            draws = np.asarray(c._sample_n(rng, m) if is_stackable(c) else c.sample(int(m)))
            parts.append(draws.reshape(m, self.d))
        kinds = {p.dtype.kind for p in parts}
        dtype = np.float64 if kinds <= set("biuf") else object  # categories keep their Python values
        out = np.concatenate([p.astype(dtype) for p in parts]) if parts else np.empty((0, self.d))
        out = out[rng.permutation(n)]
        if self.d == 1:
            out = out[:, 0]
        if n == 1:  # a category is returned as its key
            return (out[0] if out.dtype == object else float(out[0])) if self.d == 1 else out[0]
        return out

    # -- serialisation ---------------------------------------------------------------------------------------
    def to_dict(self):
        """A dict in pomegranate 0.x's layout (``weights`` as probabilities).

        Returns
        -------
        d : dict
            ``class``, ``distributions`` (each component's ``to_dict``) and ``weights``; ``frozen`` and
            genmix's ``feature_names`` only when set.
        """
        out = {"class": "GeneralMixtureModel",
               "distributions": [self._component_dict(c) for c in self.distributions],
               "weights": self._weights.tolist()}
        if self.frozen:
            out["frozen"] = True
        if getattr(self, "feature_names", None) is not None:  # genmix's own key, only when there are names
            out["feature_names"] = list(self.feature_names)
        return out

    @staticmethod
    def _component_dict(c):
        if not callable(getattr(c, "to_dict", None)):
            raise TypeError(f"component {type(c).__name__} has no to_dict method, so the mixture cannot be "
                            "serialised.")
        return c.to_dict()

    def __repr__(self):
        comps = ", ".join(repr(c) for c in self.distributions)
        return f"GeneralMixtureModel([{comps}], weights={np.round(self._weights, 6).tolist()})"


#: rows per prediction batch when ``batch_size`` is None (temporaries of a few MiB; a memmap is read and
#: converted one such batch at a time)
_PREDICT_ROWS = 65536


def _numbered(fn, rows, offset):
    """``fn(rows)``, an impossible row named by its index in the whole chunk (``rows`` start at ``offset``)."""
    with rows_from(offset):
        return fn(rows)


def _weights_only(wlp, log_weights):
    """The rows of ``wlp`` (n, k) equal to ``log_weights`` (every component's log density there is 0),
    screened on the heaviest component's column so that the common case costs one pass over ``n`` values."""
    j = int(np.argmax(log_weights))
    rows = np.flatnonzero(wlp[:, j] == log_weights[j])
    return rows[(wlp[rows] == log_weights).all(axis=1)] if rows.size else rows


def _rows_of(X):
    """The number of rows of an array (0 for a generator, whose results are concatenated instead)."""
    return 0 if is_generator(X) else X.shape[0]


# fit and from_samples share the documentation of the EM options (genmix/_docs.py).
fill_docstring(GeneralMixtureModel.fit, em_parameters=EM_PARAMETERS, labels_parameters=LABELS_PARAMETERS,
               dtype_parameter=DTYPE_PARAMETER)
fill_docstring(GeneralMixtureModel.from_samples.__func__, em_parameters=EM_PARAMETERS,
               dtype_parameter=DTYPE_PARAMETER)
for _criterion in (GeneralMixtureModel.bic, GeneralMixtureModel.aic, GeneralMixtureModel.icl):
    fill_docstring(_criterion, criterion_parameters=CRITERION_PARAMETERS)
