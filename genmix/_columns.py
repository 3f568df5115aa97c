"""Per-column views of a mixture: which column makes a row impossible, and imputation.

Nothing here names a family. A component's column ``j`` is its ``j``-th child when it models columns
independently (it has a list ``distributions`` of one univariate distribution per column), or the component
itself for univariate data; other components (a multivariate Gaussian) have no separate columns. A column
distribution that can give a conditional mode declares ``_mode_candidates()`` (the values among which the
mode of any mixture of such distributions lies); one that can give a conditional expectation declares
``_fill(X)`` (on the component).
"""
import numpy as np

from ._validation import show

__all__ = ["column_model", "blame", "impute_rows", "imputed_frame"]


def column_model(component, j, d):
    """The distribution of column ``j`` in ``component``: its ``j``-th child for independent columns, itself
    for a univariate model; None where the columns are not separable (e.g. a multivariate Gaussian)."""
    if d == 1:
        return component
    children = getattr(component, "distributions", None)
    return children[j] if isinstance(children, (list, tuple)) and len(children) == d else None


def blame(components, weights, X, row, names=None, first=0):
    """Which columns of ``X[row]`` every component of positive weight gives probability 0 (for components
    with separate columns), as a sentence for an error message (the row numbered from ``first``, the index
    of ``X``'s first row in the data), with a hint on how columns are matched; ``""`` when no single column
    is to blame."""
    d = X.shape[1]
    live = [c for c, w in zip(components, weights) if w > 0]
    blamed = []
    for j in range(d):
        columns = [column_model(c, j, d) for c in live]
        if any(c is None for c in columns):
            continue
        value = X[row:row + 1, j]
        try:
            impossible = all(np.isneginf(np.ravel(c.log_probability(value))[0]) for c in columns)
        except (TypeError, ValueError):
            continue
        if impossible:
            label = f"column {j}" + (f" ({names[j]!r})" if names else "")
            blamed.append(f"{label} holds {show(value[0], 40)}")
    if not blamed:
        return ""
    order = ("DataFrame columns are matched by name (feature_names), arrays by position." if names else
             "Columns are matched by position: check their order.")
    return (f"In row {first + row}: {', '.join(blamed)}, which no component can produce (a category none of them "
            f"was fitted on, or a value outside their support). {order}")


def _fills(component, X):
    """``component._fill(X)``: ``X`` with its missing values replaced by their conditional expectations."""
    if not callable(getattr(component, "_fill", None)):
        raise ValueError(f"component {type(component).__name__} cannot impute missing values.")
    return component._fill(X)


def _mode_table(components, j, d):
    """``(values, P)`` for a column ``j`` that every component models with a discrete family: the values
    among which the mode of any mixture of them lies (each family's ``_mode_candidates``, united) and
    ``P[k, v]``, the probability of value ``v`` under component ``k``. None for any other column."""
    columns = [column_model(c, j, d) for c in components]
    if not all(callable(getattr(c, "_mode_candidates", None)) for c in columns):
        return None
    candidates = [np.asarray(c._mode_candidates(), dtype=object) for c in columns]
    values = np.empty(0, dtype=object)
    if any(len(c) for c in candidates):
        values = np.array(list(dict.fromkeys(v for c in candidates for v in c.tolist())), dtype=object)
    try:
        P = np.vstack([np.exp(np.atleast_1d(c.log_probability(values[:, None]))) for c in columns])
    except (TypeError, ValueError):  # families whose values cannot be compared (a category and a count)
        return None
    return values, P


def _missing_mask(X):
    """Where ``X`` (validated, float or object) holds a missing value."""
    if X.dtype != object:
        return np.isnan(X)
    from .distributions.discrete import _is_missing

    return np.vectorize(_is_missing, otypes=[bool])(X) if X.size else np.zeros(X.shape, bool)


def impute_rows(components, X, posterior, chunks):
    """``(X_imputed, missing)``: validated rows ``X`` with each missing value filled given the row's observed
    values, and the mask of what was missing.

    ``posterior(Xm)`` gives the rows' posterior over the components (n, k); ``chunks(rows)`` the slices of
    the rows with missing values to process at a time. A discrete column (every component's column has
    ``_mode_candidates``) gets the posterior predictive mode ``argmax_c Σ_k P(k | x_o) p_k(c)``; any other
    the posterior mean of the components' conditional expectations (``_fill``).
    """
    d = X.shape[1]
    out = X.copy()
    missing = _missing_mask(X)
    modes = [_mode_table(components, j, d) for j in range(d)]
    rows = np.nonzero(missing.any(axis=1))[0]
    for sl in chunks(rows):
        idx = rows[sl]
        Xm = X[idx]
        R = posterior(Xm)
        fills = None
        for j in range(d):
            miss = missing[idx, j]
            if not miss.any():
                continue
            if modes[j] is not None:  # a discrete column: the posterior predictive mode
                values, P = modes[j]
                out[idx[miss], j] = values[np.argmax(R[miss] @ P, axis=1)]
                continue
            if fills is None:
                fills = [_fills(c, Xm) for c in components]
            values = np.column_stack([np.asarray(f[miss, j], dtype=np.float64) for f in fills])
            out[idx[miss], j] = np.einsum("ik,ik->i", R[miss], values)
    return out, missing


def imputed_frame(frame, aligned, out, missing):
    """The DataFrame ``frame`` with the imputed values of ``out`` (rows and columns of ``aligned``, the same
    frame in the model's column order) written where ``missing``: same index, columns and dtypes."""
    result = aligned.copy()
    for j, column in enumerate(aligned.columns):
        rows = np.nonzero(missing[:, j])[0]
        if not rows.size:
            continue
        values = out[rows, j]
        if str(result.dtypes.iloc[j]) == "category":
            series = result[column]
            unseen = [v for v in dict.fromkeys(values.tolist()) if v not in set(series.cat.categories)]
            if unseen:
                result[column] = series.cat.add_categories(unseen)
        elif result.dtypes.iloc[j] != object:
            dtype = result.dtypes.iloc[j]
            if isinstance(dtype, np.dtype):
                values = values.astype(dtype)
            else:  # a pandas extension dtype (pandas 3's default str, nullable Int64, boolean…)
                import pandas as pd

                values = pd.array(values.tolist(), dtype=dtype)
        result.iloc[rows, j] = values
    return result[list(frame.columns)]
