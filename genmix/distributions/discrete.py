r"""Discrete (categorical) distribution over any hashable keys: strings, ints, booleans, floats.

.. math:: \log p(x) = \log \pi_x, \qquad x \in \text{keys}

A key the distribution does not hold has log density ``-inf``; a missing value (``None``, NaN or the string
``'nan'``, as in pomegranate 0.x) has log density 0 and is ignored by the statistics. The statistics are
Σw and the weighted count of every key; ``+`` aligns the key sets. The M-step is
``π_x = (count_x + pseudocount) / (Σw + pseudocount · K)`` over the K keys of the distribution and of the
data, so the probabilities always sum to one (pomegranate 0.x divided by a duplicated key count inside a
mixture). A fit on data with a new key simply gives that key its MLE.

Keys are matched by Python equality and hashing, so ``1``, ``1.0`` and ``True`` are the same key. Keys are
kept as the user's plain Python values: numpy scalars (``np.str_``, ``np.int64`` …, e.g. from iterating a
numpy array) become the equal ``str``, ``int`` …, integer or boolean data give ``int`` or ``bool`` keys,
not their float64 copies, and a distribution with ``int`` keys reads an integral float (a numeric column
of a 2-D array, or a mixture's data, is float64) as a new ``int`` key.
"""
import dataclasses
from itertools import chain

import numpy as np

from ..io import numeric
from ._base import Distribution, register
from .._fused import CategoricalTerm
from ._stats import Stats

_MISSING, _UNKNOWN = -2, -1


def _plain(v):
    """The plain Python value of a key (``np.str_('a')`` → ``'a'``, ``np.int64(1)`` → ``1``): equal, same
    hash, and what the user wrote."""
    return v.item() if isinstance(v, np.generic) else v


def _new_key(v, keys):
    """A key first seen in data: its plain value, and an ``int`` where the distribution's keys are ints
    and the value came as an integral float (a numeric column of a 2-D array is float64)."""
    v = _plain(v)
    if type(v) is float and v.is_integer() and keys and all(type(k) is int for k in keys):
        return int(v)
    return v


def _is_missing(v):
    return v is None or (isinstance(v, (float, np.floating)) and v != v) or (isinstance(v, str) and v == "nan")


def encode(column, keys):
    """Codes of a column against ``keys``: the key's index, -1 for an unknown value, -2 for missing.

    The lookup is a dict probe per value (categorical columns have no vectorised numpy equivalent).
    """
    lookup = {k: i for i, k in enumerate(keys)}
    try:
        return np.fromiter((_MISSING if _is_missing(v) else lookup.get(v, _UNKNOWN) for v in column),
                           dtype=np.intp, count=len(column))
    except TypeError:
        bad = next(v for v in column if not _hashable(v))
        raise TypeError(f"X holds the unhashable value {bad!r:.40} in a categorical column; categories must be "
                        "hashable (strings, numbers, booleans).") from None


def _hashable(v):
    try:
        hash(v)
    except TypeError:
        return False
    return True


def _union(key_lists):
    return tuple(dict.fromkeys(chain.from_iterable(key_lists)))


@dataclasses.dataclass(frozen=True)
class DiscreteStats(Stats):
    """Σw per component and the weighted count of each key, shape (k, len(keys))."""

    w: np.ndarray
    keys: tuple
    counts: np.ndarray
    _extensive = ("w", "counts")

    def _on(self, keys):
        if keys == self.keys:
            return self.counts
        out = np.zeros((self.counts.shape[0], len(keys)))
        out[:, [keys.index(k) for k in self.keys]] = self.counts
        return out

    def __add__(self, other):
        keys = _union([self.keys, other.keys])
        return DiscreteStats(self.w + other.w, keys, self._on(keys) + other._on(keys))

    def take(self, i):
        return DiscreteStats(self.w[i:i + 1], self.keys, self.counts[i:i + 1])


def _logpdf(X, keys, log_probs):
    codes = encode(X[:, 0], keys)
    table = np.column_stack([log_probs, np.zeros(log_probs.shape[0]), np.full(log_probs.shape[0], -np.inf)])
    return table[:, codes].T  # code -1 (unknown) reads the last column, -inf; -2 (missing) the zeros


def _suffstats(X, R, keys, **_):
    column = X[:, 0]
    codes = encode(column, keys)  # validates the values (hashable) first
    observed = [_new_key(v, keys) for v in dict.fromkeys(column[codes == _UNKNOWN].tolist())]
    keys = _union([keys, observed])
    codes = encode(column, keys)
    valid = codes >= 0
    counts = np.zeros((R.shape[1], len(keys)))
    np.add.at(counts.T, codes[valid], R[valid])
    return DiscreteStats(R[valid].sum(axis=0), keys, counts)


def _per_component_stats(w, keys, counts):
    """One ``DiscreteStats`` per component from the stacked Σw (k,) and counts (k, len(keys))."""
    return [DiscreteStats(w[j:j + 1], keys, counts[j:j + 1]) for j in range(len(w))]


def _mle(stats, pseudocount=0.0):
    w = float(stats.w[0])
    counts = stats.counts[0]
    if not (w > 0.0 or pseudocount > 0.0) or not stats.keys:
        return None
    probs = (counts + pseudocount) / (w + pseudocount * len(stats.keys))
    return {"keys": stats.keys, "probs": probs}


@register
class DiscreteDistribution(Distribution):
    """A categorical distribution over arbitrary hashable keys.

    Parameters
    ----------
    characters : dict
        ``{key: probability}``; probabilities are non-negative and sum to one (within 1e-8).
    frozen : bool, default=False
        If True, fitting leaves the parameters unchanged.

    Examples
    --------
    >>> d = DiscreteDistribution({"A": 0.25, "B": 0.75})
    >>> d.probability(["A", "B", "C"]).tolist()
    [0.25, 0.75, 0.0]
    """

    _param_names = ("characters",)
    _accepts_objects = True
    _document_keys = ("dtype",)

    def __init__(self, characters, frozen=False):
        super().__init__({"characters": characters}, frozen)

    @classmethod
    def _check_params(cls, characters=None, keys=None, probs=None):
        name = cls.__name__
        if characters is not None:
            if not isinstance(characters, dict):
                raise TypeError(f"The 'characters' parameter of {name} must be a dict {{key: probability}}; "
                                f"got {type(characters).__name__}.")
            for k in characters:
                if _is_missing(k):
                    raise ValueError(f"The 'characters' parameter of {name} cannot use a missing-value marker "
                                     f"({k!r}) as a key.")
            keys, probs = tuple(_plain(k) for k in characters), list(characters.values())
        try:
            probs = np.array(probs, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise TypeError(f"The probabilities of {name} must be numbers.") from None
        if not np.all(np.isfinite(probs)) or np.any(probs < 0):
            raise ValueError(f"The probabilities of {name} must be finite and non-negative; got {probs.tolist()}.")
        if probs.size and abs(probs.sum() - 1.0) > 1e-8:
            raise ValueError(f"The probabilities of {name} must sum to 1; they sum to {probs.sum()!r}.")
        return {"keys": tuple(keys), "probs": probs}

    def _set_params(self, params):
        self._params = params
        with np.errstate(divide="ignore"):
            self._log_probs = np.log(params["probs"])

    def _check_input(self, X, name="X", allow_empty=True):
        """``X`` validated, as an object column holding the user's values: integers and booleans stay
        ``int`` and ``bool`` (their float64 copies would make float keys); missing values become NaN."""
        X2, scalar = super()._check_input(X, name, allow_empty)
        if X2.dtype != object:
            raw = np.asarray(X)
            if raw.dtype.kind in "biu":
                X2 = raw.reshape(X2.shape).astype(object)
            elif raw.dtype == object:  # numbers and None (or pandas.NA) as Python objects
                out = raw.reshape(X2.shape).copy()
                out[np.isnan(X2)] = np.nan
                X2 = out
        return X2, scalar

    def _new_params(self, stats, inertia, pseudocount):
        mle = _mle(stats, pseudocount)
        if mle is None:
            return None
        if inertia > 0.0:
            keys = _union([self._params["keys"], mle["keys"]])
            old = DiscreteStats(np.ones(1), self._params["keys"], self._params["probs"][None])._on(keys)[0]
            new = DiscreteStats(np.ones(1), mle["keys"], mle["probs"][None])._on(keys)[0]
            mle = {"keys": keys, "probs": inertia * old + (1.0 - inertia) * new}
        return self._check_params(**mle)

    @classmethod
    def _gather(cls, components):
        keys = _union([c._params["keys"] for c in components])
        table = np.full((len(components), len(keys)), -np.inf)
        for i, c in enumerate(components):
            if c._params["keys"]:
                table[i, [keys.index(k) for k in c._params["keys"]]] = c._log_probs
        return {"keys": keys, "log_probs": table}

    @classmethod
    def _feature_term(cls, components):
        """The fused path's term (see ``genmix._fused``): a table lookup of ``log p_k(category)`` per value,
        statistics as weighted counts per category."""
        gathered = cls._gather(components)
        if not gathered["keys"]:
            return None
        return CategoricalTerm(gathered["keys"], gathered["log_probs"], _per_component_stats)

    @staticmethod
    def _logpdf(X, keys, log_probs):
        return _logpdf(X, keys, log_probs)

    @staticmethod
    def _suffstats(X, R, keys, **_):
        return _suffstats(X, R, keys)

    def _fill(self, X):
        """``X`` with missing values replaced by the most probable key."""
        out = np.array(X, dtype=object, copy=True)
        missing = np.fromiter((_is_missing(v) for v in out[:, 0]), dtype=bool, count=out.shape[0])
        if missing.any():
            if not self._params["keys"]:
                raise ValueError(f"{self.name} has no keys to impute from; fit it first.")
            out[missing, 0] = self._params["keys"][int(np.argmax(self._params["probs"]))]
        return out

    def _mode_candidates(self):
        """The keys, among which imputation picks the conditional mode."""
        return list(self._params["keys"])

    def _sample_n(self, rng, n):
        keys = self._params["keys"]
        if not keys:
            raise ValueError(f"{self.name} has no keys to sample from; fit it first.")
        out = np.empty(n, dtype=object)
        out[:] = [keys[i] for i in rng.choice(len(keys), size=n, p=self._params["probs"])]
        return out

    @property
    def parameters(self):
        """``[{key: probability}]``, as in pomegranate 0.x."""
        return [dict(zip(self._params["keys"], self._params["probs"].tolist()))]

    @parameters.setter
    def parameters(self, values):
        if isinstance(values, (str, bytes, dict)) or not hasattr(values, "__iter__"):
            raise TypeError(f"parameters of {self.name} must be a list holding one dict; got {type(values).__name__}.")
        values = list(values)
        if len(values) != 1:
            raise ValueError(f"parameters of {self.name} must be a list holding one dict; got {len(values)} items.")
        self._set_params(self._check_params(characters=values[0]))

    def _n_free_parameters(self):
        return max(len(self._params["keys"]) - 1, 0)  # the probabilities sum to one

    def keys(self):
        """The keys, in order.

        Returns
        -------
        keys : list
            The keys.
        """
        return list(self._params["keys"])

    def items(self):
        """``(key, probability)`` pairs.

        Returns
        -------
        items : list of tuple
            The pairs, in key order.
        """
        return list(zip(self._params["keys"], self._params["probs"].tolist()))

    def values(self):
        """The probabilities, in key order.

        Returns
        -------
        values : list of float
            The probabilities.
        """
        return self._params["probs"].tolist()

    def __getitem__(self, key):
        return dict(self.items()).get(key, 0.0)

    def __repr__(self):
        return f"{self.name}({self.parameters[0]!r}{', frozen=True' if self.frozen else ''})"

    def to_dict(self):
        """A dict in pomegranate 0.x's layout, keys as strings with their ``dtype``.

        Returns
        -------
        d : dict
            ``class``, ``dtype``, ``name``, ``parameters`` (``[{str(key): probability}]``) and ``frozen``.
        """
        keys = self._params["keys"]
        types = {type(k) for k in keys}
        if len(types) > 1:
            raise TypeError(f"{self.name} keys of mixed types {sorted(t.__name__ for t in types)} cannot be "
                            "written in pomegranate's JSON layout (one dtype per distribution).")
        dtype = _DTYPE_NAMES.get(types.pop(), "str") if types else "str"
        return {"class": "Distribution", "dtype": dtype, "name": self.name,
                "parameters": [{str(k): p for k, p in zip(keys, self._params["probs"].tolist())}],
                "frozen": bool(self.frozen)}

    @classmethod
    def _document_args(cls, params, doc, path, build_child):
        table = params[0]
        if not isinstance(table, dict):
            raise ValueError(f"{path}: the parameter of {cls.__name__} must be a mapping {{key: probability}}.")
        dtype = doc.get("dtype", "str")
        revive = _REVIVE.get(dtype) if isinstance(dtype, str) else None
        if revive is None:
            raise ValueError(f"{path}: unknown dtype {dtype!r:.40}; expected one of {sorted(_REVIVE)}.")
        out = {}
        for k, p in table.items():
            try:
                key = revive(k)
            except ValueError:
                raise ValueError(f"{path}: key {k!r:.40} is not a valid {dtype}.") from None
            out[key] = numeric(p, f"{path}.parameters[0][{k!r:.40}]")
        return [out]

    @classmethod
    def from_samples(cls, X, weights=None, pseudocount=0.0, keys=None):
        """The (smoothed) maximum-likelihood distribution of weighted values, as in pomegranate 0.x.

        Parameters
        ----------
        X : array-like of shape (n_samples,)
            The values; ``None``, NaN and ``'nan'`` are missing.
        weights : array-like of shape (n_samples,), default=None
            Non-negative sample weights (ones if None).
        pseudocount : float >= 0, default=0.0
            Added to the count of every key.
        keys : iterable, default=None
            Keys to include even if absent from ``X`` (they then get only the pseudocount).

        Returns
        -------
        distribution : DiscreteDistribution
            The fitted distribution.
        """
        if keys is not None and (isinstance(keys, (str, bytes)) or not hasattr(keys, "__iter__")):
            raise TypeError(f"keys must be an iterable of hashable keys; got {type(keys).__name__}.")
        keys = list(dict.fromkeys(keys)) if keys is not None else []
        d = cls({k: 1.0 / len(keys) for k in keys})
        d.summarize(X, weights)
        d.from_summaries(pseudocount=pseudocount)
        return d

    @classmethod
    def blank(cls):
        """The empty distribution (no keys), which a fit fills in.

        Returns
        -------
        distribution : DiscreteDistribution
            A distribution without keys.
        """
        return cls({})


def _revive_bool(s):
    if s not in ("True", "False"):
        raise ValueError(s)
    return s == "True"


_DTYPE_NAMES = {str: "str", int: "int", float: "float", bool: "bool", np.str_: "str", np.int64: "int",
                np.float64: "float", np.bool_: "bool"}
_REVIVE = {"str": str, "int": int, "float": float, "bool": _revive_bool, "numpy.int64": int,
           "numpy.float64": float, "numpy.str_": str, "numpy.bool_": _revive_bool}
