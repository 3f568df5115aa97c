"""Generic checks over the univariate family table, each against an independent reference."""
import json

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats

from ._reference import FAMILIES

pytestmark = pytest.mark.parametrize("fam", FAMILIES, ids=[f.id for f in FAMILIES])


def _points(fam, rng, n=200):
    x = fam.gen(rng, n)
    return np.concatenate([x, x[:5] * (1 + 1e-3 * (not fam.discrete))])


def test_log_probability_matches_scipy(fam, rng):
    d = fam.cls(*fam.args)
    x = _points(fam, rng)
    ref = fam.ref(*fam.args)
    expected = ref.logpmf(x) if fam.discrete else ref.logpdf(x)
    assert_allclose(d.log_probability(x), expected, rtol=1e-10, atol=1e-13)
    assert_allclose(d.probability(x), np.exp(expected), rtol=1e-10, atol=1e-300)
    assert_allclose(d.log_probability(x[:, None]), expected, rtol=1e-10, atol=1e-13)


def test_scalar_gives_float(fam, rng):
    d = fam.cls(*fam.args)
    x = float(fam.gen(rng, 1)[0])
    value = d.log_probability(x)
    assert isinstance(value, float)
    ref = fam.ref(*fam.args)
    assert_allclose(value, ref.logpmf(x) if fam.discrete else ref.logpdf(x), rtol=1e-10)


def test_outside_support_is_neg_inf(fam):
    d = fam.cls(*fam.args)
    if fam.outside:
        assert np.all(np.isneginf(d.log_probability(np.array(fam.outside))))
        assert_array_equal(d.probability(np.array(fam.outside)), 0.0)


def test_missing_value_has_log_density_zero(fam, rng):
    lp = fam.cls(*fam.args).log_probability(np.array([np.nan, fam.gen(rng, 1)[0]]))
    assert lp[0] == 0.0 and np.isfinite(lp[1])


def test_invalid_parameters_raise(fam):
    for bad in fam.invalid:
        with pytest.raises(ValueError, match="parameter of"):
            fam.cls(*bad)
    with pytest.raises(TypeError):
        fam.cls(*(["a"] * len(fam.args)))


def test_fit_is_weighted_mle(fam, rng):
    x = fam.gen(rng, 500)
    w = rng.uniform(0.1, 3.0, x.size)
    expected = fam.mle(x, w)
    d = fam.cls(*fam.args).fit(x, w)
    assert_allclose(d.parameters, expected, rtol=fam.mle_rtol)
    assert_allclose(fam.cls.from_samples(x, w).parameters, d.parameters, rtol=1e-14)
    # never a lower weighted likelihood than the reference optimum
    ours = w @ d.log_probability(x)
    ref = fam.ref(*expected)
    theirs = w @ (ref.logpmf(x) if fam.discrete else ref.logpdf(x))
    assert ours >= theirs - 1e-9 * abs(theirs)


def test_unweighted_fit_matches_scipy_fit(fam, rng):
    x = fam.gen(rng, 400)
    assert_allclose(fam.cls.from_samples(x).parameters, fam.unweighted_scipy_fit(x), rtol=max(fam.mle_rtol, 1e-8))


def test_missing_values_are_ignored_by_fit(fam, rng):
    x = fam.gen(rng, 100)
    with_nan = np.concatenate([x[:50], [np.nan, np.nan], x[50:]])
    assert_allclose(fam.cls(*fam.args).fit(with_nan).parameters, fam.cls(*fam.args).fit(x).parameters, rtol=1e-14)


def test_fit_from_degenerate_parameters_gives_the_mle(fam, rng):
    # the support fit and summarize check is the family's, not where the current parameters put mass:
    # PoissonDistribution(0) fits counts, BernoulliDistribution(1.0) fits zeros (issue #13, item 1)
    assert fam.degenerate, "every family lists parameters at the edge of their range"
    x = fam.gen(rng, 200)
    w = rng.uniform(0.5, 2.0, x.size)
    expected = fam.mle(x, w)
    for args in fam.degenerate:
        assert_allclose(fam.cls(*args).fit(x, w).parameters, expected, rtol=fam.mle_rtol)
        d = fam.cls(*args)
        d.summarize(x[:100], w[:100])
        d.summarize(x[100:], w[100:])
        d.from_summaries()
        assert_allclose(d.parameters, expected, rtol=fam.mle_rtol)
        if d._support is not None:  # outside the family's support is still refused, and changes nothing
            d = fam.cls(*args)
            with pytest.raises(ValueError, match="outside the support"):
                d.fit(np.append(x, fam.outside))
            assert d.parameters == list(args)


def test_fit_takes_pseudocount_meaning_what_from_summaries_does(fam, rng):
    # DESIGN §2: fit(X, weights=None, inertia=0.0, pseudocount=0.0); these families have no key counts,
    # so the pseudocount leaves the weighted MLE unchanged, in fit as in from_summaries (issue #13 item 16)
    x = fam.gen(rng, 300)
    w = rng.uniform(0.5, 2.0, x.size)
    d = fam.cls(*fam.args).fit(x, w, pseudocount=2.0)
    assert_allclose(d.parameters, fam.mle(x, w), rtol=fam.mle_rtol)
    s = fam.cls(*fam.args)
    s.summarize(x, w)
    s.from_summaries(pseudocount=2.0)
    assert_allclose(s.parameters, d.parameters, rtol=1e-14)
    with pytest.raises(ValueError, match="'pseudocount' parameter"):
        d.fit(x, pseudocount=-1.0)
    assert_allclose(d.parameters, s.parameters, rtol=1e-14)


def test_summaries_add_up(fam, rng):
    x = fam.gen(rng, 300)
    w = rng.uniform(0.5, 2.0, 300)
    d = fam.cls(*fam.args)
    d.summarize(x[:100], w[:100])
    d.summarize(x[100:], w[100:])
    d.from_summaries()
    assert d.summaries is None
    assert_allclose(d.parameters, fam.cls(*fam.args).fit(x, w).parameters, rtol=1e-12)


def test_integer_weights_equal_repetition_and_zero_equals_removal(fam, rng):
    x = fam.gen(rng, 60)
    counts = rng.integers(0, 4, 60)
    counts[0] = 0
    weighted = fam.cls(*fam.args).fit(x, counts.astype(float))
    repeated = fam.cls(*fam.args).fit(np.repeat(x, counts))
    assert_allclose(weighted.parameters, repeated.parameters, rtol=1e-12)


def test_inertia_blends_parameters(fam, rng):
    x = fam.gen(rng, 200)
    estimate = fam.cls(*fam.args).fit(x).parameters
    d = fam.cls(*fam.args).fit(x, inertia=0.3)
    assert_allclose(d.parameters, 0.3 * np.array(fam.args) + 0.7 * np.array(estimate), rtol=1e-12)
    # the density follows the stored (blended) parameters
    ref = fam.ref(*d.parameters)
    inside = x[(x > d.parameters[0]) & (x < d.parameters[1])] if fam.id == "UniformDistribution" else x
    expected = ref.logpmf(inside) if fam.discrete else ref.logpdf(inside)
    assert_allclose(d.log_probability(inside), expected, rtol=1e-10, atol=1e-13)


def test_frozen_distribution_does_not_fit(fam, rng):
    d = fam.cls(*fam.args, frozen=True)
    d.fit(fam.gen(rng, 50))
    assert_allclose(d.parameters, fam.args)
    d.thaw()
    d.fit(fam.gen(rng, 50))
    assert not np.allclose(d.parameters, fam.args)
    d.freeze()
    assert d.frozen


def test_failed_fit_leaves_parameters(fam, rng):
    d = fam.cls(*fam.args)
    d.summarize(fam.gen(rng, 10))
    before, pending = d.parameters, d.summaries
    with pytest.raises(ValueError, match="Size of weight vector"):
        d.fit(fam.gen(rng, 10), np.ones(3))
    with pytest.raises(ValueError, match="infinite"):
        d.fit(np.array([1.0, np.inf]))
    with pytest.raises(TypeError):
        d.fit(np.array(["a", "b"]))
    if fam.outside and d._support is not None:
        with pytest.raises(ValueError, match="outside the support"):
            d.fit(np.array(fam.outside + [fam.gen(rng, 1)[0]]))
        with pytest.raises(ValueError, match="outside the support"):
            d.summarize(np.array(fam.outside))
    assert d.parameters == before and d.summaries is pending


def test_empty_or_zero_weight_fit_keeps_parameters(fam, rng):
    d = fam.cls(*fam.args)
    d.fit(fam.gen(rng, 5), np.zeros(5))
    d.fit(np.empty(0))
    assert_allclose(d.parameters, fam.args)


def _gof_pvalue(fam, draws, args):
    ref = fam.ref(*args)
    if not fam.discrete:
        return stats.kstest(draws, ref.cdf).pvalue
    values, counts = np.unique(draws, return_counts=True)
    expected = ref.pmf(values) * draws.size
    keep = expected >= 5  # merge sparse cells into one
    obs = np.append(counts[keep], counts[~keep].sum())
    exp = np.append(expected[keep], draws.size - expected[keep].sum())
    if obs[-1] == 0 and exp[-1] < 1e-9:
        obs, exp = obs[:-1], exp[:-1]
    return stats.chisquare(obs, exp * obs.sum() / exp.sum()).pvalue


def test_sample_follows_the_distribution(fam):
    d = fam.cls(*fam.args)
    draws = d.sample(4000, random_state=12345)
    assert draws.shape == (4000,)
    assert _gof_pvalue(fam, draws, fam.args) > 1e-3
    assert _gof_pvalue(fam, draws, fam.wrong) < 1e-3  # the test has power
    assert isinstance(d.sample(random_state=0), float)


def test_sample_random_state(fam):
    d = fam.cls(*fam.args)
    assert_array_equal(d.sample(50, random_state=7), d.sample(50, random_state=7))
    assert not np.array_equal(d.sample(50, random_state=7), d.sample(50, random_state=8))
    state = np.random.get_state()[1].copy()
    d.sample(5)
    d.sample(5, random_state=np.random.RandomState(3))
    assert_array_equal(np.random.get_state()[1], state)
    assert_array_equal(d.sample(4, random_state=np.random.RandomState(3)),
                       d.sample(4, random_state=np.random.RandomState(3)))


def test_copy_is_independent_and_documents_round_trip(fam, rng):
    d = fam.cls(*fam.args, frozen=True)
    c = d.copy()
    assert c is not d and c.parameters == d.parameters and c.frozen
    c.thaw()
    c.fit(fam.gen(rng, 30))
    assert d.parameters == list(fam.args)
    assert d.to_dict() == {"class": "Distribution", "name": fam.id, "parameters": list(fam.args), "frozen": True}
    for r in (fam.cls.from_dict(d.to_dict()), fam.cls.from_json(d.to_json()), fam.cls.from_yaml(d.to_yaml())):
        assert type(r) is fam.cls and r.parameters == d.parameters and r.frozen
    assert json.loads(d.to_json())["parameters"] == list(fam.args)
    assert d.name == fam.id and d.d == 1


def test_parameters_setter_validates_and_updates(fam, rng):
    d = fam.cls(*fam.args)
    d.parameters = list(fam.wrong)
    x = fam.gen(rng, 20)
    ref = fam.ref(*fam.wrong)
    assert_allclose(d.log_probability(x), ref.logpmf(x) if fam.discrete else ref.logpdf(x), rtol=1e-10, atol=1e-13)
    with pytest.raises(ValueError):
        d.parameters = list(fam.invalid[0])
    assert_allclose(d.parameters, fam.wrong)


def test_blank(fam):
    b = fam.cls.blank()
    assert isinstance(b, fam.cls) and all(np.isfinite(b.parameters))
