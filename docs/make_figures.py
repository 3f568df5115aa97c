"""Draw the README's figures into docs/images/ (run by hand: ``python docs/make_figures.py``)."""
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from genmix import (  # noqa: E402
    DiscreteDistribution,
    GeneralMixtureModel,
    MultivariateGaussianDistribution,
    NormalDistribution,
    PoissonDistribution,
    select,
)
from genmix.datasets import load_old_faithful  # noqa: E402

IMAGES = Path(__file__).resolve().parent / "images"


def _save(fig, name):
    fig.savefig(IMAGES / name, dpi=110)
    plt.close(fig)


def faithful_bic():
    """BIC against the number of components on Old Faithful, one line per covariance type."""
    X, _ = load_old_faithful()
    selection = select(X, range(1, 10), random_state=0)
    ax = selection.plot()
    ax.set_title(f"Old Faithful: best {selection.best_params_['model']} with "
                 f"{selection.best_params_['n_components']} components")
    ax.figure.tight_layout()
    _save(ax.figure, "faithful_bic.png")


def faithful_uncertainty():
    """The README's Plots snippet: Old Faithful's two-component fit, points sized by uncertainty."""
    X, columns = load_old_faithful()
    model = GeneralMixtureModel.from_samples(MultivariateGaussianDistribution, 2, X, random_state=0,
                                             stop_threshold=1e-6)
    ax = model.plot(X, feature_names=columns)
    ax.set_title("Old Faithful: uncertainty (1 − max posterior), 1σ and 2σ ellipses", fontsize="medium")
    ax.figure.tight_layout()
    _save(ax.figure, "faithful_uncertainty.png")


def mixed_columns():
    """A mixed model's panels: simulated ages, favourite colours and visit counts of two groups."""
    rng = np.random.default_rng(0)
    n = 600
    group = rng.random(n) < 0.4
    age = np.where(group, rng.normal(62, 6, n), rng.normal(31, 5, n))
    colour = np.where(group, rng.choice(["red", "blue", "green"], n, p=[0.6, 0.3, 0.1]),
                      rng.choice(["red", "blue", "green"], n, p=[0.15, 0.35, 0.5]))
    visits = rng.poisson(np.where(group, 8.0, 2.0)).astype(float)
    X = np.empty((n, 3), dtype=object)
    X[:, 0], X[:, 1], X[:, 2] = age, colour, visits
    model = GeneralMixtureModel.from_samples([NormalDistribution, DiscreteDistribution, PoissonDistribution], 2, X,
                                             random_state=0)
    axes = model.plot(X, feature_names=["age", "colour", "visits"])
    axes[0].figure.suptitle("A mixed model, one panel per column", fontsize="medium")
    axes[0].figure.tight_layout()
    _save(axes[0].figure, "mixed_columns.png")


if __name__ == "__main__":
    IMAGES.mkdir(exist_ok=True)
    faithful_bic()
    faithful_uncertainty()
    mixed_columns()
