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


#: mclust 6.0.0's log-likelihoods on faithful, k = 1..9 (``mclustBIC(faithful, G = 1:9, modelNames =
#: c("EII", "VII", "EEI", "VVI", "EEE", "VVV"))``, loglik = (BIC + df log n) / 2), by genmix's names
MCLUST_LOGLIK = {
    "EII": [-2003.952, -1709.682, -1663.625, -1581.497, -1532.654, -1490.255, -1436.323, -1421.780, -1401.001],
    "spherical": [-2003.952, -1709.532, -1637.467, -1579.369, -1511.285, -1454.619, -1411.009, -1380.651, -1361.606],
    "EEI": [-1516.706, -1157.680, -1133.478, -1125.399, -1118.683, -1115.847, -1116.563, -1111.998, -1107.914],
    "diag": [-1516.706, -1147.806, -1131.942, -1118.488, -1108.239, -1105.451, -1102.049, -1097.539, -1093.027],
    "tied": [-1289.797, -1140.187, -1126.326, -1126.371, -1132.680, -1117.618, -1120.198, -1115.177, -1113.521],
    "full": [-1289.797, -1130.264, -1127.199, -1111.280, -1108.410, -1095.406, -1091.301, -1089.273, -1081.645],
}


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


def test_every_candidate_reaches_mclusts_log_likelihood(faithful_selection):
    """Across the whole table genmix's log-likelihood is at least mclust's − 1e-3, except for one known
    pair: full (VVV) with 6 components, where mclust's start finds an optimum 3.9 higher that genmix's
    starts miss (issue 16 is open on it). Most pairs are higher than mclust's: it stops EM earlier."""
    _, sel = faithful_selection
    rows = {(r["model"], r["n_components"]): r for r in sel.rows}
    below = {key for key in rows if rows[key]["log_likelihood"] < MCLUST_LOGLIK[key[0]][key[1] - 1] - 1e-3}
    assert below <= {("full", 6)}, below
    higher = sum(rows[key]["log_likelihood"] > MCLUST_LOGLIK[key[0]][key[1] - 1] + 1e-3 for key in rows)
    assert higher >= 30


def test_sharing_partitions_only_raises_log_likelihoods():
    rng = np.random.default_rng(5)
    X = np.vstack([rng.normal([0, 0], [1.0, 0.3], (150, 2)), rng.normal([2, 1], [0.3, 1.0], (150, 2)),
                   rng.normal([-1, 3], 0.6, (100, 2))])
    plain = select(X, [2, 3, 4], random_state=0, share_partitions=False)
    shared = select(X, [2, 3, 4], random_state=0)
    for a, b in zip(plain.rows, shared.rows):
        assert (a["model"], a["n_components"]) == (b["model"], b["n_components"])
        if a["error"] is None:
            assert b["log_likelihood"] >= a["log_likelihood"] - 1e-9
        if b["start"] and b["start"].startswith("partition of"):
            assert b["log_likelihood"] > a["log_likelihood"] or a["error"] is not None
            assert b["converged"]
            assert_allclose(b["bic"], -2 * b["log_likelihood"] + b["n_parameters"] * np.log(400), rtol=1e-12)


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
                                   "converged", "seconds", "error", "warnings", "start"]
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
