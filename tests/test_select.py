"""genmix.select: every candidate fitted and ranked; checked against scikit-learn, scipy and mclust's
published Old Faithful figures."""
import sys
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose

from genmix import (ExponentialDistribution, GammaDistribution, LogNormalDistribution,
                    MultivariateGaussianDistribution as MVN, NormalDistribution, Selection, select)
from genmix.datasets import load_old_faithful

TYPES = ["full", "tied", "diag", "spherical", "EEI", "EII"]


@pytest.fixture(scope="module")
def faithful_selection():
    X, _ = load_old_faithful()
    return X, select(X, range(1, 10), random_state=0, n_jobs=2)


def test_old_faithful_picks_mclusts_model(faithful_selection):
    """mclust 6.0's ``Mclust(faithful)``: EEE (genmix's 'tied') with 3 components, 11 parameters,
    log-likelihood −1126.326. mclust stops EM when the relative change of the log-likelihood falls under
    1e-5, about 0.011 here, on an optimum that EM approaches slowly; scikit-learn run to tol=1e-10 finds
    −1126.31593. genmix's fit must reach that optimum (so it is above mclust's figure)."""
    mixture = pytest.importorskip("sklearn.mixture")
    X, sel = faithful_selection
    assert sel.best_params_["model"] == "tied" and sel.best_params_["n_components"] == 3
    assert sel.best_params_["covariance_type"] == "tied"
    rows = {(r["model"], r["n_components"]): r for r in sel.rows}
    best = rows[("tied", 3)]
    assert best["n_parameters"] == 11 and best["error"] is None
    tight = mixture.GaussianMixture(3, covariance_type="tied", tol=1e-10, max_iter=10_000, reg_covar=0.0, n_init=5,
                                    random_state=0).fit(X)
    optimum = tight.score(X) * len(X)
    assert best["log_likelihood"] == pytest.approx(optimum, abs=1e-3)
    assert best["log_likelihood"] >= -1126.326 - 1e-3
    assert_allclose(best["bic"], -2 * best["log_likelihood"] + 11 * np.log(272), rtol=1e-12)
    assert abs(best["bic"] - 2314.316) < 0.05 and abs(best["icl"] - 2357.824) < 1.0  # mclust's, less converged
    assert_allclose(sel.best_.bic(X), best["bic"], rtol=1e-12)
    assert len(sel.rows) == 6 * 9
    # faithful's waiting times are whole minutes: a component can collapse onto tied values, whose floored
    # covariance is a degenerate fit (mclust's NA), never chosen; the tied models share one covariance
    errors = [r for r in sel.rows if r["error"] is not None]
    assert all(r["error"].startswith("degenerate fit: component") and np.isnan(r["bic"]) for r in errors)
    assert len(errors) < 6 and not any(r["model"] == "tied" for r in errors)
    assert {r["model"] for r in sel.rows} == set(TYPES)


@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical"])
def test_with_restarts_each_candidate_reaches_scikit_learns_optimum(covariance_type):
    """With ``n_init=10`` (and the hierarchical start) every (type, k) reaches the log-likelihood of
    scikit-learn's best of 10 starts run to tol=1e-8."""
    mixture = pytest.importorskip("sklearn.mixture")
    X, _ = load_old_faithful()
    sel = select(X, [2, 3], covariance_types=[covariance_type], n_init=10, random_state=0, n_jobs=2)
    for row in sel.rows:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = mixture.GaussianMixture(row["n_components"], covariance_type=covariance_type, tol=1e-8,
                                          max_iter=5000, n_init=10, reg_covar=0.0, random_state=1).fit(X)
        assert row["log_likelihood"] >= ref.score(X) * len(X) - 1e-3, row


def test_the_table_and_the_plot(faithful_selection, tmp_path):
    X, sel = faithful_selection
    pd = pytest.importorskip("pandas")
    table = sel.table
    assert isinstance(table, pd.DataFrame) and len(table) == 54
    assert list(table.columns) == ["model", "n_components", "log_likelihood", "n_parameters", "bic", "aic", "icl",
                                   "converged", "seconds", "error", "warnings"]
    assert table.loc[table["bic"].idxmin(), "model"] == "tied"
    assert "tied with 3 components" in repr(sel)
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = sel.plot()
    assert len(ax.get_lines()) == 6 + 1  # one line per covariance type, and the best marked
    path = tmp_path / "bic.png"
    ax.figure.savefig(path)
    image = plt.imread(path)
    assert image.std() > 0.01  # not blank
    plt.close(ax.figure)
    fig, ax2 = plt.subplots()
    assert sel.plot("icl", ax=ax2) is ax2 and "ICL" in ax2.get_ylabel()
    plt.close(fig)


def test_without_pandas_the_table_is_a_list_of_dicts(faithful_selection, monkeypatch):
    _, sel = faithful_selection
    monkeypatch.setitem(sys.modules, "pandas", None)
    table = sel.table
    assert isinstance(table, list) and len(table) == 54 and table[0]["model"] == "full"


def test_selection_between_families_picks_gamma():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.gamma(2.0, 1.0, 1500), rng.gamma(9.0, 1.5, 1500)])[:, None]
    sel = select(x, [1, 2, 3], distributions=[NormalDistribution, LogNormalDistribution, GammaDistribution,
                                              ExponentialDistribution], random_state=0)
    assert sel.best_params_["model"] == "GammaDistribution" and sel.best_params_["n_components"] == 2
    assert isinstance(sel.best_.distributions[0], GammaDistribution)
    assert [r["model"] for r in sel.rows][::3] == ["NormalDistribution", "LogNormalDistribution",
                                                   "GammaDistribution", "ExponentialDistribution"]


def test_per_column_candidates_and_threads_do_not_change_the_result():
    rng = np.random.default_rng(1)
    X = np.column_stack([np.concatenate([rng.normal(0, 1, 800), rng.normal(5, 1, 800)]),
                         np.concatenate([rng.exponential(1.0, 800), rng.exponential(6.0, 800)])])
    specs = [[NormalDistribution, ExponentialDistribution], [NormalDistribution, NormalDistribution]]
    one = select(X, [1, 2, 3], distributions=specs, random_state=3)
    two = select(X, [1, 2, 3], distributions=specs, random_state=3, n_jobs=2)
    assert one.best_params_["model"] == "[NormalDistribution, ExponentialDistribution]"
    assert one.best_params_["n_components"] == 2
    assert [r["bic"] for r in one.rows] == [r["bic"] for r in two.rows]


def test_failed_candidates_are_rows_with_their_reason():
    rng = np.random.default_rng(2)
    X = rng.normal(0.0, 1.0, (12, 2))
    sel = select(X, [1, 2, 5], distributions=[MVN, LogNormalDistribution], covariance_types=["full"],
                 random_state=0)
    rows = {(r["model"], r["n_components"]): r for r in sel.rows}
    assert rows[("full", 1)]["error"] is None and sel.best_params_["model"] == "full"
    assert "fewer samples (12) than parameters (29)" in rows[("full", 5)]["error"]  # 5·(2 + 3) + 4
    assert np.isnan(rows[("full", 5)]["bic"])
    for k in (1, 2, 5):  # negative values: outside the log-normal's support
        assert rows[("LogNormalDistribution", k)]["error"].startswith("ValueError")
    with pytest.raises(ValueError, match="no candidate could be fitted"):
        select(X, [1], distributions=LogNormalDistribution)


def test_bad_input_is_a_clear_error():
    X = np.random.default_rng(3).normal(size=(50, 2))
    for bad in (0, -1, 1.5, "3", [], [1, 0], [True]):
        with pytest.raises(ValueError, match="n_components"):
            select(X, bad)
    with pytest.raises(ValueError, match="criterion"):
        select(X, [1], criterion="hqic")
    with pytest.raises(ValueError, match="covariance_types"):
        select(X, [1], covariance_types=["full", "VVX"])
    with pytest.raises(ValueError, match="covariance_types applies"):
        select(X, [1], distributions=NormalDistribution, covariance_types="full")
    with pytest.raises(TypeError, match="distributions"):
        select(X, [1], distributions=["normal"])
    with pytest.raises(TypeError, match="return_history"):
        select(X, [1], return_history=True)
    with pytest.raises(ValueError, match="n_jobs"):
        select(X, [1], n_jobs=0)


def test_a_selection_object():
    X = np.random.default_rng(4).normal(size=(200, 2))
    sel = select(X, [1, 2], covariance_types=["EII", "VVV"], criterion="aic", random_state=0)
    assert isinstance(sel, Selection) and sel.criterion == "aic"
    assert {r["model"] for r in sel.rows} == {"EII", "VVV"}
    assert sel.best_params_["n_components"] in (1, 2)
    best = min((r for r in sel.rows), key=lambda r: (r["aic"], r["n_parameters"]))
    assert sel.best_params_["model"] == best["model"] and sel.best_params_["n_components"] == best["n_components"]
