"""Every example script runs, and what it shows agrees with independent references (scipy, scikit-learn,
mclust's table, closed-form posteriors under the true simulation model), never with genmix's own numbers."""
import runpy
import tempfile
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import special, stats

from genmix._registry import REGISTRY

from .conftest import registry_restored

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# The examples register their own families (RayleighDistribution): each test leaves the registry as it found it,
# so the tests that check every registered family is covered pass in any order.
pytestmark = pytest.mark.usefixtures("restore_registry")


def load(name):
    return runpy.run_path(str(EXAMPLES / name))


def _repository_files():
    """The repository's top level and everything under examples/ (where a careless script would write)."""
    root = EXAMPLES.parent
    return sorted([p.name for p in root.iterdir()] +
                  [str(p.relative_to(root)) for p in EXAMPLES.rglob("*") if "__pycache__" not in p.parts])


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.py")), ids=lambda p: p.name)
def test_example_runs(path, capsys, tmp_path, monkeypatch):
    """As a script, from another directory: it prints something, and whatever it writes goes to the
    temporary directory, nothing into the repository or the current directory."""
    cwd, scratch = tmp_path / "cwd", tmp_path / "tmp"
    cwd.mkdir()
    scratch.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where tempfile.mkdtemp & co. write
    before = _repository_files()
    runpy.run_path(str(path), run_name="__main__")
    assert capsys.readouterr().out
    assert _repository_files() == before
    assert not any(cwd.iterdir())


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


# ---------------------------------------------------------------------------------------------------------
# helpers for the examples below
# ---------------------------------------------------------------------------------------------------------

def assert_picture(path):
    """The PNG exists and shows something: grey-level spread and coloured (data-drawn) pixels, which an
    empty Axes with its frame and labels (grey std ~0.09, no coloured pixel) does not have."""
    from matplotlib import image

    assert Path(path).is_file(), path
    rgb = image.imread(str(path))[..., :3]
    assert rgb.shape[0] > 200 and rgb.shape[1] > 300, rgb.shape
    assert rgb.mean(axis=-1).std() > 0.1, path
    assert np.mean(rgb.max(axis=-1) - rgb.min(axis=-1) > 0.25) > 0.005, path  # coloured lines, points, bars


def best_matched_accuracy(truth, predicted):
    """Accuracy under the best one-to-one matching of predicted to true labels (scipy's assignment)."""
    from scipy.optimize import linear_sum_assignment

    k = max(truth.max(), predicted.max()) + 1
    counts = np.zeros((k, k))
    np.add.at(counts, (predicted, truth), 1)
    rows, cols = linear_sum_assignment(-counts)
    return counts[rows, cols].sum() / len(truth)


def gaussian_log_densities(X, weights, means, covariances):
    """(n, k) log(weight) + log N(x; mean, covariance) with scipy."""
    return np.column_stack([np.log(w) + stats.multivariate_normal(m, c).logpdf(X)
                            for w, m, c in zip(weights, means, covariances)])


def gaussian_m_step(X, R):
    """Weighted-MLE weights, means and full covariances from responsibilities R (closed form)."""
    nk = R.sum(axis=0)
    means = (R.T @ X) / nk[:, None]
    covs = [((X - m) * r[:, None]).T @ (X - m) / s for m, r, s in zip(means, R.T, nk)]
    return nk / nk.sum(), means, np.array(covs)


def read_mclust_bic():
    """mclust 6.0.0's BIC (its sign: higher is better) per (mclust model name, k) on Old Faithful
    (tests/data/mclust_faithful.txt, written by the R script in its header)."""
    table = {}
    with open(Path(__file__).parent / "data" / "mclust_faithful.txt", encoding="utf-8") as fh:
        for line in fh:
            fields = line.split()
            if fields and fields[0] == "row":
                table[(fields[1], int(fields[2]))] = float(fields[4])
    return table


# ---------------------------------------------------------------------------------------------------------
# the examples
# ---------------------------------------------------------------------------------------------------------

def test_old_faithful_selects_mclusts_model_by_bic(tmp_path, capsys):
    """The best of full/tied/diag × 1–4 components is mclust's pick among VVV/EEE/VVI × 1–4 (EEE, 3) and
    the minimum of scikit-learn's BICs (GaussianMixture from 5 starts, tol 1e-7, no regularisation);
    genmix's best BIC is scikit-learn's to 5e-3 and no candidate is worse than scikit-learn's fit of it."""
    from sklearn.mixture import GaussianMixture

    ns = load("old_faithful.py")
    selection, X, paths = ns["main"](tmp_path)
    assert "tied with 3 components" in capsys.readouterr().out

    mclust = read_mclust_bic()
    names = {"VVV": "full", "EEE": "tied", "VVI": "diag"}
    mclust_best = max(((m, k) for m in names for k in range(1, 5)), key=lambda key: mclust[key])
    assert mclust_best == ("EEE", 3)

    reference = {}
    for covariance_type in names.values():
        for k in range(1, 5):
            gm = GaussianMixture(k, covariance_type=covariance_type, n_init=5, tol=1e-7, max_iter=100_000,
                                 reg_covar=0.0, random_state=0).fit(X)
            reference[(covariance_type, k)] = gm.bic(X)
    sklearn_best = min(reference, key=reference.get)
    assert sklearn_best == (names[mclust_best[0]], mclust_best[1])

    p = selection.best_params_
    assert (p["model"], p["n_components"]) == sklearn_best
    assert selection.best_.n == 3 and selection.best_.d == 2
    rows = {(r["model"], r["n_components"]): r for r in selection.rows}
    assert set(rows) == set(reference)
    assert all(r["error"] is None for r in rows.values())
    assert abs(rows[sklearn_best]["bic"] - reference[sklearn_best]) < 5e-3
    assert abs(rows[sklearn_best]["bic"] + mclust[mclust_best]) < 0.05  # mclust stops EM a little earlier
    for key, bic in reference.items():
        assert rows[key]["bic"] <= bic + 1e-2, key  # at least scikit-learn's optimum (higher k: often better)
    assert {Path(v).parent for v in paths.values()} == {tmp_path}
    for path in paths.values():
        assert_picture(path)


def test_mixed_dataframe_recovers_the_groups_and_imputes_by_the_posterior(tmp_path, capsys):
    """Against the simulation's own model: the fitted partition's adjusted Rand index is within 0.03 of
    the Bayes classifier's under the true parameters (scipy densities, missing cells left out), and the
    two partitions agree on 95% of rows; the example's ARI function is scikit-learn's. The imputations are
    the fitted model's posterior formulas recomputed with scipy: E[height | observed] = Σ_k P(k | x_o) μ_k,
    the posterior predictive mode for the Poisson counts and the categories."""
    from sklearn.metrics import adjusted_rand_score

    ns = load("mixed_dataframe.py")
    model, frame, groups, predicted, imputed, ari, path = ns["main"](tmp_path)
    capsys.readouterr()
    n = len(frame)
    missing = frame.isna().to_numpy()
    assert 0.08 < missing.mean() < 0.12
    assert missing.any(axis=0).all()  # every column has missing cells

    def log_joint(weights, height, visits, colour, plan):
        """(n, k) log weight + Σ over the observed cells of each column's log density."""
        h, v = frame["height"].to_numpy(float), frame["visits"].to_numpy(float)
        cats = {c: frame[c].astype(object).to_numpy() for c in ("colour", "plan")}
        out = np.tile(np.log(weights), (n, 1))
        for g in range(len(weights)):
            ok = ~np.isnan(h)
            out[ok, g] += stats.norm(*height[g]).logpdf(h[ok])
            ok = ~np.isnan(v)
            out[ok, g] += stats.poisson(visits[g]).logpmf(v[ok])
            for column, probs in (("colour", colour), ("plan", plan)):
                for i, x in enumerate(cats[column]):
                    if isinstance(x, str):
                        out[i, g] += np.log(probs[g].get(x, 0.0))
        return out

    oracle = log_joint(ns["WEIGHTS"], ns["HEIGHT"], ns["VISITS"], ns["COLOUR"], ns["PLAN"]).argmax(axis=1)
    oracle_ari = adjusted_rand_score(groups, oracle)
    assert ari == pytest.approx(adjusted_rand_score(groups, predicted), abs=1e-12)
    assert ari >= oracle_ari - 0.03, (ari, oracle_ari)
    assert best_matched_accuracy(oracle, predicted) >= 0.95

    # imputation: observed cells kept, frame layout kept, every missing cell filled by the posterior formula
    assert list(imputed.columns) == list(frame.columns) and imputed.index.equals(frame.index)
    assert imputed.dtypes.equals(frame.dtypes)
    assert not imputed.isna().to_numpy().any()
    for column in frame.columns:
        seen = ~frame[column].isna().to_numpy()
        assert (imputed[column].to_numpy()[seen] == frame[column].to_numpy()[seen]).all()
    parts = [c.distributions for c in model.distributions]
    fitted = log_joint(np.asarray(model.weights), [p[0].parameters for p in parts],
                       [p[1].parameters[0] for p in parts], [p[2].parameters[0] for p in parts],
                       [p[3].parameters[0] for p in parts])
    R = np.exp(fitted - fitted.max(axis=1, keepdims=True))
    R /= R.sum(axis=1, keepdims=True)
    rows = missing[:, 0]
    assert_allclose(imputed["height"].to_numpy()[rows], R[rows] @ [p[0].parameters[0] for p in parts], rtol=1e-10)
    rows = missing[:, 1]
    counts = np.arange(60)
    pmf = np.array([stats.poisson(p[1].parameters[0]).pmf(counts) for p in parts])  # (k, counts)
    assert_array_equal(imputed["visits"].to_numpy()[rows], counts[np.argmax(R[rows] @ pmf, axis=1)])
    for j, column, truth in ((2, "colour", ns["COLOUR"]), (3, "plan", ns["PLAN"])):
        rows = missing[:, j]
        categories = sorted(truth[0])
        probs = np.array([[p[j].parameters[0].get(c, 0.0) for c in categories] for p in parts])
        expected = np.array(categories, dtype=object)[np.argmax(R[rows] @ probs, axis=1)]
        assert set(imputed[column].astype(object)[rows]) <= set(categories)
        assert (imputed[column].astype(object).to_numpy()[rows] == expected).all()
    assert Path(path).parent == tmp_path
    assert_picture(path)


def test_out_of_core_fit_is_the_in_memory_fit(tmp_path, capsys):
    """The memmap fit in batches equals the in-memory fit to 1e-10, iteration for iteration; its
    log-likelihood is scipy's to 1e-10; it is a fixed point of one EM step written out with scipy and
    numpy; it recovers the simulated mixture within sampling error; the temporary file is gone."""
    ns = load("out_of_core.py")
    out_of_core, in_memory, history_out, history_in, X = ns["main"](tmp_path)
    capsys.readouterr()
    assert not any(tmp_path.iterdir())  # the memmap's directory was removed
    assert X.shape == (ns["N"], 3) and ns["N"] >= 5 * ns["BATCH"]
    assert len(history_out.epochs) == len(history_in.epochs)
    assert_allclose(history_out.log_probabilities, history_in.log_probabilities, rtol=1e-12)
    assert_allclose(out_of_core.weights, in_memory.weights, rtol=0, atol=1e-10)
    for a, b in zip(out_of_core.distributions, in_memory.distributions):
        assert_allclose(a.parameters[0], b.parameters[0], rtol=0, atol=1e-10)
        assert_allclose(a.parameters[1], b.parameters[1], rtol=0, atol=1e-10)

    weights = np.asarray(out_of_core.weights)
    means = np.array([c.parameters[0] for c in out_of_core.distributions])
    covs = np.array([c.parameters[1] for c in out_of_core.distributions])
    L = gaussian_log_densities(X, weights, means, covs)
    total = special.logsumexp(L, axis=1)
    assert_allclose(out_of_core.log_probability(X).sum(), total.sum(), rtol=1e-10)
    w1, m1, c1 = gaussian_m_step(X, np.exp(L - total[:, None]))
    assert_allclose(w1, weights, atol=5e-5)  # EM stopped at an improvement < 1e-3 of the total: ~5e-6 left
    assert_allclose(m1, means, atol=5e-4)
    assert_allclose(c1, covs, atol=5e-4)

    order = [int(np.argmin(np.linalg.norm(means - m, axis=1))) for m in ns["MEANS"]]
    assert sorted(order) == [0, 1, 2]
    se = 1 / np.sqrt(ns["N"] * ns["WEIGHTS"])  # standard error of a mean coordinate, per unit scale
    assert_allclose(weights[order], ns["WEIGHTS"], atol=5 * np.sqrt(0.25 / ns["N"]))
    for i, j in enumerate(order):
        assert np.all(np.abs(means[j] - ns["MEANS"][i]) < 5 * se[i] * ns["SCALES"][i])
        assert_allclose(covs[j], ns["SCALES"][i] ** 2 * np.eye(3), atol=0.03)


def test_semi_supervised_labels_pin_the_components(capsys):
    """With 5% of the rows labelled, component i is class i: its mean is the nearest to class i's true
    mean, and the unlabelled rows are classified (component read as class, no matching) within 0.03 of
    the Bayes classifier under the true model (scipy), clearly better than the best matching of the
    unsupervised fit's components. The fit is a fixed point of EM with the labelled rows' responsibilities
    one-hot (written out with scipy), which a fit ignoring the labels is not."""
    ns = load("semi_supervised.py")
    semi, unsupervised, X, classes, labels = ns["main"]()
    capsys.readouterr()
    unknown = labels == -1
    assert 0.03 < np.mean(~unknown) < 0.08
    assert set(np.unique(labels[~unknown])) == {0, 1, 2}
    assert (labels[~unknown] == classes[~unknown]).all()

    truth = gaussian_log_densities(X, np.full(3, 1 / 3), ns["MEANS"], [ns["COVARIANCE"]] * 3)
    bayes = np.mean(truth.argmax(axis=1)[unknown] == classes[unknown])
    with_labels = np.mean(semi.predict(X)[unknown] == classes[unknown])
    without = best_matched_accuracy(classes[unknown], unsupervised.predict(X)[unknown])
    assert with_labels >= bayes - 0.03, (with_labels, bayes)
    assert with_labels >= without + 0.05, (with_labels, without)

    means = np.array([c.parameters[0] for c in semi.distributions])
    for i, m in enumerate(means):
        assert np.argmin(np.linalg.norm(ns["MEANS"] - m, axis=1)) == i
        assert abs(m[0] - ns["MEANS"][i][0]) < 0.2  # the clusters are 1.3 apart along x
    labelled_means = np.array([X[labels == i].mean(axis=0) for i in range(3)])
    assert (np.argmin(np.linalg.norm(labelled_means[:, None] - means[None], axis=2), axis=1) == [0, 1, 2]).all()

    weights = np.asarray(semi.weights)
    covs = np.array([c.parameters[1] for c in semi.distributions])
    L = gaussian_log_densities(X, weights, means, covs)
    R = np.exp(L - special.logsumexp(L, axis=1, keepdims=True))
    soft = gaussian_m_step(X, R)
    R[~unknown] = np.eye(3)[labels[~unknown]]
    clamped = gaussian_m_step(X, R)
    for got, want in zip((weights, means, covs), clamped):
        assert_allclose(got, want, atol=2e-4)  # ~1.5e-5 left at the stopping rule
    assert max(np.max(np.abs(a - b)) for a, b in zip(soft, clamped)) > 2e-2  # the check can tell them apart
