"""The classes a serialised document may name, filled in by class decorators as their modules load.

It imports nothing, so any module can use it: families register themselves here, and ``genmix.io``
looks classes up here instead of importing the modules that define them.
"""

__all__ = ["REGISTRY", "register", "MIXTURES", "register_mixture"]

#: The families serialisation may name, by class name. Only classes registered here can be loaded.
REGISTRY = {}

#: The mixture classes a document may name in its ``class`` field, by class name.
MIXTURES = {}


def register(cls):
    """Class decorator: make a family known to serialisation (and to the generic tests) by its name.

    Parameters
    ----------
    cls : type
        A :class:`~genmix.distributions.Distribution` subclass.

    Returns
    -------
    cls : type
        The same class, now in :data:`REGISTRY`.
    """
    REGISTRY[cls.__name__] = cls
    return cls


def register_mixture(cls):
    """Class decorator: make a mixture class loadable by the ``class`` field of a document.

    Parameters
    ----------
    cls : type
        A mixture class whose constructor takes ``(distributions, weights)``.

    Returns
    -------
    cls : type
        The same class, now in :data:`MIXTURES`.
    """
    MIXTURES[cls.__name__] = cls
    return cls
