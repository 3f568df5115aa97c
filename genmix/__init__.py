"""genmix: general mixture models fitted by EM, with pomegranate 0.x's API.

``from genmix import *`` replaces ``from pomegranate import *`` for mixture models.
"""
from . import callbacks
from .callbacks import Callback, History
from .distributions import (
    BernoulliDistribution,
    BetaDistribution,
    DirichletDistribution,
    DiscreteDistribution,
    Distribution,
    ExponentialDistribution,
    GammaDistribution,
    GaussianKernelDensity,
    IndependentComponentsDistribution,
    KernelDensity,
    LogNormalDistribution,
    MultivariateGaussianDistribution,
    NormalDistribution,
    PoissonDistribution,
    TriangleKernelDensity,
    UniformDistribution,
    UniformKernelDensity,
)
from .exceptions import ConvergenceWarning, NumericalWarning
from .io import from_dict, from_json, from_yaml
from .mixture import GeneralMixtureModel
from .select import Selection, select

__version__ = "0.1.0.dev0"

__all__ = [
    "GeneralMixtureModel",
    "select",
    "Selection",
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
    "GaussianKernelDensity",
    "UniformKernelDensity",
    "TriangleKernelDensity",
    "KernelDensity",
    "Distribution",
    "Callback",
    "History",
    "ConvergenceWarning",
    "NumericalWarning",
    "from_dict",
    "from_json",
    "from_yaml",
    "callbacks",
]
