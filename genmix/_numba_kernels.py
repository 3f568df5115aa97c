"""The numba kernels behind :mod:`genmix._kernels`, imported on their first use (numba's import and
loading the kernels' cached machine code cost 0.4-0.6 s once per process, which ``import genmix`` does
not pay; the first compile after installing, ~5 s). Nothing here checks its
arguments: :func:`genmix._kernels.quadratic_estep` prepares them."""
import numba
import numba.extending
import numpy as np

# No 'nnan'/'ninf': the scores hold -inf for dead components and impossible rows. 'reassoc' lets the
# compiler vectorise the sums (the same freedom BLAS takes).
_FLAGS = {"nsz", "arcp", "contract", "reassoc"}
_jit = numba.njit(fastmath=_FLAGS, nogil=True, cache=True)
_inline = numba.njit(fastmath=_FLAGS, nogil=True, cache=True, inline="always")
# The exponential's rounding tricks must not be reassociated away: contraction into FMAs only.
_exact = numba.njit(fastmath={"contract"}, nogil=True, cache=True)

_LOG2E = 1.4426950408889634
_LN2_HI = 0.693145751953125  # ln 2 in 2 parts: the high one exact in few bits, so k·ln2_hi is exact
_LN2_LO = 1.4286068203094173e-06
_EXP_FLOOR = -746.0  # exp below this rounds to 0 in float64
_MAGIC = 6755399441055744.0  # 1.5·2^52: adding it rounds a float64 of magnitude < 2^51 to an integer
_MAGIC_BIASED = _MAGIC + 1023.0
_MAGIC_BITS = int(np.float64(_MAGIC).view(np.int64))


@_exact
def _exp_into(x, out, t1, t2, count):
    """``out[:count] = exp(x[:count])`` for ``x ≤ 0`` (``-inf`` gives 0), ~1 ulp: ``x = m ln2 + r``
    with ``|r| ≤ ln2/2``, Taylor to degree 13 (truncation < 5e-18 relative), times ``2^m`` in two
    halves (results down to the subnormals without overflowing an exponent). The integers go through
    the bits of ``m + 1.5·2^52`` (``t1``, ``t2``: float64 scratch whose int64 views become the powers of
    two), so that every loop vectorises without AVX-512's float-to-int64 conversions."""
    for i in range(count):
        v = max(x[i], _EXP_FLOOR)
        m = (v * _LOG2E + _MAGIC) - _MAGIC  # the nearest integer to v / ln2
        r = (v - m * _LN2_HI) - m * _LN2_LO
        p = 1.0 / 6227020800.0
        p = p * r + 1.0 / 479001600.0
        p = p * r + 1.0 / 39916800.0
        p = p * r + 1.0 / 3628800.0
        p = p * r + 1.0 / 362880.0
        p = p * r + 1.0 / 40320.0
        p = p * r + 1.0 / 5040.0
        p = p * r + 1.0 / 720.0
        p = p * r + 1.0 / 120.0
        p = p * r + 1.0 / 24.0
        p = p * r + 1.0 / 6.0
        p = p * r + 0.5
        p = p * r + 1.0
        p = p * r + 1.0
        half = np.floor(m * 0.5)
        t1[i] = half + _MAGIC_BIASED
        t2[i] = (m - half) + _MAGIC_BIASED
        out[i] = p
    b1 = t1.view(np.int64)
    b2 = t2.view(np.int64)
    for i in range(count):  # bits(m + 1023 + 1.5·2^52) − bits(1.5·2^52) = m + 1023: the exponent field
        b1[i] = (b1[i] - _MAGIC_BITS) << 52
        b2[i] = (b2[i] - _MAGIC_BITS) << 52
    for i in range(count):
        out[i] = (out[i] * t1[i]) * t2[i]


_F32 = np.float32
_LOG2E_32 = _F32(_LOG2E)
_LN2_HI_32 = _F32(0.693359375)  # 355/512: m·ln2_hi is exact in float32 for |m| < 2^15
_LN2_LO_32 = _F32(-2.12194440e-4)
_EXP_FLOOR_32 = _F32(-87.0)  # 2^m stays a normal float32 (m ≥ -126)
_MAGIC_32 = _F32(12582912.0)  # 1.5·2^23: adding it rounds a float32 of magnitude < 2^22 to an integer
_MAGIC_BIASED_32 = _F32(12582912.0 + 127.0)
_MAGIC_BITS_32 = int(_MAGIC_32.view(np.int32))
_C32 = tuple(_F32(1.0 / c) for c in (5040.0, 720.0, 120.0, 24.0, 6.0, 2.0, 1.0, 1.0))


@_exact
def _exp32_into(x, out, t1, count):
    """:func:`_exp_into` for float32 ``x``, ``out``, ``t1`` (scratch): Taylor to degree 7 (truncation
    < 6e-9 relative) and one power of two (``x ≥ -87``: results below that are floored away by the
    caller, :data:`genmix._math.UNDERFLOW`), 8 values per AVX2 register."""
    c0, c1, c2, c3, c4, c5, c6, c7 = _C32
    for i in range(count):
        v = max(x[i], _EXP_FLOOR_32)
        m = (v * _LOG2E_32 + _MAGIC_32) - _MAGIC_32
        r = (v - m * _LN2_HI_32) - m * _LN2_LO_32
        p = c0 * r + c1
        p = p * r + c2
        p = p * r + c3
        p = p * r + c4
        p = p * r + c5
        p = p * r + c6
        p = p * r + c7
        t1[i] = m + _MAGIC_BIASED_32
        out[i] = p
    b = t1.view(np.int32)
    for i in range(count):
        b[i] = (b[i] - _MAGIC_BITS_32) << 23
    for i in range(count):
        out[i] = out[i] * t1[i]


def _exp_block(x, out, t1, t2, count):
    """``out[:count] = exp(x[:count])`` in ``x``'s dtype (float64 or float32): compiled code only."""
    raise NotImplementedError("compiled code only")


@numba.extending.overload(_exp_block, inline="always")
def _exp_block_of(x, out, t1, t2, count):
    if x.dtype == numba.types.float32:
        return lambda x, out, t1, t2, count: _exp32_into(x, out, t1, count)
    return lambda x, out, t1, t2, count: _exp_into(x, out, t1, t2, count)


@_inline
def _products(z, out):
    """``out[1 + d:] = z_a z_b (a ≤ b, row by row)`` (unsigned offsets: no wrap-around checks, so the
    compiler vectorises the products)."""
    d = z.shape[0]
    f = np.uint64(1 + d)
    for a in range(d):
        za = z[a]
        m = np.uint64(d - a)
        ua = np.uint64(a)
        for t in range(m):
            out[f + t] = za * z[ua + t]
        f += m


@_inline
def _quadratic_row(x, shift, z, out):
    """``out = [1, z, z_a z_b (a ≤ b)]`` of ``z = x − shift``."""
    out[0] = 1.0
    for a in range(x.shape[0]):
        z[a] = x[a] - shift[a]
        out[1 + a] = z[a]
    _products(z, out)


@_inline
def _quadratic_row_observed(x, shift, z, out):
    """:func:`_quadratic_row` of a row with missing values (NaN), which read as the shift (``z = 0``)."""
    out[0] = 1.0
    for a in range(x.shape[0]):
        v = x[a]
        z[a] = 0.0 if np.isnan(v) else v - shift[a]
        out[1 + a] = z[a]
    _products(z, out)


@_inline
def _quadratic_block(X, start, rows, shift, PT):
    """``PT[:, :rows] = Φ`` (F, B) of the rows ``X[start:start + rows]``, feature by feature along the
    rows (every loop contiguous, so each vectorises)."""
    d = X.shape[1]
    for r in range(rows):
        PT[0, r] = 1.0
    for a in range(d):
        c = shift[a]
        for r in range(rows):
            PT[1 + a, r] = X[start + r, a] - c
    f = 1 + d
    for a in range(d):
        for b in range(a, d):
            for r in range(rows):
                PT[f, r] = PT[1 + a, r] * PT[1 + b, r]
            f += 1


@_inline
def _scores(P, W, L, rows):
    """``L[:, :rows] = W Pᵀ`` (P (B, F) row-major features, W (k, F)): two rows by four components in
    registers, the rest one component at a time (rows a multiple of 2)."""
    k, F = W.shape
    k4 = k - k % 4
    for r in range(0, rows, 2):
        p0 = P[r]
        p1 = P[r + 1]
        for j in range(0, k4, 4):
            w0 = W[j]
            w1 = W[j + 1]
            w2 = W[j + 2]
            w3 = W[j + 3]
            a00 = a01 = a02 = a03 = a10 = a11 = a12 = a13 = 0.0
            for f in range(F):
                x0 = p0[f]
                x1 = p1[f]
                a00 += w0[f] * x0
                a01 += w1[f] * x0
                a02 += w2[f] * x0
                a03 += w3[f] * x0
                a10 += w0[f] * x1
                a11 += w1[f] * x1
                a12 += w2[f] * x1
                a13 += w3[f] * x1
            L[j, r] = a00
            L[j + 1, r] = a01
            L[j + 2, r] = a02
            L[j + 3, r] = a03
            L[j, r + 1] = a10
            L[j + 1, r + 1] = a11
            L[j + 2, r + 1] = a12
            L[j + 3, r + 1] = a13
        for j in range(k4, k):
            w0 = W[j]
            a00 = a10 = 0.0
            for f in range(F):
                a00 += w0[f] * p0[f]
                a10 += w0[f] * p1[f]
            L[j, r] = a00
            L[j, r + 1] = a10


@_inline
def _sums(P, R, S, rows):
    """``S += R Pᵀ`` over the block's rows (R (k, B), P (B, F), S (k, F)): four rows by two components
    per pass over the features (rows a multiple of 4)."""
    k, F = S.shape
    k2 = k - k % 2
    for r in range(0, rows, 4):
        p0 = P[r]
        p1 = P[r + 1]
        p2 = P[r + 2]
        p3 = P[r + 3]
        for j in range(0, k2, 2):
            s0 = S[j]
            s1 = S[j + 1]
            c00 = R[j, r]
            c01 = R[j, r + 1]
            c02 = R[j, r + 2]
            c03 = R[j, r + 3]
            c10 = R[j + 1, r]
            c11 = R[j + 1, r + 1]
            c12 = R[j + 1, r + 2]
            c13 = R[j + 1, r + 3]
            for f in range(F):
                x0 = p0[f]
                x1 = p1[f]
                x2 = p2[f]
                x3 = p3[f]
                s0[f] += c00 * x0 + c01 * x1 + c02 * x2 + c03 * x3
                s1[f] += c10 * x0 + c11 * x1 + c12 * x2 + c13 * x3
        for j in range(k2, k):
            s0 = S[j]
            c00 = R[j, r]
            c01 = R[j, r + 1]
            c02 = R[j, r + 2]
            c03 = R[j, r + 3]
            for f in range(F):
                s0[f] += c00 * p0[f] + c01 * p1[f] + c02 * p2[f] + c03 * p3[f]


@_inline
def _responsibilities(E, rows, w, unit, floor, mx, s, col, t1, t2):
    """The block's scores ``E[:, :rows]`` (k, B; dead components and priors applied) in place into the
    exponentials of their distance to each row's best (0 more than ``-floor`` below it), and ``s[:rows]``
    the rows' multipliers ``w / Σ exp``: ``(Σ w·log-sum-exp, number of impossible rows)``, an impossible
    row (positive weight, no component can produce it) getting ``s = -1``. ``w[:rows]`` the block's
    weights (unless ``unit``)."""
    k = E.shape[0]
    for r in range(rows):
        mx[r] = E[0, r]
    for j in range(1, k):
        for r in range(rows):
            mx[r] = max(mx[r], E[j, r])
    for r in range(rows):
        if not np.isfinite(mx[r]):  # an impossible row (all -inf): 0 / 0 below, found afterwards
            mx[r] = 0.0
        s[r] = 0.0
    for j in range(k):
        for r in range(rows):
            col[r] = E[j, r] - mx[r]
        _exp_block(col, E[j], t1, t2, rows)
        for r in range(rows):  # no subnormal responsibilities (genmix._math.UNDERFLOW)
            if col[r] < floor:
                E[j, r] = 0.0
            s[r] += E[j, r]
    logp = 0.0
    impossible = 0
    for r in range(rows):
        weight = 1.0 if unit else w[r]
        if weight > 0.0:
            if not s[r] > 0.0:
                s[r] = -1.0
                impossible += 1
                continue
            logp += weight * (np.log(np.float64(s[r])) + np.float64(mx[r]))
            s[r] = weight / np.float64(s[r])
        else:
            s[r] = 0.0
    return logp, impossible


@_inline
def _first_impossible(s, rows):
    """The first row that :func:`_responsibilities` marked impossible."""
    for r in range(rows):
        if s[r] < 0.0:
            return r
    return -1


@_jit
def responsibilities(L, w, unit, floor, impossible):
    """:func:`genmix._math.responsibilities_in_place` of a block of scores ``L`` (k, B), in place:
    ``(Σ w·log-sum-exp, number of impossible rows)``, marking them in ``impossible`` (B) bool. ``w`` (B)
    the rows' weights (read unless ``unit``)."""
    k, B = L.shape
    mx = np.empty(B, dtype=L.dtype)
    s = np.empty(B, dtype=L.dtype)
    col = np.empty(B, dtype=L.dtype)
    t1 = np.empty(B, dtype=L.dtype)
    t2 = np.empty(B, dtype=L.dtype)
    logp, count = _responsibilities(L, B, w, unit, floor, mx, s, col, t1, t2)
    for r in range(B):
        impossible[r] = s[r] < 0.0
        if s[r] < 0.0:
            s[r] = 0.0
    for j in range(k):
        for r in range(B):
            L[j, r] *= s[r]
    return logp, count


@_jit
def quadratic_estep(X, shift, W, dead, w, unit, priors, block, floor, blas, S, P, z):
    """One thread's rows ``X`` (n, d): ``(log-likelihood, first impossible row or -1)``, adding
    ``R Φᵀ`` into ``S`` (k, F). ``W`` (k, F) holds the log weights in its constant column,
    ``dead`` (k) marks components of weight 0, ``w`` the rows' weights (read unless ``unit``),
    ``priors`` (n, k) log priors added to the scores (an empty array: none); ``block`` = B rows (a
    multiple of 4); a term whose score is more than ``-floor`` below its row's best gets responsibility
    0. With ``blas`` the features are built transposed in ``P`` (F, B) and both products are BLAS
    calls; else ``P`` is (B, F) and the products are the register-blocked loops. ``z`` (d): scratch.

    The scores, exponentials and responsibilities are in ``W``'s dtype (float32 only with ``blas``), the
    log-likelihood and ``S`` float64. float32 products run transposed, ``(Φᵀ Wᵀ)`` and ``(Φ Rᵀ)``: with
    few components OpenBLAS's sgemm runs these at twice the rate of ``W Φ`` and ``R Φᵀ`` (measured
    46-49 against 21-23 GFLOP/s, k = 10, F = 66; its dgemm runs both at ~20).
    """
    n, d = X.shape
    k, F = W.shape
    t32 = blas and W.itemsize == 4
    WT = np.empty((F, k) if t32 else (1, 1), dtype=W.dtype)  # (F, k): the float32 scores' right operand
    if t32:
        for j in range(k):
            for f in range(F):
                WT[f, j] = W[j, f]
    # a block's BLAS scores and sums, in the working dtype: (B, k) and (F, k) transposed for float32
    LT = np.empty((block, k) if t32 else (1, 1), dtype=W.dtype)
    Sb = np.empty((F, k) if t32 else ((k, F) if blas else (1, 1)), dtype=W.dtype)
    L = np.empty((1, 1) if t32 else (k, block), dtype=W.dtype)
    R = np.zeros((k, block), dtype=W.dtype)
    E = np.empty((k, block), dtype=W.dtype)
    mx = np.empty(block, dtype=W.dtype)
    s = np.empty(block, dtype=W.dtype)
    col = np.empty(block, dtype=W.dtype)
    t1 = np.empty(block, dtype=W.dtype)
    t2 = np.empty(block, dtype=W.dtype)
    has_priors = priors.shape[0] > 0
    logp = 0.0
    for start in range(0, n, block):
        rows = min(block, n - start)
        padded = (rows + 3) // 4 * 4
        if blas:  # a partial last block: zero features (and responsibilities) in the columns past it
            _quadratic_block(X, start, rows, shift, P)
            for f in range(F):
                for r in range(rows, block):
                    P[f, r] = 0.0
            if t32:
                np.dot(P.T, WT, LT)
            else:
                np.dot(W, P, L)
        else:
            for r in range(rows):
                _quadratic_row(X[start + r], shift, z, P[r])
            for r in range(rows, padded):  # pad rows: zero features and responsibilities add nothing
                P[r, :] = 0.0
            _scores(P, W, L, padded)
        for j in range(k):
            if t32:
                for r in range(rows):
                    E[j, r] = LT[r, j]
            else:
                for r in range(rows):
                    E[j, r] = L[j, r]
            if dead[j]:
                for r in range(rows):
                    E[j, r] = -np.inf
            if has_priors:
                for r in range(rows):
                    E[j, r] += priors[start + r, j]
        block_logp, bad = _responsibilities(E, rows, w[start:] if not unit else w, unit, floor, mx, s, col, t1, t2)
        logp += block_logp
        if bad:
            return logp, start + _first_impossible(s, rows)
        for j in range(k):
            for r in range(rows):
                R[j, r] = E[j, r] * s[r]
            for r in range(rows, block):
                R[j, r] = 0.0
        if t32:
            np.dot(P, R.T, Sb)
            for j in range(k):
                for f in range(F):
                    S[j, f] += Sb[f, j]
        elif blas:
            np.dot(R, P.T, Sb)
            for j in range(k):
                for f in range(F):
                    S[j, f] += Sb[j, f]
        else:
            _sums(P, R, S, padded)
    return logp, -1



@_jit
def quadratic_patterns_estep(X, order, lo, hi, starts, WT, shift, dead, w, unit, priors, block, floor, S, P, z):
    """The sorted positions ``lo:hi`` of rows with missing values (``order``: rows sorted by missingness
    pattern, pattern ``g`` at positions ``starts[g]:starts[g + 1]``): ``(log-likelihood, first
    impossible row of X or -1)``, adding each pattern's ``R Φᵀ`` into ``S[g]`` (G, k, F). ``WT`` (G, F, k)
    the patterns' coefficients transposed (log weights in feature 0), the missing coordinates read as the
    shift; ``w`` and ``priors`` indexed by the rows of ``X``; ``P`` (B, F) and ``z`` (d): scratch. A
    block is at most ``block`` rows of one pattern: its features row by row, its two products BLAS calls.
    float64 throughout."""
    k = dead.shape[0]
    F = P.shape[1]
    LT = np.empty((block, k))
    RT = np.empty((block, k))
    Sb = np.empty((F, k))
    E = np.empty((k, block))
    wb = np.empty(block)
    mx = np.empty(block)
    s = np.empty(block)
    col = np.empty(block)
    t1 = np.empty(block)
    t2 = np.empty(block)
    has_priors = priors.shape[0] > 0
    logp = 0.0
    g = np.searchsorted(starts, lo, side="right") - 1
    pos = lo
    while pos < hi:
        while starts[g + 1] <= pos:
            g += 1
        stop = min(starts[g + 1], hi, pos + block)
        rows = stop - pos
        for r in range(rows):
            _quadratic_row_observed(X[order[pos + r]], shift, z, P[r])
        np.dot(P[:rows], WT[g], LT[:rows])
        for j in range(k):
            for r in range(rows):
                E[j, r] = LT[r, j]
            if dead[j]:
                for r in range(rows):
                    E[j, r] = -np.inf
            if has_priors:
                for r in range(rows):
                    E[j, r] += priors[order[pos + r], j]
        if not unit:
            for r in range(rows):
                wb[r] = w[order[pos + r]]
        block_logp, bad = _responsibilities(E, rows, wb, unit, floor, mx, s, col, t1, t2)
        logp += block_logp
        if bad:
            return logp, order[pos + _first_impossible(s, rows)]
        for r in range(rows):
            for j in range(k):
                RT[r, j] = E[j, r] * s[r]
        np.dot(P[:rows].T, RT[:rows], Sb)
        for j in range(k):
            for f in range(F):
                S[g, j, f] += Sb[f, j]
        pos = stop
    return logp, -1

_LOG_2PI = float(np.log(2.0 * np.pi))


@_exact
def quadratic_marginals(masks, lam, a, log_norm, W, T, K):
    """Per missingness pattern ``g`` (``masks`` (G, d), True where missing) and component ``j``, the
    Gaussian's marginal over the observed coordinates in the ``"quadratic"`` features of rows whose
    missing coordinates read as the shift, as :meth:`genmix.distributions.multivariate_gaussian._GaussianTerm.marginals`
    computes it with numpy: with ``K = Λ_mm⁻¹`` (Cholesky of the ``m × m`` block),
    ``Q = (Λ − Λ_·m K Λ_m·)_oo``, ``W[g, j] = [log_norm + ½ m log 2π − ½ log|Λ_mm| − ½ ãᵀQã, Qã,
    −½Q_ii | −Q_il (i < l)]``, ``T[g, j] = [a_m + (KΛã)_m | I − KΛ]`` and ``K[g, j]`` embedded at
    (m, m). ``lam`` (k, d, d) the precisions, ``a`` (k, d) ``μ − shift``. Returns False where a block
    ``Λ_mm`` is not positive definite (numpy's Cholesky would raise), else True."""
    G, d = masks.shape
    k = lam.shape[0]
    mis = np.empty(d, dtype=np.intp)
    L = np.zeros((d, d))
    Li = np.zeros((d, d))
    Kmm = np.zeros((d, d))
    KL = np.zeros((d, d))  # the rows m of KΛ (m × d)
    Q = np.zeros((d, d))
    ao = np.zeros(d)
    qa = np.zeros(d)
    for g in range(G):
        m = 0
        for i in range(d):
            if masks[g, i]:
                mis[m] = i
                m += 1
        for j in range(k):
            lj = lam[j]
            log_det = 0.0
            for p in range(m):  # Cholesky of Λ_mm
                for q in range(p + 1):
                    s = lj[mis[p], mis[q]]
                    for t in range(q):
                        s -= L[p, t] * L[q, t]
                    if p == q:
                        if not s > 0.0:
                            return False
                        L[p, p] = np.sqrt(s)
                        log_det += 2.0 * np.log(L[p, p])
                    else:
                        L[p, q] = s / L[q, q]
            for p in range(m):  # L⁻¹ by forward substitution
                for q in range(m):
                    s = 1.0 if p == q else 0.0
                    for t in range(q, p):
                        s -= L[p, t] * Li[t, q]
                    Li[p, q] = s / L[p, p] if q <= p else 0.0
            for p in range(m):  # K_mm = L⁻ᵀ L⁻¹
                for q in range(m):
                    s = 0.0
                    for t in range(max(p, q), m):
                        s += Li[t, p] * Li[t, q]
                    Kmm[p, q] = s
            for p in range(m):  # the rows m of KΛ
                for c in range(d):
                    s = 0.0
                    for q in range(m):
                        s += Kmm[p, q] * lj[mis[q], c]
                    KL[p, c] = s
            for i in range(d):
                ao[i] = 0.0 if masks[g, i] else a[j, i]
            for i in range(d):  # Q over (o, o), 0 elsewhere
                for c in range(d):
                    if masks[g, i] or masks[g, c]:
                        Q[i, c] = 0.0
                    else:
                        s = lj[i, c]
                        for p in range(m):
                            s -= lj[i, mis[p]] * KL[p, c]
                        Q[i, c] = s
            quad = 0.0
            for i in range(d):
                s = 0.0
                for c in range(d):
                    s += Q[i, c] * ao[c]
                qa[i] = s
                quad += s * ao[i]
            w = W[g, j]
            w[0] = log_norm[j] + 0.5 * m * _LOG_2PI - 0.5 * log_det - 0.5 * quad
            for i in range(d):
                w[1 + i] = qa[i]
            f = 1 + d
            for i in range(d):
                w[f] = -0.5 * Q[i, i]
                f += 1
                for c in range(i + 1, d):
                    w[f] = -Q[i, c]
                    f += 1
            t_ = T[g, j]
            kk = K[g, j]
            for i in range(d):
                t_[i, 0] = 0.0
                for c in range(d):
                    t_[i, 1 + c] = 1.0 if i == c else 0.0
                    kk[i, c] = 0.0
            for p in range(m):
                r = mis[p]
                s = a[j, r]
                for c in range(d):
                    s += KL[p, c] * ao[c]
                    t_[r, 1 + c] -= KL[p, c]
                t_[r, 0] = s
                for q in range(m):
                    kk[r, mis[q]] = Kmm[p, q]
    return True
