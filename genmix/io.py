"""Serialisation to and from dicts, JSON and YAML, in pomegranate 0.x's layout.

Loading never evaluates text as code (pomegranate 0.x pasted names and parameters into ``eval``): a
document may only name classes in a fixed registry, every parameter must be a number or a (nested)
list of numbers, nesting and size are bounded, and YAML goes through the safe loader. Anything else
is a ``ValueError`` that says what was wrong.
"""
import json
import numbers
import os

import yaml

from ._registry import MIXTURES, REGISTRY

__all__ = ["to_json", "to_yaml", "from_dict", "from_json", "from_yaml", "MAX_DOCUMENT_CHARS"]

#: The largest document (in characters) that ``from_json`` / ``from_yaml`` accept.
MAX_DOCUMENT_CHARS = 64 * 1024 * 1024
_MAX_DEPTH = 64


def to_json(obj, separators=(",", " : "), indent=4):
    """``json.dumps(obj.to_dict())`` with pomegranate 0.x's formatting.

    Parameters
    ----------
    obj : Distribution or GeneralMixtureModel
        Anything with a ``to_dict`` method.
    separators : pair of str, default=(",", " : ")
        The item and key separators (pomegranate 0.x's by default).
    indent : int, str or None, default=4
        Indentation, as in :func:`json.dumps`.

    Returns
    -------
    text : str
        The JSON document.
    """
    if not (isinstance(separators, (tuple, list)) and len(separators) == 2
            and all(isinstance(s, str) for s in separators)):
        raise TypeError(f"separators must be a pair of strings (item, key); got {separators!r:.60}.")
    if indent is not None and (isinstance(indent, bool) or not isinstance(indent, (int, str))):
        raise TypeError(f"indent must be None, an int or a string; got {indent!r:.60}.")
    return json.dumps(obj.to_dict(), separators=tuple(separators), indent=indent)


def to_yaml(obj):
    """``obj.to_dict()`` as YAML, keys in document order (a Discrete table's order is kept).

    Parameters
    ----------
    obj : Distribution or GeneralMixtureModel
        Anything with a ``to_dict`` method.

    Returns
    -------
    text : str
        The YAML document (plain YAML, readable by ``yaml.safe_load``).
    """
    return yaml.safe_dump(obj.to_dict(), sort_keys=False)  # key order matters for a Discrete table


def numeric(value, path, depth=0):
    """Check that ``value`` is a number or a nested list of numbers."""
    if depth > _MAX_DEPTH:
        raise ValueError(f"{path} is nested too deeply.")
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, list)):
        raise ValueError(f"{path} must be a number or a list of numbers; got {type(value).__name__} {value!r:.60}.")
    if isinstance(value, list):
        for i, v in enumerate(value):
            numeric(v, f"{path}[{i}]", depth + 1)
    elif isinstance(value, numbers.Integral) and abs(value) > 2 ** 1023:
        raise ValueError(f"{path} is an integer too large for a float ({len(str(value))} digits).")
    return value


def _expect_keys(d, required, optional, what):
    if not isinstance(d, dict):
        raise ValueError(f"{what} must be a mapping; got {type(d).__name__}.")
    missing = [k for k in required if k not in d]
    if missing:
        raise ValueError(f"{what} lacks the key(s) {missing}.")
    unknown = [k for k in d if k not in required and k not in optional]
    if unknown:
        raise ValueError(f"{what} has unknown key(s) {unknown!r:.200}.")


def _frozen(d, what):
    frozen = d.get("frozen", False)
    if not isinstance(frozen, bool):
        raise ValueError(f"{what}'s 'frozen' must be true or false; got {frozen!r:.60}.")
    return frozen


def _build_distribution(d, depth, path):
    if depth > _MAX_DEPTH:
        raise ValueError(f"{path}: the document is nested too deeply.")
    if not isinstance(d, dict):
        raise ValueError(f"{path} must be a mapping describing a distribution; got {type(d).__name__}.")
    if d.get("class") == "GeneralMixtureModel":
        return _build_mixture(d, depth + 1, path)
    name = d.get("name")
    registry = REGISTRY
    if d.get("class") != "Distribution" or not isinstance(name, str) or name not in registry:
        raise ValueError(f"{path} names an unknown class ({d.get('class')!r:.60}, {name!r:.60}); known "
                         f"distributions are {sorted(registry)}.")
    cls = registry[name]
    extras = tuple(cls._options)  # genmix-only options a document may carry beside pomegranate's keys
    _expect_keys(d, ("class", "name", "parameters"), ("frozen",) + extras + tuple(cls._document_keys), path)
    params = d["parameters"]
    if not isinstance(params, list) or len(params) != len(cls._param_names):
        raise ValueError(f"{path}: 'parameters' of {name} must be a list of {len(cls._param_names)} values "
                         f"({', '.join(cls._param_names)}).")
    frozen = _frozen(d, path)
    kwargs = {k: _option(cls, k, d[k], f"{path}.{k}") for k in extras if k in d}
    params = cls._document_args(params, d, path, lambda doc, where: _build_distribution(doc, depth + 1, where))
    try:
        return cls(*params, frozen=frozen, **kwargs)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: invalid parameters for {name}: {exc}") from None


def _option(cls, key, value, path):
    """A genmix option of a document: a string where the option's default is one, else numbers."""
    if isinstance(cls._options[key], str):
        if not isinstance(value, str):
            raise ValueError(f"{path} must be a string; got {type(value).__name__}.")
        return value
    return numeric(value, path)


def _build_mixture(d, depth, path):
    _expect_keys(d, ("class", "distributions", "weights"), ("frozen", "feature_names"), path)
    dists = d["distributions"]
    if not isinstance(dists, list) or not dists:
        raise ValueError(f"{path}: 'distributions' must be a non-empty list.")
    built = [_build_distribution(c, depth + 1, f"{path}.distributions[{i}]") for i, c in enumerate(dists)]
    weights = numeric(d["weights"], f"{path}.weights")
    try:
        model = MIXTURES["GeneralMixtureModel"](built, weights)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: invalid mixture: {exc}") from None
    model.frozen = _frozen(d, path)
    names = d.get("feature_names")
    if names is not None:
        if not (isinstance(names, list) and len(names) == model.d and all(isinstance(c, str) for c in names)
                and len(set(names)) == len(names)):
            raise ValueError(f"{path}: 'feature_names' must be a list of {model.d} distinct strings (one per "
                             "column).")
        model.feature_names = tuple(names)
    return model


def from_dict(d, expected=None):
    """Build a genmix object from a dict in pomegranate 0.x's layout.

    Parameters
    ----------
    d : dict
        A document as written by ``to_dict`` (or by pomegranate 0.x).
    expected : class, default=None
        If given, the result must be an instance of it.

    Returns
    -------
    obj : Distribution or GeneralMixtureModel
        The object the document describes.

    Raises
    ------
    ValueError
        For unknown classes, malformed structure or invalid parameters.
    """
    obj = _build_distribution(d, 0, "document")
    if expected is not None and not isinstance(obj, expected):
        raise ValueError(f"the document describes a {type(obj).__name__}, not a {expected.__name__}.")
    return obj


def _read_text(s, what):
    if isinstance(s, os.PathLike):
        with open(s, encoding="utf-8") as fh:
            return fh.read(MAX_DOCUMENT_CHARS + 1)
    if isinstance(s, bytes):
        try:
            s = s.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(f"the {what.upper()} document is not UTF-8 text: {exc}") from None
    if not isinstance(s, str):
        raise TypeError(f"from_{what} takes {what.upper()} text or a file path; got {type(s).__name__}.")
    return s


def _parse(s, loads, what):
    text = _read_text(s, what)
    if len(text) > MAX_DOCUMENT_CHARS:
        raise ValueError(f"the {what.upper()} document is larger than {MAX_DOCUMENT_CHARS} characters.")
    try:
        return loads(text)
    except RecursionError:
        raise ValueError(f"the {what.upper()} document is nested too deeply.") from None


def from_json(s, expected=None):
    """Build a genmix object from JSON text, or from the name of a JSON file (as pomegranate 0.x did).

    Parameters
    ----------
    s : str
        The document, or the path of a file holding it (at most ``MAX_DOCUMENT_CHARS`` characters).
    expected : class, default=None
        If given, the result must be an instance of it.

    Returns
    -------
    obj : Distribution or GeneralMixtureModel
        The object the document describes.

    Raises
    ------
    ValueError
        For text that is not JSON, a class outside the registry, parameters that are not numbers, or a
        document too large or nested too deeply.
    """
    def loads(text):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            if len(text) < 4096 and "\n" not in text and os.path.isfile(text):
                with open(text, encoding="utf-8") as fh:
                    content = fh.read(MAX_DOCUMENT_CHARS + 1)
                if len(content) > MAX_DOCUMENT_CHARS:
                    raise ValueError(f"the JSON file is larger than {MAX_DOCUMENT_CHARS} characters.") from None
                try:
                    return json.loads(content)
                except json.JSONDecodeError as exc2:
                    raise ValueError(f"{text!r} does not hold valid JSON: {exc2}") from None
            raise ValueError(f"not valid JSON (nor the name of a file): {exc}") from None

    return from_dict(_parse(s, loads, "json"), expected)


def from_yaml(s, expected=None):
    """Build a genmix object from YAML text; only plain YAML is read (``yaml.safe_load``).

    Parameters
    ----------
    s : str
        The document.
    expected : class, default=None
        If given, the result must be an instance of it.

    Returns
    -------
    obj : Distribution or GeneralMixtureModel
        The object the document describes.

    Raises
    ------
    ValueError
        For text that is not plain YAML (tags that construct Python objects are refused), a class outside
        the registry or parameters that are not numbers.
    """
    def loads(text):
        try:
            return yaml.safe_load(text)
        except RecursionError:
            raise  # reported as "nested too deeply" by _parse
        except Exception as exc:  # PyYAML's safe constructors raise many types for malformed typed scalars
            raise ValueError(f"not valid plain YAML (tags that construct Python objects are refused): "
                             f"{str(exc)[:300]}") from None

    return from_dict(_parse(s, loads, "yaml"), expected)

