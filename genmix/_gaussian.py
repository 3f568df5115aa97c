r"""The fused E-step of Gaussian mixtures: one feature matrix serves the log densities and the statistics.

For a mixture whose components are all full-covariance Gaussians (``MultivariateGaussianDistribution``),
all diagonal Gaussians (``IndependentComponentsDistribution`` of ``NormalDistribution``\ s) or all
univariate ``NormalDistribution``\ s, every log density is a quadratic form in the shifted row
``z = x − c`` (``c`` a common shift near the data), so with the features

.. math:: \phi(z) = [1,\; z_1 \dots z_d,\; z_i z_j\ (i \le j)]   \quad\text{(full)}, \qquad
          \phi(z) = [1,\; z,\; z \circ z]                          \quad\text{(diagonal)}

the log densities of all ``k`` components (plus their log weights) are one GEMM ``W Φ`` of the
``(k, F)`` coefficient matrix ``W`` with the ``(F, B)`` feature block ``Φ``, and the E-step's statistics
(Σr, Σr·z, Σr·z zᵀ of every component) are one more GEMM ``R Φᵀ`` with the *same* block. Rows are
processed in blocks sized to keep ``Φ`` in cache, in the ``(k, B)`` layout in which the log-sum-exp's
reductions run along contiguous memory; each entry is exponentiated once.

Precision. The expansion cancels where a component is narrow compared with its distance from ``c``
(and, for the log density, where its precision matrix is badly conditioned). Both are measured before
they can matter: a component whose coefficients would lose more than about 1e-10 relative gets its log
density from the exact factorised form ``‖(z − a)ᵀ P‖²`` instead, and a component whose scatter
``Σr·z zᵀ − N·z̄ z̄ᵀ`` would cancel by more than ``_MAX_CANCELLATION`` (a ratio of the second raw moment to
the variance) has its statistics recomputed centred (the corrected two-pass algorithm of
``distributions._stats``) in a second pass. Results therefore keep the precision of the general path;
the tests compare both.
"""
import numpy as np

from ._math import LOG_2PI
from .parallel import map_chunks

__all__ = ["GaussianEStep"]

_EPS = np.finfo(np.float64).eps
#: The largest acceptable estimated relative rounding error of a log density or a variance.
_TOLERANCE = 1e-10
#: Bytes of one feature block (rows × features × 8): a few MiB keeps it in the last-level cache.
_BLOCK_BYTES = 5 * 2 ** 20
#: How many rows of a batch give the common shift ``c``.
_SHIFT_ROWS = 4096
#: Data magnitudes and log-density terms must stay below this for the expansion (else: general path).
_MAX_MAGNITUDE = 1e100


class GaussianEStep:
    """The E-step of a mixture of Gaussians of one kind, as two GEMMs per block of rows.

    Build it with :meth:`build` (None when the components are not all Gaussians of one kind) once per
    batch and parameter set; :meth:`run` then returns what ``GeneralMixtureModel._estep_totals`` returns.
    """

    def __init__(self, kind, components, means, precisions, log_norm, log_weights, chol=None):
        self.kind = kind  # "full" or "diag"
        self.components = components
        self.means = means  # (k, d)
        self.precisions = precisions  # (k, d, d) for full, (k, d) for diag
        self.log_norm = log_norm  # (k,): −d/2 log 2π + log|P|
        self.log_weights = log_weights
        self.chol = chol  # (k, d, d) precision Cholesky factors (full), for the exact fallback
        self.k, self.d = means.shape
        d = self.d
        self.n_features = 1 + d + (d * (d + 1) // 2 if kind == "full" else d)
        rows = _BLOCK_BYTES / (8.0 * self.n_features)
        self.block_rows = int(np.clip(2 ** round(np.log2(rows)), 256, 16384))  # a power of two near it

    # -- construction ----------------------------------------------------------------------------------
    @classmethod
    def build(cls, components, log_weights, X):
        """The fused E-step of ``components`` on the rows ``X``, or None where it does not apply.

        It applies when the components are all Gaussians of one kind and ``X`` is a float array without
        missing values whose magnitudes leave the expansion far from overflow (else the general path
        scores the rows, with its own safeguards).
        """
        if X.dtype == object or X.ndim != 2 or X.shape[0] == 0:
            return None
        span = max(float(X.max()), -float(X.min()))  # NaN propagates: rows with missing values
        if not span < _MAX_MAGNITUDE:
            return None
        fused = cls._of(components, log_weights)
        if fused is None:
            return None
        with np.errstate(over="ignore", invalid="ignore"):
            bound = np.abs(fused.precisions).max() * (2.0 * span) ** 2 + np.abs(fused.log_norm).max()
        return fused if bound < _MAX_MAGNITUDE else None

    @classmethod
    def _of(cls, components, log_weights):
        from .distributions.independent_components import IndependentComponentsDistribution
        from .distributions.multivariate_gaussian import MultivariateGaussianDistribution
        from .distributions.normal import NormalDistribution

        if len(components) == 0:
            return None
        kinds = {type(c) for c in components}
        if len(kinds) != 1:
            return None
        kind = kinds.pop()
        if kind is MultivariateGaussianDistribution:
            means = np.stack([c._params["means"] for c in components])
            chol = np.stack([c._cache["prec_chol"] for c in components])
            precisions = chol @ np.swapaxes(chol, 1, 2)
            log_det = np.array([c._cache["log_det_prec"] for c in components])
            d = means.shape[1]
            return cls("full", components, means, precisions, log_det - 0.5 * d * LOG_2PI, log_weights, chol)
        if kind is NormalDistribution:
            means = np.array([[c._params["mean"]] for c in components])
            stds = np.array([[c._params["std"]] for c in components])
        elif kind is IndependentComponentsDistribution:
            d = components[0].d
            if any(c.d != d or not np.all(c.weights == 1.0)
                   or any(type(ch) is not NormalDistribution for ch in c.distributions) for c in components):
                return None
            means = np.array([[ch._params["mean"] for ch in c.distributions] for c in components])
            stds = np.array([[ch._params["std"] for ch in c.distributions] for c in components])
        else:
            return None
        with np.errstate(over="ignore"):
            precisions = 1.0 / (stds * stds)
        if not np.all(np.isfinite(precisions)):  # a spread below ~1e-154: only the exact form is finite
            return None
        d = means.shape[1]
        return cls("diag", components, means, precisions,
                   -np.log(stds).sum(axis=1) - 0.5 * d * LOG_2PI, log_weights)

    # -- the pieces ------------------------------------------------------------------------------------
    def _features(self, Zt):
        """The ``(F, B)`` feature block of the shifted rows ``Zt`` (d, B)."""
        d, B = Zt.shape
        Phi = np.empty((self.n_features, B))
        Phi[0] = 1.0
        Phi[1:1 + d] = Zt
        if self.kind == "diag":
            np.multiply(Zt, Zt, out=Phi[1 + d:])
        else:
            at = 1 + d
            for i in range(d):
                np.multiply(Zt[i], Zt[i:], out=Phi[at:at + d - i])
                at += d - i
        return Phi

    def _coefficients(self, shift):
        """``W`` (k, F) with ``W φ(x − shift)`` = log weight + log density; and which rows need the exact form.

        With ``a = μ − shift`` the quadratic form ``(z − a)ᵀ Λ (z − a)`` is ``zᵀΛz − 2 aᵀΛz + aᵀΛa``.
        """
        k, d = self.k, self.d
        a = self.means - shift
        W = np.empty((k, self.n_features))
        if self.kind == "diag":
            lam_a = self.precisions * a
            W[:, 0] = self.log_norm - 0.5 * np.einsum("kd,kd->k", lam_a, a)
            W[:, 1:1 + d] = lam_a
            W[:, 1 + d:] = -0.5 * self.precisions
        else:
            lam_a = np.einsum("kij,kj->ki", self.precisions, a)
            W[:, 0] = self.log_norm - 0.5 * np.einsum("ki,ki->k", lam_a, a)
            W[:, 1:1 + d] = lam_a
            at = 1 + d
            for i in range(d):
                W[:, at] = -0.5 * self.precisions[:, i, i]
                W[:, at + 1:at + d - i] = -self.precisions[:, i, i + 1:]
                at += d - i
        finite = np.isfinite(self.log_weights)
        W[finite, 0] += self.log_weights[finite]
        return W, a

    def _needs_exact(self, a, spread):
        """Components whose expanded log density could lose more than ``_TOLERANCE`` (relative).

        The expansion's rounding error is a few ``eps·(|a| + s)ᵀ|Λ|(|a| + s)`` for rows within the data's
        spread ``s`` of ``c`` (the sum of the terms' magnitudes; absolute, against log densities of order
        one and more), and a few ``eps·κ`` relative for rows far away, with ``κ`` the ratio of ``‖|Λ|‖``
        to ``Λ``'s smallest eigenvalue. The limits are ``_TOLERANCE`` and ``10·_TOLERANCE``.
        """
        scale = 4.0 * _EPS
        b = np.abs(a) + spread
        if self.kind == "diag":
            near = np.einsum("kd,kd->k", self.precisions, b * b)
            kappa = np.ones(self.k)  # no cancellation between columns
        else:
            absP = np.abs(self.precisions)
            near = np.einsum("ki,kij,kj->k", b, absP, b)
            smallest = np.linalg.eigvalsh(self.precisions)[:, 0]
            with np.errstate(divide="ignore"):
                kappa = np.where(smallest > 0, absP.sum(axis=2).max(axis=1) / smallest, np.inf)
        return (scale * near > _TOLERANCE) | (scale * kappa > _TOLERANCE * 10.0)

    def _exact_rows(self, L, Zt, a, exact):
        """Overwrite row j of ``L`` with the factorised log density for each j in ``exact``."""
        for j in exact:
            D = Zt - a[j][:, None]
            if self.kind == "diag":
                D *= np.sqrt(self.precisions[j])[:, None]
            else:
                D = self.chol[j].T @ D
            q = np.einsum("db,db->b", D, D)
            lw = self.log_weights[j]
            L[j] = self.log_norm[j] + lw - 0.5 * q

    # -- the E-step ------------------------------------------------------------------------------------
    def run(self, X, w, log_priors=None, n_jobs=1, first=0, raise_impossible=None):
        """``(logp, responsibility sums, per-component Stats)`` of the complete rows ``X``.

        ``raise_impossible(lse, mask, first)`` reports rows no component can produce (only possible
        with ``log_priors``, i.e. labels, or zero weights).
        """
        n = X.shape[0]
        shift = X[:_SHIFT_ROWS].mean(axis=0)
        Zs = X[:_SHIFT_ROWS] - shift
        spread = np.sqrt(np.einsum("nd,nd->d", Zs, Zs) / max(Zs.shape[0], 1))
        W, a = self._coefficients(shift)
        exact_lp = np.nonzero(self._needs_exact(a, spread))[0]
        unit = bool(np.all(w == 1.0))
        dead = np.nonzero(~np.isfinite(self.log_weights))[0]

        def responsibilities(rows):
            """Log densities, log-sum-exp and responsibilities of one block: ``(R (k, B), lse, Phi, Zt)``."""
            Zt = (X[rows] - shift).T.copy()
            Phi = self._features(Zt)
            L = W @ Phi
            if exact_lp.size:
                self._exact_rows(L, Zt, a, exact_lp)
            if dead.size:
                L[dead] = -np.inf
            if log_priors is not None:
                L += log_priors[rows].T
            mx = L.max(axis=0)
            finite = np.isfinite(mx)
            if not finite.all():
                mx = np.where(finite, mx, 0.0)
            L -= mx
            with np.errstate(under="ignore"):
                np.exp(L, out=L)
            s = L.sum(axis=0)
            with np.errstate(divide="ignore"):
                lse = np.log(s) + mx
            scale = 1.0 / np.where(s > 0, s, 1.0)
            if not unit:
                scale *= w[rows]
            L *= scale
            return L, lse, Phi, Zt

        def chunk(sl):
            """Pass 1 over a thread's rows: logp and the raw feature sums ``Σ r φ(z)`` (k, F)."""
            logp, S = 0.0, np.zeros((self.k, self.n_features))
            for start in range(sl.start, sl.stop, self.block_rows):
                rows = slice(start, min(start + self.block_rows, sl.stop))
                R, lse, Phi, _ = responsibilities(rows)
                if unit:
                    if raise_impossible is not None:
                        raise_impossible(lse, None, first + start)
                    logp += float(lse.sum())
                else:
                    active = w[rows] > 0
                    if raise_impossible is not None:
                        raise_impossible(lse, active, first + start)
                    logp += float(w[rows][active] @ lse[active])
                S += R @ Phi.T
            return logp, S

        parts = map_chunks(chunk, n, n_jobs)
        logp = sum(p[0] for p in parts)
        S = sum(p[1] for p in parts)
        stats, redo = self._stats(S, shift)
        if redo.size:  # the raw scatter of these components cancels too much: a centred second pass
            from .distributions._stats import moment_stats

            def centred(sl):
                out = None
                for start in range(sl.start, sl.stop, self.block_rows):
                    rows = slice(start, min(start + self.block_rows, sl.stop))
                    R = responsibilities(rows)[0]
                    s = moment_stats(X[rows], R[redo].T)
                    out = s if out is None else out + s
                return out

            exact = [p for p in map_chunks(centred, n, n_jobs) if p is not None]
            total = exact[0]
            for p in exact[1:]:
                total = total + p
            for i, j in enumerate(redo):
                stats[j] = self._package(j, total.w[i], total.mean[i], total.m2[i])
        return logp, S[:, 0].copy(), stats

    def _stats(self, S, shift):
        """Per-component ``Stats`` from the raw sums, and the components that need the centred pass."""
        d = self.d
        N = S[:, 0]
        stats, redo = [None] * self.k, []
        for j in range(self.k):
            if self.components[j].frozen:
                continue
            if not N[j] > 0:
                stats[j] = self._package(j, 0.0, np.zeros(d), np.zeros((d, d)))
                continue
            zbar = S[j, 1:1 + d] / N[j]
            if self.kind == "diag":
                raw = S[j, 1 + d:]
                m2 = raw - N[j] * zbar * zbar
                diag_raw, diag_m2 = raw, m2
            else:
                m2 = np.empty((d, d))
                at = 1 + d
                for i in range(d):
                    m2[i, i:] = S[j, at:at + d - i]
                    m2[i:, i] = S[j, at:at + d - i]
                    at += d - i
                diag_raw = np.diag(m2).copy()
                m2 -= N[j] * np.outer(zbar, zbar)
                diag_m2 = np.diag(m2)
            # relative rounding error of a variance ≈ eps · √rows · (raw second moment / variance)
            if np.any(diag_m2 * _TOLERANCE <= 64.0 * _EPS * diag_raw):
                redo.append(j)
                continue
            stats[j] = self._package(j, N[j], shift + zbar, m2)
        return stats, np.array(redo, dtype=int)

    def _package(self, j, w, mean, m2):
        """The ``Stats`` value component ``j``'s family expects (m2 is (d, d) for full, (d,) or (d, d) else)."""
        from .distributions._stats import MomentStats, TupleStats

        w = np.array([w], dtype=np.float64)
        if self.kind == "full":
            return MomentStats(w, np.asarray(mean)[None, :], np.asarray(m2)[None, :, :])
        m2 = np.asarray(m2)
        var = np.diag(m2) if m2.ndim == 2 else m2
        mean = np.asarray(mean)
        children = [MomentStats(w.copy(), mean[i:i + 1].copy(), var[i:i + 1].copy()) for i in range(self.d)]
        c = self.components[j]
        if not hasattr(c, "distributions"):  # a univariate NormalDistribution
            return children[0]
        return TupleStats(tuple(None if ch.frozen else s for ch, s in zip(c.distributions, children)))
