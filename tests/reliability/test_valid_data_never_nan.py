"""Valid data never give NaN; degenerate data give finite parameters and densities (issue 8, items 1-2).

For every registered family, mixtures of 1 to 3 components are fitted to data of that family and every output
is checked: fitted parameters, predict_proba, log_probability (``-inf`` only outside the support), samples and
imputed values are never NaN, and the EM log-likelihood never decreases for families whose fit maximises the
likelihood. Degenerate data (constant data, one point, duplicated points, fewer points than dimensions, a
component that receives no responsibility) must give finite parameters and densities without an exception;
where the data are degenerate, genmix may say so with a ``genmix.NumericalWarning`` or
``genmix.ConvergenceWarning`` (caught and checked below, never any other warning).
"""
import warnings

import numpy as np
import pytest

from genmix import (ConvergenceWarning, ExponentialDistribution, GeneralMixtureModel, IndependentComponentsDistribution,
                    MultivariateGaussianDistribution, NormalDistribution, NumericalWarning)
from genmix.distributions import REGISTRY

from ..family_specs import SPECS, spec
from ._support import numbers_in

NAN_COUNT = {"outputs checked": 0, "NaN outputs": 0}


def _data(name, rng, n=150):
    """Valid data of a family, drawn from a three-part mixture (the families' own parametrisations)."""
    return spec(name).fits.data(rng, rng.integers(0, 3, n))


def _components(name):
    """Three distinct starting components; the first alone (and any first two) can produce all the data."""
    return spec(name).fits.components()


# points outside the support of every starting component (and of any fit to the data)
OUTSIDE = {s.name: s.fits.outside for s in SPECS if s.fits.outside is not None}


def _assert_finite_model(model):
    values = np.array(list(numbers_in(model.to_dict())))
    NAN_COUNT["outputs checked"] += values.size
    NAN_COUNT["NaN outputs"] += int(np.isnan(values).sum())
    assert values.size and np.all(np.isfinite(values)), model


def _assert_no_nan(array, what):
    a = np.asarray(array, dtype=np.float64)
    NAN_COUNT["outputs checked"] += a.size
    NAN_COUNT["NaN outputs"] += int(np.isnan(a).sum())
    assert not np.isnan(a).any(), f"{what} holds NaN"


def _lp_non_decreasing(history):
    """Whether the EM log-likelihoods (initial, then after every epoch) never drop by more than 1e-9 relative."""
    lps = np.array([history.initial_log_probability] + list(history.log_probabilities))
    drops = lps[:-1] - lps[1:]
    tol = 1e-9 * np.maximum(1.0, np.abs(lps[:-1]))
    return bool(np.all(drops <= tol)), lps


@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_valid_data_never_give_nan(name, k, rng):
    X = _data(name, rng)
    model = GeneralMixtureModel(_components(name)[:k])
    model, history = model.fit(X, max_iterations=15, stop_threshold=1e-8, return_history=True)
    _assert_finite_model(model)

    # EM never lowers the likelihood of families whose M-step maximises it (kernel densities do not)
    if all(getattr(c, "_maximises_likelihood", True) for c in model.distributions):
        ok, lps = _lp_non_decreasing(history)
        assert ok, np.diff(lps)
    _assert_no_nan(history.log_probabilities, "the EM history")

    proba = model.predict_proba(X)
    _assert_no_nan(proba, "predict_proba")
    assert np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    _assert_no_nan(model.predict_log_proba(X), "predict_log_proba")
    pred = model.predict(X)
    assert pred.min() >= 0 and pred.max() < k

    lp = model.log_probability(X)
    _assert_no_nan(lp, "log_probability")
    assert np.all(np.isfinite(lp)), "training data lie in the support of the fitted mixture"
    _assert_no_nan(model.probability(X), "probability")
    if name in OUTSIDE:
        out = np.empty(len(OUTSIDE[name]), dtype=object) if name == "DiscreteDistribution" else np.array(OUTSIDE[name])
        if name == "DiscreteDistribution":
            out[:] = OUTSIDE[name]
        assert np.all(np.isneginf(model.log_probability(out)))

    draws = model.sample(40, random_state=0)
    if name != "DiscreteDistribution":
        _assert_no_nan(draws, "sample")
    assert np.all(np.isfinite(model.log_probability(draws))), "samples lie in the support"

    # impute: hide some values, fill them, and check nothing is NaN and the observed ones are kept
    Xm = np.array(X, dtype=object if name == "DiscreteDistribution" else np.float64, copy=True)
    hide = np.zeros(Xm.shape, dtype=bool)
    hide.reshape(-1)[rng.choice(hide.size, hide.size // 10, replace=False)] = True
    Xm[hide] = None if name == "DiscreteDistribution" else np.nan
    filled = model.impute(Xm)
    if name == "DiscreteDistribution":
        assert all(v in ("a", "b", "c") for v in np.ravel(filled))
    else:
        _assert_no_nan(filled, "impute")
        Xr = np.asarray(X, dtype=np.float64).reshape(filled.shape)
        np.testing.assert_array_equal(filled[~hide.reshape(filled.shape)], Xr[~hide.reshape(filled.shape)])


# -- degenerate data -------------------------------------------------------------------------------------------------
def _fit_allowing_degeneracy_warnings(model, X, **kwargs):
    """Fit, allowing (and returning) only genmix's NumericalWarning / ConvergenceWarning."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = model.fit(X, return_history=True, **kwargs)
    others = [w for w in caught if not issubclass(w.category, (NumericalWarning, ConvergenceWarning))]
    assert not others, [str(w.message) for w in others]
    return result[0], result[1], caught


def _check_degenerate_fit(model, history, caught, X, at):
    _assert_finite_model(model)
    lp = model.log_probability(at)
    _assert_no_nan(lp, "log_probability")
    assert np.all(np.isfinite(lp)), "finite density (never +inf) at the data"
    _assert_no_nan(model.predict_proba(X), "predict_proba")
    ok, lps = _lp_non_decreasing(history)
    _assert_no_nan(lps, "the EM history")
    if not ok and all(getattr(c, "_maximises_likelihood", True) for c in model.distributions):
        # a drop beyond rounding is allowed on degenerate data only if it is reported
        assert any(issubclass(w.category, ConvergenceWarning) for w in caught), np.diff(lps)


CONSTANT = {s.name: s.fits.constant for s in SPECS}


def _rows(name, value, n):
    if name == "DiscreteDistribution":
        X = np.empty(n, dtype=object)
        X[:] = [value] * n
        return X
    return np.array([value] * n, dtype=np.float64)


def test_constant_table_covers_every_family():
    assert set(CONSTANT) == set(REGISTRY)


@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_constant_data_give_finite_fits(name, k):
    """Constant data: each component collapses onto the value; spreads are floored, densities stay finite.
    (NumericalWarning is allowed: the multivariate Gaussian reports its eigenvalue floor.)"""
    X = _rows(name, CONSTANT[name], 25)
    model, history, caught = _fit_allowing_degeneracy_warnings(GeneralMixtureModel(_components(name)[:k]), X,
                                                               max_iterations=10)
    _check_degenerate_fit(model, history, caught, X, X[:1])


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_a_single_point_gives_finite_fits(name):
    """One point: the family's own from_samples, a one-component from_samples and a two-component fit."""
    X = _rows(name, CONSTANT[name], 1)
    cls = REGISTRY[name]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        kwargs = {"distributions": [NormalDistribution, ExponentialDistribution]} \
            if cls is IndependentComponentsDistribution else {}
        single = cls.from_samples(X, **kwargs)
        mixture = GeneralMixtureModel.from_samples(
            [NormalDistribution, ExponentialDistribution] if cls is IndependentComponentsDistribution else cls,
            1, X, random_state=0)
    assert all(issubclass(w.category, (NumericalWarning, ConvergenceWarning)) for w in caught)
    for m in (single, mixture):
        _assert_finite_model(m)
        assert np.all(np.isfinite(m.log_probability(X)))
    model, history, caught = _fit_allowing_degeneracy_warnings(GeneralMixtureModel(_components(name)[:2]), X,
                                                               max_iterations=10)
    _check_degenerate_fit(model, history, caught, X, X)


# two distinct values, each repeated, for the families where components collapse onto them
DUPLICATED = {s.name: s.fits.duplicated for s in SPECS if s.fits.duplicated is not None}


@pytest.mark.parametrize("name", list(DUPLICATED))
@pytest.mark.parametrize("k", [2, 3])
def test_duplicated_points_give_finite_fits(name, k):
    """Two distinct values, each repeated: components collapse onto them (the classic infinite-density trap)."""
    a, b = DUPLICATED[name]
    X = np.array([a] * 12 + [b] * 8, dtype=np.float64)
    model, history, caught = _fit_allowing_degeneracy_warnings(GeneralMixtureModel(_components(name)[:k]), X,
                                                               max_iterations=30)
    _check_degenerate_fit(model, history, caught, X, X)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        learned = GeneralMixtureModel.from_samples(REGISTRY[name] if name != "IndependentComponentsDistribution"
                                                   else NormalDistribution, k, X, random_state=0, max_iterations=30)
    assert all(issubclass(w.category, (NumericalWarning, ConvergenceWarning)) for w in caught)
    _assert_finite_model(learned)
    assert np.all(np.isfinite(learned.log_probability(X)))


@pytest.mark.parametrize("k", [1, 2])
def test_fewer_points_than_dimensions(k):
    """Three points in five dimensions: the covariance MLE is singular; it is floored (and reported by a
    NumericalWarning), never a LinAlgError, NaN or +inf."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(3, 5))
    comps = [MultivariateGaussianDistribution(np.zeros(5), np.eye(5)),
             MultivariateGaussianDistribution(np.ones(5), 2 * np.eye(5))][:k]
    model, history, caught = _fit_allowing_degeneracy_warnings(GeneralMixtureModel(comps), X, max_iterations=10)
    assert any(issubclass(w.category, NumericalWarning) for w in caught)
    _check_degenerate_fit(model, history, caught, X, np.vstack([X, rng.normal(size=(2, 5))]))
    for c in model.distributions:
        assert np.all(np.linalg.eigvalsh(np.array(c.parameters[1])) > 0)
    with pytest.warns(NumericalWarning):
        single = MultivariateGaussianDistribution.from_samples(X)
    _assert_finite_model(single)
    assert np.all(np.isfinite(single.log_probability(X)))


# a component far from (or unable to produce) the data, which receives no responsibility
FAR = {s.name: s.fits.far for s in SPECS if s.fits.far is not None}


@pytest.mark.parametrize("name", sorted(FAR))
def test_a_component_without_responsibility_keeps_finite_parameters(name, rng):
    X = _data(name, rng, n=60)
    far = FAR[name].copy()
    before = far.to_json()
    model = GeneralMixtureModel([_components(name)[0], far])
    model, history = model.fit(X, max_iterations=10, return_history=True)
    assert model.distributions[1].to_json() == before  # documented: it keeps its parameters
    _assert_finite_model(model)
    assert model.weights[1] < 1e-12
    ok, lps = _lp_non_decreasing(history)
    assert ok or not model.distributions[0]._maximises_likelihood
    _assert_no_nan(model.predict_proba(X), "predict_proba")
    assert np.all(np.isfinite(model.log_probability(X)))


def test_a_zero_weight_component_gets_nothing_and_stays_finite(rng):
    X = _data("NormalDistribution", rng, n=60)
    model = GeneralMixtureModel([NormalDistribution(0.0, 3.0), NormalDistribution(1.0, 1.0)], weights=[1.0, 0.0])
    model.fit(X, max_iterations=10)
    assert model.weights[1] == 0.0 and model.distributions[1].parameters == [1.0, 1.0]
    proba = model.predict_proba(X)
    _assert_no_nan(proba, "predict_proba")
    assert np.all(proba[:, 1] == 0.0)
    assert np.all(np.isfinite(model.log_probability(X)))
    _assert_no_nan(model.sample(20, random_state=0), "sample")


def test_from_samples_with_more_components_than_distinct_rows():
    """A cluster k-means cannot fill is documented to become the family's fit to all the data, weight 0."""
    X = np.array([1.0, 1.0, 1.0, 2.0, 2.0, 2.0])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = GeneralMixtureModel.from_samples(NormalDistribution, 3, X, random_state=0, max_iterations=10)
    assert all(issubclass(w.category, (NumericalWarning, ConvergenceWarning)) for w in caught)
    _assert_finite_model(model)
    np.testing.assert_allclose(model.weights.sum(), 1.0, rtol=1e-12)
    assert np.all(np.isfinite(model.log_probability(X)))
    _assert_no_nan(model.predict_proba(X), "predict_proba")


def test_zz_nan_totals(capsys):
    with capsys.disabled():
        print(f"\n[reliability] valid and degenerate data: {NAN_COUNT['outputs checked']} output values checked, "
              f"{NAN_COUNT['NaN outputs']} NaN")
    assert NAN_COUNT["NaN outputs"] == 0
