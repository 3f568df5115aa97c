"""Snapshot and restore of a model's state, so that a failed fit or early stopping can undo changes.

Used by the EM driver, by ``GeneralMixtureModel`` and by the ``EarlyStopping`` callback; it depends only
on the distribution base class, so none of them has to import another for it.
"""
import copy

from .distributions._base import is_stackable

__all__ = ["fitted_objects", "snapshot", "restore"]


def fitted_objects(model):
    """Every object whose state a fit may change: the model, its components and nested children.

    Parameters
    ----------
    model : GeneralMixtureModel
        The mixture (anything with a ``distributions`` list).

    Returns
    -------
    objects : list
        The model first, then every component and nested child distribution.
    """
    out, stack = [model], list(model.distributions)
    while stack:
        obj = stack.pop()
        out.append(obj)
        children = getattr(obj, "_params", {}).get("distributions") if is_stackable(obj) else None
        if isinstance(children, list):
            stack.extend(children)
    return out


def snapshot(model):
    """Capture the model's state so that a failed call can restore it exactly.

    genmix objects never modify their arrays in place (every update assigns new arrays), so a shallow
    copy of each object's ``__dict__`` is enough; user-defined components are deep-copied.

    Parameters
    ----------
    model : GeneralMixtureModel
        The mixture whose state to capture.

    Returns
    -------
    saved : list of (object, dict)
        What :func:`restore` needs.
    """
    saved = []
    for obj in fitted_objects(model):
        state = dict(obj.__dict__) if (obj is model or is_stackable(obj)) else copy.deepcopy(obj.__dict__)
        saved.append((obj, state))
    return saved


def restore(saved):
    """Put every object captured by :func:`snapshot` back into the captured state.

    Parameters
    ----------
    saved : list of (object, dict)
        The value :func:`snapshot` returned.
    """
    for obj, state in saved:
        obj.__dict__.clear()
        obj.__dict__.update(state)
