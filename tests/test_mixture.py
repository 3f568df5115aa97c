"""GeneralMixtureModel: the documented pomegranate numbers, densities vs scipy, prediction, errors, sampling."""
import re

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats
from scipy.special import logsumexp

from genmix import (ExponentialDistribution, GeneralMixtureModel, IndependentComponentsDistribution,
                    LogNormalDistribution, MultivariateGaussianDistribution, NormalDistribution)

DOC_X = [[1], [5], [7], [8], [2]]


def doc_model():
    return GeneralMixtureModel([NormalDistribution(5, 2), NormalDistribution(1, 1)])


# -- the pomegranate 0.x documentation's numbers --------------------------------------------------------------
def test_documented_log_probability():
    value = doc_model().log_probability(5)
    assert isinstance(value, float)
    assert_allclose(value, -2.304562194038089, rtol=1e-9)


def test_documented_predict_proba():
    expected = [[0.99932952, 0.00067048], [0.99999995, 0.00000005], [0.06337894, 0.93662106]]
    assert_allclose(doc_model().predict_proba([[5], [7], [1]]), expected, atol=5e-9)


def test_documented_fit():
    model, history = doc_model().fit(DOC_X, return_history=True)
    assert model.distributions[0].parameters == pytest.approx([6.6571359101390755, 1.2639830514274502], rel=1e-9)
    assert model.distributions[1].parameters == pytest.approx([1.498707696758334, 0.4999983303277837], rel=1e-9)
    assert_allclose(model.weights, [0.6012087742535696, 0.3987912257464304], rtol=1e-9)
    assert history.epochs == [1, 2, 3]
    assert_allclose(history.improvements, [1.8477204863505214, 0.3238498250670272, 0.05431464245155482],
                    rtol=1e-9)
    assert_allclose(history.initial_log_probability, -11.96157328594743, rtol=1e-9)
    assert_allclose(history.log_probabilities[-1], -9.735688332078327, rtol=1e-9)
    assert_allclose(model.predict_proba([[5], [7], [1]]), [[1, 0], [1, 0], [0.00004383, 0.99995617]], atol=5e-9)


def test_documented_multivariate_construction(rng):
    comps = [([1, 6, 3], np.diag([1, 1, 1.0])), ([2, 8, 4], np.diag([1, 1, 2.0])), ([0, 4, 8], np.diag([2, 3, 1.0]))]
    model = GeneralMixtureModel([MultivariateGaussianDistribution(m, c) for m, c in comps], weights=[0.25, 0.60, 0.15])
    X = rng.normal(4, 3, (200, 3))
    ref = logsumexp([np.log(w) + stats.multivariate_normal(m, c).logpdf(X)
                     for w, (m, c) in zip([0.25, 0.6, 0.15], comps)], axis=0)
    assert_allclose(model.log_probability(X), ref, rtol=1e-10)
    assert_allclose(model.probability(X), np.exp(ref), rtol=1e-10)


def _doc_icd_model():
    d1 = IndependentComponentsDistribution([NormalDistribution(5, 2), ExponentialDistribution(1),
                                            LogNormalDistribution(0.4, 0.1)])
    d2 = IndependentComponentsDistribution([NormalDistribution(3, 1), ExponentialDistribution(2),
                                            LogNormalDistribution(0.8, 0.2)])
    return GeneralMixtureModel([d1, d2], weights=[0.66, 0.34])


def _icd_ref(X):
    parts = []
    for w, (m, s, r, mu, sig) in zip([0.66, 0.34], [(5, 2, 1, 0.4, 0.1), (3, 1, 2, 0.8, 0.2)]):
        parts.append(np.log(w) + stats.norm(m, s).logpdf(X[:, 0]) + stats.expon(scale=1 / r).logpdf(X[:, 1])
                     + stats.lognorm(s=sig, scale=np.exp(mu)).logpdf(X[:, 2]))
    return np.array(parts)


def test_documented_independent_components_construction(rng):
    model = _doc_icd_model()
    X = np.column_stack([rng.normal(4, 2, 100), rng.exponential(0.7, 100), rng.lognormal(0.6, 0.3, 100)])
    ref = _icd_ref(X)
    assert_allclose(model.log_probability(X), logsumexp(ref, axis=0), rtol=1e-10)
    assert_allclose(model.predict_log_proba(X), (ref - logsumexp(ref, axis=0)).T, rtol=1e-9, atol=1e-12)
    assert_array_equal(model.predict(X), np.argmax(ref, axis=0))


# -- heterogeneous components, support, errors -------------------------------------------------------------------
def test_mixed_families_in_one_model():
    model = GeneralMixtureModel([NormalDistribution(0, 1), ExponentialDistribution(2), LogNormalDistribution(0, 0.5)],
                                weights=[0.2, 0.5, 0.3])
    x = np.array([-1.0, 0.0, 0.5, 2.0, 7.0])
    ref = logsumexp([np.log(0.2) + stats.norm(0, 1).logpdf(x), np.log(0.5) + stats.expon(scale=0.5).logpdf(x),
                     np.log(0.3) + stats.lognorm(s=0.5).logpdf(x)], axis=0)
    assert_allclose(model.log_probability(x), ref, rtol=1e-12)
    # x = -1 only the Normal can produce
    assert_allclose(model.predict_proba(x)[0], [1, 0, 0])


def test_row_no_component_can_produce():
    model = GeneralMixtureModel([ExponentialDistribution(1), ExponentialDistribution(3)])
    X = np.array([[1.0], [-2.0], [0.5]])
    assert np.isneginf(model.log_probability(X)[1])
    before = model.to_dict()
    for call in (model.predict, model.predict_proba, model.predict_log_proba, model.fit, model.summarize):
        with pytest.raises(ValueError, match=r"rows \[1\]"):
            call(X)
    assert model.to_dict() == before and not model.summaries.any()
    # a zero weight makes the row absent
    model.fit(X, weights=[1.0, 0.0, 1.0])


def test_constructor_validation():
    with pytest.raises(ValueError, match="at least one"):
        GeneralMixtureModel([])
    with pytest.raises(TypeError, match="initialized distributions"):
        GeneralMixtureModel([NormalDistribution, NormalDistribution(0, 1)])
    with pytest.raises(TypeError, match="mis-matching dimensions"):
        GeneralMixtureModel([NormalDistribution(0, 1), MultivariateGaussianDistribution([0, 0], np.eye(2))])
    with pytest.raises(ValueError, match="one entry per component"):
        GeneralMixtureModel([NormalDistribution(0, 1)] * 2, weights=[1, 2, 3])
    with pytest.raises(ValueError, match="non-negative"):
        GeneralMixtureModel([NormalDistribution(0, 1)] * 2, weights=[1, -2])
    with pytest.raises(ValueError, match="all be zero"):
        GeneralMixtureModel([NormalDistribution(0, 1)] * 2, weights=[0, 0])
    with pytest.raises(TypeError):
        GeneralMixtureModel(NormalDistribution(0, 1))


def test_weights_are_probabilities():
    model = GeneralMixtureModel([NormalDistribution(0, 1), NormalDistribution(3, 1)], weights=[3, 1])
    assert_allclose(model.weights, [0.75, 0.25])
    assert_allclose(model.log_weights, np.log([0.75, 0.25]))
    model.weights = [1, 1]
    assert_allclose(model.weights, [0.5, 0.5])
    with pytest.raises(ValueError):
        model.weights = [1]
    assert_allclose(model.weights, [0.5, 0.5])


def test_zero_weight_component_is_never_chosen():
    model = GeneralMixtureModel([NormalDistribution(0, 1), NormalDistribution(0, 1)], weights=[1, 0])
    assert_allclose(model.log_probability([0.0]), stats.norm.logpdf(0.0), rtol=1e-12)
    assert_array_equal(model.predict_proba([[0.0], [4.0]])[:, 1], 0.0)


def test_input_shapes():
    model = doc_model()
    assert model.log_probability([1, 2, 3]).shape == (3,)
    assert model.predict([1, 2, 3]).shape == (3,)
    with pytest.raises(ValueError, match="2 columns"):
        model.log_probability(np.ones((3, 2)))
    with pytest.raises(ValueError, match="ragged"):
        model.log_probability([[1], [2, 3]])
    with pytest.raises(TypeError, match="numbers"):
        model.predict([["a"], ["b"]])
    with pytest.raises(ValueError, match="infinite"):
        model.predict_proba([[np.inf]])
    with pytest.raises(ValueError, match="n_jobs"):
        model.predict([[1.0]], n_jobs=0)
    assert model.log_probability(np.empty((0, 1))).shape == (0,)


def test_missing_rows_in_a_mixture():
    model = GeneralMixtureModel([MultivariateGaussianDistribution([0, 0], np.eye(2)),
                                 MultivariateGaussianDistribution([3, 3], 2 * np.eye(2))], weights=[0.3, 0.7])
    X = np.array([[np.nan, np.nan], [1.0, np.nan], [0.5, 0.5]])
    assert abs(model.log_probability(X)[0]) < 1e-15
    assert_allclose(model.predict_proba(X)[0], [0.3, 0.7])
    ref = logsumexp([np.log(0.3) + stats.norm(0, 1).logpdf(1.0), np.log(0.7) + stats.norm(3, np.sqrt(2)).logpdf(1.0)])
    assert_allclose(model.log_probability(X)[1], ref, rtol=1e-12)


def test_batch_size_in_prediction_changes_nothing(rng):
    model = _doc_icd_model()
    X = np.column_stack([rng.normal(4, 2, 101), rng.exponential(0.7, 101), rng.lognormal(0.6, 0.3, 101)])
    assert_allclose(model.predict_proba(X, batch_size=7), model.predict_proba(X), rtol=1e-14)
    assert_array_equal(model.predict(X, batch_size=10), model.predict(X))
    assert_allclose(model.log_probability(X, batch_size=3, n_jobs=2), model.log_probability(X), rtol=1e-14)


def test_score_is_accuracy():
    model = doc_model()
    assert model.score([[5], [7], [1], [0]], [0, 0, 1, 0]) == 0.75


# -- sampling -----------------------------------------------------------------------------------------------------
def test_sample_follows_the_mixture():
    model = GeneralMixtureModel([NormalDistribution(-2, 1), ExponentialDistribution(0.5)], weights=[0.3, 0.7])
    draws = model.sample(5000, random_state=11)
    assert draws.shape == (5000,)

    def cdf(x):
        return 0.3 * stats.norm(-2, 1).cdf(x) + 0.7 * stats.expon(scale=2).cdf(x)

    assert stats.kstest(draws, cdf).pvalue > 1e-3
    assert stats.kstest(draws, lambda x: 0.5 * stats.norm(-2, 1).cdf(x) + 0.5 * stats.expon(scale=2).cdf(x)
                        ).pvalue < 1e-3
    assert isinstance(model.sample(random_state=0), float)


def test_sample_reproducible_and_no_global_rng():
    model = _doc_icd_model()
    state = np.random.get_state()[1].copy()
    a = model.sample(50, random_state=3)
    assert a.shape == (50, 3)
    assert_array_equal(a, model.sample(50, random_state=3))
    assert_array_equal(model.sample(5, random_state=np.random.default_rng(9)),
                       model.sample(5, random_state=np.random.default_rng(9)))
    model.sample(5)
    assert_array_equal(np.random.get_state()[1], state)
    assert model.sample(1, random_state=0).shape == (3,)


# -- state ----------------------------------------------------------------------------------------------------------
def test_copy_is_deep():
    model = doc_model()
    model.distributions[1].freeze()
    model.summarize(DOC_X)
    c = model.copy()
    assert c.distributions[0] is not model.distributions[0]
    assert c.distributions[1].frozen
    assert_allclose(c.summaries, model.summaries)
    c.from_summaries()
    assert model.distributions[0].parameters == [5.0, 2.0]
    assert model.summaries.sum() > 0


class PyNormal:
    """A pomegranate-0.x-style custom component: d, log_probability, summarize, from_summaries."""

    d = 1

    def __init__(self, mu, sigma):
        self.mu, self.sigma, self.stats = mu, sigma, np.zeros(3)

    def log_probability(self, X):
        return stats.norm(self.mu, self.sigma).logpdf(np.asarray(X, dtype=float))

    def summarize(self, X, weights):
        self.stats += [weights.sum(), weights @ X, weights @ (X * X)]

    def from_summaries(self, inertia=0.0):
        w, s, ss = self.stats
        self.mu = s / w
        self.sigma = np.sqrt(ss / w - self.mu ** 2)
        self.stats = np.zeros(3)

    def clear_summaries(self):
        self.stats = np.zeros(3)

    def sample(self, n):
        return np.random.default_rng(0).normal(self.mu, self.sigma, n)



def test_user_defined_component_matches_builtin(rng):
    X = np.concatenate([rng.normal(0, 1, 100), rng.normal(5, 1, 100)])[:, None]
    custom = GeneralMixtureModel([PyNormal(1.0, 1.0), NormalDistribution(4.0, 1.0)])
    builtin = GeneralMixtureModel([NormalDistribution(1.0, 1.0), NormalDistribution(4.0, 1.0)])
    custom.fit(X, max_iterations=20)
    builtin.fit(X, max_iterations=20)
    assert_allclose([custom.distributions[0].mu, custom.distributions[0].sigma],
                    builtin.distributions[0].parameters, rtol=1e-9)
    assert_allclose(custom.weights, builtin.weights, rtol=1e-9)
    assert custom.sample(10, random_state=0).shape == (10,)
    with pytest.raises(TypeError, match="to_dict"):
        custom.to_json()


def test_user_defined_column_inside_independent_components(rng):
    X = np.column_stack([np.concatenate([rng.normal(0, 1, 80), rng.normal(5, 1, 80)]),
                         np.concatenate([rng.exponential(1, 80), rng.exponential(4, 80)])])

    def build(first):
        return GeneralMixtureModel([IndependentComponentsDistribution([first(1.0, 1.0), ExponentialDistribution(1.0)]),
                                    IndependentComponentsDistribution([NormalDistribution(4.0, 1.0),
                                                                       ExponentialDistribution(0.5)])])

    custom = build(PyNormal).fit(X, max_iterations=15)
    builtin = build(NormalDistribution).fit(X, max_iterations=15)
    child = custom.distributions[0].distributions[0]
    assert_allclose([child.mu, child.sigma], builtin.distributions[0].distributions[0].parameters, rtol=1e-9)
    assert_allclose(custom.distributions[1].distributions[1].parameters,
                    builtin.distributions[1].distributions[1].parameters, rtol=1e-9)
    assert_allclose(custom.weights, builtin.weights, rtol=1e-9)


def test_covariance_repair_warning_names_the_component():
    from genmix import NumericalWarning

    # collinear: both components' weighted scatters are singular (component 0 sees the rows with tiny
    # responsibilities), and each warning names its component
    X = np.array([[0.0, 0.0], [1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])
    model = GeneralMixtureModel([MultivariateGaussianDistribution([5, 5], np.eye(2)),
                                 MultivariateGaussianDistribution([1, 2], np.eye(2))], weights=[1e-300, 1.0])
    with pytest.warns(NumericalWarning) as caught:
        model.fit(X, max_iterations=1)
    messages = sorted(str(w.message) for w in caught)
    assert len(messages) == 2
    for i, message in enumerate(messages):
        assert re.match(f"component {i}: .*min_covar", message), message
    assert np.all(np.isfinite(model.log_probability(X)))


def test_a_repair_repeated_by_every_m_step_is_one_warning_per_fit(rng):
    import warnings

    from genmix import NumericalWarning

    line = np.outer(np.arange(40.0), [1.0, 1.0])  # collinear: component 0's covariance is floored every M-step
    cloud = rng.normal(size=(60, 2)) + [50.0, -50.0]
    X = np.vstack([line, cloud])
    model = GeneralMixtureModel([MultivariateGaussianDistribution([19.5, 19.5], np.eye(2)),
                                 MultivariateGaussianDistribution([50, -50], np.eye(2))])
    for _ in range(2):  # once per fit, again in the next fit
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            _, history = model.fit(X, max_iterations=8, stop_threshold=-np.inf, return_history=True)
        assert len(history.epochs) == 8
        messages = [str(w.message) for w in caught if issubclass(w.category, NumericalWarning)]
        assert len(messages) == 1 and messages[0].startswith("component 0: ")


def test_a_standalone_m_step_still_warns_each_time():
    import warnings

    from genmix import NumericalWarning

    X = np.array([[0.0, 0.0], [1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])
    model = GeneralMixtureModel([MultivariateGaussianDistribution([1, 2], np.eye(2))])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            model.summarize(X)
            model.from_summaries()
    assert sum(issubclass(w.category, NumericalWarning) for w in caught) == 3


def test_fit_documents_that_its_second_positional_argument_is_weights(rng):
    """pomegranate's positional weights stay (0.x scripts depend on them); the docstring and the README warn
    scikit-learn users that fit(X, y) uses y as weights."""
    import pathlib

    X = np.r_[rng.normal(0, 1, 50), rng.normal(5, 1, 50)]
    y = np.r_[np.zeros(50), np.ones(50)]
    positional = GeneralMixtureModel([NormalDistribution(0, 1), NormalDistribution(5, 1)]).fit(X, y)
    keyword = GeneralMixtureModel([NormalDistribution(0, 1), NormalDistribution(5, 1)]).fit(X, weights=y)
    assert positional.to_dict() == keyword.to_dict()
    doc = " ".join(GeneralMixtureModel.fit.__doc__.split())
    assert "second positional argument" in doc and "fit(X, y)" in doc and "genmix.sklearn" in doc
    readme = (pathlib.Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    assert "## Coming from scikit-learn" in readme and "`model.fit(X, y)`" in readme


def test_from_samples_reports_each_repair_once_with_its_component(rng):
    import warnings

    from genmix import NumericalWarning

    line = np.outer(np.arange(40.0), [1.0, 1.0])  # collinear: the line's component is repaired in every run
    X = np.vstack([line, rng.normal(size=(60, 2)) + [50.0, -50.0]])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        GeneralMixtureModel.from_samples(MultivariateGaussianDistribution, 2, X, n_init=3, random_state=0,
                                         max_iterations=5, stop_threshold=-np.inf)
    messages = [str(w.message) for w in caught if issubclass(w.category, NumericalWarning)]
    assert messages and all(m.startswith("component ") for m in messages)  # the start's fits name it too
    assert len(messages) == len(set(messages)) <= 2  # at most once per component, over all three runs


def test_the_m_step_is_one_call_per_family_so_a_tied_parameter_is_a_sum_of_statistics(rng):
    """A family may tie a parameter across components by overriding _group_new_params: here a Normal with
    one shared standard deviation (pooled within-component variance), checked against the closed form
    from scipy's responsibilities; a frozen component keeps its parameters and takes no part."""
    from scipy import stats as st

    calls = []

    class TiedNormal(NormalDistribution):
        @classmethod
        def _group_new_params(cls, components, stats, inertia, pseudocount, indices=None):
            calls.append(list(indices))
            total = stats[0]
            for s in stats[1:]:
                total = total + s  # pooled: Σ_k Σ_i r_ik (x_i − μ_k)² needs the per-component m2, summed
            pooled = np.sqrt(sum(float(s.m2[0]) for s in stats) / float(total.w[0]))
            return [{"mean": float(s.mean[0]), "std": pooled} for s in stats]

    X = np.concatenate([rng.normal(0, 1, 300), rng.normal(5, 2, 200), rng.normal(10, 0.5, 100)])
    start = [(0.0, 1.0), (5.0, 1.0), (10.0, 0.5)]
    model = GeneralMixtureModel([TiedNormal(m, s) for m, s in start], [0.4, 0.4, 0.2])
    model.distributions[2].freeze()
    model.summarize(X)
    model.from_summaries()
    lp = np.column_stack([np.log(w) + st.norm(m, s).logpdf(X) for w, (m, s) in zip([0.4, 0.4, 0.2], start)])
    R = np.exp(lp - lp.max(axis=1, keepdims=True))
    R /= R.sum(axis=1, keepdims=True)
    means = (R[:, :2] * X[:, None]).sum(axis=0) / R[:, :2].sum(axis=0)
    pooled = np.sqrt((R[:, :2] * (X[:, None] - means) ** 2).sum() / R[:, :2].sum())
    assert calls == [[0, 1]]  # one call for the family, the frozen component left out
    for c, m in zip(model.distributions[:2], means):
        assert c.parameters == pytest.approx([m, pooled], rel=1e-10)
    assert model.distributions[2].parameters == [10.0, 0.5]
