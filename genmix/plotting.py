"""Pictures of fitted mixtures (needs matplotlib: ``pip install "genmix[plot]"``).

mclust's ``plot(Mclust(X))`` in four functions and a dispatcher:

- :func:`plot_density`: a histogram of one column with the mixture density and each weighted component;
- :func:`plot_classification`: a scatter coloured by the most probable component, each Gaussian's 1σ and
  2σ ellipses and its mean, points sized by uncertainty (``1 − max posterior``) if asked
  (:func:`plot_uncertainty`); data with more than two columns are drawn on two chosen columns or on the
  first two principal axes;
- :func:`plot_columns`: one panel per column of a per-column (mixed) model: histogram and per-component
  densities of numeric columns, grouped bars of per-component category probabilities of categorical ones;
- :func:`plot_criteria` (the criterion curves of :func:`genmix.select`) and :func:`plot_convergence` (the
  log-likelihood per EM iteration from a :class:`genmix.callbacks.History`);
- :func:`plot_mixture` picks one of the first three, and is ``model.plot(X)``.

Every function draws on ``ax`` (a new figure when None) and returns the Axes (an array of Axes for the
panels), so a caller can add titles, combine panels and save with ``ax.figure.savefig(...)``.
"""
import collections
import math

import numpy as np

from ._validation import check_criterion

try:
    import matplotlib  # noqa: F401 - the plot extra; the functions import pyplot and patches when they draw
except ImportError as exc:  # pragma: no cover - the plot extra is part of the test extra
    raise ImportError('genmix.plotting needs matplotlib: pip install "genmix[plot]"') from exc

__all__ = ["plot_mixture", "plot_density", "plot_classification", "plot_uncertainty", "plot_columns",
           "plot_criteria", "plot_convergence"]

_KINDS = ("auto", "density", "classification", "uncertainty", "columns")


def _pyplot():
    import matplotlib.pyplot as plt

    return plt


def _axes(ax, figsize=(6.4, 4.4)):
    if ax is None:
        _, ax = _pyplot().subplots(figsize=figsize)
    return ax


def _colour(i):
    return f"C{i % 10}"


# ---------------------------------------------------------------------------------------------------------
# what a component says about a column
# ---------------------------------------------------------------------------------------------------------

def _gaussian(c, d):
    """A component's mean and full covariance when it is Gaussian (a multivariate Gaussian of any
    covariance type, or a product of Normal columns), else None."""
    from .distributions import IndependentComponentsDistribution, MultivariateGaussianDistribution, \
        NormalDistribution

    if isinstance(c, MultivariateGaussianDistribution):
        mean, cov = np.asarray(c.parameters[0], dtype=float), np.asarray(c.parameters[1], dtype=float)
        if cov.ndim == 1:
            cov = np.diag(cov)
        elif cov.ndim == 0:
            cov = float(cov) * np.eye(d)
        return mean, cov
    parts = c.distributions if isinstance(c, IndependentComponentsDistribution) else [c] if d == 1 else None
    if parts is not None and all(isinstance(p, NormalDistribution) for p in parts):
        mean = np.array([p.parameters[0] for p in parts], dtype=float)
        return mean, np.diag(np.array([p.parameters[1] for p in parts], dtype=float) ** 2)
    return None


def _marginal(c, j, d):
    """The distribution of column ``j`` under component ``c`` (an object with ``log_probability``)."""
    from .distributions import IndependentComponentsDistribution, MultivariateGaussianDistribution, \
        NormalDistribution

    if d == 1 and not isinstance(c, (IndependentComponentsDistribution, MultivariateGaussianDistribution)):
        return c
    if isinstance(c, IndependentComponentsDistribution):
        return c.distributions[j]
    gaussian = _gaussian(c, d)
    if gaussian is not None:
        return NormalDistribution(gaussian[0][j], math.sqrt(gaussian[1][j, j]))
    raise ValueError(f"cannot draw column {j} of a {type(c).__name__} component on its own.")


def _is_categorical(model, j):
    from .distributions import DiscreteDistribution

    return any(isinstance(_marginal(c, j, model.d), DiscreteDistribution) for c in model.distributions)


def _column(X, j):
    """Column ``j`` of ``X`` (an array or a DataFrame) as a 1-D array."""
    if hasattr(X, "iloc"):
        return X.iloc[:, j].to_numpy()
    X = np.asarray(X)
    return X.reshape(-1, 1)[:, 0] if X.ndim == 1 else X[:, j]


def _numbers(values):
    values = np.asarray(values, dtype=float)
    return values[~np.isnan(values)]


def _check_model(model, X, what):
    if not all(hasattr(model, a) for a in ("distributions", "weights", "predict_proba", "d", "n")):
        raise TypeError(f"{what} draws a fitted GeneralMixtureModel; got {type(model).__name__}.")
    d = 1 if np.ndim(X) == 1 else np.shape(X)[1]
    if d != model.d:
        raise ValueError(f"X has {d} columns, but the model has {model.d}.")
    if np.shape(X)[0] == 0:
        raise ValueError("X has no rows to draw.")


def _names(model, feature_names):
    names = feature_names if feature_names is not None else getattr(model, "feature_names", None)
    if names is None:
        return [f"x{j}" for j in range(model.d)]
    names = [str(n) for n in names]
    if len(names) != model.d:
        raise ValueError(f"feature_names must name the model's {model.d} columns; got {len(names)}.")
    return names


# ---------------------------------------------------------------------------------------------------------
# one column
# ---------------------------------------------------------------------------------------------------------

def plot_density(model, X, *, column=0, bins="auto", components=True, feature_names=None, ax=None):
    """A histogram of one numeric column with the mixture's density of it and each weighted component.

    Parameters
    ----------
    model : GeneralMixtureModel
        The fitted mixture.
    X : array-like of shape (n_samples,) or (n_samples, d)
        The data (NaN values are left out of the histogram).
    column : int, default=0, keyword-only
        The column to draw; its density is the marginal of each component (a multivariate Gaussian's is
        the Normal of that coordinate).
    bins : int or str, default='auto', keyword-only
        Passed to :func:`numpy.histogram_bin_edges` ('auto' for a column of counts: one bin per integer).
    components : bool, default=True, keyword-only
        Draw each component's weighted density (dashed) under the mixture's.
    feature_names : list of str, default=None, keyword-only
        Column names for the axis label (None: the model's ``feature_names``, or ``x0``, ``x1``…).
    ax : matplotlib.axes.Axes, default=None, keyword-only
        Where to draw (None: a new figure).

    Returns
    -------
    ax : matplotlib.axes.Axes
        The axes drawn on: one histogram (its bars are patches), the mixture's density line and one line
        per component.
    """
    _check_model(model, X, "plot_density")
    if not 0 <= column < model.d:
        raise ValueError(f"column must be in [0, {model.d}); got {column}.")
    if _is_categorical(model, column):
        raise ValueError(f"column {column} is categorical; plot_columns draws its category probabilities.")
    ax = _axes(ax)
    _draw_numeric(ax, model, column, _column(X, column), bins, components)
    ax.set_xlabel(_names(model, feature_names)[column])
    ax.legend(fontsize="small")
    return ax


def _draw_numeric(ax, model, j, values, bins, components):
    """Column ``j``'s histogram (a density; missing values left out) under the mixture's density of it."""
    numbers = _numbers(values)
    edges = _edges(model, j, numbers, bins)
    ax.hist(numbers, bins=edges, density=True, color="0.82", edgecolor="white", linewidth=0.5, label="data")
    _draw_densities(ax, model, j, edges, components)
    ax.set_ylabel("density")


def _edges(model, j, values, bins):
    """Histogram bin edges: unit bins centred on the integers for a column of counts (Poisson, Bernoulli),
    so that bar heights compare with the probabilities; else numpy's ``bins`` rule."""
    if values.size and _is_integer_family([_marginal(c, j, model.d) for c in model.distributions]) \
            and bins == "auto":
        return np.arange(math.floor(values.min()) - 0.5, math.ceil(values.max()) + 1.0)
    return np.histogram_bin_edges(values, bins=bins)


def _draw_densities(ax, model, j, edges, components):
    parts = [_marginal(c, j, model.d) for c in model.distributions]
    discrete = _is_integer_family(parts)
    if discrete:  # probabilities at the integers, drawn as steps over unit bins
        grid = np.arange(math.ceil(edges[0]), math.floor(edges[-1]) + 1, dtype=float)
    else:
        span = edges[-1] - edges[0] or 1.0
        grid = np.linspace(edges[0] - 0.05 * span, edges[-1] + 0.05 * span, 400)
    dens = np.array([w * np.exp(np.asarray(p.log_probability(grid), dtype=float))
                     for w, p in zip(model.weights, parts)])
    style = {"drawstyle": "steps-mid"} if discrete else {}
    if components:
        for i, y in enumerate(dens):
            ax.plot(grid, y, linestyle="--", linewidth=1.2, color=_colour(i), label=f"component {i}", **style)
    ax.plot(grid, dens.sum(axis=0), color="black", linewidth=1.8, label="mixture", **style)


def _is_integer_family(parts):
    from .distributions import BernoulliDistribution, PoissonDistribution

    return all(isinstance(p, (PoissonDistribution, BernoulliDistribution)) for p in parts)


def _draw_categories(ax, model, j, values):
    parts = [_marginal(c, j, model.d) for c in model.distributions]
    categories = []
    for p in parts:
        categories += [k for k in p.parameters[0] if k not in categories]
    observed = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    categories += [v for v in dict.fromkeys(observed) if v not in categories]
    x = np.arange(len(categories))
    width = 0.8 / model.n
    for i, p in enumerate(parts):
        probs = [p.parameters[0].get(k, 0.0) for k in categories]
        ax.bar(x - 0.4 + width * (i + 0.5), probs, width=width, color=_colour(i), label=f"component {i}")
    if observed:
        tally = collections.Counter(observed)  # one pass over the rows, not one per category
        counts = np.array([tally[k] for k in categories], dtype=float)
        ax.plot(x, counts / counts.sum(), linestyle="none", marker="_", markersize=14, markeredgewidth=2,
                color="black", label="data")
    ax.set_xticks(x)
    ax.set_xticklabels([str(k) for k in categories], rotation=45 if len(categories) > 6 else 0)
    ax.set_ylabel("probability")


# ---------------------------------------------------------------------------------------------------------
# two columns
# ---------------------------------------------------------------------------------------------------------

def _projection(model, X, columns):
    """The 2-D coordinates of the rows and a 2×d map of the model's coordinates onto them, with axis labels."""
    names = columns[2]
    Xf = np.asarray(X, dtype=float)
    if columns[0] is not None:
        W = np.zeros((2, model.d))
        W[0, columns[0]] = W[1, columns[1]] = 1.0
        return Xf[:, list(columns[:2])], W, [names[columns[0]], names[columns[1]]]
    complete = Xf[~np.isnan(Xf).any(axis=1)]
    if complete.shape[0] < 2:
        raise ValueError("the principal axes need at least two rows without missing values.")
    centre = complete.mean(axis=0)
    _, s, vt = np.linalg.svd(complete - centre, full_matrices=False)
    W = vt[:2]
    share = s[:2] ** 2 / np.sum(s ** 2)
    return (Xf - centre) @ W.T, W, [f"principal axis 1 ({share[0]:.0%})", f"principal axis 2 ({share[1]:.0%})"]


def _check_columns(model, columns, names):
    if columns is None:
        if model.d < 2:
            raise ValueError("plot_classification needs two columns; the model has one (see plot_density).")
        return (0, 1, names) if model.d == 2 else (None, None, names)
    if columns == "pca":
        return None, None, names
    cols = [names.index(c) if isinstance(c, str) and c in names else c for c in columns]
    if len(cols) != 2 or not all(isinstance(c, (int, np.integer)) and 0 <= c < model.d for c in cols) \
            or cols[0] == cols[1]:
        raise ValueError(f"columns must be two different columns of the model (positions in [0, {model.d}) or "
                         f"names in {names}), or 'pca'; got {columns!r}.")
    return int(cols[0]), int(cols[1]), names


def plot_classification(model, X, *, columns=None, uncertainty=False, ellipses=True, feature_names=None,
                        ax=None):
    """The rows coloured by their most probable component, with each Gaussian's 1σ and 2σ ellipses and mean.

    Parameters
    ----------
    model : GeneralMixtureModel
        The fitted mixture (numeric columns).
    X : array-like of shape (n_samples, d)
        The data; rows with missing values are classified on their observed values and drawn where
        their drawn coordinates are observed.
    columns : pair of int or str, or 'pca', default=None, keyword-only
        The two columns to draw (positions, or names of ``feature_names``), or ``'pca'`` for the first two
        principal axes of the rows without missing values (None: the two columns of 2-D data, the
        principal axes of higher-dimensional data). Means and ellipses are those of the components'
        projections onto the drawn plane.
    uncertainty : bool, default=False, keyword-only
        Size (and fade) each point by its uncertainty ``1 − max posterior`` (mclust's uncertainty plot):
        points whose component is certain shrink to dots.
    ellipses : bool, default=True, keyword-only
        Draw the 1σ and 2σ ellipses (Mahalanobis radius 1 and 2) of each Gaussian component; components of
        other families get their mean marker only when they have one.
    feature_names : list of str, default=None, keyword-only
        Column names for the axis labels (None: the model's ``feature_names``, or ``x0``, ``x1``…).
    ax : matplotlib.axes.Axes, default=None, keyword-only
        Where to draw (None: a new figure).

    Returns
    -------
    ax : matplotlib.axes.Axes
        The axes drawn on: one scatter collection per component that is the most probable for some row,
        two ellipse patches per Gaussian component and one mean marker per Gaussian component.
    """
    from matplotlib.patches import Ellipse

    _check_model(model, X, "plot_classification")
    if any(_is_categorical(model, j) for j in range(model.d)):
        raise ValueError("plot_classification draws numeric columns; this model has categorical ones "
                         "(see plot_columns).")
    cols = _check_columns(model, columns, _names(model, feature_names))
    ax = _axes(ax)
    P = model.predict_proba(X)
    labels, unsure = P.argmax(axis=1), 1.0 - P.max(axis=1)
    Z, W, labels_xy = _projection(model, X, cols)
    for i in range(model.n):
        rows = labels == i
        if not rows.any():
            continue
        if uncertainty:
            scale = unsure[rows] / max(float(unsure.max()), 1e-12)
            sizes, alpha = 4 + 60 * scale, None
        else:
            sizes, alpha = 12, 0.7
        ax.scatter(Z[rows, 0], Z[rows, 1], s=sizes, color=_colour(i), alpha=alpha, linewidths=0,
                   label=f"component {i} ({model.weights[i]:.2f})")
    for i, c in enumerate(model.distributions):
        gaussian = _gaussian(c, model.d)
        if gaussian is None:
            continue
        mean, cov = W @ gaussian[0], W @ gaussian[1] @ W.T
        if cols[0] is None:  # the principal axes' coordinates are centred on the complete rows' mean
            mean = mean - W @ _centre(X)
        if ellipses:
            values, vectors = np.linalg.eigh(cov)
            angle = math.degrees(math.atan2(vectors[1, 1], vectors[0, 1]))
            for radius, style in ((1, "-"), (2, "--")):
                ax.add_patch(Ellipse(mean, 2 * radius * math.sqrt(max(values[1], 0.0)),
                                     2 * radius * math.sqrt(max(values[0], 0.0)), angle=angle, fill=False,
                                     edgecolor=_colour(i), linestyle=style, linewidth=1.3))
        ax.plot([mean[0]], [mean[1]], marker="x", markersize=9, markeredgewidth=2, color="black",
                linestyle="none")
    ax.set_xlabel(labels_xy[0])
    ax.set_ylabel(labels_xy[1])
    ax.set_title("uncertainty (1 − max posterior)" if uncertainty else "classification", fontsize="medium")
    ax.legend(fontsize="small", markerscale=1.5)
    ax.autoscale_view()
    return ax


def _centre(X):
    Xf = np.asarray(X, dtype=float)
    return Xf[~np.isnan(Xf).any(axis=1)].mean(axis=0)


def plot_uncertainty(model, X, **options):
    """:func:`plot_classification` with points sized by uncertainty (mclust's uncertainty plot).

    Parameters
    ----------
    model : GeneralMixtureModel
        The fitted mixture.
    X : array-like of shape (n_samples, d)
        The data.
    **options
        The keyword-only options of :func:`plot_classification` (``columns``, ``ellipses``,
        ``feature_names``, ``ax``).

    Returns
    -------
    ax : matplotlib.axes.Axes
        The axes drawn on.
    """
    return plot_classification(model, X, uncertainty=True, **options)


# ---------------------------------------------------------------------------------------------------------
# one panel per column
# ---------------------------------------------------------------------------------------------------------

def plot_columns(model, X, *, bins="auto", feature_names=None, ax=None):
    """One panel per column: a histogram with the per-component densities for a numeric column, grouped
    bars of each component's category probabilities (and the data's frequencies) for a categorical one.

    Parameters
    ----------
    model : GeneralMixtureModel
        The fitted mixture, e.g. of :class:`~genmix.IndependentComponentsDistribution` with mixed columns.
    X : array-like of shape (n_samples, d) or DataFrame
        The data (an object array for categorical columns; NaN and None are left out).
    bins : int or str, default='auto', keyword-only
        Histogram bins of the numeric columns.
    feature_names : list of str, default=None, keyword-only
        The panels' titles (None: the model's ``feature_names``, or ``x0``, ``x1``…).
    ax : sequence of matplotlib.axes.Axes, default=None, keyword-only
        One axes per column (None: a new figure with a grid of panels).

    Returns
    -------
    axes : ndarray of matplotlib.axes.Axes
        One per column, in column order.
    """
    _check_model(model, X, "plot_columns")
    names = _names(model, feature_names)
    if ax is None:
        ncols = min(model.d, 3)
        nrows = math.ceil(model.d / ncols)
        fig, grid = _pyplot().subplots(nrows, ncols, figsize=(4.2 * ncols, 3.3 * nrows), squeeze=False)
        for extra in grid.ravel()[model.d:]:
            extra.set_visible(False)
        axes = grid.ravel()[:model.d]
    else:
        axes = np.asarray(ax, dtype=object).ravel()
        if axes.size != model.d:
            raise ValueError(f"ax must hold one Axes per column ({model.d}); got {axes.size}.")
    for j, a in enumerate(axes):
        values = _column(X, j)
        if _is_categorical(model, j):
            _draw_categories(a, model, j, values)
        else:
            _draw_numeric(a, model, j, values, bins, True)
        a.set_title(names[j], fontsize="medium")
    axes[0].legend(fontsize="x-small")
    axes[0].figure.tight_layout()
    return axes


# ---------------------------------------------------------------------------------------------------------
# the dispatcher, criteria and convergence
# ---------------------------------------------------------------------------------------------------------

def plot_mixture(model, X, *, kind="auto", feature_names=None, ax=None, **options):
    """Draw a fitted mixture over its data: the plot that suits the model, or the one asked for.

    Parameters
    ----------
    model : GeneralMixtureModel
        The fitted mixture.
    X : array-like of shape (n_samples, d) or DataFrame
        The data.
    kind : {'auto', 'density', 'classification', 'uncertainty', 'columns'}, default='auto', keyword-only
        'auto': :func:`plot_density` for one numeric column, :func:`plot_uncertainty` for several numeric
        columns, :func:`plot_columns` when a column is categorical.
    feature_names : list of str, default=None, keyword-only
        Column names (None: the model's ``feature_names``).
    ax : matplotlib.axes.Axes (a sequence for 'columns'), default=None, keyword-only
        Where to draw (None: a new figure).
    **options
        Passed to the chosen function.

    Returns
    -------
    ax : matplotlib.axes.Axes or ndarray of Axes
        What the chosen function returns.
    """
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {list(_KINDS)}; got {kind!r}.")
    _check_model(model, X, "plot_mixture")
    if kind == "auto":
        if any(_is_categorical(model, j) for j in range(model.d)):
            kind = "columns"
        else:
            kind = "density" if model.d == 1 else "uncertainty"
    draw = {"density": plot_density, "classification": plot_classification, "uncertainty": plot_uncertainty,
            "columns": plot_columns}[kind]
    return draw(model, X, feature_names=feature_names, ax=ax, **options)


def plot_criteria(selection, criterion=None, *, ax=None):
    """The criterion of :func:`genmix.select` against the number of components, one line per model
    (mclust's BIC plot), the best candidate circled. Candidates without criteria are left out.

    Parameters
    ----------
    selection : Selection
        What :func:`genmix.select` returned.
    criterion : {'bic', 'aic', 'icl'}, default=None
        The criterion to draw (None: the one that ranked them). Lower is better.
    ax : matplotlib.axes.Axes, default=None, keyword-only
        Where to draw (None: a new figure).

    Returns
    -------
    ax : matplotlib.axes.Axes
        The axes drawn on: one line per model and one marker for the best.
    """
    if not all(hasattr(selection, a) for a in ("rows", "best_params_", "criterion")):
        raise TypeError(f"plot_criteria draws what genmix.select returns; got {type(selection).__name__}.")
    criterion = selection.criterion if criterion is None else check_criterion(criterion)
    ax = _axes(ax, figsize=(6.4, 4.2))
    names = list(dict.fromkeys(_label(r["model"]) for r in selection.rows))
    markers = "osD^vP*Xh<>p"
    for i, name in enumerate(names):
        rows = [r for r in selection.rows if _label(r["model"]) == name and r["error"] is None]
        if rows:
            ax.plot([r["n_components"] for r in rows], [r[criterion] for r in rows], marker=markers[i % 12],
                    label=name, linewidth=1.2, markersize=4)
    best = [r for r in selection.rows if _label(r["model"]) == _label(selection.best_params_["model"])
            and r["n_components"] == selection.best_params_["n_components"]][0]
    if best["error"] is None:
        ax.plot([best["n_components"]], [best[criterion]], marker="o", markersize=12, markerfacecolor="none",
                markeredgecolor="black", linestyle="none", label="best")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # component counts are whole numbers
    ax.set_xlabel("number of components")
    ax.set_ylabel(f"{criterion.upper()} (lower is better)")
    ax.legend(fontsize="small", ncol=2)
    return ax


def _label(model):
    return model if isinstance(model, str) else ",".join(map(str, model))


def plot_convergence(history, *, ax=None, per_sample=None, label=None):
    """The log-likelihood after each EM iteration (iteration 0: the start), from a fit's history.

    Parameters
    ----------
    history : History or list of History
        ``fit(..., return_history=True)``'s second value (several: one line each, e.g. the runs of
        ``n_init``).
    ax : matplotlib.axes.Axes, default=None, keyword-only
        Where to draw (None: a new figure).
    per_sample : int, default=None, keyword-only
        Divide by this number of samples to draw the mean log-likelihood.
    label : str or list of str, default=None, keyword-only
        The legend label of each history.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The axes drawn on: one line per history.
    """
    from .callbacks import History

    histories = [history] if isinstance(history, History) else list(history)
    if not histories or not all(isinstance(h, History) for h in histories):
        raise TypeError("history must be a genmix History or a list of them (fit(..., return_history=True)).")
    labels = [label] if isinstance(label, str) or label is None else list(label)
    if len(labels) == 1 and len(histories) > 1:
        labels = [None if labels[0] is None else f"{labels[0]} {i}" for i in range(len(histories))]
    if len(labels) != len(histories):
        raise ValueError(f"label must give one label per history ({len(histories)}); got {len(labels)}.")
    if per_sample is not None and not (isinstance(per_sample, (int, np.integer)) and per_sample > 0):
        raise ValueError(f"per_sample must be a positive int; got {per_sample!r}.")
    ax = _axes(ax, figsize=(6.4, 4.0))
    for i, (h, name) in enumerate(zip(histories, labels)):
        start = [] if h.initial_log_probability is None else [h.initial_log_probability]
        values = np.asarray(start + list(h.log_probabilities), dtype=float) / (per_sample or 1)
        first = 0 if start else 1
        ax.plot(np.arange(first, first + values.size), values, marker="o", markersize=3, linewidth=1.3,
                color=_colour(i), label=name)
    ax.set_xlabel("EM iteration")
    ax.set_ylabel("mean log-likelihood" if per_sample else "log-likelihood")
    if any(n is not None for n in labels):
        ax.legend(fontsize="small")
    return ax
