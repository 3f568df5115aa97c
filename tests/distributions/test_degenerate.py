"""Degenerate data give finite, documented fits, never NaN (issue: families, item 2)."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

from genmix import (BernoulliDistribution, BetaDistribution, DiscreteDistribution, ExponentialDistribution,
                    GammaDistribution, GaussianKernelDensity, GeneralMixtureModel, LogNormalDistribution,
                    NormalDistribution, PoissonDistribution, UniformDistribution)


def test_poisson_all_zero_is_the_point_mass_at_zero():
    d = PoissonDistribution.from_samples([0, 0, 0])
    assert d.parameters == [0.0]
    assert d.log_probability(0.0) == 0.0 and np.isneginf(d.log_probability(1.0))


def test_point_masses_refit_as_in_the_issue():
    # issue #13 item 1: each raised "outside the support"; the MLEs are the sample means
    assert PoissonDistribution(0).fit([1, 6, 4, 9, 1]).parameters == [21 / 5]
    assert BernoulliDistribution(1.0).fit([0.0, 1.0]).parameters == [0.5]
    d = BernoulliDistribution(0.6)
    d.fit([0.0] * 10)
    assert d.parameters == [0.0]
    d.summarize([1.0, 1.0, 1.0])
    d.from_summaries()
    assert d.parameters == [1.0]


def test_a_row_no_component_can_produce_is_still_an_error():
    # DESIGN §6.8: inside a mixture the support that matters is the components' current one
    model = GeneralMixtureModel([PoissonDistribution(0), BernoulliDistribution(0.0)])
    before = [c.parameters for c in model.distributions]
    with pytest.raises(ValueError, match=r"\[1\]"):
        model.fit([0.0, 2.0, 0.0])
    assert [c.parameters for c in model.distributions] == before


def test_uniform_on_one_point_is_narrow_and_finite():
    d = UniformDistribution.from_samples([2.0, 2.0])
    start, end = d.parameters
    assert start < 2.0 < end and end - start <= 8 * np.finfo(float).eps * 2.0 + 1e-300
    assert np.isfinite(d.log_probability(2.0))


@pytest.mark.parametrize("cls, value", [(GammaDistribution, 3.0), (BetaDistribution, 0.3), (NormalDistribution, 5.0),
                                        (LogNormalDistribution, 5.0)])
def test_constant_data_give_finite_parameters(cls, value):
    d = cls.from_samples(np.full(10, value))
    assert np.all(np.isfinite(d.parameters))
    assert np.isfinite(d.log_probability(value)) and d.log_probability(value) > 10
    assert np.isfinite(d.log_probability(value * 1.01))


def test_exponential_on_zeros_keeps_its_rate():
    assert ExponentialDistribution(2.0).fit([0.0, 0.0]).parameters == [2.0]


def test_discrete_unseen_key():
    d = DiscreteDistribution({"a": 0.5, "b": 0.5})
    assert np.isneginf(d.log_probability("c"))
    assert d.fit(["c"]).parameters == [{"a": 0.0, "b": 0.0, "c": 1.0}]


@pytest.mark.parametrize("far", [NormalDistribution(1e6, 1.0), GammaDistribution(1e6, 1e-2),
                                 PoissonDistribution(1e5), UniformDistribution(1e6, 1e6 + 1)])
def test_component_without_responsibility_keeps_its_parameters(far):
    x = np.random.default_rng(0).poisson(3.0, 100).astype(float) + 1.0
    before = far.parameters
    model = GeneralMixtureModel([GammaDistribution(2.0, 1.0), far]).fit(x, max_iterations=5)
    assert model.distributions[1].parameters == before
    assert np.all(np.isfinite(model.distributions[0].parameters))
    assert_allclose(model.weights[1], 0.0, atol=1e-12)


@pytest.mark.parametrize("d", [ExponentialDistribution(np.finfo(float).max),
                               GammaDistribution(1.0, np.finfo(float).max)])
def test_rate_at_the_edge_of_the_float_range_gives_minus_inf_without_warning(d):
    # log λ − λx with λx beyond the float range is -inf (it raised an overflow warning)
    rate, x = np.finfo(float).max, 1e-309
    lp = d.log_probability(np.array([x, 2.0]))
    assert lp[0] == pytest.approx(np.log(rate) - rate * x, rel=1e-12) and np.isneginf(lp[1])


def test_values_near_the_float_maximum_give_correct_log_densities_without_warnings():
    # DESIGN §6.8: -inf (never NaN) where the density underflows; these warned, and a Uniform wider than
    # the float range was -inf inside its support, a Poisson NaN at x near the float maximum
    big = np.finfo(float).max
    assert np.isneginf(NormalDistribution(0.0, 1e-150).log_probability(1e300))
    assert np.isneginf(GaussianKernelDensity([0.0], 1e-300).log_probability(1.0))
    width_log = np.log(2.0) + np.log(1e308)  # log(2e308), which overflows as written
    assert UniformDistribution(-1e308, 1e308).log_probability(0.0) == pytest.approx(-width_log, rel=1e-15)
    assert np.isneginf(PoissonDistribution(3.0).log_probability(big))
    # x = λ = big: x log λ − λ − log x! = −½ log(2πx) − 1/(12x) + … (Stirling)
    assert PoissonDistribution(big).log_probability(big) == pytest.approx(-0.5 * np.log(2 * np.pi * 1e300)
                                                                         - 0.5 * np.log(big / 1e300), rel=1e-12)
