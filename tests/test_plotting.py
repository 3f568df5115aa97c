"""genmix.plotting, rendered with matplotlib's Agg backend: each plot draws what it says (checked against
closed forms and scipy), returns its Axes, takes ``ax=``, and renders a PNG that is not blank."""
import io
import math

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats
from scipy.special import logsumexp

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.image as mpimg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Ellipse  # noqa: E402

from genmix import (  # noqa: E402
    DiscreteDistribution,
    GeneralMixtureModel,
    IndependentComponentsDistribution,
    MultivariateGaussianDistribution,
    NormalDistribution,
    PoissonDistribution,
    plotting,
)
from genmix.callbacks import History  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def rendered(fig):
    """The figure as a PNG, read back as pixels."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=60)
    buf.seek(0)
    return mpimg.imread(buf, format="png")


def assert_not_blank(fig):
    pixels = rendered(fig)
    assert pixels.ndim == 3 and pixels.shape[0] > 50 and pixels.shape[1] > 50
    # a blank canvas is one colour; a drawn plot has many, and a fair share of non-white pixels
    assert pixels[..., :3].std() > 0.05
    assert np.mean(pixels[..., :3].min(axis=-1) < 0.9) > 0.01


def gaussians_2d():
    means = [np.array([0.0, 0.0]), np.array([5.0, 3.0])]
    covs = [np.array([[1.0, 0.6], [0.6, 0.8]]), np.array([[0.5, -0.2], [-0.2, 1.5]])]
    model = GeneralMixtureModel([MultivariateGaussianDistribution(m, c) for m, c in zip(means, covs)], [0.4, 0.6])
    rng = np.random.default_rng(0)
    X = np.vstack([rng.multivariate_normal(means[0], covs[0], 160), rng.multivariate_normal(means[1], covs[1], 240)])
    return model, X, means, covs


def scipy_posteriors(X, means, covs, weights):
    logp = np.column_stack([np.log(w) + stats.multivariate_normal(m, c).logpdf(X)
                            for m, c, w in zip(means, covs, weights)])
    return np.exp(logp - logsumexp(logp, axis=1, keepdims=True))


# ---------------------------------------------------------------------------------------------------------
# 1-D density
# ---------------------------------------------------------------------------------------------------------

def test_density_histogram_mixture_and_weighted_components():
    model = GeneralMixtureModel([NormalDistribution(0, 1), NormalDistribution(4, 0.5)], [0.3, 0.7])
    X = np.concatenate([np.random.default_rng(1).normal(0, 1, 300), np.random.default_rng(2).normal(4, .5, 700)])
    ax = plotting.plot_density(model, X, bins=20)
    assert len(ax.patches) == 20  # the histogram's bars
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == {"component 0", "component 1", "mixture"}
    x = lines["mixture"].get_xdata()
    expected = 0.3 * stats.norm(0, 1).pdf(x) + 0.7 * stats.norm(4, 0.5).pdf(x)
    assert_allclose(lines["mixture"].get_ydata(), expected, rtol=1e-12)
    assert_allclose(lines["component 1"].get_ydata(), 0.7 * stats.norm(4, 0.5).pdf(x), rtol=1e-12)
    # the histogram is a density: its area is one
    heights = np.array([p.get_height() for p in ax.patches])
    widths = np.array([p.get_width() for p in ax.patches])
    assert_allclose(np.sum(heights * widths), 1.0, rtol=1e-12)
    assert_not_blank(ax.figure)


def test_density_of_a_column_of_a_multivariate_gaussian_is_its_marginal_normal():
    model, X, means, covs = gaussians_2d()
    ax = plotting.plot_density(model, X, column=1, components=False)
    (line,) = ax.get_lines()
    x = line.get_xdata()
    expected = 0.4 * stats.norm(means[0][1], math.sqrt(covs[0][1, 1])).pdf(x) + \
        0.6 * stats.norm(means[1][1], math.sqrt(covs[1][1, 1])).pdf(x)
    assert_allclose(line.get_ydata(), expected, rtol=1e-12)
    assert ax.get_xlabel() == "x1"


def test_density_of_counts_is_drawn_at_the_integers():
    model = GeneralMixtureModel([PoissonDistribution(2.0), PoissonDistribution(9.0)], [0.5, 0.5])
    X = np.concatenate([np.random.default_rng(0).poisson(2, 200), np.random.default_rng(1).poisson(9, 200)])
    ax = plotting.plot_density(model, X.astype(float))
    line = [ln for ln in ax.get_lines() if ln.get_label() == "mixture"][0]
    x = line.get_xdata()
    assert_allclose(x, np.round(x))
    assert_allclose(line.get_ydata(), 0.5 * stats.poisson(2).pmf(x) + 0.5 * stats.poisson(9).pmf(x), rtol=1e-10)
    # one unit bin per integer, so a bar's height is the data's frequency of that count
    assert_allclose([p.get_width() for p in ax.patches], 1.0)
    centres = [p.get_x() + 0.5 for p in ax.patches]
    assert_allclose(centres, np.arange(X.min(), X.max() + 1))
    assert_allclose([p.get_height() for p in ax.patches], np.bincount(X - X.min()) / X.size)


def test_density_draws_on_a_given_axes_and_ignores_missing_values():
    model = GeneralMixtureModel([NormalDistribution(0, 1), NormalDistribution(4, 0.5)])
    fig, (a, b) = plt.subplots(1, 2)
    X = np.array([0.1, np.nan, 3.9, 4.2, -0.5, np.nan])
    assert plotting.plot_density(model, X, ax=b, bins=3) is b
    assert len(b.patches) == 3 and not a.patches
    assert_allclose(sum(p.get_height() * p.get_width() for p in b.patches), 1.0)


# ---------------------------------------------------------------------------------------------------------
# classification, ellipses and uncertainty
# ---------------------------------------------------------------------------------------------------------

def test_classification_colours_by_the_most_probable_component_and_draws_sigma_ellipses():
    model, X, means, covs = gaussians_2d()
    ax = plotting.plot_classification(model, X)
    labels = scipy_posteriors(X, means, covs, [0.4, 0.6]).argmax(axis=1)
    assert len(ax.collections) == 2
    for i, coll in enumerate(ax.collections):
        assert_allclose(np.sort(coll.get_offsets()[:, 0]), np.sort(X[labels == i, 0]))
    ellipses = [p for p in ax.patches if isinstance(p, Ellipse)]
    assert len(ellipses) == 4
    for i, cov in enumerate(covs):
        axes_lengths = 2 * np.sqrt(np.linalg.eigvalsh(cov))  # the 1-sigma ellipse's minor and major axes
        one, two = ellipses[2 * i], ellipses[2 * i + 1]
        assert_allclose(one.center, means[i], atol=1e-12)
        assert_allclose(sorted([one.width, one.height]), axes_lengths, rtol=1e-10)
        assert_allclose(sorted([two.width, two.height]), 2 * axes_lengths, rtol=1e-10)
        # the major axis points along the covariance's leading eigenvector
        v = np.linalg.eigh(cov)[1][:, 1]
        angle = math.radians(one.angle)
        assert abs(abs(np.dot([math.cos(angle), math.sin(angle)], v)) - 1) < 1e-10
    means_drawn = [ln for ln in ax.get_lines() if ln.get_marker() == "x"]
    assert_allclose(sorted(np.concatenate([ln.get_xdata() for ln in means_drawn])), [0.0, 5.0])
    assert_not_blank(ax.figure)


def test_uncertainty_sizes_grow_with_one_minus_the_max_posterior():
    model, X, means, covs = gaussians_2d()
    ax = plotting.plot_uncertainty(model, X)
    P = scipy_posteriors(X, means, covs, [0.4, 0.6])
    labels, unsure = P.argmax(axis=1), 1 - P.max(axis=1)
    for i, coll in enumerate(ax.collections):
        sizes = coll.get_sizes()
        rows = labels == i
        assert sizes.size == rows.sum()
        # sizes are an increasing affine function of the uncertainty, the most uncertain row the largest
        assert_allclose(sizes, 4 + 60 * unsure[rows] / unsure.max(), rtol=1e-6, atol=1e-6)
    assert "uncertainty" in ax.get_title()


def test_classification_of_chosen_columns_of_three_dimensional_data():
    mean = np.array([1.0, 2.0, 3.0])
    cov = np.array([[2.0, 0.3, 0.5], [0.3, 1.0, 0.2], [0.5, 0.2, 3.0]])
    model = GeneralMixtureModel([MultivariateGaussianDistribution(mean, cov),
                                 MultivariateGaussianDistribution(mean + 6, cov)])
    X = np.random.default_rng(3).multivariate_normal(mean, cov, 100)
    ax = plotting.plot_classification(model, X, columns=(2, 0), feature_names=["a", "b", "c"])
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("c", "a")
    sub = cov[np.ix_([2, 0], [2, 0])]  # the marginal covariance of the drawn columns
    one = [p for p in ax.patches if isinstance(p, Ellipse)][0]
    assert_allclose(one.center, mean[[2, 0]])
    assert_allclose(sorted([one.width, one.height]), 2 * np.sqrt(np.linalg.eigvalsh(sub)), rtol=1e-10)


def test_principal_axes_of_higher_dimensional_data():
    rng = np.random.default_rng(4)
    cov = np.diag([4.0, 1.0, 0.25, 0.1])
    model = GeneralMixtureModel([MultivariateGaussianDistribution(np.zeros(4), cov),
                                 MultivariateGaussianDistribution(np.full(4, 0.5), cov)])
    X = rng.multivariate_normal(np.zeros(4), cov, 400)
    ax = plotting.plot_classification(model, X)
    assert ax.get_xlabel().startswith("principal axis 1")
    # numpy's SVD of the centred data gives the axes: the drawn points are the data's coordinates on them
    centred = X - X.mean(axis=0)
    vt = np.linalg.svd(centred, full_matrices=False)[2][:2]
    points = np.vstack([c.get_offsets() for c in ax.collections])
    assert_allclose(np.sort(np.abs(points[:, 0])), np.sort(np.abs(centred @ vt[0])), rtol=1e-10)
    one = [p for p in ax.patches if isinstance(p, Ellipse)][0]
    assert_allclose(sorted([one.width, one.height]), 2 * np.sqrt(np.linalg.eigvalsh(vt @ cov @ vt.T)), rtol=1e-10)


def test_diagonal_and_product_of_normals_components_get_ellipses():
    diag = GeneralMixtureModel([MultivariateGaussianDistribution([0, 0], [1.0, 4.0], covariance_type="diag"),
                                MultivariateGaussianDistribution([5, 5], [1.0, 4.0], covariance_type="diag")])
    prod = GeneralMixtureModel([IndependentComponentsDistribution([NormalDistribution(0, 1), NormalDistribution(0, 2)]),
                                IndependentComponentsDistribution([NormalDistribution(5, 1), NormalDistribution(5, 2)])])
    X = np.random.default_rng(5).normal(size=(50, 2)) * [1, 2]
    for model in (diag, prod):
        ax = plotting.plot_classification(model, X)
        one = [p for p in ax.patches if isinstance(p, Ellipse)][0]
        assert_allclose(sorted([one.width, one.height]), [2.0, 4.0], rtol=1e-12)


# ---------------------------------------------------------------------------------------------------------
# one panel per column
# ---------------------------------------------------------------------------------------------------------

def mixed_model():
    c0 = IndependentComponentsDistribution([NormalDistribution(30, 3), DiscreteDistribution({"red": .7, "blue": .3})])
    c1 = IndependentComponentsDistribution([NormalDistribution(50, 3), DiscreteDistribution({"red": .2, "blue": .8})])
    model = GeneralMixtureModel([c0, c1], [0.5, 0.5])
    X = np.array([[31.0, "red"], [29.5, "blue"], [50.2, "blue"], [np.nan, "red"], [49.0, None], [52.0, "blue"]],
                 dtype=object)
    return model, X


def test_columns_panel_per_column_with_densities_and_category_bars():
    model, X = mixed_model()
    axes = plotting.plot_columns(model, X, feature_names=["age", "colour"])
    assert len(axes) == 2 and [a.get_title() for a in axes] == ["age", "colour"]
    lines = {ln.get_label(): ln for ln in axes[0].get_lines()}
    x = lines["mixture"].get_xdata()
    assert_allclose(lines["mixture"].get_ydata(), 0.5 * stats.norm(30, 3).pdf(x) + 0.5 * stats.norm(50, 3).pdf(x))
    bars = axes[1].patches
    assert len(bars) == 4  # two categories x two components
    heights = sorted(round(b.get_height(), 12) for b in bars)
    assert heights == [0.2, 0.3, 0.7, 0.8]
    assert [t.get_text() for t in axes[1].get_xticklabels()] == ["red", "blue"]
    # the data's category frequencies: 2 red, 3 blue among the 5 observed
    (freq,) = [ln for ln in axes[1].get_lines() if ln.get_label() == "data"]
    assert_allclose(freq.get_ydata(), [2 / 5, 3 / 5])
    assert_not_blank(axes[0].figure)


def test_columns_takes_one_axes_per_column():
    model, X = mixed_model()
    fig, grid = plt.subplots(2, 1)
    assert list(plotting.plot_columns(model, X, ax=grid)) == list(grid)
    with pytest.raises(ValueError, match="one Axes per column"):
        plotting.plot_columns(model, X, ax=[grid[0]])


# ---------------------------------------------------------------------------------------------------------
# the dispatcher and model.plot
# ---------------------------------------------------------------------------------------------------------

def test_plot_mixture_picks_the_plot_that_suits_the_model():
    model, X, _, _ = gaussians_2d()
    assert "uncertainty" in model.plot(X).get_title()
    assert "classification" in model.plot(X, kind="classification").get_title()
    mixed, Xm = mixed_model()
    assert len(mixed.plot(Xm)) == 2
    uni = GeneralMixtureModel([NormalDistribution(0, 1), NormalDistribution(3, 1)])
    ax = uni.plot(np.linspace(-2, 5, 50))
    assert ax.get_ylabel() == "density"
    fig, ax0 = plt.subplots()
    assert model.plot(X, ax=ax0) is ax0


def test_plot_errors_are_clear():
    model, X, _, _ = gaussians_2d()
    with pytest.raises(ValueError, match="X has 3 columns, but the model has 2"):
        model.plot(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="kind must be one of"):
        model.plot(X, kind="pie")
    with pytest.raises(ValueError, match="no rows"):
        model.plot(np.zeros((0, 2)))
    with pytest.raises(ValueError, match="columns must be two different columns"):
        plotting.plot_classification(model, X, columns=(0, 0))
    with pytest.raises(ValueError, match="column must be in"):
        plotting.plot_density(model, X, column=2)
    mixed, Xm = mixed_model()
    with pytest.raises(ValueError, match="categorical"):
        plotting.plot_classification(mixed, Xm)
    with pytest.raises(ValueError, match="categorical"):
        plotting.plot_density(mixed, Xm, column=1)
    with pytest.raises(TypeError, match="GeneralMixtureModel"):
        plotting.plot_mixture(NormalDistribution(0, 1), X)
    with pytest.raises(ValueError, match="feature_names must name"):
        plotting.plot_density(model, X, feature_names=["a"])
    with pytest.raises(ValueError, match="needs two columns"):
        plotting.plot_classification(GeneralMixtureModel([NormalDistribution(0, 1)]), np.zeros(3))


# ---------------------------------------------------------------------------------------------------------
# criteria and convergence
# ---------------------------------------------------------------------------------------------------------

def test_criteria_curves_one_line_per_model_and_the_best_marked(faithful_selection):
    _, selection = faithful_selection
    ax = plotting.plot_criteria(selection)
    models = list(dict.fromkeys(r["model"] for r in selection.rows))
    lines = ax.get_lines()
    assert [ln.get_label() for ln in lines] == models + ["best"]
    for line, name in zip(lines, models):
        rows = [r for r in selection.rows if r["model"] == name and r["error"] is None]
        assert_allclose(line.get_ydata(), [r["bic"] for r in rows])
    best = [r for r in selection.rows if r["model"] == selection.best_params_["model"]
            and r["n_components"] == selection.best_params_["n_components"]][0]
    assert_allclose(lines[-1].get_ydata(), [best["bic"]])
    assert min(r["bic"] for r in selection.rows if r["error"] is None) == best["bic"]
    aic = selection.plot("aic")
    assert aic.get_ylabel().startswith("AIC")
    assert_not_blank(ax.figure)
    with pytest.raises(ValueError, match="criterion must be one of"):
        plotting.plot_criteria(selection, "mdl")
    with pytest.raises(TypeError, match="genmix.select"):
        plotting.plot_criteria([1, 2])


def test_convergence_trace_is_the_history():
    X = np.concatenate([np.random.default_rng(6).normal(0, 1, 200), np.random.default_rng(7).normal(3, 1, 200)])
    model = GeneralMixtureModel([NormalDistribution(-1, 1), NormalDistribution(4, 1)])
    _, history = model.fit(X, stop_threshold=1e-6, return_history=True)
    ax = plotting.plot_convergence(history, per_sample=X.size)
    (line,) = ax.get_lines()
    y = line.get_ydata()
    assert_allclose(y, np.array([history.initial_log_probability] + history.log_probabilities) / X.size)
    assert_allclose(line.get_xdata(), np.arange(y.size))
    assert np.all(np.diff(y) >= -1e-12)  # EM never decreases the likelihood
    two = plotting.plot_convergence([history, history], label="run")
    assert [ln.get_label() for ln in two.get_lines()] == ["run 0", "run 1"]
    with pytest.raises(TypeError, match="History"):
        plotting.plot_convergence([1.0])
    with pytest.raises(ValueError, match="per_sample"):
        plotting.plot_convergence(history, per_sample=0)
    with pytest.raises(ValueError, match="one label per history"):
        plotting.plot_convergence([history, History()], label=["a", "b", "c"])
