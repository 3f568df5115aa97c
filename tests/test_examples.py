"""Every example script runs, and what it shows agrees with scipy."""
import runpy
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from genmix._registry import REGISTRY

from .conftest import registry_restored

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# The examples register their own families (RayleighDistribution): each test leaves the registry as it found it,
# so the tests that check every registered family is covered pass in any order.
pytestmark = pytest.mark.usefixtures("restore_registry")


def load(name):
    return runpy.run_path(str(EXAMPLES / name))


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.py")), ids=lambda p: p.name)
def test_example_runs(path, capsys):
    runpy.run_path(str(path), run_name="__main__")
    assert capsys.readouterr().out


def test_von_mises_component(capsys):
    ns = load("von_mises_component.py")
    model, angles = ns["main"]()
    vm = ns["VonMises"](0.5, 3.0)
    assert_allclose(vm.log_probability(angles), stats.vonmises(3.0, loc=0.5).logpdf(angles), rtol=1e-10)
    # EM reached a maximum of the mixture likelihood: scipy.optimize from there finds nothing better
    from scipy import optimize
    from scipy.special import logsumexp

    def nll(t):
        w = 1 / (1 + np.exp(-t[4]))
        parts = [np.log(w) + stats.vonmises(np.exp(t[1]), loc=t[0]).logpdf(angles),
                 np.log(1 - w) + stats.vonmises(np.exp(t[3]), loc=t[2]).logpdf(angles)]
        return -logsumexp(parts, axis=0).sum()

    (c0, c1), (w0, _) = model.distributions, model.weights
    start = np.array([c0.mu, np.log(c0.kappa), c1.mu, np.log(c1.kappa), np.log(w0 / (1 - w0))])
    res = optimize.minimize(nll, start, method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-12})
    assert -nll(start) >= -res.fun - 1e-6
    assert_allclose(res.x, start, atol=1e-3)
    # the single-component fit is the closed-form MLE: mean direction and A(kappa) = mean resultant length
    one = ns["VonMises"](0.0, 1.0)
    one.summarize(angles[:300], np.ones(300))
    one.from_summaries()
    r = np.abs(np.mean(np.exp(1j * angles[:300])))
    assert_allclose(stats.vonmises.fit(angles[:300], fscale=1)[1], one.mu, atol=1e-6)
    from scipy.special import i0, i1
    assert_allclose(i1(one.kappa) / i0(one.kappa), r, rtol=1e-10)


def test_an_example_family_stays_registered_only_inside_the_fixture():
    with registry_restored():
        load("rayleigh_family.py")
        assert "RayleighDistribution" in REGISTRY
    assert "RayleighDistribution" not in REGISTRY


def test_rayleigh_native_family(capsys):
    ns = load("rayleigh_family.py")
    Rayleigh = ns["RayleighDistribution"]
    x = np.random.default_rng(0).rayleigh(2.0, 500)
    d = Rayleigh(1.5)
    assert_allclose(d.log_probability(x), stats.rayleigh(scale=1.5).logpdf(x), rtol=1e-12)
    assert np.isneginf(d.log_probability(-1.0))
    assert_allclose(Rayleigh.from_samples(x).parameters, [np.sqrt(np.mean(x * x) / 2)], rtol=1e-12)
    from genmix import from_json

    assert from_json(d.to_json()).parameters == [1.5]
    model, data = ns["main"]()
    assert_allclose(sorted(c.parameters[0] for c in model.distributions), [1.0, 5.0], rtol=0.1)
