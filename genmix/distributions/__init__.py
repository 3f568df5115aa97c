"""Distribution families: one module per family, each pure kernels under a thin object."""
from ._base import Distribution
from .exponential import ExponentialDistribution
from .independent_components import IndependentComponentsDistribution
from .lognormal import LogNormalDistribution
from .multivariate_gaussian import MultivariateGaussianDistribution
from .normal import NormalDistribution

__all__ = [
    "Distribution",
    "NormalDistribution",
    "LogNormalDistribution",
    "ExponentialDistribution",
    "MultivariateGaussianDistribution",
    "IndependentComponentsDistribution",
]
