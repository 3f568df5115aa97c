"""Categorical columns on the fused E-step: a fit of mixed rows encodes the categories once, and each
E-step looks ``log p(category)`` up in a table and sums the responsibilities per category (a weighted
bincount). Checked against EM written out with scipy: one iteration from a given start is the closed-form
weighted MLE under responsibilities computed by hand."""
import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats
from scipy.special import logsumexp

from genmix import (DiscreteDistribution, GeneralMixtureModel, IndependentComponentsDistribution,
                    NormalDistribution, PoissonDistribution)
from genmix._encoded import Encoded, encode_table
from genmix._fused import CategoricalTerm


def start(p0=None, p1=None):
    p0 = p0 or {"x": 0.3, "y": 0.4, "w": 0.3}
    p1 = p1 or {"x": 0.6, "y": 0.2, "w": 0.2}
    return GeneralMixtureModel([
        IndependentComponentsDistribution([NormalDistribution(0, 1), DiscreteDistribution(p0), PoissonDistribution(2)]),
        IndependentComponentsDistribution([NormalDistribution(2, 1.5), DiscreteDistribution(p1), PoissonDistribution(6)]),
    ], weights=[0.4, 0.6])


def data(n=3000, missing=0.1, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.integers(0, 2, n)
    X = np.empty((n, 3), dtype=object)
    X[:, 0] = rng.normal(3 * z, 1)
    X[:, 1] = np.where(rng.random(n) < 0.2 + 0.6 * z, "x", np.where(rng.random(n) < 0.5, "y", "w"))
    X[:, 2] = rng.poisson(np.where(z, 7.0, 2.0)).astype(float)
    if missing:
        X[rng.random(n) < missing, 1] = None
        X[rng.random(n) < missing, 0] = np.nan
    return X


def assert_same_fit(model, reference, rtol):
    """Two mixtures of products have the same weights and column parameters (a category table with the
    same keys in the same order)."""
    assert_allclose(model.weights, reference.weights, rtol=rtol)
    for a, b in zip(model.distributions, reference.distributions):
        for ca, cb in zip(a.distributions, b.distributions):
            pa, pb = ca.parameters[0], cb.parameters[0]
            if isinstance(pa, dict):
                assert list(pa) == list(pb)
                assert_allclose(list(pa.values()), list(pb.values()), rtol=rtol)
            else:
                assert_allclose(ca.parameters, cb.parameters, rtol=rtol)


def one_em_step_by_hand(model, X, pseudocount=0.0):
    """Responsibilities from scipy's densities and the components' tables, then the weighted MLEs."""
    a = X[:, 0].astype(float)
    c = X[:, 1]
    k = X[:, 2].astype(float)
    L = []
    for wj, comp in zip(model.weights, model.distributions):
        normal, discrete, poisson = comp.distributions
        mu, sd = normal.parameters
        la = np.where(np.isnan(a), 0.0, stats.norm(mu, sd).logpdf(np.nan_to_num(a)))
        table = discrete.parameters[0]
        lc = np.array([0.0 if v is None else np.log(table.get(v, 0.0)) for v in c])
        lk = stats.poisson(poisson.parameters[0]).logpmf(k)
        L.append(np.log(wj) + la + lc + lk)
    L = np.column_stack(L)
    R = np.exp(L - logsumexp(L, axis=1, keepdims=True))
    out = []
    for j in range(R.shape[1]):
        r = R[:, j]
        obs = ~np.isnan(a)
        mu = np.sum(r[obs] * a[obs]) / r[obs].sum()
        sd = np.sqrt(np.sum(r[obs] * (a[obs] - mu) ** 2) / r[obs].sum())
        seen = np.array([v is not None for v in c])
        keys = ["x", "y", "w"]
        counts = np.array([r[seen & (c == key)].sum() for key in keys])
        probs = (counts + pseudocount) / (counts.sum() + pseudocount * len(keys))
        lam = np.sum(r * k) / r.sum()
        out.append((mu, sd, dict(zip(keys, probs)), lam))
    return R.sum(axis=0) / R.shape[0], out, float(logsumexp(L, axis=1).sum())


@pytest.mark.parametrize("missing", [0.0, 0.1])
def test_one_iteration_is_the_weighted_mle_under_scipys_responsibilities(missing, monkeypatch):
    X = data(missing=missing)
    gathered = []
    real = CategoricalTerm.block_codes
    monkeypatch.setattr(CategoricalTerm, "block_codes", lambda self, x: gathered.append(1) or real(self, x))
    model = start()
    weights, comps, _ = one_em_step_by_hand(model, X)
    _, history = model.fit(X, max_iterations=1, stop_threshold=0.0, return_history=True)
    assert gathered, "the categorical column did not take the fused path"
    assert_allclose(model.weights, weights, rtol=1e-12)
    for comp, (mu, sd, probs, lam) in zip(model.distributions, comps):
        normal, discrete, poisson = comp.distributions
        assert_allclose(normal.parameters, [mu, sd], rtol=1e-11)
        assert list(discrete.parameters[0]) == ["x", "y", "w"]  # the model's key order is kept
        assert_allclose([discrete.parameters[0][key] for key in probs], list(probs.values()), rtol=1e-11)
        assert_allclose(poisson.parameters, [lam], rtol=1e-11)
    # the log-likelihood of the final parameters (the second E-step) is scipy's
    _, _, loglik = one_em_step_by_hand(model, X)
    assert_allclose(history.log_probabilities[-1], loglik, rtol=1e-12)


def test_pseudocount_reaches_keys_that_no_row_has():
    """A key of the model that is absent from the data gets its pseudocount (as on the general path)."""
    X = data(missing=0.0)
    model = start({"x": 0.3, "y": 0.4, "w": 0.2, "v": 0.1}, {"x": 0.6, "y": 0.2, "w": 0.1, "v": 0.1})
    model.fit(X, max_iterations=1, stop_threshold=0.0, pseudocount=1.0)
    for comp in model.distributions:
        table = comp.distributions[1].parameters[0]
        assert list(table) == ["x", "y", "w", "v"] and table["v"] > 0
        assert_allclose(sum(table.values()), 1.0, rtol=1e-12)


def test_a_category_no_component_has_is_named_through_the_general_path():
    X = data(missing=0.0)
    X[17, 1] = "purple"
    with pytest.raises(ValueError, match=r"row 17.*column 1.*'purple'"):
        start().fit(X, max_iterations=2)


def test_a_dataframe_with_pandas_categoricals_is_encoded_once():
    pd = pytest.importorskip("pandas")
    X = data()
    frame = pd.DataFrame({"a": X[:, 0].astype(float), "c": pd.Categorical(X[:, 1]), "k": X[:, 2].astype(float)})
    a = start().fit(X, max_iterations=3, stop_threshold=0.0)
    b = start().fit(frame, max_iterations=3, stop_threshold=0.0)
    assert_allclose(b.weights, a.weights, rtol=1e-12)
    assert b.feature_names == ("a", "c", "k")


def test_numeric_categories_on_a_float_array_are_looked_up():
    """A Discrete column of numbers (no text, so nothing to encode) takes the lookup by value; the fit is
    the weighted category frequencies under responsibilities computed by hand."""
    rng = np.random.default_rng(3)
    x = np.where(rng.random(2000) < 0.5, rng.choice([1.0, 2.0, 3.0], 2000, p=[0.7, 0.2, 0.1]),
                 rng.choice([1.0, 2.0, 3.0], 2000, p=[0.1, 0.3, 0.6]))
    model = GeneralMixtureModel([DiscreteDistribution({1: 0.5, 2: 0.3, 3: 0.2}),
                                 DiscreteDistribution({1: 0.2, 2: 0.3, 3: 0.5})])
    P = np.array([[0.5, 0.3, 0.2], [0.2, 0.3, 0.5]])
    L = np.log(0.5) + np.log(P[:, x.astype(int) - 1]).T
    R = np.exp(L - logsumexp(L, axis=1, keepdims=True))
    model.fit(x, max_iterations=1, stop_threshold=0.0)
    for j, comp in enumerate(model.distributions):
        counts = np.array([R[x == v, j].sum() for v in (1.0, 2.0, 3.0)])
        assert_allclose([comp.parameters[0][key] for key in (1, 2, 3)], counts / counts.sum(), rtol=1e-12)
        assert all(type(key) is int for key in comp.parameters[0])


def test_encoding_round_trips_and_slices_keep_the_categories():
    X = data()
    E = encode_table(X)
    assert isinstance(E, Encoded) and E.dtype == np.float64 and set(E.categories) == {1}
    back = E.decoded()
    for i in range(X.shape[0]):
        assert back[i, 1] == X[i, 1]
        a, b = back[i, 0], X[i, 0]
        assert (np.isnan(a) and np.isnan(b)) or a == b
    part = E[100:200]
    assert isinstance(part, Encoded) and part.categories is E.categories
    numbers = np.array([[1.0, None], [2.0, 3.0]], dtype=object)
    assert encode_table(numbers) is numbers  # no text: nothing to encode


@pytest.mark.parametrize("cells", [1, 2 ** 14])
def test_columns_looked_up_together_or_alone_give_the_same_fit(cells, monkeypatch):
    """Categorical columns are grouped under a joint code when their joint table is small; with the limit
    at 1 every column is its own group. Both are the hand-written EM step."""
    import genmix._fused as fused

    monkeypatch.setattr(fused, "_JOINT_CELLS", cells)
    sizes = []  # the number of columns in each group, per E-step
    real_groups = fused._joint_groups

    def recorded(gathered):
        groups = real_groups(gathered)
        sizes.append([len(g.terms) for g in groups])
        return groups

    monkeypatch.setattr(fused, "_joint_groups", recorded)
    X = data(missing=0.1)
    X = np.column_stack([X, X[:, 1][::-1]])  # a second categorical column
    model = GeneralMixtureModel([IndependentComponentsDistribution(list(c.distributions) + [
        DiscreteDistribution({"x": 0.2, "y": 0.5, "w": 0.3})]) for c in start().distributions], weights=[0.4, 0.6])
    ref = model.copy()
    model.fit(X, max_iterations=1, stop_threshold=0.0)
    assert sizes and all(group == ([1, 1] if cells == 1 else [2]) for group in sizes), sizes
    _general_path(monkeypatch)  # the reference: the general path, which never groups (no encoding)
    ref.fit(X, max_iterations=1, stop_threshold=0.0)
    assert_same_fit(model, ref, rtol=1e-12)


def test_threads_give_the_same_fit():
    X = data(n=40_000)
    one = start().fit(X, max_iterations=3, stop_threshold=0.0)
    two = start().fit(X, max_iterations=3, stop_threshold=0.0, n_jobs=2)
    assert_allclose(two.weights, one.weights, rtol=1e-12)
    for a, b in zip(one.distributions, two.distributions):
        assert_allclose(list(b.distributions[1].parameters[0].values()),
                        list(a.distributions[1].parameters[0].values()), rtol=1e-12)
        assert_allclose(b.distributions[0].parameters, a.distributions[0].parameters, rtol=1e-12)


def _general_path(monkeypatch):
    """Switch the encoding off: the fit takes the general path (per-value dict lookups)."""
    import genmix.em as em

    monkeypatch.setattr(em, "encode_table", lambda X: X)


@pytest.mark.parametrize("case", ["weights", "labels", "streaming", "bool keys"])
def test_the_lookup_path_equals_the_general_path(case, monkeypatch):
    """Sample weights, partial labels, streaming batches and boolean categories give the fit of the
    general path (itself checked against scipy elsewhere), to rounding."""
    rng = np.random.default_rng(5)
    X = data(n=4000, missing=0.05, seed=5)
    kwargs = {"max_iterations": 4, "stop_threshold": 0.0}
    model = start()
    if case == "weights":
        kwargs["weights"] = rng.uniform(0.0, 3.0, X.shape[0])
    elif case == "labels":
        labels = np.full(X.shape[0], -1)
        labels[:200] = rng.integers(0, 2, 200)
        kwargs["labels"] = labels
    elif case == "streaming":
        kwargs.update(batch_size=700, batches_per_epoch=3)
    else:  # a float array whose 0/1 column is modelled by a Discrete of booleans: looked up by value
        X = np.column_stack([X[:, 0].astype(float), (X[:, 1] == "x").astype(float), X[:, 2].astype(float)])
        model = GeneralMixtureModel([IndependentComponentsDistribution(
            [c.distributions[0], DiscreteDistribution({True: 0.5, False: 0.5}), c.distributions[2]])
            for c in start().distributions], weights=[0.4, 0.6])
    reference = model.copy()
    looked_up = []
    real = CategoricalTerm.block_codes
    monkeypatch.setattr(CategoricalTerm, "block_codes", lambda self, x: looked_up.append(1) or real(self, x))
    model.fit(X, **kwargs)
    assert looked_up, "the fit did not take the lookup path"
    monkeypatch.setattr(CategoricalTerm, "bind", lambda self, categories: False)  # no lookups at all
    _general_path(monkeypatch)
    reference.fit(X, **kwargs)
    assert_same_fit(model, reference, rtol=1e-11)
