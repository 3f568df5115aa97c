"""
Choosing a model by BIC: Old Faithful, as mclust does it
=========================================================

:func:`genmix.select` fits a multivariate Gaussian mixture of each covariance type with each number of
components and keeps the one with the lowest BIC (scikit-learn's sign; mclust reports −BIC, higher
better). Here the candidates are mclust's VVV, EEE and VVI (genmix's 'full', 'tied' and 'diag') with one
to four components, which takes a couple of seconds where the default candidate set (six types, one to
nine components) takes about half a minute. mclust's ``Mclust(faithful)`` picks EEE with three
components, and so does this.

Two pictures are written as PNG files: the BIC curves (``selection.plot()``, mclust's BIC plot) and the
best model's classification and uncertainty plots side by side
(:func:`genmix.plotting.plot_classification` and :func:`genmix.plotting.plot_uncertainty`).
"""
import os
import tempfile

import matplotlib

from genmix import select
from genmix.datasets import load_old_faithful
from genmix.plotting import plot_classification, plot_uncertainty


def main(out_dir=None):
    """Select, plot into ``out_dir`` (None: a new temporary directory) and return
    ``(selection, X, paths)``, ``paths`` mapping 'bic' and 'classification' to the PNG files."""
    matplotlib.use("Agg")  # files only, no window
    import matplotlib.pyplot as plt

    out_dir = tempfile.mkdtemp(prefix="genmix-old-faithful-") if out_dir is None else os.fspath(out_dir)
    X, columns = load_old_faithful()
    selection = select(X, range(1, 5), covariance_types=["full", "tied", "diag"], random_state=0)
    model = selection.best_

    paths = {"bic": os.path.join(out_dir, "faithful_bic.png"),
             "classification": os.path.join(out_dir, "faithful_classification.png")}
    ax = selection.plot()
    ax.set_title("Old Faithful: BIC of each covariance type")
    ax.figure.savefig(paths["bic"], dpi=80)
    plt.close(ax.figure)

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.4))
    plot_classification(model, X, feature_names=columns, ax=left)
    plot_uncertainty(model, X, feature_names=columns, ax=right)
    fig.tight_layout()
    fig.savefig(paths["classification"], dpi=80)
    plt.close(fig)

    best = selection.best_params_
    bic = min(r["bic"] for r in selection.rows if r["error"] is None)
    print(f"best by BIC: {best['model']} with {best['n_components']} components, BIC {bic:.3f} "
          f"(mclust: EEE, 3, BIC -2314.316 in its sign)")
    print(model)
    print("pictures:", *paths.values())
    return selection, X, paths


if __name__ == "__main__":
    main()
