"""Warning classes raised by genmix (errors are plain ``ValueError`` / ``TypeError``), and the scopes that
report each distinct warning once per fit, name the component it is about, or collect a fit's warnings.

The scopes are thread-local (no ``warnings.catch_warnings``, which changes process-wide state): fits in
parallel threads (``genmix.select``) each keep their own record.
"""
import contextlib
import threading
import warnings

__all__ = ["ConvergenceWarning", "NumericalWarning", "collecting_warnings", "naming_component", "once_per_fit",
           "warn_once"]


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
    reported the same warning; inside :func:`naming_component` the message names the component, and inside
    :func:`collecting_warnings` it is recorded instead of issued."""
    who = getattr(_SCOPE, "who", None)
    if who is not None:
        message = f"{who}: {message}"
    seen = getattr(_SCOPE, "seen", None)
    if seen is not None:
        key = (category, str(message))
        if key in seen:
            return
        seen.add(key)
    collected = getattr(_SCOPE, "collected", None)
    if collected is not None:
        collected.append((category, str(message)))
        return
    warnings.warn(message, category, stacklevel=stacklevel + 1)


@contextlib.contextmanager
def naming_component(i):
    """Warnings issued through :func:`warn_once` inside (a family's M-step repairing component ``i``'s
    estimate) get ``"component i: "`` in front; a list of indices (a parameter the components share) gives
    ``"components i, j: "``."""
    outer = getattr(_SCOPE, "who", None)
    _SCOPE.who = f"components {', '.join(str(j) for j in i)}" if isinstance(i, (list, tuple)) else f"component {i}"
    try:
        yield
    finally:
        _SCOPE.who = outer


@contextlib.contextmanager
def collecting_warnings():
    """Record the :func:`warn_once` warnings of this thread instead of issuing them; yields the list of
    ``(category, message)`` (each distinct one once)."""
    outer = getattr(_SCOPE, "collected", None)
    _SCOPE.collected = []
    try:
        yield _SCOPE.collected
    finally:
        _SCOPE.collected = outer
