"""
Semi-supervised fitting: a few labels pin the components to the classes
========================================================================

Three long, narrow Gaussian clusters lie side by side and overlap. Without labels EM finds a maximum
of the likelihood, which need not be the split into the three true clusters, and its components come
in an arbitrary order: on these 900 rows the unsupervised fit (the same from 1 or 20 starts) splits
them otherwise, with a higher likelihood than the labelled fit's, so no amount of restarting helps. The
labels carry what the likelihood cannot see. Here 5% of the rows carry their class
(``labels=``: the class index per row, -1 for unknown): ``from_samples`` seeds component i from the
rows labelled i and EM keeps those rows in it, so the fit finds the true clusters and component i *is*
class i. Accuracy is counted on the unlabelled rows only, the unsupervised fit getting the best of the
3! ways of matching its components to the classes.
"""
import itertools

import numpy as np

from genmix import GeneralMixtureModel, MultivariateGaussianDistribution

N, LABELLED = 900, 0.05
MEANS = np.array([[0.0, 0.0], [1.3, 0.0], [2.6, 0.0]])
COVARIANCE = np.diag([0.5 ** 2, 3.0 ** 2])  # the same for the three classes, equal weights


def simulate(seed=3):
    """``(X, classes, labels)``: the rows, their true classes, and the partial labels (-1 unknown)."""
    rng = np.random.default_rng(seed)
    classes = rng.choice(3, size=N)
    X = MEANS[classes] + rng.multivariate_normal([0.0, 0.0], COVARIANCE, size=N)
    labels = np.where(rng.random(N) < LABELLED, classes, -1)
    return X, classes, labels


def best_matched_accuracy(classes, predicted, k=3):
    """The accuracy of ``predicted`` under the best one-to-one renaming of its components."""
    return max(np.mean(np.asarray(perm)[predicted] == classes) for perm in itertools.permutations(range(k)))


def main():
    """Fit with and without the labels; return ``(semi, unsupervised, X, classes, labels)``."""
    X, classes, labels = simulate()
    options = dict(stop_threshold=1e-6, random_state=0)
    semi = GeneralMixtureModel.from_samples(MultivariateGaussianDistribution, 3, X, labels=labels, **options)
    unsupervised = GeneralMixtureModel.from_samples(MultivariateGaussianDistribution, 3, X, **options)

    unknown = labels == -1
    as_is = np.mean(semi.predict(X)[unknown] == classes[unknown])
    matched = best_matched_accuracy(classes[unknown], unsupervised.predict(X)[unknown])
    print(f"{np.sum(~unknown)} of {N} rows labelled; accuracy on the others: with labels {as_is:.3f} "
          f"(component i read as class i), without {matched:.3f} (best matching of components to classes)")
    print(f"log-likelihood of all rows: with labels {semi.log_probability(X).sum():.3f}, without "
          f"{unsupervised.log_probability(X).sum():.3f}")
    for i, c in enumerate(semi.distributions):
        print(f"component {i}: mean {np.round(c.parameters[0], 2).tolist()} (class {i}: {MEANS[i].tolist()})")
    return semi, unsupervised, X, classes, labels


if __name__ == "__main__":
    main()
