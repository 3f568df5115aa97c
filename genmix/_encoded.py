"""Categorical columns encoded once per fit: a float array of codes that the fused E-step reads directly.

A fit of mixed-type rows (an object array, or a DataFrame with categorical columns) validates them once
and then visits the same rows every iteration. :func:`encode_table` turns them, once, into an
:class:`Encoded` array: float64, numeric columns as they are (NaN missing), and each categorical column
as the index of its value among the column's distinct values (``categories[j]``, in order of first
appearance; ``len(categories[j])`` where the value is missing, so that the fused E-step reads the codes
as they are). A ``DiscreteDistribution`` column then costs the fused E-step
a table lookup per value (``genmix._fused.CategoricalTerm``) instead of a dict probe per value per call.

Batches sliced from an :class:`Encoded` array keep its categories. Any code that needs the values
themselves (the general E-step, a user-defined component, an error message naming a value) calls
:meth:`Encoded.decoded` and gets the object array the rows came from.
"""
import numpy as np

from .distributions.discrete import _is_missing  # what a DiscreteDistribution reads as missing

__all__ = ["Encoded", "encode_table", "decoded"]


class Encoded(np.ndarray):
    """A float64 (n, d) array whose columns in ``categories`` hold codes into those value arrays.

    Attributes
    ----------
    categories : dict of int to ndarray of object
        For each categorical column, its distinct values; the column holds each row's index into them
        (``len(values)`` for a missing value).
    """

    def __array_finalize__(self, obj):
        self.categories = getattr(obj, "categories", {})

    def decoded(self):
        """The rows as an object array of values (floats for numeric columns, None where missing)."""
        X = np.asarray(self)
        out = X.astype(object)
        for j, values in self.categories.items():
            codes = X[:, j].astype(np.intp)
            missing = codes == len(values)
            column = np.empty(codes.shape[0], dtype=object)
            column[~missing] = values[codes[~missing]]
            column[missing] = None
            out[:, j] = column
        return out


def decoded(X):
    """``X`` itself, or the object rows of an :class:`Encoded` array."""
    return X.decoded() if isinstance(X, Encoded) else X


_NUMERIC_KINDS = frozenset({"floating", "integer", "mixed-integer-float", "boolean", "decimal", "empty"})


def _has_text(column):
    """Whether a validated object column holds a value that is not a number (a category)."""
    try:
        from pandas.api.types import infer_dtype
    except ImportError:  # pragma: no cover - pandas is in the test extra
        infer_dtype = None
    if infer_dtype is not None and infer_dtype(column, skipna=True) in _NUMERIC_KINDS:
        return False  # decided in C; anything else is scanned
    return any(isinstance(v, (str, bytes)) for v in column.tolist())


def _factorize(column):
    """``(codes (float, NaN missing), distinct values)`` of an object column, in order of first appearance;
    missing values (None, NaN, 'nan' as Discrete reads them) get NaN. pandas' hash table when available,
    else a dict probe per value."""
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is in the test extra
        pd = None
    if pd is not None:
        codes, uniques = pd.factorize(column, use_na_sentinel=True)
        uniques = np.asarray(uniques, dtype=object)
        codes = codes.astype(np.float64)
        codes[codes < 0] = np.nan
        dropped = [i for i, v in enumerate(uniques.tolist()) if _is_missing(v)]  # the string 'nan'
        if dropped:
            keep = np.ones(uniques.size, dtype=bool)
            keep[dropped] = False
            remap = np.where(keep, np.cumsum(keep) - 1, -1).astype(np.float64)
            remap[~keep] = np.nan
            observed = ~np.isnan(codes)
            codes[observed] = remap[codes[observed].astype(np.intp)]
            uniques = uniques[keep]
        return codes, uniques
    lookup, values = {}, []
    codes = np.empty(column.shape[0])
    for i, v in enumerate(column.tolist()):
        if _is_missing(v):
            codes[i] = np.nan
            continue
        c = lookup.get(v)
        if c is None:
            c = lookup[v] = len(values)
            values.append(v)
        codes[i] = c
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return codes, out


def encode_table(X):
    """An :class:`Encoded` copy of the validated object rows ``X`` (n, d), or ``X`` itself when no column
    holds text (numbers in an object array stay on the general path's conversions)."""
    if not (isinstance(X, np.ndarray) and X.dtype == object and X.ndim == 2):
        return X
    text = [j for j in range(X.shape[1]) if _has_text(X[:, j])]
    if not text:
        return X
    out = np.empty(X.shape, dtype=np.float64)
    categories = {}
    for j in range(X.shape[1]):
        if j in text:
            codes, categories[j] = _factorize(X[:, j])
            codes[np.isnan(codes)] = len(categories[j])  # missing: one past the last category
            out[:, j] = codes
        else:
            out[:, j] = X[:, j].astype(np.float64)  # None reads as NaN
    encoded = out.view(Encoded)
    encoded.categories = categories
    return encoded
