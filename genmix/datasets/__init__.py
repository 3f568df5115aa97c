"""Small real data sets bundled with genmix."""
from importlib import resources

import numpy as np

__all__ = ["load_old_faithful"]


def load_old_faithful():
    """Old Faithful geyser eruptions (R's ``datasets::faithful``): 272 rows.

    Returns
    -------
    X : ndarray of shape (272, 2)
        Column 0 is the eruption duration and column 1 the waiting time to the next eruption, both in
        minutes.
    columns : list of str
        ``['eruptions', 'waiting']``.
    """
    with resources.files(__package__).joinpath("old_faithful.csv").open("r", encoding="utf-8") as fh:
        lines = [line for line in fh if not line.startswith("#")]
    columns = lines[0].strip().split(",")
    X = np.array([[float(v) for v in line.split(",")] for line in lines[1:] if line.strip()])
    return X, columns
