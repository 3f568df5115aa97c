"""scikit-learn estimators on genmix's core (needs scikit-learn: ``pip install genmix[sklearn]``).

- :class:`GaussianMixture`: a drop-in for ``sklearn.mixture.GaussianMixture`` (the same parameters,
  attributes, methods and results from the same start), plus ``sample_weight``, missing values (NaN)
  and ``n_jobs``. Swap ``from sklearn.mixture import GaussianMixture`` for
  ``from genmix.sklearn import GaussianMixture``.
- :class:`GeneralMixture`: the same estimator interface for a mixture of any genmix family (a class, a
  family name, one per column, or 'auto' from a DataFrame's dtypes).
"""
try:
    import sklearn  # noqa: F401
except ImportError as exc:  # pragma: no cover - scikit-learn comes with the test extra
    raise ImportError("genmix.sklearn needs scikit-learn: pip install 'genmix[sklearn]'.") from exc

from ._gaussian import GaussianMixture
from ._general import GeneralMixture

__all__ = ["GaussianMixture", "GeneralMixture"]
