"""genmix.select: every candidate fitted and ranked; checked against scikit-learn, scipy and mclust's
published Old Faithful figures."""
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from genmix import (ExponentialDistribution, GammaDistribution, GeneralMixtureModel, LogNormalDistribution,
                    MultivariateGaussianDistribution as MVN, NormalDistribution, Selection, select)
from genmix.callbacks import Callback
from genmix.estep import estep_from_responsibilities
from genmix.datasets import load_old_faithful

TYPES = ["full", "tied", "diag", "spherical", "EEI", "EII"]


#: genmix's names of mclust's covariance models
MCLUST_NAMES = {"EII": "EII", "VII": "spherical", "EEI": "EEI", "VVI": "diag", "EEE": "tied", "VVV": "full"}


def _read_mclust():
    """mclust 6.0.0's output on faithful (tests/data/mclust_faithful.txt, with the R script that wrote
    it): its hierarchical partition per k (0-based labels) and its table, ``(genmix model, k) ->
    (loglik, BIC, ICL)`` in mclust's sign."""
    partitions, table = {1: np.zeros(272, dtype=int)}, {}
    with open(Path(__file__).parent / "data" / "mclust_faithful.txt", encoding="utf-8") as fh:
        for line in fh:
            fields = line.split()
            if fields and fields[0] == "hc":
                partitions[int(fields[1])] = np.array([int(c) - 1 for c in fields[2]])
            elif fields and fields[0] == "row":
                table[(MCLUST_NAMES[fields[1]], int(fields[2]))] = tuple(float(v) for v in fields[3:6])
    return partitions, table


MCLUST_PARTITIONS, MCLUST_TABLE = _read_mclust()
MCLUST_LOGLIK = {name: [MCLUST_TABLE[(name, k)][0] for k in range(1, 10)] for name in MCLUST_NAMES.values()}


class _MclustStoppingRule(Callback):
    """mclust's EM stops when the relative change of the log-likelihood, |Δ| / (1 + |L|), is below 1e-5."""

    def on_epoch_end(self, logs):
        if abs(logs["improvement"]) / (1.0 + abs(logs["log_probability"])) < 1e-5:
            self.stop_training = True


@pytest.mark.parametrize("name", TYPES)
def test_from_mclusts_start_with_its_stopping_rule_genmix_reproduces_mclusts_table(name):
    """genmix's EM, M-steps and criteria are mclust's: started from mclust's own hierarchical partition
    (its classification into k clusters, an M-step from those hard labels) and stopped by mclust's rule,
    every (model, k) of ``Mclust(faithful)``'s table comes out with mclust's log-likelihood, BIC and ICL
    to 1e-5 (measured: 5e-7) — including the best model, EEE with 3 components: −1126.326, BIC
    −2314.316, ICL −2357.824 in mclust's sign."""
    X, _ = load_old_faithful()
    for k in range(1, 10):
        components = [MVN.blank(2, covariance_type=name) for _ in range(k)]
        model = GeneralMixtureModel(components)
        model.add_summaries(estep_from_responsibilities(components, X, np.eye(k)[MCLUST_PARTITIONS[k]]))
        model.from_summaries()
        model.fit(X, stop_threshold=0.0, callbacks=[_MclustStoppingRule()])
        loglik, bic, icl = MCLUST_TABLE[(name, k)]
        assert model.log_probability(X).sum() == pytest.approx(loglik, abs=1e-5), k
        assert -model.bic(X) == pytest.approx(bic, abs=1e-5), k  # mclust's sign is genmix's negated
        assert -model.icl(X) == pytest.approx(icl, abs=1e-5), k
        if (name, k) == ("tied", 3):
            assert (round(loglik, 3), round(bic, 3), round(icl, 3)) == (-1126.326, -2314.316, -2357.824)
            assert model.n_parameters == 11


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
    """Across the whole table genmix's log-likelihood is at least mclust's − 1e-3; most pairs are higher
    (mclust stops EM earlier, and for some (model, k) its single start finds a lower optimum)."""
    _, sel = faithful_selection
    rows = {(r["model"], r["n_components"]): r for r in sel.rows}
    below = {key: rows[key]["log_likelihood"] - MCLUST_LOGLIK[key[0]][key[1] - 1] for key in rows
             if not rows[key]["log_likelihood"] >= MCLUST_LOGLIK[key[0]][key[1] - 1] - 1e-3}
    assert not below, below
    higher = sum(rows[key]["log_likelihood"] > MCLUST_LOGLIK[key[0]][key[1] - 1] + 1e-3 for key in rows)
    assert higher >= 30


def test_sharing_partitions_only_raises_log_likelihoods():
    """The shared partitions are more starts: a candidate's log-likelihood can only rise, up to the
    convergence tolerance (two starts that reach the same optimum stop within it: each run stops when an
    iteration gains less than 1e-8 per sample), and some rise by more than that on these overlapping
    clusters."""
    rng = np.random.default_rng(5)
    X = np.vstack([rng.normal([0, 0], [1.0, 0.3], (150, 2)), rng.normal([2, 1], [0.3, 1.0], (150, 2)),
                   rng.normal([-1, 3], 0.6, (100, 2))])
    plain = select(X, [2, 3, 4], random_state=0, share_partitions=False)
    shared = select(X, [2, 3, 4], random_state=0)
    for a, b in zip(plain.rows, shared.rows):
        assert (a["model"], a["n_components"]) == (b["model"], b["n_components"])
        if a["error"] is None:
            assert b["log_likelihood"] >= a["log_likelihood"] - 1e-5
        if b["start"] and b["start"].startswith("partition of"):
            assert b["converged"]
            assert_allclose(b["bic"], -2 * b["log_likelihood"] + b["n_parameters"] * np.log(400), rtol=1e-12)
    gains = [b["log_likelihood"] - a["log_likelihood"] for a, b in zip(plain.rows, shared.rows) if a["error"] is None]
    assert max(gains) > 1e-2


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


def test_per_column_candidates_and_threads_do_not_change_the_result(monkeypatch):
    rng = np.random.default_rng(1)
    X = np.column_stack([np.concatenate([rng.normal(0, 1, 800), rng.normal(5, 1, 800)]),
                         np.concatenate([rng.exponential(1.0, 800), rng.exponential(6.0, 800)])])
    specs = [[NormalDistribution, ExponentialDistribution], [NormalDistribution, NormalDistribution]]
    one = select(X, [1, 2, 3], distributions=specs, random_state=3)
    module = sys.modules["genmix.select"]
    monkeypatch.setattr(module, "_ROWS_FOR_THREADS", 0)  # threads even for these 1,600 rows
    pools = []
    real_pool = module.concurrent.futures.ThreadPoolExecutor
    monkeypatch.setattr(module.concurrent.futures, "ThreadPoolExecutor",
                        lambda n: pools.append(n) or real_pool(n))
    two = select(X, [1, 2, 3], distributions=specs, random_state=3, n_jobs=2)
    assert pools and set(pools) == {2}
    assert one.best_params_["model"] == "[NormalDistribution, ExponentialDistribution]"
    assert one.best_params_["n_components"] == 2
    assert [r["bic"] for r in one.rows] == [r["bic"] for r in two.rows]


def test_small_data_are_fitted_in_one_thread_whatever_n_jobs(monkeypatch):
    """Below 100,000 rows a fit is Python overhead that holds the GIL; threads would only slow it."""
    module = sys.modules["genmix.select"]

    def no_pool(*args, **kwargs):
        raise AssertionError("select started threads on small data")

    monkeypatch.setattr(module.concurrent.futures, "ThreadPoolExecutor", no_pool)
    X = np.random.default_rng(0).normal(size=(300, 2))
    assert select(X, [1, 2], covariance_types="diag", random_state=0, n_jobs=2).best_params_["n_components"] >= 1


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
