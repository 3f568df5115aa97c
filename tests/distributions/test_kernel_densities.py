import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats
from scipy.integrate import quad

from genmix import (GaussianKernelDensity, GeneralMixtureModel, NormalDistribution, TriangleKernelDensity,
                    UniformKernelDensity)

POINTS, BW, W = np.array([0.0, 1.0, 3.0]), 2.0, np.array([1.0, 2.0, 1.0]) / 4

KERNELS = {
    GaussianKernelDensity: lambda m: stats.norm(m, BW),
    UniformKernelDensity: lambda m: stats.uniform(m - BW, 2 * BW),
    TriangleKernelDensity: lambda m: stats.triang(0.5, loc=m - BW, scale=2 * BW),
}
pytestmark = pytest.mark.parametrize("cls", list(KERNELS), ids=lambda c: c.__name__)


def reference_pdf(cls, x):
    return sum(w * KERNELS[cls](m).pdf(x) for m, w in zip(POINTS, W))


def test_density_matches_scipy_kernels_and_integrates_to_one(cls):
    k = cls(POINTS, bandwidth=BW, weights=[1, 2, 1])
    x = np.linspace(-6, 8, 57)
    assert_allclose(k.probability(x), reference_pdf(cls, x), rtol=1e-12, atol=1e-300)
    assert_allclose(quad(lambda t: k.probability(t), -20, 20, points=[-2, 0, 1, 3, 5], limit=200)[0], 1.0,
                    rtol=1e-7)
    lp = k.log_probability([np.nan, 100.0])
    assert lp[0] == 0.0 and (np.isneginf(lp[1]) or lp[1] < -1000)


def test_fit_replaces_points_and_inertia_keeps_them(cls):
    k = cls([0.0], bandwidth=1.0).fit([1.0, 2.0, 3.0], [1, 1, 2])
    assert k.parameters == [[1.0, 2.0, 3.0], 1.0, [0.25, 0.25, 0.5]]
    k2 = cls([0.0], bandwidth=1.0).fit([1.0, 2.0], inertia=0.25)
    assert k2.parameters == [[0.0, 1.0, 2.0], 1.0, [0.25, 0.375, 0.375]]


def test_sample_follows_the_density(cls):
    k = cls(POINTS, bandwidth=BW, weights=[1, 2, 1])
    draws = k.sample(4000, random_state=5)

    def cdf(x):
        return sum(w * KERNELS[cls](m).cdf(x) for m, w in zip(POINTS, W))

    assert stats.kstest(draws, cdf).pvalue > 1e-3
    assert_array_equal(k.sample(5, random_state=1), k.sample(5, random_state=1))


def test_trainable_inside_a_mixture_and_serialisable(cls, rng):
    X = np.concatenate([rng.normal(0, 1, 60), rng.normal(6, 1, 60)])
    model = GeneralMixtureModel([cls([0.0, 1.0], 1.5), NormalDistribution(5, 1)])
    model.fit(X, max_iterations=5)  # pomegranate 0.x raised TypeError here
    kde = model.distributions[0]
    assert len(kde.parameters[0]) > 2 and abs(sum(kde.parameters[2]) - 1) < 1e-12
    again = GeneralMixtureModel.from_json(model.to_json())
    assert_allclose(again.log_probability(X), model.log_probability(X), rtol=1e-14)


def test_invalid(cls):
    with pytest.raises(ValueError, match="bandwidth"):
        cls([0.0], bandwidth=0)
    with pytest.raises(ValueError, match="points"):
        cls([])
    with pytest.raises(ValueError, match="weights"):
        cls([0.0, 1.0], weights=[1.0])
