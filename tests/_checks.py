"""Checks shared by several test files."""
import numpy as np
from numpy.testing import assert_allclose


def assert_em_monotone(model, X, iterations):
    """Run ``iterations`` EM steps by hand: each E-step's log-likelihood equals ``log_probability`` summed
    (1e-12) and never falls below the previous one (beyond 1e-9 relative)."""
    previous = -np.inf
    for _ in range(iterations):
        logp = model.summarize(X)
        assert_allclose(logp, model.log_probability(X).sum(), rtol=1e-12)
        assert logp >= previous - 1e-9 * abs(logp)
        previous = logp
        model.from_summaries()
    return model
