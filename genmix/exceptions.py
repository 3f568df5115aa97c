"""Warning classes raised by genmix (errors are plain ``ValueError`` / ``TypeError``), and the scope that
reports each distinct warning once per fit."""
import contextlib
import threading
import warnings

__all__ = ["ConvergenceWarning", "NumericalWarning", "naming_component", "once_per_fit", "warn_once"]


class ConvergenceWarning(UserWarning):
    """EM stopped without meeting its stopping rule, or the log-likelihood decreased."""


class NumericalWarning(RuntimeWarning):
    """A parameter estimate was repaired (e.g. a covariance floored to be positive definite)."""


_SCOPE = threading.local()


@contextlib.contextmanager
def once_per_fit():
    """Within one fit, :func:`warn_once` reports each distinct (category, message) once: a repair that
    every M-step repeats (the same component's covariance floored in each iteration) is one warning, not
    one per iteration. A nested scope (``from_samples`` calling ``fit``) shares the outer one's record."""
    outer = getattr(_SCOPE, "seen", None)
    if outer is None:
        _SCOPE.seen = set()
    try:
        yield
    finally:
        if outer is None:
            _SCOPE.seen = None


def warn_once(message, category, stacklevel=1):
    """``warnings.warn(message, category)``, unless the current :func:`once_per_fit` scope has already
    reported the same warning."""
    seen = getattr(_SCOPE, "seen", None)
    if seen is not None:
        key = (category, str(message))
        if key in seen:
            return
        seen.add(key)
    warnings.warn(message, category, stacklevel=stacklevel + 1)


@contextlib.contextmanager
def naming_component(i):
    """Warnings raised inside (a family's M-step repairing component ``i``'s estimate) are re-issued with
    ``"component i: "`` in front, through :func:`warn_once`; a list of indices (a parameter the components
    share) gives ``"components i, j: "``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", NumericalWarning)
        yield
    who = (f"components {', '.join(str(j) for j in i)}" if isinstance(i, (list, tuple)) else f"component {i}")
    for w in caught:
        warn_once(f"{who}: {w.message}", w.category, stacklevel=3)
