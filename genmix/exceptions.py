"""Warning classes raised by genmix (errors are plain ``ValueError`` / ``TypeError``)."""


class ConvergenceWarning(UserWarning):
    """EM stopped without meeting its stopping rule, or the log-likelihood decreased."""


class NumericalWarning(RuntimeWarning):
    """A parameter estimate was repaired (e.g. a covariance floored to be positive definite)."""
