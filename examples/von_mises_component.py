"""
A user-defined component: a von Mises mixture for angles
=========================================================

Any object with ``d``, ``log_probability(X)``, ``summarize(X, weights)``, ``from_summaries(inertia=0.0)``
and ``clear_summaries()`` can be a component of a :class:`genmix.GeneralMixtureModel`, exactly as in
pomegranate 0.x. It runs on the slower, per-component path (its methods are called once per E-step
batch), so a native family (see ``rayleigh_family.py``) is the choice for speed.

For ``d == 1`` the component receives a 1-D array, and ``summarize`` receives the responsibilities
(already multiplied by the sample weights) as ``weights``.
"""
import numpy as np
from scipy import special, stats

from genmix import GeneralMixtureModel


class VonMises:
    """von Mises distribution on the circle, fitted by weighted maximum likelihood."""

    d = 1

    def __init__(self, mu, kappa):
        self.mu, self.kappa = mu, kappa
        self.clear_summaries()

    def log_probability(self, X):
        x = np.asarray(X, dtype=float)
        return self.kappa * np.cos(x - self.mu) - np.log(2 * np.pi * special.i0(self.kappa))

    def summarize(self, X, weights):
        x = np.asarray(X, dtype=float)
        self.stats += [weights.sum(), weights @ np.cos(x), weights @ np.sin(x)]

    def from_summaries(self, inertia=0.0):
        w, c, s = self.stats
        if w > 0:
            r = np.hypot(c, s) / w  # mean resultant length; solve A(kappa) = I1/I0 = r
            kappa = _inverse_a(r)
            self.mu = (1 - inertia) * np.arctan2(s, c) + inertia * self.mu
            self.kappa = (1 - inertia) * kappa + inertia * self.kappa
        self.clear_summaries()

    def clear_summaries(self):
        self.stats = np.zeros(3)

    def sample(self, n):
        return stats.vonmises(self.kappa, loc=self.mu).rvs(n, random_state=0)


def _inverse_a(r):
    """Solve I1(k)/I0(k) = r for k >= 0 by Newton's method (A'(k) = 1 - A(k)/k - A(k)^2)."""
    k = r * (2 - r * r) / (1 - r * r)  # Banerjee et al.'s approximation as the start
    for _ in range(50):
        a = special.i1e(k) / special.i0e(k)
        step = (a - r) / (1 - a / k - a * a)
        k -= step
        if abs(step) < 1e-12 * k:
            break
    return k


def main():
    rng = np.random.default_rng(0)
    angles = np.concatenate([stats.vonmises(4.0, loc=-1.0).rvs(300, random_state=rng),
                             stats.vonmises(8.0, loc=2.0).rvs(200, random_state=rng)])
    model = GeneralMixtureModel([VonMises(0.0, 1.0), VonMises(1.0, 1.0)])
    model.fit(angles, stop_threshold=1e-8)
    for c, w in zip(model.distributions, model.weights):
        print(f"mu={c.mu:+.3f} kappa={c.kappa:.3f} weight={w:.3f}")
    return model, angles


if __name__ == "__main__":
    main()
