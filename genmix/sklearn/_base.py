"""What the scikit-learn estimators share: sample weights, scores, information criteria, predictions."""
import numpy as np

from ..data import check_weights

__all__ = ["MixtureEstimatorMixin"]


class MixtureEstimatorMixin:
    """Predictions and scores of a fitted ``model_`` (a :class:`genmix.GeneralMixtureModel`).

    A subclass defines ``_validated(X)`` (the checked rows, as the core reads them); the criteria are the
    core model's.
    """

    def _keeping_fitted_state(self, fit, *args):
        """``fit(*args)``; if it fails, the fitted attributes (``name_``) are put back as they were, so a
        failed fit leaves a fitted estimator unchanged."""
        saved = {k: v for k, v in vars(self).items() if k.endswith("_") and not k.startswith("_")}
        try:
            return fit(*args)
        except BaseException:
            for k in [k for k in vars(self) if k.endswith("_") and not k.startswith("_")]:
                del self.__dict__[k]
            self.__dict__.update(saved)
            raise

    def _check_enough_rows(self, n):
        """scikit-learn's error for fewer rows than components."""
        if n < self.n_components:
            raise ValueError(f"Expected n_samples >= n_components but got n_components = {self.n_components}, "
                             f"n_samples = {n}")

    def _record_step(self, model):
        """The attributes a ``partial_fit`` step sets from the core model's stepwise state: ``n_iter_`` (steps
        since the first), ``lower_bound_`` (the batch's mean log-likelihood before its step) and
        ``converged_`` (False: no stopping rule applies)."""
        self.n_iter_ = model._online[0]
        self.lower_bound_ = float(model._online[2])
        self.converged_ = False

    @staticmethod
    def _check_n_samples(n_samples):
        if n_samples < 1:
            raise ValueError(f"Invalid value for 'n_samples': {n_samples} . The sampling requires at least one "
                             "sample.")

    @staticmethod
    def _check_sample_weight(sample_weight, n):
        if sample_weight is None:
            return np.ones(n)
        w = check_weights(sample_weight, n, name="sample_weight")
        if not w.sum() > 0:
            raise ValueError("sample_weight must not all be zero.")
        return w

    def score_samples(self, X):
        """The log-likelihood of each sample (of its observed values, where some are missing).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples; NaN marks a missing value.

        Returns
        -------
        log_prob : ndarray of shape (n_samples,)
            ``log p(x)`` of each sample under the fitted mixture.
        """
        X = self._validated(X)
        return np.asarray(self.model_.log_probability(X, n_jobs=self.n_jobs), dtype=np.float64).reshape(len(X))

    def score(self, X, y=None, *, sample_weight=None):
        """The mean log-likelihood of the samples (weighted by ``sample_weight``, genmix's own).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples; NaN marks a missing value.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None, keyword-only
            Non-negative weights of the samples in the mean (None: all 1).

        Returns
        -------
        log_likelihood : float
            The (weighted) mean of ``score_samples(X)``.
        """
        logp = self.score_samples(X)
        if sample_weight is None:
            return float(np.mean(logp))
        w = self._check_sample_weight(sample_weight, logp.shape[0])
        return float(w @ logp / w.sum())

    def predict(self, X):
        """The most probable component of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples; NaN marks a missing value.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            The index of each sample's most probable component.
        """
        X = self._validated(X)  # first: NotFittedError before any attribute is read
        return self.model_.predict(X, n_jobs=self.n_jobs)

    def predict_proba(self, X):
        """The posterior probability of each component for each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples; NaN marks a missing value.

        Returns
        -------
        resp : ndarray of shape (n_samples, n_components)
            ``P(component | x)``; each row sums to 1.
        """
        X = self._validated(X)
        return self.model_.predict_proba(X, n_jobs=self.n_jobs)

    def bic(self, X):
        """Bayesian information criterion on ``X`` (lower is better): ``-2 log L + p log n``
        (:meth:`genmix.GeneralMixtureModel.bic` of ``model_``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples; NaN marks a missing value.

        Returns
        -------
        bic : float
            The criterion.
        """
        return self.model_.bic(self._validated(X), n_jobs=self.n_jobs)

    def aic(self, X):
        """Akaike information criterion on ``X`` (lower is better): ``-2 log L + 2 p``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples; NaN marks a missing value.

        Returns
        -------
        aic : float
            The criterion.
        """
        return self.model_.aic(self._validated(X), n_jobs=self.n_jobs)

    def icl(self, X):
        """Integrated complete-data likelihood on ``X`` (lower is better): BIC plus twice the entropy of the
        most probable classification (genmix's own; see :meth:`genmix.GeneralMixtureModel.icl`).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The samples; NaN marks a missing value.

        Returns
        -------
        icl : float
            The criterion.
        """
        return self.model_.icl(self._validated(X), n_jobs=self.n_jobs)
