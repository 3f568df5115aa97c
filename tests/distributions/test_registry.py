"""Every registered family gets the generic checks, and is covered by the contract table or its own file."""
import json
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from genmix import GeneralMixtureModel
from genmix.distributions import REGISTRY

from ._reference import FAMILIES

BUILTIN = sorted((name, cls) for name, cls in REGISTRY.items() if cls.__module__.startswith("genmix."))
IDS = [name for name, _ in BUILTIN]
HERE = Path(__file__).parent


@pytest.mark.parametrize("name, cls", BUILTIN, ids=IDS)
def test_family_is_covered_by_tests(name, cls):
    in_table = any(f.cls is cls for f in FAMILIES)
    module = cls.__module__.rsplit(".", 1)[1]
    assert in_table or (HERE / f"test_{module}.py").exists(), f"{name} has no contract in tests/family_specs.py nor a test file"


def _example(name, cls):
    """An instance of the family and 200 draws from it."""
    d = cls.blank() if name != "DiscreteDistribution" else cls({"a": 0.3, "b": 0.7})  # blank() has no keys
    X = d.sample(200, random_state=0)
    return d, (X if X.ndim == 2 or d.d == 1 else X.reshape(-1, d.d))


@pytest.mark.parametrize("name, cls", BUILTIN, ids=IDS)
def test_generic_behaviour(name, cls):
    d, X = _example(name, cls)
    lp = d.log_probability(X)
    assert lp.shape == (200,) and np.all(np.isfinite(lp))
    for text, load in ((d.to_json(), cls.from_json), (d.to_yaml(), cls.from_yaml)):
        again = load(text)
        assert type(again) is cls
        assert_allclose(again.log_probability(X), lp, rtol=1e-14)
    assert json.loads(d.to_json())["name"] == name
    c = d.copy()
    c.fit(X[:50])
    assert_allclose(d.log_probability(X), lp, rtol=0)  # the copy is independent
    model = GeneralMixtureModel([d.copy(), d.copy()], weights=[0.3, 0.7])
    assert_allclose(model.log_probability(X), lp, rtol=1e-12, atol=1e-15)
    model.fit(X, max_iterations=2)
    assert np.all(np.isfinite(model.log_probability(X)))


@pytest.mark.parametrize("name, cls", BUILTIN, ids=IDS)
def test_rebuilt_from_its_own_parameters(name, cls):
    # pomegranate 0.x's copy() is cls(*d.parameters); issue #13 item 2 (an IndependentComponentsDistribution
    # listed its columns as dicts, so this raised)
    d, X = _example(name, cls)
    again = cls(*d.parameters)
    assert type(again) is cls and again.to_dict() == d.to_dict()
    assert_allclose(again.log_probability(X), d.log_probability(X), rtol=0)
    json.dumps(d.to_dict())  # the document holds only plain values


@pytest.mark.parametrize("name, cls", BUILTIN, ids=IDS)
def test_fit_takes_pseudocount_as_from_summaries(name, cls):
    # DESIGN §2 gives every family fit(X, weights=None, inertia=0.0, pseudocount=0.0) (issue #13 item 16)
    d, X = _example(name, cls)
    w = np.linspace(0.5, 2.0, len(X))
    fitted = d.copy().fit(X, w, 0.25, 0.5)
    summarised = d.copy()
    summarised.summarize(X, w)
    summarised.from_summaries(0.25, 0.5)
    assert fitted.to_dict() == summarised.to_dict()
    assert_allclose(fitted.log_probability(X), summarised.log_probability(X), rtol=0)


@pytest.mark.parametrize("name, cls", BUILTIN, ids=IDS)
def test_integer_weights_equal_repetition_and_zero_equals_removal(name, cls):
    # the univariate table checks the weighted MLEs against closed forms; this covers every family
    d, X = _example(name, cls)
    counts = np.random.default_rng(5).integers(0, 4, len(X))
    counts[:3] = 0
    weighted = d.copy().fit(X, counts.astype(float))
    repeated = d.copy().fit(np.repeat(X, counts, axis=0))
    assert_allclose(weighted.log_probability(X), repeated.log_probability(X), rtol=1e-12, atol=1e-12)


def test_registry_holds_only_genmix_families():
    """A test that registers its own family must undo it (the ``restore_registry`` fixture), in any order."""
    assert [name for name, cls in REGISTRY.items() if not cls.__module__.startswith("genmix.")] == []


def test_registry_is_one_object_wherever_it_is_imported():
    """The registry lives in genmix/_registry.py; the old import paths name the same dict and decorator."""
    from genmix import _registry, distributions, io
    from genmix.distributions import _base

    assert distributions.REGISTRY is _base.REGISTRY is io.REGISTRY is _registry.REGISTRY
    assert distributions.register is _base.register is _registry.register
    assert _registry.MIXTURES == {"GeneralMixtureModel": GeneralMixtureModel}
