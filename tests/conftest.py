import os

import numpy as np
import pytest


@pytest.fixture
def seed():
    """The seed of a test's random data; override with GENMIX_TEST_SEED to try others."""
    return int(os.environ.get("GENMIX_TEST_SEED", "0"))


@pytest.fixture
def rng(seed):
    return np.random.default_rng(seed)
