"""The input boundary: convert data once to float64 2-D arrays, check sample weights, make batches.

Everything inside genmix works on ``(n_samples, n_features)`` float64 arrays in which NaN marks a
missing value. Nothing here modifies the caller's arrays; a copy is made only when the dtype or the
layout has to change.
"""
import numpy as np

from ._validation import show

__all__ = ["BaseGenerator", "DataGenerator", "CSVGenerator", "npy_generator", "check_X", "check_weights",
           "check_labels", "batch_slices", "as_float"]


def as_float(X, name="X"):
    """Convert an object array (numeric columns of mixed-type data) to float64; None becomes NaN.

    Raises
    ------
    TypeError
        If a value is not a number.
    ValueError
        If a value is infinite.
    """
    bad = _first_string(X)
    try:
        if bad is not None:
            raise TypeError
        out = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        bad = bad if bad is not None else next(v for v in np.ravel(X) if not _is_number_or_none(v))
        raise TypeError(f"{name} holds the non-numeric value {show(bad, 40)} where its distribution expects numbers "
                        "(strings are not read as numbers)."
                        ) from None
    if np.isinf(out).any():
        raise ValueError(f"{name} contains infinite values; only finite numbers and NaN (missing) are allowed.")
    return out


def _first_string(X):
    """The first ``str``/``bytes`` value of an array-like (numbers written as text, such as ``"1.5"``, are
    refused rather than parsed: a column of strings is a data-loading mistake, not data); else None."""
    arr = X if isinstance(X, np.ndarray) else None
    if arr is not None and arr.dtype.kind in "US":
        return arr.flat[0] if arr.size else None
    if arr is not None and arr.dtype != object:
        return None
    return next((v for v in np.ravel(np.asarray(X, dtype=object)) if isinstance(v, (str, bytes))), None)


def _is_number_or_none(v):
    if v is None:
        return True
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return True


def check_X(X, d, *, name="X", allow_empty=True, allow_object=False, dtype=np.float64):
    """Return ``(X2, scalar)``: ``X`` as a float64 (or ``dtype``) ``(n, d)`` array, and whether it was one scalar.

    Parameters
    ----------
    X : array-like
        A scalar, a 1-D sequence or a 2-D array. For a univariate model (``d == 1``) a scalar is one
        sample and a 1-D sequence is ``n`` samples; for a multivariate model a 1-D sequence of
        length ``d`` is one sample.
    d : int
        The dimensionality the model expects.
    name : str, default="X"
        The argument name used in error messages.
    allow_empty : bool, default=True
        Whether zero samples are acceptable.
    allow_object : bool, default=False
        Whether non-numeric values (categories of a discrete column, as in a pandas DataFrame with
        categorical columns) are acceptable; such input is returned as an object array whose numeric
        columns each family converts itself.
    dtype : {numpy.float64, numpy.float32}, default=numpy.float64
        The dtype of numeric input (float32: a fit's working precision, see ``check_dtype``).

    Raises
    ------
    TypeError
        If ``X`` is not numeric.
    ValueError
        If ``X`` is ragged, has the wrong number of dimensions or columns, or holds infinities.
    """
    if X is None:
        raise TypeError(f"{name} must be array-like of numbers; got None.")
    if isinstance(X, (str, bytes)) and not allow_object:
        raise TypeError(f"{name} must be numeric array-like; got a {type(X).__name__}.")
    if is_frame(X) and not is_dask_collection(X):
        X = _frame_values(X)
    try:
        arr = np.asarray(X)
    except ValueError as exc:  # ragged nested lists
        raise ValueError(f"{name} must be a rectangular array of numbers; it is ragged ({exc}).") from None
    if arr.dtype.kind in "cmM":
        raise TypeError(f"{name} must hold real numbers; got dtype {arr.dtype} (complex numbers, dates and "
                        "durations are not accepted).")
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        try:
            if _first_string(arr) is not None:  # "1.5" is text, not a number
                raise TypeError
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            if not allow_object:
                bad = _first_string(arr)
                got = f"the string {show(bad, 40)}" if bad is not None else f"dtype {arr.dtype}"
                raise TypeError(
                    f"{name} must contain only numbers (NaN marks a missing value); got {got}."
                ) from None
            arr = arr.astype(object)
    elif arr.dtype.kind == "b":
        arr = arr.astype(np.float64)
    narrowed = arr.dtype == np.float64 and dtype == np.float32
    if arr.dtype != object:
        with np.errstate(over="ignore"):  # a value beyond float32's range becomes inf: refused below
            arr = np.asarray(arr, dtype=dtype)
    scalar = arr.ndim == 0
    if scalar:
        if d != 1:
            raise ValueError(f"{name} is a scalar but the model has {d} dimensions; pass an array of shape (n, {d}).")
        arr = arr.reshape(1, 1)
    elif arr.ndim == 1:
        arr = arr.reshape(-1, 1) if d == 1 or arr.size == 0 else arr.reshape(1, -1)
        if arr.size == 0:
            arr = arr.reshape(0, d)  # an empty list is no samples, whatever d is
    elif arr.ndim != 2:
        raise ValueError(f"{name} must be 1-D or 2-D of shape (n_samples, {d}); got {arr.ndim} dimensions.")
    if arr.shape[1] != d:
        raise ValueError(f"{name} has {arr.shape[1]} columns but the model has {d} dimensions; "
                         f"expected shape (n_samples, {d}).")
    if not allow_empty and arr.shape[0] == 0:
        raise ValueError(f"{name} must contain at least one sample; got an empty array.")
    if arr.dtype != object and _has_inf(arr):
        rows = np.unique(np.nonzero(np.isinf(arr))[0])[:5]
        if narrowed:
            raise ValueError(f"{name} has values beyond the float32 range (|x| > 3.4e38) or infinite values "
                             f"(rows {rows.tolist()}...); fit it with dtype=np.float64.")
        raise ValueError(f"{name} contains infinite values (rows {rows.tolist()}...); only finite numbers and "
                         "NaN (missing) are allowed.")
    return arr, scalar


def _frame_values(frame):
    """A DataFrame's values; with pandas extension columns (nullable Int64/boolean, the string dtype) an object
    array whose missing cells (``pd.NA``) are None, which every family reads as missing."""
    if all(isinstance(t, np.dtype) or str(t) == "category" for t in frame.dtypes):
        return frame
    out = frame.to_numpy(dtype=object)
    out[frame.isna().to_numpy()] = None
    return out


def check_dtype(dtype, owner):
    """The working dtype of a fit: ``numpy.float64`` (None, the default) or ``numpy.float32``.

    Raises
    ------
    TypeError, ValueError
        If ``dtype`` is not a dtype, or is another dtype; the message names ``owner``.
    """
    if dtype is None:
        return np.dtype(np.float64)
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"The 'dtype' parameter of {owner} must be numpy.float64 or numpy.float32 (or None); "
                        f"got {dtype!r}.") from None
    if resolved not in (np.dtype(np.float64), np.dtype(np.float32)):
        raise ValueError(f"The 'dtype' parameter of {owner} must be numpy.float64 or numpy.float32 (or None); "
                         f"got {resolved}.")
    return resolved


def is_frame(X):
    """Whether ``X`` is a pandas DataFrame (checked without importing pandas)."""
    return hasattr(X, "iloc") and hasattr(X, "columns") and hasattr(X, "dtypes")


def frame_names(X):
    """The column names of a DataFrame whose labels are all strings, as a tuple; else None."""
    if not is_frame(X):
        return None
    names = tuple(X.columns)
    return names if names and all(isinstance(c, str) for c in names) else None


def is_dask_collection(X):
    """Whether ``X`` is a Dask collection (array, DataFrame, Series), checked without importing dask."""
    return hasattr(X, "__dask_graph__") and callable(getattr(X, "__dask_graph__", None))


def is_duck_array(X):
    """Whether ``X`` is a 2-D array of another library (a Dask, HDF5 or zarr array, say): not an ndarray, but
    with a ``shape``, a numpy ``dtype``, slicing and ``__array__``, so that it can be read by row slices,
    each converted on its own, never the whole array at once."""
    if isinstance(X, np.ndarray) or is_frame(X) or not hasattr(X, "__array__") or not hasattr(X, "__getitem__"):
        return False
    shape = getattr(X, "shape", None)
    return isinstance(shape, tuple) and len(shape) == 2 and isinstance(getattr(X, "dtype", None), np.dtype)


def is_sliceable(X, d):
    """A numeric 2-D ndarray/memmap/array of another library (:func:`is_duck_array`) or a DataFrame of width
    ``d``, which batches can slice directly (each batch then converted and validated on its own, the data
    never copied whole)."""
    if is_frame(X):
        return X.shape[1] == d and all(k in "biuf" for k in X.dtypes.map(lambda t: t.kind))
    return ((isinstance(X, np.ndarray) and X.ndim == 2) or is_duck_array(X)) and X.shape[1] == d \
        and X.dtype.kind in "biuf"


def n_columns(X, name="X"):
    """The number of columns of ``X`` (1 for a 1-D sequence), checking first that it is rectangular."""
    if X is None:
        raise TypeError(f"{name} must be array-like; got None.")
    try:
        ndim, shape = np.ndim(X), np.shape(X)
    except ValueError:
        raise ValueError(f"{name} must be a rectangular array; it is ragged.") from None
    if ndim > 2:
        raise ValueError(f"{name} must be 1-D or 2-D of shape (n_samples, n_features); got {ndim} dimensions.")
    return shape[1] if ndim == 2 else 1


def _has_inf(arr, chunk_rows=1 << 18):
    """Whether ``arr`` holds an infinity, checked in row chunks (no full-size temporary for a memmap)."""
    return any(np.isinf(arr[s:s + chunk_rows]).any() for s in range(0, arr.shape[0], chunk_rows))


def align_columns(X, names):
    """A DataFrame ``X`` with its columns in the order of ``names`` (the ``feature_names`` of the last fit);
    anything else, or ``names`` None, unchanged. A missing or unknown column is a ``ValueError``."""
    if names is None or not is_frame(X) or tuple(X.columns) == tuple(names):
        return X
    missing = [c for c in names if c not in set(X.columns)]
    unknown = [c for c in X.columns if c not in set(names)]
    if missing or unknown:
        raise ValueError(f"X's columns do not match the DataFrame the model was fitted on (feature_names="
                         f"{list(names)}): missing {missing}, unknown {unknown}. Columns of a DataFrame are "
                         "matched by name.")
    return X[list(names)]


def row_log_priors(n, k, labels=None, priors=None):
    """Per-row prior multipliers as logs, shape (n, k), from ``labels`` and/or ``priors``; or None.

    ``labels[i] = j`` fixes row i to component j (a one-hot prior), -1 leaves it to the E-step;
    ``priors[i]`` multiplies row i's prior over the ``k`` components (soft knowledge).
    """
    if labels is None and priors is None:
        return None
    log_priors = np.zeros((n, k))
    if priors is not None:
        try:
            P = np.asarray(priors, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError("priors must be an array of non-negative numbers of shape (n_samples, "
                            "n_components).") from None
        if P.shape != (n, k):
            raise ValueError(f"priors must have shape (n_samples, n_components) = ({n}, {k}); got {P.shape}.")
        if not np.all(np.isfinite(P)) or np.any(P < 0):
            raise ValueError("priors must be finite and non-negative.")
        bad = np.nonzero(~(P.sum(axis=1) > 0))[0]
        if bad.size:
            raise ValueError(f"priors rows {bad[:10].tolist()} are all zero: every row needs a component it "
                             "may belong to.")
        with np.errstate(divide="ignore"):
            log_priors += np.log(P)
    if labels is not None:
        y = check_labels(labels, n, k)
        known = np.nonzero(y >= 0)[0]
        one_hot = np.full((known.size, k), -np.inf)
        one_hot[np.arange(known.size), y[known]] = 0.0
        log_priors[known] += one_hot
    return log_priors


def unit_weights(n):
    """Weights of one for ``n`` rows as a read-only zero-stride view: no memory however large ``n`` is."""
    return np.broadcast_to(np.float64(1.0), (n,))


def check_weights(weights, n, *, name="weights"):
    """Return sample weights as a float64 ``(n,)`` array (ones if ``weights`` is None).

    Raises
    ------
    ValueError
        If the length differs from ``n``, or a weight is negative, NaN or infinite.
    TypeError
        If the weights are not numeric.
    """
    if weights is None:
        return unit_weights(n)
    try:
        w = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a 1-D array of non-negative numbers.") from None
    if w.ndim == 0:
        w = w.reshape(1)
    if w.ndim != 1:
        raise ValueError(f"{name} must be 1-D of shape (n_samples,); got shape {w.shape}.")
    if w.shape[0] != n:
        raise ValueError(f"Size of weight vector does not match size of data: {name} has {w.shape[0]} "
                         f"entries but X has {n} samples.")
    if not np.all(np.isfinite(w)):
        raise ValueError(f"{name} must be finite; got NaN or infinite values.")
    if np.any(w < 0):
        raise ValueError(f"{name} must be non-negative; got a minimum of {float(w.min())!r}.")
    return w


def batch_slices(n, batch_size):
    """The row slices of consecutive batches of ``batch_size`` rows (the last may be shorter)."""
    if batch_size is None or batch_size >= n:
        return [slice(0, n)]
    return [slice(i, min(i + batch_size, n)) for i in range(0, n, batch_size)]


def check_labels(labels, n, k, *, name="labels"):
    """Return partial labels as an int64 ``(n,)`` array: a component index in ``[0, k)`` or -1 (unknown).

    Raises
    ------
    TypeError
        If the labels are not integers.
    ValueError
        If the shape is not ``(n,)`` or a label is out of range.
    """
    try:
        y = np.asarray(labels)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a 1-D array of component indices (-1 for unknown).") from None
    if y.shape != (n,):
        raise ValueError(f"{name} must have shape (n_samples,) = ({n},); got {y.shape}.")
    if y.dtype.kind not in "iu" and not (y.dtype.kind == "f" and np.all(np.isfinite(y)) and np.all(y == np.round(y))):
        raise TypeError(f"{name} must be integers (component indices, -1 for unknown); got dtype {y.dtype}.")
    y = y.astype(np.int64)
    if y.size and np.any((y < -1) | (y >= k)):
        raise ValueError(f"{name} must be -1 (unknown) or a component index in [0, {k - 1}]; got values in "
                         f"[{y.min()}, {y.max()}].")
    return y


# -- data sources: batches over arrays, memmaps, DataFrames, files and user generators ---------------------
class BaseGenerator:
    """A re-iterable source of ``(X_chunk, weights_chunk)`` batches (pomegranate 0.x's protocol).

    ``batches()`` yields the batches of one pass over the data, in the same order on every call;
    ``n_batches`` is their number. Subclass it, or pass any object with ``batches()`` and ``n_batches``,
    to stream data that are not in memory.

    A source that can read any batch directly may also implement ``order()`` (the batch indices of the
    next pass, e.g. shuffled), ``batch(b)`` (the ``b``-th batch ``(X_chunk, weights_chunk)``) and
    ``start(b)`` (the index of its first row); the EM driver then visits batches in ``order()`` (and
    aligns per-row ``labels``/``priors`` by ``start``), otherwise it iterates ``batches()``.
    """

    n_batches = None

    def batches(self):  # pragma: no cover - abstract
        """Yield ``(X_chunk, weights_chunk)`` pairs (``weights_chunk`` may be None)."""
        raise NotImplementedError


class DataGenerator(BaseGenerator):
    """Batches over an array-like held in memory or mapped from disk, never copied whole.

    Parameters
    ----------
    X : ndarray, numpy.memmap, pandas.DataFrame or another 2-D array type of shape (n_samples, d)
        The data; each batch is converted to float64 on its own (a float64 array or memmap is only
        sliced; an array of another library, such as a Dask or HDF5 array, is sliced and each slice
        converted with ``numpy.asarray``, never the whole array).
    weights : array-like of shape (n_samples,), default=None
        Sample weights (ones if None, never materialised).
    batch_size : int, default=None
        Rows per batch (None: one batch).
    shuffle : bool, default=False
        Visit the batches of each pass in a random order (the rows inside a batch keep their order).
    random_state : None, int, Generator or RandomState, default=None
        Seeds the shuffling.
    """

    def __init__(self, X, weights=None, batch_size=None, shuffle=False, random_state=None):
        from ._validation import as_generator

        if hasattr(X, "iloc") and hasattr(X, "columns"):  # pandas: batches of rows, converted one at a time
            self._frame = X
            X = None
            n, d = self._frame.shape
        else:
            X = X if isinstance(X, np.ndarray) or is_duck_array(X) else np.asarray(X)
            if X.ndim == 1:
                X = X.reshape(-1, 1)
            if X.ndim != 2:
                raise ValueError(f"X must be 2-D of shape (n_samples, n_features); got {X.ndim} dimensions.")
            self._frame = None
            n, d = X.shape
        self.X, self.shape = X, (n, d)
        self.weights = None if weights is None else check_weights(weights, n)
        self.slices = batch_slices(n, batch_size)
        self.n_batches = len(self.slices)
        self.shuffle = bool(shuffle)
        self._rng = as_generator(random_state) if shuffle else None

    def batch(self, b):
        """The ``b``-th batch ``(X_chunk, weights_chunk)`` of the unshuffled order.

        Parameters
        ----------
        b : int
            The batch index, ``0 <= b < n_batches``.

        Returns
        -------
        batch : tuple
            ``(X_chunk, weights_chunk)``: a slice of the rows (a view where ``X`` allows) and of the weights
            (None without weights).
        """
        sl = self.slices[b]
        chunk = self._frame.iloc[sl].to_numpy() if self._frame is not None else self.X[sl]
        return chunk, None if self.weights is None else self.weights[sl]

    def start(self, b):
        """The index of the first row of batch ``b``.

        Parameters
        ----------
        b : int
            The batch index.

        Returns
        -------
        row : int
            Its first row's index in ``X``.
        """
        return self.slices[b].start

    def order(self):
        """The batch indices of one pass: ``0, 1, …``, or with ``shuffle`` a new random order each pass.

        Returns
        -------
        order : ndarray of int, shape (n_batches,)
            The batches in the order to visit them.
        """
        return self._rng.permutation(self.n_batches) if self.shuffle else np.arange(self.n_batches)

    def batches(self):
        """Yield the batches of one pass (in a new random order each pass if ``shuffle``)."""
        for b in self.order():
            yield self.batch(b)


class CSVGenerator(BaseGenerator):
    """Batches read from a delimited text file, ``batch_size`` rows at a time (never the whole file).

    Every cell must be a number; an empty field and ``nan`` (any case) mark a missing value. Blank lines
    are not rows (so in a one-column file write ``nan`` for a missing value). There is no quoting and no
    comment character: a cell that is not a number (a ``#`` line included) raises a ``ValueError``
    naming its line and column, and so do an infinite value and a line with a different number of fields
    from the first data line, when the batch holding it is read. Line and column numbers start at 1 and
    count every line of the file.

    Parameters
    ----------
    path : str or path-like
        The file, UTF-8 (a byte-order mark is ignored).
    batch_size : int, default=100000
        Rows per batch.
    delimiter : str or None, default=','
        The column separator; None splits on runs of whitespace.
    skiprows : int, default=0
        Lines to skip at the top of the file, before the header if there is one.
    usecols : int or sequence of int, default=None
        Columns to read, counted from 0 (negative from the end); all if None. Other columns may hold
        anything (text identifiers, for instance).
    header : {'infer', True, False}, default='infer'
        Whether the first non-blank line after ``skiprows`` names the columns. ``'infer'`` takes it for a
        header when none of its (used) fields is a number and one is text, so that a first line mixing
        numbers and text is read as data and reported, not dropped; pass True for a header of numbers
        (``2019,2020``) and False to read the first line as data whatever it holds. genmix's own option,
        keyword-only.

    Attributes
    ----------
    n_rows : int
        The number of data rows (the header and blank lines excluded).
    n_batches : int
        The number of batches of one pass.
    columns : list of str or None
        The header's names of the columns read (None without a header).
    """

    def __init__(self, path, batch_size=100_000, delimiter=",", skiprows=0, usecols=None, *, header="infer"):
        import itertools
        import os

        from ._validation import Interval, check_int

        owner = "CSVGenerator"
        if not os.path.isfile(path):
            raise ValueError(f"The 'path' parameter of {owner} must be an existing file. Got {str(path)!r} instead.")
        self.path = path
        self.batch_size = check_int(batch_size, "batch_size", Interval(1, np.inf), owner)
        self.skiprows = check_int(skiprows, "skiprows", Interval(0, np.inf), owner)
        if delimiter is not None and not isinstance(delimiter, str) \
                or isinstance(delimiter, str) and (not delimiter or "\n" in delimiter or "\r" in delimiter):
            error = TypeError if not isinstance(delimiter, str) else ValueError
            raise error(f"The 'delimiter' parameter of {owner} must be a non-empty str without line breaks, "
                        f"or None (runs of whitespace). Got {delimiter!r} instead.")
        if not (isinstance(header, str) and header == "infer" or isinstance(header, (bool, np.bool_))):
            raise TypeError(f"The 'header' parameter of {owner} must be 'infer', True or False. "
                            f"Got {header!r} instead.")
        self.delimiter, self.header = delimiter, header if isinstance(header, str) else bool(header)
        with open(path, encoding="utf-8-sig") as fh:
            lines = enumerate(itertools.islice(fh, self.skiprows, None), start=self.skiprows + 1)
            number, first = next(((i, line) for i, line in lines if not line.isspace()), (None, None))
            if first is None:
                raise ValueError(f"{str(path)!r} has no data rows after skiprows={self.skiprows}.")
            fields = _split(first, delimiter)
            self._n_fields = len(fields)
            self.usecols = _check_usecols(usecols, self._n_fields, number, owner)
            used = fields if self.usecols is None else [fields[c] for c in self.usecols]
            is_header = _looks_like_header(used) if self.header == "infer" else self.header
            self.columns = [f.strip() for f in used] if is_header else None
            self._skip = number if is_header else number - 1  # the lines before the first data row
            self._first_line = number
            self.n_rows = sum(1 for _, line in lines if not line.isspace()) + (not is_header)
        if is_header:
            if self.n_rows == 0:
                raise ValueError(f"{str(path)!r} has a header (line {number}) and no data rows.")
            with open(path, encoding="utf-8-sig") as fh:  # a header must fit the data, from the start
                (row,), (line,) = next(_row_batches(fh, 1, self._skip))
            _check_width(self, _split(row, delimiter), line)
        self.n_batches = -(-self.n_rows // self.batch_size)

    def batches(self):
        """Yield ``(X_chunk, None)`` batches, reading the file sequentially.

        Raises
        ------
        ValueError
            At the batch holding a cell that is not a number or is infinite, or a line with a different
            number of fields; the message names the line and the column.
        """
        with open(self.path, encoding="utf-8-sig") as fh:
            for rows, numbers in _row_batches(fh, self.batch_size, self._skip):
                yield _parse_rows(rows, numbers, self), None


def _check_width(gen, fields, line):
    """Raise unless a line has as many fields as the first one (the header, if there is one)."""
    if len(fields) != gen._n_fields:
        first = "the header" if gen.columns is not None else "the first line"
        hint = "; skiprows= skips lines above the header" if gen.columns is not None else ""
        raise ValueError(f"{str(gen.path)!r}: line {line} has {len(fields)} fields but line {gen._first_line} "
                         f"({first}) has {gen._n_fields}{hint}.")


def _split(line, delimiter):
    return line.split() if delimiter is None else line.rstrip("\r\n").split(delimiter)


def _is_number(field):
    try:
        float(field)
    except ValueError:
        return False
    return True


def _looks_like_header(fields):
    """A line names columns when none of its fields is a number and one is text."""
    return not any(map(_is_number, fields)) and any(f.strip() for f in fields)


def _check_usecols(usecols, n_fields, line, owner):
    if usecols is None:
        return None
    cols = np.atleast_1d(np.asarray(usecols))
    if cols.ndim != 1 or cols.size == 0 or cols.dtype.kind not in "iu":
        raise TypeError(f"The 'usecols' parameter of {owner} must be an int or a non-empty sequence of ints. "
                        f"Got {usecols!r} instead.")
    if np.any((cols < -n_fields) | (cols >= n_fields)):
        raise ValueError(f"The 'usecols' parameter of {owner} must hold column indices in [{-n_fields}, "
                         f"{n_fields - 1}] (line {line} has {n_fields} fields). Got {usecols!r} instead.")
    return [int(c) % n_fields for c in cols]


def _row_batches(fh, size, skip):
    """Yield ``(rows, line_numbers)``: ``size`` non-blank lines at a time and their 1-based line numbers."""
    import itertools

    for _ in itertools.islice(fh, skip):
        pass
    number = skip
    while True:
        rows, numbers = [], []
        while len(rows) < size:
            raw = list(itertools.islice(fh, size - len(rows)))
            if not raw:
                break
            if any(map(str.isspace, raw)):  # rare: drop blank lines, keep the numbers of the others
                keep = [i for i, line in enumerate(raw) if not line.isspace()]
                rows += [raw[i] for i in keep]
                numbers += [number + 1 + i for i in keep]
            else:
                rows += raw
                numbers += range(number + 1, number + 1 + len(raw))
            number += len(raw)
        if not rows:
            return
        yield rows, numbers


def _float_or_nan(field):
    return float(field) if field.strip() else np.nan


def _parse_rows(rows, numbers, gen):
    """The float64 array of one batch of lines: numpy's C parser, then, only where it cannot say why it
    failed (or for a delimiter of several characters), a line-by-line pass that names the bad cell."""
    delimiter, cols = gen.delimiter, gen.usecols
    width = gen._n_fields if cols is None else len(cols)
    if delimiter is None or len(delimiter) == 1:
        for converters in (None, _float_or_nan):  # the second pass reads empty fields as missing
            try:
                chunk = np.loadtxt(rows, dtype=np.float64, delimiter=delimiter, usecols=cols, ndmin=2,
                                   comments=None, converters=converters, encoding=None)
            except ValueError:
                continue
            if chunk.shape == (len(rows), width) and _same_width(rows, delimiter, gen._n_fields, cols) \
                    and not np.isinf(chunk).any():
                return chunk
            break
    return _parse_slowly(rows, numbers, gen)


def _same_width(rows, delimiter, n_fields, cols):
    """Whether every line has ``n_fields`` fields (numpy checks it itself unless ``usecols`` is given)."""
    if cols is None:
        return True
    if delimiter is None:
        return all(len(line.split()) == n_fields for line in rows)
    return all(line.count(delimiter) == n_fields - 1 for line in rows)


def _parse_slowly(rows, numbers, gen):
    import math

    cols = range(gen._n_fields) if gen.usecols is None else gen.usecols
    out = np.empty((len(rows), len(cols)))
    for r, (line, number) in enumerate(zip(rows, numbers)):
        fields = _split(line, gen.delimiter)
        _check_width(gen, fields, number)
        for j, c in enumerate(cols):
            try:
                value = _float_or_nan(fields[c])
            except ValueError:
                value = None
            if value is None or math.isinf(value):
                first = gen.columns is None and number == gen._skip + 1
                hint = " (if this line is a header, pass header=True)" if first else ""
                raise ValueError(f"{str(gen.path)!r}: line {number}, column {c + 1} holds {fields[c].strip()!r}, "
                                 f"which is not a finite number; an empty field or 'nan' marks a missing "
                                 f"value{hint}.") from None
            out[r, j] = value
    return out


def npy_generator(path, batch_size=100_000, shuffle=False, random_state=None):
    """A :class:`DataGenerator` over a ``.npy`` file mapped from disk (``numpy.load(mmap_mode='r')``).

    Parameters
    ----------
    path : str or path-like
        The ``.npy`` file (a 2-D numeric array).
    batch_size : int, default=100000
        Rows per batch.
    shuffle : bool, default=False
        Visit the batches in a new random order each pass.
    random_state : None, int or numpy.random.Generator, default=None
        Seeds the order when ``shuffle``.

    Returns
    -------
    generator : DataGenerator
        Batches read from the mapped file, never loaded whole.
    """
    return DataGenerator(np.load(path, mmap_mode="r"), batch_size=batch_size, shuffle=shuffle,
                         random_state=random_state)


def is_generator(X):
    """Whether ``X`` follows the batch-source protocol (``batches()`` and ``n_batches``)."""
    return callable(getattr(X, "batches", None)) and getattr(X, "n_batches", None) is not None
