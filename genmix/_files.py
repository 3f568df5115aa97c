"""Data files for the command line: CSV (and TSV), Parquet and ``.npy``, read whole or in row batches, and
tables written back as CSV.

A table is a list of columns, each numeric (float64, NaN for a missing value) or categorical (the cells
as strings, None for a missing value). Blank lines and lines starting with ``#`` are skipped. Which
columns are numeric is either inferred (a column is numeric when every cell that is not missing is a
number) or required by the model; a required numeric column with a cell that is not a number is a
``ValueError`` naming the file, the line and the column.
"""
import csv
import math
import os

import numpy as np

__all__ = ["Source", "as_matrix", "write_csv", "MISSING"]

#: cells read as a missing value (compared case-insensitively, surrounding spaces ignored)
MISSING = frozenset({"", "nan", "na", "n/a", "null", "none"})

#: rows per batch when a file is streamed
BATCH_ROWS = 65536

_FORMATS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".parquet": "parquet", ".pq": "parquet", ".npy": "npy"}


def _format_of(path):
    ext = os.path.splitext(str(path))[1].lower()
    if ext not in _FORMATS:
        raise ValueError(f"{path}: unknown data format {ext or '(no extension)'!r}; expected a .csv, .tsv, .txt, "
                         ".parquet or .npy file.")
    return _FORMATS[ext]


def _is_missing(cell):
    return cell.strip().lower() in MISSING


def _skipped(row):
    """A blank line, or a comment line (its first field starts with '#')."""
    return not row or (row[0].lstrip().startswith("#"))


def _number(cell):
    """``float(cell)``, NaN for a missing cell, None for a cell that is not a number."""
    if _is_missing(cell):
        return math.nan
    try:
        return float(cell)
    except ValueError:
        return None


class Source:
    """A data file opened for reading: its column names and kinds, read whole or in batches.

    Parameters
    ----------
    path : str
        The file.
    header : bool or None
        CSV only: whether the first line names the columns (None: it does when none of its fields is a
        number, as in :class:`genmix.data.CSVGenerator`).
    delimiter : str or None
        CSV only: the field separator (None: a tab for ``.tsv``, else a comma).
    """

    def __init__(self, path, header=None, delimiter=None):
        self.path = str(path)
        if not os.path.exists(self.path):
            raise ValueError(f"{self.path}: no such file.")
        if os.path.isdir(self.path):
            raise ValueError(f"{self.path} is a directory, not a data file.")
        self.format = _format_of(self.path)
        if self.format == "csv":
            self.delimiter = delimiter or ("\t" if self.path.lower().endswith(".tsv") else ",")
            self._open_csv(header)
        elif self.format == "npy":
            self._open_npy()
        else:
            self._open_parquet()

    # -- opening ----------------------------------------------------------------------------------------------
    def _open_csv(self, header):
        with open(self.path, newline="", encoding="utf-8-sig") as fh:
            first = next((row for row in csv.reader(fh, delimiter=self.delimiter) if not _skipped(row)), None)
        if first is None:
            raise ValueError(f"{self.path} has no rows.")
        if header is None:
            header = not any(_number(f) is not None and not _is_missing(f) for f in first)
        self.header = bool(header)
        self.width = len(first)
        self.names = [f.strip() for f in first] if header else None
        if self.names is not None and len(set(self.names)) != len(self.names):
            dup = next(n for n in self.names if self.names.count(n) > 1)
            raise ValueError(f"{self.path}: the header names column {dup!r} more than once.")

    def _open_npy(self):
        try:
            self._array = np.load(self.path, mmap_mode="r", allow_pickle=False)
        except ValueError as exc:
            raise ValueError(f"{self.path} is not a numeric .npy array ({exc}).") from None
        if self._array.ndim == 1:
            self._array = self._array.reshape(-1, 1)
        if self._array.ndim != 2 or self._array.dtype.kind not in "biuf":
            raise ValueError(f"{self.path} must hold a 2-D numeric array; got {self._array.ndim} dimensions of "
                             f"dtype {self._array.dtype}.")
        self.width, self.names, self.header = self._array.shape[1], None, False

    def _open_parquet(self):
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise ValueError(f'{self.path}: reading Parquet needs pyarrow: pip install "genmix[parquet]"') from None
        try:
            self._parquet = pq.ParquetFile(self.path)
        except Exception as exc:  # pyarrow raises its own error types for a file that is not Parquet
            raise ValueError(f"{self.path} is not a Parquet file ({exc}).") from None
        self.names = list(self._parquet.schema_arrow.names)
        self.width, self.header = len(self.names), True

    # -- columns ----------------------------------------------------------------------------------------------
    def column_indices(self, columns):
        """Positions of the requested columns (names, or 0-based positions when the file has no names);
        None: every column."""
        if columns is None:
            return list(range(self.width))
        out = []
        for c in columns:
            if self.names is not None and c in self.names:
                out.append(self.names.index(c))
            elif isinstance(c, str) and c.strip().lstrip("-").isdigit() and (self.names is None or
                                                                               c not in self.names):
                i = int(c)
                if not 0 <= i < self.width:
                    raise ValueError(f"{self.path}: column {i} is out of range (the file has {self.width} "
                                     "columns, numbered from 0).")
                out.append(i)
            else:
                known = ", ".join(map(repr, self.names)) if self.names else f"0 to {self.width - 1}"
                raise ValueError(f"{self.path}: unknown column {c!r} (the file's columns are {known}).")
        if len(set(out)) != len(out):
            raise ValueError(f"{self.path}: a column is selected twice in {list(columns)}.")
        return out

    def name_of(self, i):
        return self.names[i] if self.names is not None else str(i)

    # -- reading ----------------------------------------------------------------------------------------------
    def batches(self, cols, kinds, batch_rows=BATCH_ROWS):
        """Yield ``(first_line, columns)`` for batches of rows: the selected columns, numeric ones as float64
        arrays and categorical ones as object arrays of str/None. ``kinds`` gives each selected column's
        kind, 'numeric' or 'categorical' (:meth:`infer_kinds` infers them over the whole file, so that
        every batch agrees)."""
        if self.format == "npy":
            for start in range(0, self._array.shape[0], batch_rows):
                block = np.asarray(self._array[start:start + batch_rows][:, cols], dtype=np.float64)
                self._check_finite(block, cols, start + 1)
                yield start + 1, [block[:, j] for j in range(len(cols))]
        elif self.format == "parquet":
            first = 1
            names = [self.names[i] for i in cols]
            for batch in self._parquet.iter_batches(batch_size=batch_rows, columns=names):
                frame = batch.to_pandas()
                yield first, [self._frame_column(frame[n], n, first, kind) for n, kind in zip(names, kinds)]
                first += len(frame)
        else:
            for lines, rows in self._csv_rows(batch_rows):
                yield lines[0], [self._cells(rows, i, lines, kind) for i, kind in zip(cols, kinds)]

    def read(self, cols, kinds):
        """All rows of the selected columns (see :meth:`batches`)."""
        parts = [c for _, c in self.batches(cols, kinds)]
        if not parts:
            raise ValueError(f"{self.path} has no data rows.")
        return [np.concatenate([p[j] for p in parts]) for j in range(len(cols))]

    def infer_kinds(self, cols):
        """Each selected column's kind: numeric when every cell that is not missing is a number."""
        if self.format == "npy":
            return ["numeric"] * len(cols)
        if self.format == "parquet":
            schema = self._parquet.schema_arrow
            import pyarrow.types as pt

            return ["numeric" if (pt.is_integer(schema.field(self.names[i]).type)
                                  or pt.is_floating(schema.field(self.names[i]).type)) else "categorical"
                    for i in cols]
        numeric = [True] * len(cols)
        for _, rows in self._csv_rows(BATCH_ROWS):  # one pass over the cells, no arrays built
            for j, i in enumerate(cols):
                if numeric[j] and any(_number(row[i]) is None for row in rows):
                    numeric[j] = False
        return ["numeric" if n else "categorical" for n in numeric]

    def _csv_rows(self, batch_rows):
        with open(self.path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh, delimiter=self.delimiter)
            rows, lines, skipped_header = [], [], not self.header
            for row in reader:
                if _skipped(row):
                    continue  # a blank or comment line
                if not skipped_header:
                    skipped_header = True
                    continue
                if len(row) != self.width:
                    raise ValueError(f"{self.path}, line {reader.line_num}: {len(row)} fields, expected "
                                     f"{self.width} (as on the first line).")
                rows.append(row)
                lines.append(reader.line_num)
                if len(rows) == batch_rows:
                    yield lines, rows
                    rows, lines = [], []
            if rows:
                yield lines, rows

    def _cells(self, rows, i, lines, kind):
        cells = [row[i] for row in rows]
        if kind == "categorical":
            return np.array([None if _is_missing(c) else c.strip() for c in cells], dtype=object)
        try:
            values = np.array(cells, dtype=np.float64)
        except ValueError:  # a missing or malformed cell: one at a time, to name it
            values = np.empty(len(cells))
            for r, c in enumerate(cells):
                v = _number(c)
                if v is None:
                    raise ValueError(f"{self.path}, line {lines[r]}, column {self.name_of(i)!r}: "
                                     f"{c!r} is not a number (the column is numeric).") from None
                values[r] = v
        bad = np.flatnonzero(np.isinf(values))
        if bad.size:
            raise ValueError(f"{self.path}, line {lines[bad[0]]}, column {self.name_of(i)!r}: the value is "
                             "infinite.")
        return values

    def _check_finite(self, block, cols, first):
        bad = np.isinf(block)
        if bad.any():
            r, j = map(int, np.argwhere(bad)[0])
            raise ValueError(f"{self.path}, row {first + r}, column {self.name_of(cols[j])!r}: the value is "
                             "infinite.")

    def _frame_column(self, series, name, first, kind):
        numeric = series.dtype.kind in "biuf"
        if kind == "categorical":
            values = series.astype(object).to_numpy()
            return np.array([None if v is None or (isinstance(v, float) and math.isnan(v)) else
                             (v if isinstance(v, str) else str(v)) for v in values], dtype=object)
        if not numeric:
            bad = next(((r, v) for r, v in enumerate(series) if v is not None and _number(str(v)) is None), None)
            if bad is not None:
                raise ValueError(f"{self.path}, row {first + bad[0]}, column {name!r}: {bad[1]!r} is not a number "
                                 "(the column is numeric).")
            values = np.array([math.nan if v is None else _number(str(v)) for v in series], dtype=np.float64)
        else:
            values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = np.flatnonzero(np.isinf(values))
        if bad.size:
            raise ValueError(f"{self.path}, row {first + int(bad[0])}, column {name!r}: the value is infinite.")
        return values

    def array(self, cols):
        """The selected columns of a ``.npy`` file as an array read batch by batch (never loaded whole)."""
        if list(cols) == list(range(self.width)):
            return self._array
        return _ColumnView(self._array, cols)


def as_matrix(columns, kinds):
    """Columns as one 2-D array: float64 when all are numeric, else an object array (numbers as floats)."""
    if all(k == "numeric" for k in kinds):
        return np.column_stack(columns) if columns else np.empty((0, 0))
    out = np.empty((len(columns[0]), len(columns)), dtype=object)
    for j, c in enumerate(columns):
        out[:, j] = c
    return out


class _ColumnView:
    """Some columns of a 2-D array, read by row slices (a memmap's columns without copying the file)."""

    def __init__(self, array, cols):
        self._array, self._cols = array, list(cols)
        self.shape = (array.shape[0], len(self._cols))
        self.dtype = array.dtype
        self.ndim = 2

    def __len__(self):
        return self.shape[0]

    def __getitem__(self, key):
        if isinstance(key, tuple):
            return np.asarray(self)[key]
        return self._array[key][:, self._cols]

    def __array__(self, dtype=None, copy=None):
        out = self._array[:, self._cols]
        return out if dtype is None else out.astype(dtype)


def write_csv(fh, header, columns_batches):
    """Write a header and then batches (each a list of columns) as CSV to the open text file ``fh``; NaN
    and None are written as empty fields, floats with repr's round-trip precision."""
    writer = csv.writer(fh, lineterminator="\n")
    if header is not None:
        writer.writerow(header)
    rows = 0
    for columns in columns_batches:
        cells = [_formatted(c) for c in columns]
        writer.writerows(zip(*cells))
        rows += len(cells[0]) if cells else 0
    return rows


def _formatted(column):
    column = np.asarray(column)
    if column.dtype.kind == "f":
        return ["" if math.isnan(v) else repr(v) for v in column.tolist()]
    return ["" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for v in column.tolist()]
