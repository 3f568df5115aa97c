"""scikit-learn estimators on genmix's core (needs scikit-learn: ``pip install genmix[sklearn]``).

- :class:`GeneralMixture`: the same estimator interface for a mixture of any genmix family (a class, a
  family name, one per column, or 'auto' from a DataFrame's dtypes).
"""
try:
    import sklearn  # noqa: F401
except ImportError as exc:  # pragma: no cover - scikit-learn comes with the test extra
    raise ImportError("genmix.sklearn needs scikit-learn: pip install 'genmix[sklearn]'.") from exc

from ._general import GeneralMixture

__all__ = ["GeneralMixture"]
