"""Shared helpers of the reliability suite: model fingerprints, the exception contract, a code-execution canary."""
import dataclasses
import numbers
import re

import numpy as np

from genmix import GeneralMixtureModel
from genmix.distributions import Distribution

#: The only exception types genmix may raise for bad input (genmix.exceptions: "errors are plain ValueError /
#: TypeError"); subclasses such as numpy's LinAlgError or UnicodeDecodeError do not count.
ALLOWED_ERRORS = (ValueError, TypeError)

#: Anything appended here means a document made genmix run code of ours.
CANARY = []


def pwn(*args, **kwargs):
    """What a hostile document tries to call (through eval or a YAML python tag)."""
    CANARY.append((args, kwargs))
    return {}


#: An expression that calls :func:`pwn` if it is ever evaluated (pomegranate 0.x eval'ed class names).
EVAL_PAYLOAD = f"__import__({__name__!r}, fromlist=['pwn']).pwn()"
#: A YAML document that calls :func:`pwn` if it is loaded with an unsafe loader.
YAML_PAYLOAD = f"!!python/object/apply:{__name__}.pwn []"


def canonical(value):
    """A comparable, hashable rendering of statistics (frozen dataclasses of arrays, tuples, None)."""
    if value is None:
        return None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__,) + tuple(canonical(getattr(value, f.name)) for f in dataclasses.fields(value))
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            return ("object-array", value.shape, repr(value.tolist()))
        return ("array", value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, (list, tuple)):
        return tuple(canonical(v) for v in value)
    return repr(value)


def _children(obj):
    if isinstance(obj, GeneralMixtureModel):
        return list(obj.distributions)
    params = getattr(obj, "_params", None)
    if isinstance(params, dict) and isinstance(params.get("distributions"), list):
        return list(params["distributions"])
    return []


def state(obj):
    """Everything a failed call must leave as it was: the JSON document (parameters, weights, frozen flags)
    and the pending statistics of the object and of every nested component."""
    out = []
    stack = [obj]
    while stack:
        o = stack.pop()
        out.append((type(o).__name__, bool(getattr(o, "frozen", False)), canonical(getattr(o, "summaries", None))))
        stack.extend(_children(o))
    try:
        document = obj.to_json()
    except TypeError:  # an object that cannot be serialised (a user component, mixed key types): its repr
        document = repr(obj)
    return document, tuple(out)


def is_model(obj):
    return isinstance(obj, (Distribution, GeneralMixtureModel))


def mentions(message, keywords):
    """Whether ``message`` names one of ``keywords`` as a whole word (case-sensitive, so that the argument
    ``X`` is not found inside "expected")."""
    return any(re.search(rf"(?<![A-Za-z0-9_]){re.escape(k)}(?![A-Za-z0-9_])", message) for k in keywords)


def numbers_in(document):
    """Every number in a ``to_dict()`` document (parameters, weights, nested children), as floats."""
    if isinstance(document, dict):
        for k, v in document.items():
            if k not in ("class", "name", "dtype", "frozen"):
                yield from numbers_in(v)
    elif isinstance(document, (list, tuple)):
        for v in document:
            yield from numbers_in(v)
    elif isinstance(document, numbers.Real) and not isinstance(document, bool):
        yield float(document)
