"""Distribution families: one module per family, each pure kernels under a thin object."""
from .._registry import REGISTRY, register
from ._base import Distribution
from .bernoulli import BernoulliDistribution
from .beta import BetaDistribution
from .dirichlet import DirichletDistribution
from .discrete import DiscreteDistribution
from .exponential import ExponentialDistribution
from .gamma import GammaDistribution
from .independent_components import IndependentComponentsDistribution
from .kernel_densities import GaussianKernelDensity, KernelDensity, TriangleKernelDensity, UniformKernelDensity
from .lognormal import LogNormalDistribution
from .multivariate_gaussian import MultivariateGaussianDistribution
from .normal import NormalDistribution
from .poisson import PoissonDistribution
from .uniform import UniformDistribution

__all__ = [
    "Distribution",
    "REGISTRY",
    "register",
    "NormalDistribution",
    "LogNormalDistribution",
    "ExponentialDistribution",
    "MultivariateGaussianDistribution",
    "IndependentComponentsDistribution",
    "GammaDistribution",
    "BetaDistribution",
    "UniformDistribution",
    "PoissonDistribution",
    "BernoulliDistribution",
    "DiscreteDistribution",
    "DirichletDistribution",
    "KernelDensity",
    "GaussianKernelDensity",
    "UniformKernelDensity",
    "TriangleKernelDensity",
]
