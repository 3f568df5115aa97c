"""Draw the README's figures into docs/images/ (run by hand: ``python docs/make_figures.py``)."""
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from genmix import select  # noqa: E402
from genmix.datasets import load_old_faithful  # noqa: E402

IMAGES = Path(__file__).resolve().parent / "images"


def faithful_bic():
    """BIC against the number of components on Old Faithful, one line per covariance type."""
    X, _ = load_old_faithful()
    selection = select(X, range(1, 10), random_state=0)
    ax = selection.plot()
    ax.set_title(f"Old Faithful: best {selection.best_params_['model']} with "
                 f"{selection.best_params_['n_components']} components")
    ax.figure.tight_layout()
    ax.figure.savefig(IMAGES / "faithful_bic.png", dpi=110)
    plt.close(ax.figure)


if __name__ == "__main__":
    IMAGES.mkdir(exist_ok=True)
    faithful_bic()
