import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from genmix import (DiscreteDistribution, ExponentialDistribution, GeneralMixtureModel,
                    IndependentComponentsDistribution, LogNormalDistribution, NormalDistribution, PoissonDistribution)


def _ref_logpdf(X):
    return (stats.norm(5, 2).logpdf(X[:, 0]) + stats.expon(scale=1.0).logpdf(X[:, 1])
            + stats.lognorm(s=0.1, scale=np.exp(0.4)).logpdf(X[:, 2]))


def _model():
    return IndependentComponentsDistribution([NormalDistribution(5, 2), ExponentialDistribution(1),
                                              LogNormalDistribution(0.4, 0.1)])


def test_log_probability_is_sum_of_columns(rng):
    X = np.column_stack([rng.normal(5, 2, 50), rng.exponential(1, 50), rng.lognormal(0.4, 0.1, 50)])
    d = _model()
    assert d.d == 3
    assert_allclose(d.log_probability(X), _ref_logpdf(X), rtol=1e-12)
    X[3, 1] = -1.0
    assert np.isneginf(d.log_probability(X)[3])
    X[4, 0] = np.nan
    expected = stats.expon(scale=1.0).logpdf(X[4, 1]) + stats.lognorm(s=0.1, scale=np.exp(0.4)).logpdf(X[4, 2])
    assert_allclose(d.log_probability(X)[4], expected, rtol=1e-12)


def test_column_weights_multiply_log_densities():
    # pomegranate 0.x: weights [18, 1] on N(5, 2), Exp(2) at (4, 1) give -32.574395667196
    d = IndependentComponentsDistribution([NormalDistribution(5, 2), ExponentialDistribution(2)], [18, 1])
    expected = 18 * stats.norm(5, 2).logpdf(4) + stats.expon(scale=0.5).logpdf(1)
    assert_allclose(d.log_probability([4, 1]), expected, rtol=1e-12)
    assert_allclose(expected, -32.574395667196, rtol=1e-12)


def test_fit_fits_each_column(rng):
    X = np.column_stack([rng.normal(3, 1, 300), rng.exponential(0.5, 300), rng.lognormal(0.8, 0.2, 300)])
    w = rng.uniform(0.5, 1.5, 300)
    d = _model().fit(X, w)
    m = np.average(X[:, 0], weights=w)
    lm = np.average(np.log(X[:, 2]), weights=w)
    assert_allclose(d.distributions[0].parameters, [m, np.sqrt(np.average((X[:, 0] - m) ** 2, weights=w))],
                    rtol=1e-12)
    assert_allclose(d.distributions[1].parameters, [w.sum() / (w @ X[:, 1])], rtol=1e-12)
    assert_allclose(d.distributions[2].parameters,
                    [lm, np.sqrt(np.average((np.log(X[:, 2]) - lm) ** 2, weights=w))], rtol=1e-12)
    fitted = IndependentComponentsDistribution.from_samples(
        X, w, distributions=[NormalDistribution, ExponentialDistribution, LogNormalDistribution])
    assert_allclose(fitted.distributions[1].parameters, d.distributions[1].parameters, rtol=1e-12)


def test_frozen_children_and_inertia(rng):
    X = np.column_stack([rng.normal(3, 1, 100), rng.exponential(0.5, 100), rng.lognormal(0.8, 0.2, 100)])
    d = _model()
    d.distributions[1].freeze()
    d.fit(X, inertia=0.5)
    assert d.distributions[1].parameters == [1.0]
    m = X[:, 0].mean()
    assert_allclose(d.distributions[0].parameters[0], 0.5 * 5 + 0.5 * m, rtol=1e-12)
    d.freeze()
    before = [c.parameters for c in d.distributions]
    d.fit(X)
    assert [c.parameters for c in d.distributions] == before


def test_validation():
    with pytest.raises(TypeError, match="initialised"):
        IndependentComponentsDistribution([NormalDistribution, ExponentialDistribution(1)])
    with pytest.raises(ValueError, match="one entry per distribution"):
        IndependentComponentsDistribution([NormalDistribution(0, 1)], [1, 2])
    with pytest.raises(ValueError, match="non-negative"):
        IndependentComponentsDistribution([NormalDistribution(0, 1)], [-1])
    with pytest.raises(ValueError, match="at least one"):
        IndependentComponentsDistribution([])
    with pytest.raises(ValueError, match="columns"):
        _model().log_probability(np.ones((2, 2)))
    with pytest.raises(ValueError, match="distributions"):
        IndependentComponentsDistribution.from_samples(np.ones((3, 2)))


def test_sample_columns():
    X = _model().sample(4000, random_state=3)
    assert X.shape == (4000, 3)
    assert stats.kstest(X[:, 0], stats.norm(5, 2).cdf).pvalue > 1e-3
    assert stats.kstest(X[:, 1], stats.expon().cdf).pvalue > 1e-3
    assert stats.kstest(X[:, 2], stats.lognorm(s=0.1, scale=np.exp(0.4)).cdf).pvalue > 1e-3


def _mixed():
    return IndependentComponentsDistribution([NormalDistribution(5, 2), DiscreteDistribution({"a": 0.2, "b": 0.8}),
                                              PoissonDistribution(3.0, frozen=True)], weights=[1.0, 0.5, 2.0])


def test_parameters_hold_the_column_distributions():
    # issue #13 item 2: parameters[0] held dicts, so d.parameters[0][0].parameters raised AttributeError
    d = _mixed()
    columns, weights = d.parameters
    assert all(c is child for c, child in zip(columns, d.distributions))
    assert columns[0].parameters == [5.0, 2.0] and columns[1].parameters == [{"a": 0.2, "b": 0.8}]
    assert weights == [1.0, 0.5, 2.0]
    again = IndependentComponentsDistribution(*d.parameters)
    X = np.array([[4.0, "a", 2.0], [7.5, "b", 0.0]], dtype=object)
    expected = (stats.norm(5, 2).logpdf([4.0, 7.5]) + 0.5 * np.log([0.2, 0.8])
                + 2.0 * stats.poisson(3.0).logpmf([2, 0]))
    assert_allclose(again.log_probability(X), expected, rtol=1e-12)
    d.parameters = [[NormalDistribution(0, 1), DiscreteDistribution({"a": 1.0}), PoissonDistribution(1.0)], [1, 1, 1]]
    assert d.distributions[2].parameters == [1.0] and d.weights.tolist() == [1.0, 1.0, 1.0]


def test_document_nests_pomegranate_component_documents():
    doc = _mixed().to_dict()
    assert list(doc) == ["class", "name", "parameters", "frozen"]
    columns, weights = doc["parameters"]
    assert weights == [1.0, 0.5, 2.0]
    assert columns[0] == {"class": "Distribution", "name": "NormalDistribution", "parameters": [5.0, 2.0],
                          "frozen": False}
    assert columns[1] == {"class": "Distribution", "dtype": "str", "name": "DiscreteDistribution",
                          "parameters": [{"a": 0.2, "b": 0.8}], "frozen": False}
    assert columns[2] == {"class": "Distribution", "name": "PoissonDistribution", "parameters": [3.0],
                          "frozen": True}


# pomegranate 0.x's to_json() layout (indent 4, " : " separators) for an IndependentComponentsDistribution
POMEGRANATE_ICD_JSON = """{
    "class" : "Distribution",
    "name" : "IndependentComponentsDistribution",
    "parameters" : [
        [
            {
                "class" : "Distribution",
                "name" : "NormalDistribution",
                "parameters" : [
                    5.0,
                    2.0
                ],
                "frozen" : false
            },
            {
                "class" : "Distribution",
                "dtype" : "str",
                "name" : "DiscreteDistribution",
                "parameters" : [
                    {
                        "a" : 0.2,
                        "b" : 0.8
                    }
                ],
                "frozen" : false
            },
            {
                "class" : "Distribution",
                "name" : "PoissonDistribution",
                "parameters" : [
                    3.0
                ],
                "frozen" : true
            }
        ],
        [
            1.0,
            0.5,
            2.0
        ]
    ],
    "frozen" : false
}"""


def test_pomegranate_json_loads_and_is_written_back_unchanged():
    d = IndependentComponentsDistribution.from_json(POMEGRANATE_ICD_JSON)
    assert [type(c) for c in d.distributions] == [NormalDistribution, DiscreteDistribution, PoissonDistribution]
    assert [c.frozen for c in d.distributions] == [False, False, True] and not d.frozen
    assert d.parameters[0][1].parameters == [{"a": 0.2, "b": 0.8}]
    X = np.array([[4.0, "b", 5.0]], dtype=object)
    expected = stats.norm(5, 2).logpdf(4.0) + 0.5 * np.log(0.8) + 2.0 * stats.poisson(3.0).logpmf(5)
    assert_allclose(d.log_probability(X), [expected], rtol=1e-12)
    assert d.to_json() == POMEGRANATE_ICD_JSON


class _UserColumn:
    """A user-defined univariate column (slow path): density 1 on the data, pending Σw, and what its
    from_summaries received."""

    d = 1

    def __init__(self):
        self.received, self.pending = None, 0.0

    def log_probability(self, x):
        return np.zeros(len(np.atleast_1d(x)))

    def summarize(self, x, weights=None):
        self.pending += float(np.sum(weights))

    def from_summaries(self, inertia=0.0):
        self.received, self.pending = inertia, 0.0

    def clear_summaries(self):
        self.pending = 0.0


@pytest.mark.parametrize("user_column", [False, True], ids=["stacked", "with-user-column"])
def test_fit_passes_pseudocount_to_discrete_columns(user_column):
    # issue #13 item 16 and DESIGN §6.5: (count + pc) / (Σw + pc·K) in each Discrete column; 0.x's numbers
    columns = [DiscreteDistribution({"A": 0.5, "B": 0.5}), NormalDistribution(0, 1)]
    if user_column:
        columns.append(_UserColumn())
    X = np.array([["A", 1.0, 0.0], ["B", 2.0, 0.0], ["A", 4.0, 0.0], ["A", 5.0, 0.0]], dtype=object)
    d = IndependentComponentsDistribution(columns).fit(X[:, :len(columns)], pseudocount=0.5)
    assert d.distributions[0].parameters[0] == pytest.approx({"A": 0.7, "B": 0.3}, rel=1e-14)
    assert_allclose(d.distributions[1].parameters, [3.0, np.sqrt(2.5)], rtol=1e-14)
    if user_column:
        assert d.distributions[2].received == 0.0  # a user object gets only inertia, as in pomegranate 0.x
    fitted = IndependentComponentsDistribution.from_samples(X[:, :2], None, None, 0.5,
                                                            [DiscreteDistribution, NormalDistribution])
    assert fitted.distributions[0].parameters[0] == pytest.approx({"A": 0.7, "B": 0.3}, rel=1e-14)


def _frozen_column_mixture(path):
    """Two components whose second column is frozen; float data take the fused path, categories not."""
    if path == "fused":
        return [IndependentComponentsDistribution([NormalDistribution(m, 1), ExponentialDistribution(2.0, frozen=True)])
                for m in (0, 3)]
    return [IndependentComponentsDistribution([NormalDistribution(m, 1), DiscreteDistribution({"a": 0.5, "b": 0.5},
                                                                                               frozen=True)])
            for m in (0, 3)]


@pytest.mark.parametrize("path", ["fused", "general"])
def test_frozen_column_is_unchanged_by_parent_and_mixture_fits(path, rng):
    n = 300
    X = np.empty((n, 2), dtype=float if path == "fused" else object)
    X[:, 0] = np.concatenate([rng.normal(0, 1, n // 2), rng.normal(3, 1, n - n // 2)])
    X[:, 1] = rng.exponential(1.0, n) if path == "fused" else rng.choice(["a", "b"], n, p=[0.9, 0.1])
    frozen_params = _frozen_column_mixture(path)[0].distributions[1].parameters
    comps = _frozen_column_mixture(path)
    model = GeneralMixtureModel(comps)
    model.fit(X, inertia=0.1, pseudocount=1.0, max_iterations=5)
    parent = _frozen_column_mixture(path)[0]
    parent.fit(X, pseudocount=1.0)
    parent.summarize(X)
    parent.from_summaries(0.2, 1.0)
    for c in [*comps, parent]:
        assert c.distributions[1].parameters == frozen_params and c.distributions[1].frozen
    # the free column did move: the checks above have power
    assert_allclose(parent.distributions[0].parameters[0], X[:, 0].astype(float).mean(), rtol=1e-12)
    assert comps[0].distributions[0].parameters != [0.0, 1.0]


def _with_user_column():
    return IndependentComponentsDistribution([_UserColumn(), PoissonDistribution(2.0),
                                              DiscreteDistribution({"A": 0.5, "B": 0.5})])


def test_failed_call_with_a_user_column_changes_nothing():
    # DESIGN §5; the user column was summarized before the Poisson column was found outside its support
    X = np.array([[0.0, 1.0, "A"], [0.0, 0.5, "B"]], dtype=object)
    for call in ("fit", "summarize"):
        d = _with_user_column()
        with pytest.raises(ValueError, match="outside the support of PoissonDistribution"):
            getattr(d, call)(X)
        assert d.distributions[0].pending == 0.0 and d.distributions[0].received is None
        assert d.distributions[1].parameters == [2.0] and d.distributions[1].summaries is None
        assert d.distributions[2].summaries is None


def test_fit_with_a_user_column_leaves_pending_statistics_as_the_stacked_path_does():
    X = np.array([[0.0, 1.0, "A"], [0.0, 3.0, "A"], [0.0, 2.0, "B"]], dtype=object)
    d = _with_user_column()
    d.summarize(np.array([[0.0, 9.0, "B"]], dtype=object))
    d.fit(X, pseudocount=1.0)
    assert d.distributions[1].parameters == [2.0]  # the mean of X's column, not of the pending row too
    assert d.distributions[2].parameters[0] == pytest.approx({"A": 3 / 5, "B": 2 / 5}, rel=1e-14)
    d.from_summaries()  # the pending row is still there
    assert d.distributions[1].parameters == [9.0]
    frozen = _with_user_column()
    frozen.freeze()
    frozen.summarize(X)
    frozen.from_summaries()
    assert frozen.distributions[1].parameters == [2.0] and frozen.distributions[1].summaries is None
    assert frozen.distributions[0].pending == 0.0


def test_mixture_passes_pseudocount_to_a_composite_with_a_user_column():
    # DESIGN §6.5: pomegranate 0.x passed only inertia to an IndependentComponentsDistribution in a mixture
    X = np.array([[0.0, 1.0, "A"], [0.0, 3.0, "A"], [0.0, 2.0, "A"], [0.0, 2.0, "B"]], dtype=object)
    model = GeneralMixtureModel([_with_user_column()])
    model.fit(X, pseudocount=1.0, max_iterations=1)
    discrete = model.distributions[0].distributions[2]
    assert discrete.parameters[0] == pytest.approx({"A": 4 / 6, "B": 2 / 6}, rel=1e-14)
    assert model.distributions[0].distributions[1].parameters == [2.0]
