"""
Mixed-type data with missing values: a pandas DataFrame of numbers and categories
==================================================================================

A mixture of :class:`IndependentComponentsDistribution` products takes one family per column: here a
Normal for a height, a Poisson for a count of visits, and a :class:`DiscreteDistribution` for each of
two categorical columns (string categories, here of pandas' ``category`` dtype).
``GeneralMixtureModel.from_samples`` with a list of one class per column builds it from a DataFrame
(k-means over the standardised numeric and one-hot categorical columns, then EM), and the model
remembers the DataFrame's column names.

The data are simulated from a known two-group model and about 10% of the cells are then deleted at
random (NaN in the numeric columns, None in the categorical ones). A missing cell contributes nothing to
a row's likelihood, so rows are classified on what they have; ``model.impute`` fills each missing number
with its conditional expectation and each missing category with its most probable value given the row's
observed cells, returning a DataFrame with the same index, columns and dtypes. The adjusted Rand index
measures how well the fitted components recover the true groups (1: the same partition, 0: chance).
"""
import os
import tempfile

import numpy as np
import pandas as pd

from genmix import DiscreteDistribution, GeneralMixtureModel, NormalDistribution, PoissonDistribution

#: the true model: group weights and, per group, each column's parameters
WEIGHTS = [0.4, 0.6]
HEIGHT = [(162.0, 6.0), (178.0, 7.0)]  # Normal (mean, std)
VISITS = [1.5, 5.0]  # Poisson rate
COLOUR = [{"red": 0.6, "green": 0.3, "blue": 0.1}, {"red": 0.1, "green": 0.3, "blue": 0.6}]
PLAN = [{"basic": 0.8, "premium": 0.2}, {"basic": 0.3, "premium": 0.7}]
MISSING = 0.1


def simulate(n=800, seed=0):
    """``(frame, groups)``: ``n`` rows of the true model with a fraction ``MISSING`` of cells deleted."""
    rng = np.random.default_rng(seed)
    groups = rng.choice(2, size=n, p=WEIGHTS)
    columns = {
        "height": rng.normal([HEIGHT[g][0] for g in groups], [HEIGHT[g][1] for g in groups]),
        "visits": rng.poisson([VISITS[g] for g in groups]).astype(float),
        "colour": np.array([rng.choice(list(COLOUR[g]), p=list(COLOUR[g].values())) for g in groups],
                           dtype=object),
        "plan": np.array([rng.choice(list(PLAN[g]), p=list(PLAN[g].values())) for g in groups], dtype=object),
    }
    for name, values in columns.items():
        values[rng.random(n) < MISSING] = np.nan if values.dtype.kind == "f" else None
    frame = pd.DataFrame(columns)
    # categories as pandas' categorical dtype (None becomes its missing value)
    return frame.astype({"colour": "category", "plan": "category"}), groups


def adjusted_rand_index(a, b):
    """Hubert and Arabie's adjusted Rand index of two partitions (label arrays)."""
    _, a = np.unique(a, return_inverse=True)
    _, b = np.unique(b, return_inverse=True)
    table = np.zeros((a.max() + 1, b.max() + 1))
    np.add.at(table, (a, b), 1)

    def pairs(counts):
        return float(np.sum(counts * (counts - 1) / 2))

    together, rows, cols, total = pairs(table), pairs(table.sum(1)), pairs(table.sum(0)), pairs(np.array(len(a)))
    expected = rows * cols / total
    return (together - expected) / ((rows + cols) / 2 - expected)


def main(out_dir=None):
    """Fit, predict, impute and plot into ``out_dir`` (None: a new temporary directory); return
    ``(model, frame, groups, predicted, imputed, ari, path)``."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no window
    import matplotlib.pyplot as plt

    frame, groups = simulate()
    model = GeneralMixtureModel.from_samples(
        [NormalDistribution, PoissonDistribution, DiscreteDistribution, DiscreteDistribution], n_components=2,
        X=frame, stop_threshold=1e-8, random_state=0)
    predicted = model.predict(frame)
    imputed = model.impute(frame)
    ari = adjusted_rand_index(groups, predicted)

    out_dir = tempfile.mkdtemp(prefix="genmix-mixed-") if out_dir is None else os.fspath(out_dir)
    path = os.path.join(out_dir, "mixed_columns.png")
    axes = model.plot(frame)  # a categorical column: plot_columns, one panel per column
    axes[0].figure.savefig(path, dpi=80)
    plt.close(axes[0].figure)

    print(f"{frame.isna().to_numpy().mean():.1%} of the cells missing; adjusted Rand index against the "
          f"true groups: {ari:.3f}")
    for i, (c, w) in enumerate(zip(model.distributions, model.weights)):
        height, visits, colour, plan = c.distributions
        print(f"component {i} (weight {w:.3f}): height N({height.parameters[0]:.1f}, "
              f"{height.parameters[1]:.1f}), visits Poisson({visits.parameters[0]:.2f}), colour "
              f"{ {k: round(v, 2) for k, v in colour.parameters[0].items()} }, plan "
              f"{ {k: round(v, 2) for k, v in plan.parameters[0].items()} }")
    rows = frame.isna().any(axis=1)
    print("some rows with missing cells, and their imputations:")
    print(frame[rows].head(4).to_string())
    print(imputed[rows].head(4).to_string())
    print("picture:", path)
    return model, frame, groups, predicted, imputed, ari, path


if __name__ == "__main__":
    main()
