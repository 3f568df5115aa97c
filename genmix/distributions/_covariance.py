r"""Covariance representations of the multivariate Gaussian, one small object per shape.

A covariance *shape* says how one component's covariance is stored and used: :data:`FULL` (a ``(d, d)``
matrix), :data:`DIAGONAL` (``(d,)`` variances) or :data:`SPHERICAL` (one variance). Each shape knows, and
is the only place that knows, how to validate a parameter of that shape, factor it (the precision
factor ``P`` with ``P Pᵀ = Σ⁻¹`` and ``log|P|``), *whiten* centred rows (``‖(x − μ) P‖²`` is the quadratic
form), *colorize* standard normal draws, estimate the covariance from centred moments (the M-step), repair
an estimate that is not numerically positive definite, and count its free parameters. The idea is scipy's
``scipy.stats.Covariance`` (``whiten``, ``colorize``, ``log_pdet``) with the M-step added.

A covariance *type* (:class:`CovarianceType`) is a shape plus whether the components of a mixture share
one covariance (*tied*), with scikit-learn's and mclust's names:

==========  =======  =========  ======  =====================================================
name        mclust   shape      tied    free covariance parameters (k components, d dims)
==========  =======  =========  ======  =====================================================
full        VVV      (d, d)     no      k·d(d+1)/2
tied        EEE      (d, d)     yes     d(d+1)/2
diag        VVI      (d,)       no      k·d
spherical   VII      scalar     no      k
EEI                  (d,)       yes     d
EII                  scalar     yes     1
==========  =======  =========  ======  =====================================================

The M-step is scikit-learn's ``_estimate_gaussian_parameters`` from the centred scatter ``m2`` (of shape
``(d, d)``, or ``(d,)`` for the diagonal shapes) and weight ``w`` of each component: full ``m2/w``,
diagonal ``m2/w`` per coordinate, spherical their mean, then ``reg_covar`` on the diagonal. A tied type
applies the same estimate to ``(Σ_k w_k, Σ_k m2_k)``: the pooled *within-component* scatter (the scatter of
the pooled rows about their common mean would add the between-component spread).
"""
import numpy as np

from .._math import cholesky_lower, floor_eigenvalues, precision_cholesky
from .._validation import show

__all__ = ["FULL", "DIAGONAL", "SPHERICAL", "CovarianceType", "COVARIANCE_TYPES", "ALIASES",
           "covariance_type", "n_parameters"]

#: An absolute floor under the relative ones, so that data with no (or subnormal) spread still give a
#: factorisable covariance (the univariate families floor the std at 1e-150).
MIN_VARIANCE = 1e-150
_EPS = np.finfo(np.float64).eps
#: The smallest relative squared Cholesky pivot of a covariance taken as numerically positive definite.
#: A scatter summed from rows carries a rounding error of many eps per entry, so a singular one (rows on
#: a line) comes out with tiny positive pivots that depend on the summation order (~100 eps relative
#: for 40 rows on a line with numpy 2.4); under 1e-12 a quarter of float64's digits are rounding anyway.
_PIVOT = 1e-12


class Factor:
    """A factored covariance of one component: ``prec`` (``P``: ``(d, d)`` upper factor of the precision, or
    ``(d,)`` inverse standard deviations), ``log_det_prec`` (``log|P| = −½ log|Σ|``) and ``root`` (``L`` with
    ``L Lᵀ = Σ``: the lower Cholesky factor, or ``(d,)`` standard deviations)."""

    __slots__ = ("prec", "log_det_prec", "root")

    def __init__(self, prec, log_det_prec, root):
        self.prec, self.log_det_prec, self.root = prec, float(log_det_prec), root


class _Shape:
    """The protocol of a covariance shape (see the module docstring); the instances are stateless."""

    name = ""
    #: whether the statistics are per coordinate (``m2`` of shape ``(d,)``) rather than a scatter matrix
    diagonal = False
    #: what a parameter of this shape is, for error messages
    described = ""

    def shape(self, d):
        raise NotImplementedError

    def check(self, cov, d, owner):
        """``cov`` as a float64 array of this shape, or ``ValueError`` naming 'covariance'."""
        if cov.shape != self.shape(d):
            raise ValueError(f"The 'covariance' parameter of {owner} must have shape {self.shape(d)} ("
                             f"{self.described}) to match 'means'; got shape {cov.shape}.")
        if not np.all(np.isfinite(cov)):
            raise ValueError(f"The 'covariance' parameter of {owner} must be finite.")
        return cov

    def identity(self, d):
        """The covariance of the standard Gaussian in this shape."""
        raise NotImplementedError

    def from_variances(self, var):
        """A covariance of this shape with (about) the variances ``var`` (d,) and no correlation."""
        raise NotImplementedError

    def expand(self, cov, d):
        """The ``(d, d)`` matrix."""
        raise NotImplementedError

    def factor(self, cov, d, root=None):
        """The :class:`Factor` of a valid covariance (``root``: its lower Cholesky factor, if known)."""
        raise NotImplementedError

    def whiten(self, X, mean, factor):
        """``(X − mean) P``: rows whose squared norm is the quadratic form."""
        raise NotImplementedError

    def colorize(self, Z, factor):
        """``Z Lᵀ``: standard normal rows turned into draws of covariance ``Σ`` (about 0)."""
        raise NotImplementedError

    def estimate(self, w, m2, reg_covar):
        """The M-step: the covariance from the weight ``w > 0`` and centred scatter ``m2``, plus ``reg_covar``."""
        raise NotImplementedError

    def repair(self, cov, mean, min_covar):
        """``(cov, repaired, root)``: ``cov`` unchanged if numerically positive definite, else floored;
        ``root`` is the lower Cholesky factor of the returned covariance where the check computed it
        (an unrepaired full matrix), else None."""
        raise NotImplementedError

    def n_parameters(self, d):
        """Free parameters of one covariance of this shape in ``d`` dimensions."""
        raise NotImplementedError

    @staticmethod
    def _singular(min_covar):
        if min_covar == 0.0:
            raise ValueError(
                "The fitted covariance of a MultivariateGaussianDistribution is singular (e.g. fewer points "
                "than dimensions, or collinear columns) and min_covar=0 forbids repairing it. Pass "
                "min_covar > 0 (a floor relative to the mean variance), reg_covar > 0, or use fewer dimensions.")

    def __repr__(self):
        return f"<covariance shape {self.name}>"

    # the shapes are singletons compared by identity: copies and pickles resolve to the same object
    def __deepcopy__(self, memo):
        return self

    def __reduce__(self):
        return (_shape, (self.name,))


class _Full(_Shape):
    """A ``(d, d)`` symmetric positive definite matrix, factored by Cholesky (never inverted)."""

    name, described = "full", "a symmetric positive definite matrix"

    def shape(self, d):
        return (d, d)

    def check(self, cov, d, owner):
        cov = super().check(cov, d, owner)
        size = np.abs(cov)  # np.allclose(cov, cov.T, rtol=1e-10, atol=1e-12 max|cov|), without its overhead
        if not np.all(np.abs(cov - cov.T) <= 1e-12 * size.max() + 1e-10 * size.T):
            raise ValueError(f"The 'covariance' parameter of {owner} must be symmetric.")
        cov = 0.5 * (cov + cov.T)
        if cholesky_lower(cov) is None:
            raise ValueError(f"The 'covariance' parameter of {owner} must be positive definite (its Cholesky "
                             "factorisation failed): the matrix is not invertible.")
        return cov

    def identity(self, d):
        return np.eye(d)

    def from_variances(self, var):
        return np.diag(var)

    def expand(self, cov, d):
        return cov

    def factor(self, cov, d, root=None):
        L = cholesky_lower(cov) if root is None else root
        prec = precision_cholesky(L)
        return Factor(prec, np.log(np.diag(prec)).sum(), L)

    def whiten(self, X, mean, factor):
        y = X @ factor.prec
        y -= mean @ factor.prec
        return y

    def colorize(self, Z, factor):
        return Z @ factor.root.T

    def estimate(self, w, m2, reg_covar):
        cov = m2 / w
        if reg_covar:
            cov = cov + reg_covar * np.eye(cov.shape[0])
        return cov

    def repair(self, cov, mean, min_covar):
        """The floor is ``max(min_covar · trace/d, (4·eps·max|mean|)², 1e-150)`` on the eigenvalues: relative
        to the spread where there is one, and for data without spread at the rounding level of the
        location, never below an absolute 1e-150."""
        cov = 0.5 * (cov + cov.T)
        L = cholesky_lower(cov)
        if L is not None:
            diag = np.diag(L) ** 2
            if min_covar == 0.0 or diag.min() > max(_PIVOT, _EPS * cov.shape[0]) * diag.max():  # 0: any factor
                return cov, False, L
        self._singular(min_covar)
        rounding = (4.0 * _EPS * np.max(np.abs(mean))) ** 2
        floor = max(min_covar * np.trace(cov) / cov.shape[0], rounding, MIN_VARIANCE)
        return floor_eigenvalues(cov, floor), True, None

    def n_parameters(self, d):
        return d * (d + 1) // 2


class _Diagonal(_Shape):
    """``(d,)`` positive variances: the coordinates are independent within a component."""

    name, diagonal, described = "diag", True, "positive variances"

    def shape(self, d):
        return (d,)

    def check(self, cov, d, owner):
        cov = super().check(cov, d, owner)
        if not np.all(cov > 0):
            raise ValueError(f"The 'covariance' parameter of {owner} must hold positive variances; got "
                             f"{show(cov.tolist())}.")
        return cov

    def identity(self, d):
        return np.ones(d)

    def from_variances(self, var):
        return np.array(var, dtype=np.float64)

    def expand(self, cov, d):
        return np.diag(np.broadcast_to(cov, (d,)))

    def factor(self, cov, d, root=None):
        std = np.sqrt(np.broadcast_to(cov, (d,)))
        prec = 1.0 / std
        return Factor(prec, np.log(prec).sum(), std)

    def whiten(self, X, mean, factor):
        y = X - mean
        y *= factor.prec
        return y

    def colorize(self, Z, factor):
        return Z * factor.root

    def estimate(self, w, m2, reg_covar):
        return m2 / w + reg_covar

    def _floor(self, cov, mean):
        """Per coordinate, the smallest variance that is not rounding noise of the location."""
        return np.maximum((4.0 * _EPS * np.abs(mean)) ** 2, MIN_VARIANCE)

    def repair(self, cov, mean, min_covar):
        """Variances at or below ``max((4·eps·|mean|)², 1e-150)`` (rounding noise, or none) are raised to
        ``max(min_covar · mean variance, that floor)``."""
        floor = self._floor(cov, mean) if min_covar > 0.0 else 0.0  # 0: any positive variance is used
        low = ~(cov > floor)
        if not np.any(low):
            return cov, False, None
        self._singular(min_covar)
        return np.where(low, np.maximum(min_covar * np.mean(cov), floor), cov), True, None

    def n_parameters(self, d):
        return d


class _Spherical(_Diagonal):
    """One positive variance shared by the coordinates (a scalar; its statistics are per coordinate)."""

    name, described = "spherical", "a positive variance (a scalar)"

    def shape(self, d):
        return ()

    def identity(self, d):
        return np.float64(1.0)

    def from_variances(self, var):
        return np.float64(np.mean(var))

    def estimate(self, w, m2, reg_covar):
        return np.float64(np.mean(m2 / w) + reg_covar)

    def _floor(self, cov, mean):
        return np.maximum((4.0 * _EPS * np.max(np.abs(mean))) ** 2, MIN_VARIANCE)

    def repair(self, cov, mean, min_covar):
        if cov > (self._floor(cov, mean) if min_covar > 0.0 else 0.0):
            return cov, False, None
        self._singular(min_covar)
        floor = self._floor(cov, mean)
        return np.float64(floor), True, None

    def n_parameters(self, d):
        return 1


FULL, DIAGONAL, SPHERICAL = _Full(), _Diagonal(), _Spherical()


def _shape(name):
    return {s.name: s for s in (FULL, DIAGONAL, SPHERICAL)}[name]


class CovarianceType:
    """A covariance shape, and whether a mixture's components share one covariance (``tied``)."""

    def __init__(self, name, shape, tied):
        self.name, self.shape, self.tied = name, shape, tied

    def n_parameters(self, n_components, n_features):
        """Free covariance parameters of ``n_components`` components in ``n_features`` dimensions."""
        return self.shape.n_parameters(n_features) * (1 if self.tied else n_components)

    def __repr__(self):
        return f"<covariance type {self.name!r}>"

    def __deepcopy__(self, memo):
        return self

    def __reduce__(self):
        return (covariance_type, (self.name,))


#: scikit-learn's names (and mclust's EEI, EII for the two tied types scikit-learn lacks)
COVARIANCE_TYPES = {t.name: t for t in (CovarianceType("full", FULL, False), CovarianceType("tied", FULL, True),
                                        CovarianceType("diag", DIAGONAL, False),
                                        CovarianceType("spherical", SPHERICAL, False),
                                        CovarianceType("EEI", DIAGONAL, True), CovarianceType("EII", SPHERICAL, True))}
#: mclust's names of scikit-learn's four types
ALIASES = {"VVV": "full", "EEE": "tied", "VVI": "diag", "VII": "spherical"}


def covariance_type(value, owner="MultivariateGaussianDistribution"):
    """The :class:`CovarianceType` named ``value`` (a name or an mclust alias), or the error naming
    'covariance_type'."""
    names = list(COVARIANCE_TYPES) + list(ALIASES)
    expected = f"must be one of {', '.join(repr(n) for n in names)}"
    if not isinstance(value, str):
        raise TypeError(f"The 'covariance_type' parameter of {owner} {expected}. Got {show(value)} of type "
                        f"{type(value).__name__} instead.")
    name = ALIASES.get(value, value)
    if name not in COVARIANCE_TYPES:
        raise ValueError(f"The 'covariance_type' parameter of {owner} {expected}. Got {show(value)} instead.")
    return COVARIANCE_TYPES[name]


def n_parameters(covariance_type_name, n_components, n_features):
    """The number of free covariance parameters of a Gaussian mixture (for BIC/AIC).

    Parameters
    ----------
    covariance_type_name : str
        One of 'full', 'tied', 'diag', 'spherical', 'EEI', 'EII' or an mclust alias ('VVV', 'EEE', 'VVI',
        'VII').
    n_components : int
        The number of components ``k``.
    n_features : int
        The dimension ``d``.

    Returns
    -------
    n : int
        full ``k·d(d+1)/2``, tied ``d(d+1)/2``, diag ``k·d``, spherical ``k``, EEI ``d``, EII ``1``.
    """
    return int(covariance_type(covariance_type_name, "n_parameters").n_parameters(int(n_components),
                                                                                  int(n_features)))
