"""The public boundary's parameter checks: one message template, constraints declared as data.

Kernels and internal calls never validate; every public entry point validates once, here.
"""
import numbers
import operator

import numpy as np

__all__ = ["Interval", "check_scalar", "check_bool", "check_int", "check_threshold", "as_generator", "show"]


class Interval:
    """A real interval with open or closed ends, used as a declarative parameter constraint."""

    def __init__(self, low, high, closed="both"):
        self.low, self.high, self.closed = low, high, closed

    def __contains__(self, x):
        lo_ok = x >= self.low if self.closed in ("both", "left") else x > self.low
        hi_ok = x <= self.high if self.closed in ("both", "right") else x < self.high
        return bool(lo_ok and hi_ok)

    def __str__(self):
        left = "[" if self.closed in ("both", "left") else "("
        right = "]" if self.closed in ("both", "right") else ")"
        fmt = lambda v: "inf" if v == np.inf else "-inf" if v == -np.inf else repr(v)  # noqa: E731
        return f"{left}{fmt(self.low)}, {fmt(self.high)}{right}"



#: The constraints most parameters share (infinities are refused by ``check_scalar`` anyway).
REAL = Interval(-np.inf, np.inf, closed="neither")
POSITIVE = Interval(0.0, np.inf, closed="neither")
NONNEGATIVE = Interval(0.0, np.inf, closed="left")
UNIT = Interval(0.0, 1.0)
#: ``inertia`` and ``pseudocount`` as the fit methods have always described them.
INERTIA = Interval(0.0, 1.0)
PSEUDOCOUNT = Interval(0.0, np.inf)

def show(value, width=60):
    """``repr`` of a value for an error message, numpy scalars as the Python numbers they hold (numpy 2
    writes ``np.float64(-1.0)``), cut to ``width`` characters."""
    if isinstance(value, np.generic):
        value = value.item()
    text = repr(value)
    return text if len(text) <= width else text[:width - 3] + "..."


def _owner(owner):
    return f" of {owner}" if owner else ""


def check_scalar(value, name, interval, owner=None):
    """Return ``value`` as a float, or raise naming ``name`` and the expected range.

    Examples of the message: ``The 'std' parameter of NormalDistribution must be a float in the
    range (0, inf). Got -1.0 instead.``
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.ndarray)):
        raise TypeError(
            f"The {name!r} parameter{_owner(owner)} must be a float in the range {interval}. "
            f"Got {show(value)} of type {type(value).__name__} instead."
        )
    if isinstance(value, np.ndarray):
        if value.ndim != 0 or value.dtype.kind not in "iuf":
            raise TypeError(
                f"The {name!r} parameter{_owner(owner)} must be a float in the range {interval}. "
                f"Got an array of shape {value.shape} instead."
            )
    value = float(value)
    if not np.isfinite(value) or value not in interval:  # no parameter takes an infinity
        raise ValueError(
            f"The {name!r} parameter{_owner(owner)} must be a float in the range {interval}. "
            f"Got {show(value)} instead."
        )
    return value


def check_threshold(value, name, owner=None):
    """Return ``value`` as a float: any real number, infinities included (pomegranate 0.x accepts any
    ``stop_threshold``; a negative one, or ``-inf``, runs exactly ``max_iterations`` iterations), never NaN."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"The {name!r} parameter{_owner(owner)} must be a float (any real number, -inf "
                        f"included). Got {show(value)} of type {type(value).__name__} instead.")
    value = float(value)
    if np.isnan(value):
        raise ValueError(f"The {name!r} parameter{_owner(owner)} must be a float (any real number, -inf "
                         "included). Got nan instead.")
    return value


def check_bool(value, name, owner=None):
    """Return ``value`` as a bool, accepting only real booleans."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"The {name!r} parameter{_owner(owner)} must be a bool. Got {show(value)} instead.")
    return bool(value)


def check_int(value, name, interval, owner=None, allow_none=False, allow_inf=False, allow_float=False):
    """Return ``value`` as an int.

    Only integers are accepted (``n_components=2.0`` is a ``TypeError``, as in scikit-learn), except with
    ``allow_float``: integer-valued floats such as pomegranate's ``max_iterations=1e8`` default are then
    accepted too (and ``inf`` with ``allow_inf``, for counts that may be unbounded)."""
    if value is None and allow_none:
        return None
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"The {name!r} parameter{_owner(owner)} must be an int in the range {interval}. "
                        f"Got {show(value)} instead.")
    if isinstance(value, numbers.Integral):
        out = operator.index(value)
    elif allow_float and isinstance(value, numbers.Real) and np.isfinite(value) and float(value).is_integer():
        out = int(value)
    elif allow_float and isinstance(value, numbers.Real) and value == np.inf and interval.high == np.inf and allow_inf:
        out = np.inf
    else:
        none = " or None" if allow_none else ""
        raise TypeError(f"The {name!r} parameter{_owner(owner)} must be an int in the range {interval}{none}. "
                        f"Got {show(value)} instead.")
    if out not in interval:
        raise ValueError(f"The {name!r} parameter{_owner(owner)} must be an int in the range {interval}. "
                         f"Got {show(value)} instead.")
    return out


def as_generator(random_state):
    """Normalise ``random_state`` into a :class:`numpy.random.Generator`, never touching global state.

    ``None`` means fresh OS entropy; an int seeds a new ``Generator``; a ``Generator`` is used as is; a
    legacy ``RandomState`` (pomegranate users pass these) is honoured by drawing a 128-bit seed from it,
    so the same ``RandomState`` state gives the same draws and the ``RandomState`` advances.
    """
    if random_state is None or isinstance(random_state, (numbers.Integral, np.random.SeedSequence)):
        if isinstance(random_state, (bool, np.bool_)):
            raise TypeError("random_state must be None, an int, a numpy Generator or a RandomState; got a bool.")
        if isinstance(random_state, numbers.Integral) and random_state < 0:
            raise ValueError(f"random_state must be a non-negative int; got {random_state}.")
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        seed = random_state.randint(0, 2**32, size=4, dtype=np.uint64)
        return np.random.default_rng(seed)
    raise TypeError(
        "random_state must be None, an int, a numpy.random.Generator or a numpy.random.RandomState; "
        f"got {type(random_state).__name__}."
    )


#: the information criteria of :meth:`GeneralMixtureModel.bic` and its siblings, by name
CRITERIA = ("bic", "aic", "icl")


def check_criterion(criterion):
    """``criterion`` in lower case, checked to be one of :data:`CRITERIA`."""
    if not isinstance(criterion, str) or criterion.lower() not in CRITERIA:
        raise ValueError(f"criterion must be one of {list(CRITERIA)}; got {criterion!r}.")
    return criterion.lower()
