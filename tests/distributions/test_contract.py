"""Generic checks over the univariate family table, each against an independent reference."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats

from ._reference import IDS, UNIVARIATE

pytestmark = pytest.mark.parametrize("cls, args, ref, gen, mle, outside, invalid", UNIVARIATE, ids=IDS)


def test_log_probability_matches_scipy(cls, args, ref, gen, mle, outside, invalid, rng):
    d = cls(*args)
    x = np.concatenate([gen(rng, 200), [gen(rng, 1)[0] * 1e-3]])
    assert_allclose(d.log_probability(x), ref(*args).logpdf(x), rtol=1e-12, atol=1e-13)
    assert_allclose(d.probability(x), ref(*args).pdf(x), rtol=1e-12, atol=1e-300)
    assert_allclose(d.log_probability(x[:, None]), ref(*args).logpdf(x), rtol=1e-12, atol=1e-13)


def test_scalar_gives_float(cls, args, ref, gen, mle, outside, invalid):
    d = cls(*args)
    value = d.log_probability(1.0)
    assert isinstance(value, float)
    assert_allclose(value, ref(*args).logpdf(1.0), rtol=1e-12)


def test_outside_support_is_neg_inf(cls, args, ref, gen, mle, outside, invalid):
    d = cls(*args)
    if outside:
        assert np.all(np.isneginf(d.log_probability(np.array(outside))))
        assert_array_equal(d.probability(np.array(outside)), 0.0)


def test_missing_value_has_log_density_zero(cls, args, ref, gen, mle, outside, invalid):
    lp = cls(*args).log_probability(np.array([np.nan, 1.0]))
    assert lp[0] == 0.0 and np.isfinite(lp[1])


def test_invalid_parameters_raise(cls, args, ref, gen, mle, outside, invalid):
    for bad in invalid:
        with pytest.raises(ValueError, match="parameter of"):
            cls(*bad)
    with pytest.raises(TypeError):
        cls(*(["a"] * len(args)))


def test_fit_is_weighted_mle(cls, args, ref, gen, mle, outside, invalid, rng):
    x = gen(rng, 500)
    w = rng.uniform(0.1, 3.0, x.size)
    d = cls(*args).fit(x, w)
    assert_allclose(d.parameters, mle(x, w), rtol=1e-12)
    d2 = cls.from_samples(x, w)
    assert_allclose(d2.parameters, mle(x, w), rtol=1e-12)


def test_unweighted_fit_matches_scipy_fit(cls, args, ref, gen, mle, outside, invalid, rng):
    x = gen(rng, 400)
    d = cls.from_samples(x)
    if cls.__name__ == "NormalDistribution":
        assert_allclose(d.parameters, stats.norm.fit(x), rtol=1e-10)
    elif cls.__name__ == "LogNormalDistribution":
        s, _, scale = stats.lognorm.fit(x, floc=0)
        assert_allclose(d.parameters, [np.log(scale), s], rtol=1e-8)
    else:
        _, scale = stats.expon.fit(x, floc=0)
        assert_allclose(d.parameters, [1 / scale], rtol=1e-10)


def test_missing_values_are_ignored_by_fit(cls, args, ref, gen, mle, outside, invalid, rng):
    x = gen(rng, 100)
    with_nan = np.concatenate([x[:50], [np.nan, np.nan], x[50:]])
    assert_allclose(cls(*args).fit(with_nan).parameters, mle(x, np.ones(100)), rtol=1e-12)


def test_summaries_add_up(cls, args, ref, gen, mle, outside, invalid, rng):
    x = gen(rng, 300)
    w = rng.uniform(0.5, 2.0, 300)
    d = cls(*args)
    d.summarize(x[:100], w[:100])
    d.summarize(x[100:], w[100:])
    d.from_summaries()
    assert d.summaries is None
    assert_allclose(d.parameters, mle(x, w), rtol=1e-12)


def test_integer_weights_equal_repetition_and_zero_equals_removal(cls, args, ref, gen, mle, outside, invalid,
                                                                  rng):
    x = gen(rng, 60)
    counts = rng.integers(0, 4, 60)
    counts[0] = 0
    weighted = cls(*args).fit(x, counts.astype(float))
    repeated = cls(*args).fit(np.repeat(x, counts))
    assert_allclose(weighted.parameters, repeated.parameters, rtol=1e-12)


def test_inertia_blends_parameters(cls, args, ref, gen, mle, outside, invalid, rng):
    x = gen(rng, 200)
    d = cls(*args).fit(x, inertia=0.3)
    assert_allclose(d.parameters, 0.3 * np.array(args) + 0.7 * np.array(mle(x, np.ones(200))), rtol=1e-12)
    # the density follows the stored (blended) parameters
    assert_allclose(d.log_probability(x), ref(*d.parameters).logpdf(x), rtol=1e-12, atol=1e-13)


def test_frozen_distribution_does_not_fit(cls, args, ref, gen, mle, outside, invalid, rng):
    d = cls(*args, frozen=True)
    d.fit(gen(rng, 50))
    assert_allclose(d.parameters, args)
    d.thaw()
    d.fit(gen(rng, 50))
    assert not np.allclose(d.parameters, args)
    d.freeze()
    assert d.frozen


def test_failed_fit_leaves_parameters(cls, args, ref, gen, mle, outside, invalid, rng):
    d = cls(*args)
    d.summarize(gen(rng, 10))
    before, pending = d.parameters, d.summaries
    with pytest.raises(ValueError, match="Size of weight vector"):
        d.fit(gen(rng, 10), np.ones(3))
    with pytest.raises(ValueError, match="infinite"):
        d.fit(np.array([1.0, np.inf]))
    with pytest.raises(TypeError):
        d.fit(np.array(["a", "b"]))
    if outside:
        with pytest.raises(ValueError, match="outside the support"):
            d.fit(np.array(outside + [1.0]))
        with pytest.raises(ValueError, match="outside the support"):
            d.summarize(np.array(outside))
    assert d.parameters == before and d.summaries is pending


def test_empty_or_zero_weight_fit_keeps_parameters(cls, args, ref, gen, mle, outside, invalid, rng):
    d = cls(*args)
    d.fit(gen(rng, 5), np.zeros(5))
    d.fit(np.empty(0))
    assert_allclose(d.parameters, args)


def test_sample_follows_the_distribution(cls, args, ref, gen, mle, outside, invalid):
    d = cls(*args)
    draws = d.sample(3000, random_state=12345)
    assert draws.shape == (3000,)
    assert stats.kstest(draws, ref(*args).cdf).pvalue > 1e-3
    # the test has power: a 25% change of the parameters is detected
    shifted = [1.25 * a for a in args]
    assert stats.kstest(draws, ref(*shifted).cdf).pvalue < 1e-3
    assert isinstance(d.sample(random_state=0), float)


def test_sample_random_state(cls, args, ref, gen, mle, outside, invalid):
    d = cls(*args)
    assert_array_equal(d.sample(20, random_state=7), d.sample(20, random_state=7))
    assert not np.array_equal(d.sample(20, random_state=7), d.sample(20, random_state=8))
    state = np.random.get_state()[1].copy()
    d.sample(5)
    d.sample(5, random_state=np.random.RandomState(3))
    assert_array_equal(np.random.get_state()[1], state)
    assert_array_equal(d.sample(4, random_state=np.random.RandomState(3)),
                       d.sample(4, random_state=np.random.RandomState(3)))


def test_copy_and_dict_round_trip(cls, args, ref, gen, mle, outside, invalid, rng):
    d = cls(*args, frozen=True)
    c = d.copy()
    assert c is not d and c.parameters == d.parameters and c.frozen
    r = cls.from_dict(d.to_dict())
    assert r.parameters == d.parameters and r.frozen
    assert d.to_dict() == {"class": "Distribution", "name": cls.__name__, "parameters": list(args),
                           "frozen": True}
    assert d.name == cls.__name__ and d.d == 1


def test_parameters_setter_validates_and_updates(cls, args, ref, gen, mle, outside, invalid):
    d = cls(*args)
    new = [a * 1.5 for a in args]
    d.parameters = new
    assert_allclose(d.log_probability(1.0), ref(*new).logpdf(1.0), rtol=1e-12)
    with pytest.raises(ValueError):
        d.parameters = list(invalid[0])
    assert_allclose(d.parameters, new)


def test_blank(cls, args, ref, gen, mle, outside, invalid):
    b = cls.blank()
    assert isinstance(b, cls) and all(np.isfinite(b.parameters))
