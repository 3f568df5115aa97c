import json

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from genmix import DiscreteDistribution, GeneralMixtureModel


def test_log_probability_and_missing_values():
    d = DiscreteDistribution({"A": 0.25, "B": 0.75})
    lp = d.log_probability(["A", "B", "C", None, np.nan, "nan"])
    assert_allclose(lp[:2], np.log([0.25, 0.75]), rtol=1e-15)
    assert np.isneginf(lp[2]) and np.all(lp[3:] == 0.0)
    assert isinstance(d.log_probability("A"), float)
    assert d.probability(["A", "B", "C"]).tolist() == [0.25, 0.75, 0.0]


def test_weighted_fit_is_normalised_counts():
    x = np.array(["a", "b", "c", "a", "b", "a"], dtype=object)
    w = np.array([1.0, 2.0, 0.5, 1.5, 0.0, 3.0])
    d = DiscreteDistribution.from_samples(x, w)
    total = w.sum()
    assert d.parameters[0] == pytest.approx({"a": 5.5 / total, "b": 2 / total, "c": 0.5 / total}, rel=1e-14)


def test_pseudocount_matches_pomegranate_examples():
    d = DiscreteDistribution({"A": 0.5, "B": 0.5})
    d.summarize(["A", "B", "A", "A"])
    d.from_summaries(pseudocount=0.5)
    assert d.parameters[0] == pytest.approx({"A": 0.7, "B": 0.3}, rel=1e-14)
    d = DiscreteDistribution({"A": 1 / 3, "B": 1 / 3, "C": 1 / 3})
    d.summarize(["A", "B", "A"])
    d.from_summaries(pseudocount=1)
    assert d.parameters[0] == pytest.approx({"A": 3 / 6, "B": 2 / 6, "C": 1 / 6}, rel=1e-14)


def test_from_samples_keys_and_pseudocount():
    d = DiscreteDistribution.from_samples(["A", "B", "A", "A"], pseudocount=0.5)
    assert d.parameters[0] == pytest.approx({"A": 0.7, "B": 0.3}, rel=1e-14)
    d = DiscreteDistribution.from_samples(["A", "B", "A", "A"], keys=["A", "B", "C"], pseudocount=1)
    assert d.parameters[0] == pytest.approx({"A": 4 / 7, "B": 2 / 7, "C": 1 / 7}, rel=1e-14)


def test_new_key_gets_its_mle_and_unseen_keys_keep_zero():
    d = DiscreteDistribution({"A": 0.5, "B": 0.5}).fit(["A", "C", "A", "C"])
    assert d.parameters[0] == {"A": 0.5, "B": 0.0, "C": 0.5}
    assert np.isneginf(d.log_probability("B"))


def test_int_and_bool_keys_and_inertia():
    d = DiscreteDistribution({1: 0.2, 2: 0.8}).fit([1, 1, 2, 3], inertia=0.5)
    assert d.parameters[0] == pytest.approx({1: 0.5 * 0.2 + 0.25, 2: 0.5 * 0.8 + 0.125, 3: 0.125}, rel=1e-14)
    b = DiscreteDistribution({True: 0.9, False: 0.1})
    assert_allclose(b.log_probability(np.array([True, False], dtype=object)), np.log([0.9, 0.1]))


def test_invalid_parameters():
    with pytest.raises(ValueError, match="sum to 1"):
        DiscreteDistribution({"A": 0.5, "B": 0.6})
    with pytest.raises(ValueError, match="non-negative"):
        DiscreteDistribution({"A": -0.5, "B": 1.5})
    with pytest.raises(TypeError, match="dict"):
        DiscreteDistribution([("A", 1.0)])
    with pytest.raises(ValueError, match="missing-value marker"):
        DiscreteDistribution({None: 1.0})


def test_json_layout_and_round_trip():
    d = DiscreteDistribution({"A": 0.25, "B": 0.75})
    doc = json.loads(d.to_json())
    assert doc == {"class": "Distribution", "dtype": "str", "name": "DiscreteDistribution",
                   "parameters": [{"A": 0.25, "B": 0.75}], "frozen": False}
    ints = DiscreteDistribution({1: 0.5, 2: 0.5})
    assert DiscreteDistribution.from_json(ints.to_json()).parameters == [{1: 0.5, 2: 0.5}]
    bools = DiscreteDistribution({True: 0.5, False: 0.5})
    assert DiscreteDistribution.from_yaml(bools.to_yaml()).parameters == [{True: 0.5, False: 0.5}]
    with pytest.raises(ValueError, match="not a valid int"):
        DiscreteDistribution.from_json(json.dumps({**json.loads(ints.to_json()), "parameters": [{"x": 1.0}]}))
    with pytest.raises(TypeError, match="mixed types"):
        DiscreteDistribution({1: 0.5, "a": 0.5}).to_dict()


def test_sample_frequencies():
    d = DiscreteDistribution({"A": 0.2, "B": 0.5, "C": 0.3})
    draws = d.sample(5000, random_state=4)
    counts = [np.sum(draws == k) for k in "ABC"]
    assert stats.chisquare(counts, [1000, 2500, 1500]).pvalue > 1e-3
    assert stats.chisquare(counts, [1250, 2500, 1250]).pvalue < 1e-3


def test_mixture_of_discretes_with_pseudocount_sums_to_one():
    # pomegranate 0.x divided by a duplicated key count here and returned probabilities summing to ~0.66
    model = GeneralMixtureModel([DiscreteDistribution({"A": 0.7, "B": 0.2, "C": 0.1}),
                                 DiscreteDistribution({"A": 0.1, "B": 0.3, "C": 0.6})])
    X = np.array(list("AABACCCBCA"))[:, None]
    model.summarize(X)
    R = model.predict_proba(X)  # the responsibilities of that E-step
    model.from_summaries(pseudocount=1.0)
    for j, c in enumerate(model.distributions):
        counts = {k: R[X[:, 0] == k, j].sum() for k in "ABC"}
        expected = {k: (counts[k] + 1) / (R[:, j].sum() + 3) for k in "ABC"}
        assert c.parameters[0] == pytest.approx(expected, rel=1e-12)
        assert sum(c.parameters[0].values()) == pytest.approx(1.0, abs=1e-14)


def _plain_types(values):
    return [type(v) for v in values]


def test_keys_are_the_users_plain_values():
    # issue #13 item 10: keys read from numpy arrays printed as np.str_('blue') and sample returned np.str_
    colours = list(np.array(["blue", "red", "blue", "green"]))  # iterating an array gives np.str_
    assert type(colours[0]) is np.str_
    d = DiscreteDistribution.from_samples(np.array(colours, dtype=object))
    assert d.parameters == [{"blue": 0.5, "red": 0.25, "green": 0.25}]
    assert _plain_types(d.parameters[0]) == [str, str, str] and _plain_types(d.keys()) == [str, str, str]
    assert _plain_types(k for k, _ in d.items()) == [str, str, str]
    assert repr(d) == "DiscreteDistribution({'blue': 0.5, 'red': 0.25, 'green': 0.25})"
    assert type(d.sample(random_state=0)) is str and d.sample(random_state=0) in colours
    assert set(_plain_types(d.sample(20, random_state=0))) == {str}
    given = DiscreteDistribution({np.str_("a"): 0.5, np.int64(3): 0.5})
    assert _plain_types(given.keys()) == [str, int]


@pytest.mark.parametrize("data, keys", [(np.array([1, 2, 2, 7]), [1, 2, 7]), ([1, 2, 2, 7], [1, 2, 7]),
                                        (np.array([True, False, True]), [True, False]),
                                        (np.array([np.int64(1), None, np.int64(2)], dtype=object), [1, 2]),
                                        (np.array([1.5, np.nan, 2.5]), [1.5, 2.5])])
def test_numeric_keys_keep_their_type(data, keys):
    d = DiscreteDistribution.from_samples(data)
    assert d.keys() == keys and _plain_types(d.keys()) == [type(k) for k in keys]
    assert d.to_dict()["dtype"] == type(keys[0]).__name__
    assert type(d.sample(random_state=1)) is type(keys[0])


def test_independent_components_and_mixture_return_plain_keys():
    from genmix import IndependentComponentsDistribution, NormalDistribution

    column = list(np.array(["u", "v", "u"]))
    ic = IndependentComponentsDistribution([DiscreteDistribution({"u": 0.5, "v": 0.5}), NormalDistribution(0, 1)])
    ic.fit(np.array([[column[0], 1.0], [column[1], 2.0], [column[2], 4.0], [np.str_("w"), 3.0]], dtype=object))
    assert _plain_types(ic.distributions[0].keys()) == [str, str, str]
    assert ic.distributions[0].parameters == [{"u": 0.5, "v": 0.25, "w": 0.25}]
    rows = ic.sample(10, random_state=2)
    assert set(_plain_types(rows[:, 0])) == {str} and set(_plain_types(rows[:, 1])) == {float}
    model = GeneralMixtureModel([DiscreteDistribution({np.str_("u"): 0.9, np.str_("v"): 0.1}),
                                 DiscreteDistribution({"u": 0.2, "v": 0.8})])
    assert type(model.sample(random_state=3)) is str  # n=1 gives one sample, as in pomegranate 0.x
    assert set(_plain_types(model.sample(10, random_state=3))) == {str}
    model.fit(np.array(column, dtype=object), max_iterations=2)
    assert all(_plain_types(c.keys()) == [str, str] for c in model.distributions)
    # a numeric column of a 2-D array is float64: a distribution with int keys still gets an int key
    ints = IndependentComponentsDistribution([DiscreteDistribution({1: 0.5, 2: 0.5}), NormalDistribution(0, 1)])
    ints.fit([[1, 0.5], [3, 1.0]])
    assert ints.distributions[0].parameters == [{1: 0.5, 2: 0.0, 3: 0.5}]
    assert _plain_types(ints.distributions[0].keys()) == [int, int, int]
    assert IndependentComponentsDistribution.from_json(ints.to_json()).distributions[0].keys() == [1, 2, 3]


def test_fit_takes_pseudocount():
    # issue #13 item 16: DiscreteDistribution.fit(X, pseudocount=1) raised TypeError; 0.x's numbers
    d = DiscreteDistribution({"A": 0.5, "B": 0.5}).fit(["A", "B", "A", "A"], pseudocount=0.5)
    assert d.parameters[0] == pytest.approx({"A": 0.7, "B": 0.3}, rel=1e-14)
    d = DiscreteDistribution({"A": 1 / 3, "B": 1 / 3, "C": 1 / 3}).fit(["A", "B", "A"], [2.0, 1.0, 1.0], pseudocount=1)
    assert d.parameters[0] == pytest.approx({"A": 4 / 7, "B": 2 / 7, "C": 1 / 7}, rel=1e-14)
