r"""The fused E-step: one feature block serves the log densities and the statistics of every component.

Many families are exponential families, ``log p(x) = ηᵀ t(x) − A(η) + h(x)``: the log density is linear in
a few features of the row. For a mixture whose components are

* all full-covariance Gaussians (``MultivariateGaussianDistribution``): ``t(z) = [z, z_i z_j (i ≤ j)]``
  of the shifted row ``z = x − c``;
* all products of per-column families (``IndependentComponentsDistribution``, or one univariate family)
  drawn from Normal (``t = [u, u²]``, ``u = x − c``), LogNormal (the same on ``u = log x − c``, the
  ``−log x`` Jacobian folded into the coefficients), Exponential, Poisson and Bernoulli (``t = x``, plus
  ``−log x!`` for Poisson) and Gamma (``t = [x, log x]``),

(a column with missing values, NaN, gets an indicator row that carries its constant, so a missing
value contributes log density 0 and no statistics, as in the families' own kernels), the log densities
of all ``k`` components (plus their log weights) are one GEMM ``W Φ`` of the ``(k, F)``
coefficient matrix ``W`` with the ``(F, B)`` feature block ``Φ = [1; t(x)]``, and the E-step's statistics
(Σr and Σr·t of every component, which is what the M-steps need) are one more GEMM ``R Φᵀ`` with the
*same* block. Rows go in blocks sized to keep ``Φ`` in cache, in the ``(k, B)`` layout in which the
log-sum-exp's reductions run along contiguous memory; each entry is exponentiated once.

Precision. The expansion of a quadratic form cancels where a component is narrow compared with its
distance from the shift ``c`` (and, for a full covariance, where its precision matrix is badly
conditioned). Both are measured before they matter: a component whose coefficients could lose more than
about ``_TOLERANCE`` gets its log density from the exact (factorised) form instead, and a component whose
scatter ``Σr·z zᵀ − N·z̄ z̄ᵀ`` would cancel too much has its statistics recomputed centred (the corrected
two-pass algorithm of ``distributions._stats``) in a second pass. Results keep the precision of the
general path; tests/test_fused_estep.py compares both with scipy.
"""
import numpy as np
from scipy.special import gammaln

from ._math import LOG_2PI, responsibilities_in_place
from .parallel import _single_threaded_blas, map_chunks

__all__ = ["FusedEStep"]

_EPS = np.finfo(np.float64).eps
#: The largest acceptable estimated rounding error of a log density (absolute) or a variance (relative).
_TOLERANCE = 1e-10
#: Bytes of one feature block (rows × features × 8): a few MiB keeps it in the last-level cache.
_BLOCK_BYTES = 5 * 2 ** 20
#: How many rows of a batch give the common shift ``c`` and the spread used by the precision checks.
_SHIFT_ROWS = 4096
#: Data magnitudes and log-density terms must stay below this for the expansion (else: general path).
_MAX_MAGNITUDE = 1e100


def _moments(N, s1, s2, shift):
    """Centred ``(mean, m2)`` from raw sums about ``shift`` (scalars, or a vector and a matrix), or None
    where the subtraction cancels.

    ``m2 = s2 − N z̄ z̄ᵀ`` loses about ``eps·√rows·s2/m2`` relative on its diagonal; past ``_TOLERANCE``
    the caller recomputes centred.
    """
    zbar = s1 / N
    m2 = s2 - N * np.multiply.outer(zbar, zbar)
    var, raw = (m2, s2) if np.ndim(m2) == 0 else (np.diag(m2), np.diag(s2))
    if np.any(var * _TOLERANCE <= 64.0 * _EPS * raw):
        return None
    return shift + zbar, m2


class _Normal:
    """A column with a normal law on ``t(x)``: Normal (``t = x``) or LogNormal (``t = log x``).

    Features ``[u, u²]`` of ``u = t(x) − c``; per component ``a = μ − c`` and ``λ = 1/σ²``:
    ``log p = −½λu² + λa·u − ½λa² − log σ − ½ log 2π`` (− ``t(x)`` = ``−(u + c)`` for LogNormal).
    """

    n_features = 2

    def __init__(self, column, mean, std, log):
        self.column, self.mean, self.log = column, mean, log
        self.prec = 1.0 / (std * std)
        self.base = -np.log(std) - 0.5 * LOG_2PI
        self.shift = 0.0

    def valid(self, x):
        return not self.log or float(x.min()) > 0.0

    def transform(self, x):
        return np.log(x) if self.log else x

    def set_shift(self, t_sample):
        self.shift = float(t_sample.mean())
        self.spread = float(np.sqrt(np.mean((t_sample - self.shift) ** 2)))

    def features(self, x, out):
        u = out[0]
        if self.log:
            np.log(x, out=u)
            u -= self.shift
        else:
            np.subtract(x, self.shift, out=u)
        np.multiply(u, u, out=out[1])

    def coefficients(self):
        """``(const (k,), W (k, 2))``."""
        a = self.mean - self.shift
        const = self.base - 0.5 * self.prec * a * a
        lin = self.prec * a
        if self.log:
            const = const - self.shift
            lin = lin - 1.0
        return const, np.column_stack([lin, -0.5 * self.prec])

    def rounding(self):
        """Estimated absolute rounding error of the expansion, per component (rows near the data)."""
        b = np.abs(self.mean - self.shift) + self.spread
        return 4.0 * _EPS * self.prec * b * b

    def exact(self, rows, j):
        """The factorised log density of component ``j`` from the term's feature rows (``u`` first)."""
        u = rows[0]
        r = (u - (self.mean[j] - self.shift)) * np.sqrt(self.prec[j])
        out = self.base[j] - 0.5 * r * r
        if self.log:
            out -= u + self.shift
        return out

    def stats(self, N, S):
        """Per-component ``MomentStats`` of ``t(x)`` from the sums ``S (k, 2)``; None where redone."""
        from .distributions._stats import MomentStats

        out = []
        for j in range(N.size):
            if not N[j] > 0:
                out.append(MomentStats(np.array([0.0]), np.array([0.0]), np.array([0.0])))
                continue
            m = _moments(N[j], S[j, 0], S[j, 1], self.shift)
            out.append(None if m is None else MomentStats(np.array([N[j]]), np.array([m[0]]), np.array([m[1]])))
        return out

    def centred(self, x, R):
        """Centred ``MomentStats`` of ``t(x)`` under ``R`` (B, m), for the second pass."""
        from .distributions._stats import moment_stats_1d

        return moment_stats_1d(self.transform(x), R)


class _Linear:
    """A column whose log density is linear in a few plain features, ``log p = c + Σ_m η_m t_m(x) + h(x)``.

    No quadratic form, so no cancellation beyond a dot product's: Exponential (``t = x``), Poisson
    (``t = x``, ``h = −log x!``), Bernoulli (``t = x``) and Gamma (``t = [x, log x]``). ``h`` is one more
    feature row whose coefficient is 1 for every component. The statistics are the families' own
    ``SumStats`` (Σr and Σr·t).
    """

    def __init__(self, column, const, coef, transforms, base=None, support=None):
        self.column, self.const, self.coef = column, const, coef  # (k,), (k, m)
        self.transforms, self.base, self.support = transforms, base, support
        self.n_features = coef.shape[1] + (base is not None)

    @classmethod
    def of(cls, column, family, children):
        """The term of ``children`` (one family's components for this column), or None if a parameter
        is at the edge of its range (an infinite coefficient: the general path handles it)."""
        from .distributions.bernoulli import BernoulliDistribution
        from .distributions.exponential import ExponentialDistribution
        from .distributions.gamma import GammaDistribution
        from .distributions.poisson import PoissonDistribution

        if family not in (ExponentialDistribution, PoissonDistribution, BernoulliDistribution, GammaDistribution):
            return None
        p = {key: np.array([ch._params[key] for ch in children], dtype=np.float64) for key in children[0]._params}
        with np.errstate(divide="ignore"):
            if family is ExponentialDistribution:
                term = cls(column, np.log(p["rate"]), -p["rate"][:, None], [None], support=family._support)
            elif family is PoissonDistribution:
                term = cls(column, -p["lam"], np.log(p["lam"])[:, None], [None], base=lambda x: -gammaln(x + 1.0),
                           support=family._support)
            elif family is BernoulliDistribution:
                term = cls(column, np.log1p(-p["p"]), (np.log(p["p"]) - np.log1p(-p["p"]))[:, None], [None],
                           support=family._support)
            elif family is GammaDistribution:
                a, b = p["alpha"], p["beta"]
                term = cls(column, a * np.log(b) - gammaln(a), np.column_stack([-b, a - 1.0]), [None, np.log],
                           support=family._support)
        if not (np.all(np.isfinite(term.const)) and np.all(np.isfinite(term.coef))):
            return None
        return term

    def valid(self, x):
        return bool(np.all(self.support(x)))

    def transform(self, x):
        return x

    def set_shift(self, t_sample):
        pass

    def features(self, x, out):
        for m, f in enumerate(self.transforms):
            if f is None:
                out[m] = x
            else:
                f(x, out=out[m])
        if self.base is not None:
            out[-1] = self.base(x)

    def coefficients(self):
        coef = self.coef if self.base is None else np.column_stack([self.coef, np.ones(len(self.coef))])
        return self.const, coef

    def rounding(self):
        return np.zeros(len(self.const))

    def exact(self, rows, j):
        out = self.const[j] + self.coef[j] @ rows[:self.coef.shape[1]]
        return out + rows[-1] if self.base is not None else out

    def stats(self, N, S):
        from .distributions._stats import SumStats

        m = self.coef.shape[1]
        return [SumStats(np.array([N[j]]), S[j, 0:1].copy() if m == 1 else S[j:j + 1, :m].copy())
                for j in range(N.size)]

    def magnitude(self, span):
        """A bound on the terms' magnitudes for data within ``span`` (for the overflow check): a plain
        feature is at most ``span``, ``log x`` at most 745 in magnitude."""
        bounds = np.array([span if f is None else 745.0 for f in self.transforms])
        return np.abs(self.const).max() + (np.abs(self.coef) * bounds).sum(axis=1).max()


class _Masked:
    """A column term whose column has missing values (NaN): log density 0 and no statistics there.

    An indicator row ``o = [x observed]`` comes first and carries the term's constant; the term's own
    features are zero where ``x`` is missing. The indicator's sums are the column's own ``Σr``.
    """

    def __init__(self, term, fill):
        self.term, self.column, self.fill = term, term.column, fill
        self.n_features = term.n_features + 1

    def valid(self, x):
        x = x[~np.isnan(x)]
        return x.size == 0 or self.term.valid(x)

    def transform(self, x):
        return self.term.transform(x)

    def set_shift(self, t_sample):
        t = t_sample[~np.isnan(t_sample)]
        self.term.set_shift(t if t.size else np.zeros(1))

    def features(self, x, out):
        observed = ~np.isnan(x)
        out[0] = observed
        self.term.features(np.where(observed, x, self.fill), out[1:])
        out[1:] *= out[0]

    def coefficients(self):
        const, coef = self.term.coefficients()
        return np.zeros(len(coef)), np.column_stack([const * np.ones(len(coef)), coef])

    def rounding(self):
        return self.term.rounding()

    def exact(self, rows, j):
        return rows[0] * self.term.exact(rows[1:], j)

    def stats(self, N, S):
        return self.term.stats(S[:, 0], S[:, 1:])

    def centred(self, x, R):
        return self.term.centred(x, R)


class FusedEStep:
    """The E-step of a mixture whose components are all of one supported form, as two GEMMs per block.

    Build it with :meth:`build` (None where it does not apply) once per batch and parameter set;
    :meth:`run` returns what ``GeneralMixtureModel._estep_totals`` returns.
    """

    def __init__(self, components, log_weights, columns=None, full=None):
        self.components = components
        self.log_weights = log_weights
        self.k = len(components)
        self.columns = columns  # list of column terms, or None for the full-covariance form
        self.full = full  # (means, precisions, prec_chol, log_norm) for the full-covariance form
        if full is not None:
            d = full[0].shape[1]
            self.d = d
            self.n_features = 1 + d + d * (d + 1) // 2
        else:
            self.d = len(columns)
            self.n_features = 1 + sum(t.n_features for t in columns)
        self.block_rows = None  # set by build() for the data at hand

    def _block_rows(self, n, d):
        """Rows per block: a power of two near ``_BLOCK_BYTES`` of features, at most 8192, and for small
        data at most what keeps the block's buffers (features, scores) under ~1/8 of the data's size."""
        rows = min(_BLOCK_BYTES / (8.0 * self.n_features), n * d / (8.0 * (self.n_features + 2 * self.k)))
        return int(np.clip(2 ** round(np.log2(max(rows, 1.0))), 256, 8192))

    @property
    def kind(self):
        """``"full"`` (full-covariance Gaussians) or ``"columns"`` (products of per-column families)."""
        return "full" if self.full is not None else "columns"

    # -- construction ----------------------------------------------------------------------------------
    @classmethod
    def build(cls, components, log_weights, X):
        """The fused E-step of ``components`` on the rows ``X``, or None where it does not apply.

        It applies when ``X`` is a float array whose magnitudes leave the expansion far from overflow
        and the components are all full-covariance Gaussians (complete rows only: with missing values
        the general path conditions on the observed coordinates), or all products of Normal, LogNormal,
        Exponential, Gamma, Poisson and Bernoulli columns (the same family per column in every component,
        unit column weights, parameters strictly inside their ranges; NaN
        allowed, observed values inside each column's support). Elsewhere the general path scores the
        rows.
        """
        if len(components) == 0 or X.dtype == object or X.ndim != 2 or X.shape[0] == 0:
            return None
        fused = cls._of(components, log_weights, X.shape[1])
        if fused is None:
            return None
        span = max(float(X.max()), -float(X.min()))  # NaN propagates: rows with missing values
        if fused.full is not None:
            if not span < _MAX_MAGNITUDE:  # missing values: the conditional (general) path
                return None
            precisions, log_norm = fused.full[1], fused.full[3]
        else:
            if span != span:  # missing values: the columns that have them get an indicator row
                span = 0.0
                for i, t in enumerate(fused.columns):
                    x = X[:, t.column]
                    observed = x[~np.isnan(x)]
                    if observed.size < x.size:
                        fused.columns[i] = _Masked(t, 1.0)
                    if observed.size:
                        span = max(span, float(observed.max()), -float(observed.min()))
                fused.n_features = 1 + sum(t.n_features for t in fused.columns)
            if not span < _MAX_MAGNITUDE:
                return None
            if not all(t.valid(X[:, t.column]) for t in fused.columns):
                return None
            terms = [t.term if isinstance(t, _Masked) else t for t in fused.columns]
            precisions = np.concatenate([t.prec for t in terms if isinstance(t, _Normal)] + [np.zeros(1)])
            with np.errstate(over="ignore"):
                log_norm = np.concatenate([np.atleast_1d(t.coefficients()[0]) for t in terms if isinstance(t, _Normal)]
                                          + [np.atleast_1d(t.magnitude(span)) for t in terms
                                             if isinstance(t, _Linear)])
            span = max(span, 745.0)  # |log x| of any positive float64 (LogNormal columns)
        with np.errstate(over="ignore", invalid="ignore"):
            bound = np.abs(precisions).max() * (2.0 * span) ** 2 + np.abs(log_norm).max()
        if not bound < _MAX_MAGNITUDE:
            return None
        fused.block_rows = fused._block_rows(*X.shape)
        return fused

    @classmethod
    def _of(cls, components, log_weights, d):
        from .distributions.independent_components import IndependentComponentsDistribution
        from .distributions.lognormal import LogNormalDistribution
        from .distributions.multivariate_gaussian import MultivariateGaussianDistribution
        from .distributions.normal import NormalDistribution

        kinds = {type(c) for c in components}
        if len(kinds) != 1:
            return None
        kind = kinds.pop()
        if kind is MultivariateGaussianDistribution:
            means = np.stack([c._params["means"] for c in components])
            chol = np.stack([c._cache["prec_chol"] for c in components])
            log_det = np.array([c._cache["log_det_prec"] for c in components])
            full = (means, chol @ np.swapaxes(chol, 1, 2), chol, log_det - 0.5 * means.shape[1] * LOG_2PI)
            return cls(components, log_weights, full=full)
        if kind is IndependentComponentsDistribution:
            if any(c.d != d or not np.all(c.weights == 1.0) for c in components):
                return None
            per_column = [[c.distributions[j] for c in components] for j in range(d)]
        else:
            per_column = [list(components)]
        columns = []
        for j, children in enumerate(per_column):
            family = {type(ch) for ch in children}
            if len(family) != 1:
                return None
            family = family.pop()
            if family is NormalDistribution or family is LogNormalDistribution:
                names = ("mean", "std") if family is NormalDistribution else ("mu", "sigma")
                mean = np.array([ch._params[names[0]] for ch in children])
                std = np.array([ch._params[names[1]] for ch in children])
                if not np.all(std > 1e-150):  # below, 1/σ² overflows: only the exact form is finite
                    return None
                columns.append(_Normal(j, mean, std, family is LogNormalDistribution))
            else:
                term = _Linear.of(j, family, children)
                if term is None:
                    return None
                columns.append(term)
        return cls(components, log_weights, columns=columns)

    # -- the pieces ------------------------------------------------------------------------------------
    def _prepare(self, X):
        """Shift(s) from the first rows; coefficients ``W`` (k, F); components needing the exact form."""
        sample = X[:_SHIFT_ROWS]
        k = self.k
        W = np.empty((k, self.n_features))
        if self.full is not None:
            means, precisions = self.full[0], self.full[1]
            d = self.d
            shift = sample.mean(axis=0)
            spread = np.sqrt(np.mean((sample - shift) ** 2, axis=0))
            a = means - shift
            lam_a = np.einsum("kij,kj->ki", precisions, a)
            W[:, 0] = self.full[3] - 0.5 * np.einsum("ki,ki->k", lam_a, a)
            W[:, 1:1 + d] = lam_a
            at = 1 + d
            for i in range(d):
                W[:, at] = -0.5 * precisions[:, i, i]
                W[:, at + 1:at + d - i] = -precisions[:, i, i + 1:]
                at += d - i
            exact = self._full_needs_exact(a, spread)
        else:
            shift = None
            W[:, 0] = 0.0
            at = 1
            rounding = np.zeros(k)
            for t in self.columns:
                t.set_shift(t.transform(sample[:, t.column]))
                const, coef = t.coefficients()
                W[:, 0] += const
                W[:, at:at + t.n_features] = coef
                at += t.n_features
                rounding += t.rounding()
            exact = rounding > _TOLERANCE
        finite = np.isfinite(self.log_weights)
        W[finite, 0] += self.log_weights[finite]
        return W, shift, np.nonzero(exact)[0]

    def _full_needs_exact(self, a, spread):
        """Full covariance: components whose expanded log density could lose more than ``_TOLERANCE``.

        The rounding error is a few ``eps·(|a| + s)ᵀ|Λ|(|a| + s)`` for rows within the data's spread ``s``
        of ``c`` (absolute), and a few ``eps·κ`` relative for rows far away, with ``κ`` the ratio of
        ``‖|Λ|‖`` to ``Λ``'s smallest eigenvalue; the limits are ``_TOLERANCE`` and ``10·_TOLERANCE``.
        """
        precisions = self.full[1]
        b = np.abs(a) + spread
        absP = np.abs(precisions)
        near = np.einsum("ki,kij,kj->k", b, absP, b)
        smallest = np.linalg.eigvalsh(precisions)[:, 0]
        with np.errstate(divide="ignore"):
            kappa = np.where(smallest > 0, absP.sum(axis=2).max(axis=1) / smallest, np.inf)
        return (4.0 * _EPS * near > _TOLERANCE) | (4.0 * _EPS * kappa > 10.0 * _TOLERANCE)

    def _features(self, X, rows, shift, buffer=None):
        """The ``(F, B)`` feature block of ``X[rows]`` (written into ``buffer[:, :B]`` when given: reusing
        one buffer per thread avoids fresh pages for every block)."""
        B = rows.stop - rows.start
        Phi = np.empty((self.n_features, B)) if buffer is None else buffer[:, :B]
        Phi[0] = 1.0
        if self.full is not None:
            d = self.d
            Zt = Phi[1:1 + d]
            np.subtract(X[rows].T, shift[:, None], out=Zt)
            at = 1 + d
            for i in range(d):
                np.multiply(Zt[i], Zt[i:], out=Phi[at:at + d - i])
                at += d - i
        else:
            at = 1
            for t in self.columns:
                t.features(X[rows, t.column], Phi[at:at + t.n_features])
                at += t.n_features
        return Phi

    def _exact_rows(self, L, Phi, exact, shift):
        """Overwrite row j of ``L`` with the factorised log density (plus log weight) for j in ``exact``."""
        for j in exact:
            if self.full is not None:
                means, _, chol, log_norm = self.full
                d = self.d
                D = chol[j].T @ (Phi[1:1 + d] - (means[j] - shift)[:, None])
                L[j] = log_norm[j] - 0.5 * np.einsum("db,db->b", D, D)
            else:
                L[j] = 0.0
                at = 1
                for t in self.columns:
                    L[j] += t.exact(Phi[at:at + t.n_features], j)
                    at += t.n_features
            L[j] += self.log_weights[j]

    def _scores(self, Phi, W, exact, shift, dead, out=None):
        """``log w_k + log p_k`` of a block, shape (k, B): the GEMM, then the exact rows and dead components
        (written into ``out``, a (k, ≥B) buffer, when given)."""
        L = W @ Phi if out is None else np.matmul(W, Phi, out=out[:, :Phi.shape[1]])
        if exact.size:
            self._exact_rows(L, Phi, exact, shift)
        if dead.size:
            L[dead] = -np.inf
        return L

    def _buffers(self, sl):
        """One feature buffer and one score buffer for a thread's blocks (fresh pages per block are slow)."""
        B = min(self.block_rows, sl.stop - sl.start)
        return np.empty((self.n_features, B)), np.empty((self.k, B))

    def weighted_log_prob(self, X):
        """``log w_k + log p_k(x_i)`` of the complete rows ``X``, shape (n, k), block by block."""
        W, shift, exact = self._prepare(X)
        dead = np.nonzero(~np.isfinite(self.log_weights))[0]
        out = np.empty((X.shape[0], self.k))
        features, scores = self._buffers(slice(0, X.shape[0]))
        with _single_threaded_blas(True):
            for start in range(0, X.shape[0], self.block_rows):
                rows = slice(start, min(start + self.block_rows, X.shape[0]))
                out[rows] = self._scores(self._features(X, rows, shift, features), W, exact, shift, dead, scores).T
        return out

    # -- the E-step ------------------------------------------------------------------------------------
    def run(self, X, w, log_priors=None, n_jobs=1, first=0):
        """``(logp, responsibility sums, per-component Stats)`` of the rows ``X`` under weights ``w``.

        Rows with positive weight that no component can produce (possible only through ``log_priors``,
        i.e. labels, and zero weights) raise ``ValueError`` naming them, numbered from ``first``.
        """
        n = X.shape[0]
        W, shift, exact_lp = self._prepare(X)
        unit = bool(np.all(w == 1.0))
        dead = np.nonzero(~np.isfinite(self.log_weights))[0]

        def responsibilities(rows, buffers):
            """``(R (k, B), logp, Φ)`` of one block of rows: responsibilities times the weights."""
            Phi = self._features(X, rows, shift, buffers[0])
            L = self._scores(Phi, W, exact_lp, shift, dead, buffers[1])
            if log_priors is not None:
                L += log_priors[rows].T
            logp = responsibilities_in_place(L, None if unit else w[rows], first + rows.start)
            return L, logp, Phi

        def chunk(sl):
            """Pass 1 over a thread's rows: logp and the raw feature sums ``Σ r φ(x)`` (k, F)."""
            logp, S = 0.0, np.zeros((self.k, self.n_features))
            buffers = self._buffers(sl)
            for start in range(sl.start, sl.stop, self.block_rows):
                R, block_logp, Phi = responsibilities(slice(start, min(start + self.block_rows, sl.stop)), buffers)
                logp += block_logp
                S += R @ Phi.T
            return logp, S

        with _single_threaded_blas(True):  # per-block GEMMs are too small to split; n_jobs splits rows
            parts = map_chunks(chunk, n, n_jobs)
        logp = sum(p[0] for p in parts)
        S = sum(p[1] for p in parts)
        stats, redo = self._stats(S, shift)
        if redo:  # raw sums that cancel too much: those statistics again, centred, in a second pass
            self._centred_pass(X, redo, stats, responsibilities, n, n_jobs)
        return logp, S[:, 0].copy(), [self._package(j, s) for j, s in enumerate(stats)]

    def _stats(self, S, shift):
        """Per component: its statistics (a list per column, or one full ``MomentStats``), and ``redo``:
        ``{component: [column terms (or None for full)]}`` whose raw sums cancel too much."""
        from .distributions._stats import MomentStats

        N = S[:, 0]
        stats, redo = [None] * self.k, {}
        if self.full is not None:
            d = self.d
            for j in range(self.k):
                if not N[j] > 0:
                    stats[j] = MomentStats(np.array([0.0]), np.zeros((1, d)), np.zeros((1, d, d)))
                    continue
                raw = np.empty((d, d))  # Σr z zᵀ from its upper triangle, row by row
                at = 1 + d
                for i in range(d):
                    raw[i, i:] = raw[i:, i] = S[j, at:at + d - i]
                    at += d - i
                m = _moments(N[j], S[j, 1:1 + d], raw, shift)
                if m is None:
                    redo[j] = None
                    continue
                stats[j] = MomentStats(np.array([N[j]]), m[0][None, :], m[1][None, :, :])
            return stats, redo
        per_column = []
        at = 1
        for t in self.columns:
            per_column.append(t.stats(N, S[:, at:at + t.n_features]))
            at += t.n_features
        for j in range(self.k):
            stats[j] = [col[j] for col in per_column]
            bad = [i for i, s in enumerate(stats[j]) if s is None]
            if bad:
                redo[j] = bad
        return stats, redo

    def _centred_pass(self, X, redo, stats, responsibilities, n, n_jobs):
        """Recompute the ``redo`` statistics centred (the corrected two-pass algorithm), over all rows."""
        from .distributions._stats import moment_stats

        comps = sorted(redo)
        # the full form redoes its one scatter; the column form only the columns that cancelled
        columns = [None] if self.full is not None else sorted({c for j in comps for c in redo[j]})

        def chunk(sl):
            out = None
            buffers = self._buffers(sl)
            for start in range(sl.start, sl.stop, self.block_rows):
                rows = slice(start, min(start + self.block_rows, sl.stop))
                R = responsibilities(rows, buffers)[0][comps].T  # (B, m)
                part = [moment_stats(X[rows], R) if c is None else self.columns[c].centred(X[rows, c], R)
                        for c in columns]
                out = part if out is None else [a + b for a, b in zip(out, part)]
            return out

        with _single_threaded_blas(True):
            parts = [p for p in map_chunks(chunk, n, n_jobs) if p is not None]
        total = parts[0]
        for p in parts[1:]:
            total = [a + b for a, b in zip(total, p)]
        total = dict(zip(columns, total))
        for i, j in enumerate(comps):
            if self.full is not None:
                stats[j] = total[None].take(i)
            else:
                for c in redo[j]:
                    stats[j][c] = total[c].take(i)

    def _package(self, j, s):
        """The ``Stats`` value component ``j``'s family expects; None for a frozen one."""
        from .distributions._stats import TupleStats

        c = self.components[j]
        if c.frozen:
            return None
        if self.full is not None:
            return s
        if not hasattr(c, "distributions"):  # a univariate family
            return s[0]
        return TupleStats(tuple(None if ch.frozen else cs for ch, cs in zip(c.distributions, s)))
