"""Exact BROJA optimisation: min I_Q(X1, X2; Y) over the joints Q that keep P's (X1, Y) and (X2, Y) marginals.

Bertschinger, Rauh, Olbrich, Jost and Ay (2014), "Quantifying unique information", Entropy 16, define the
unique, shared and synergistic information of a joint P(x1, x2, y) through

    Delta_P = {Q >= 0 : Q(x1, y) = P(x1, y), Q(x2, y) = P(x2, y)},   m* = min_{Q in Delta_P} I_Q(X1, X2; Y).

Because H_Q(Y) is fixed on Delta_P, this is the convex problem ``min f(Q) = -H_Q(Y | X1, X2)`` (f is convex
and positively homogeneous). Its Lagrange dual, the form Makkeh, Theis and Vicente (2018, "BROJA-2PID",
Entropy 20, 271) solve as an exponential-cone programme, is

    max_{a, b}  <a, P(x1, y)> + <b, P(x2, y)>   s.t.   g_k(a, b) = log sum_y exp(a(x1, y) + b(x2, y)) <= 0

for every pair k = (x1, x2), the sums running over the support S = {(x1, x2, y): P(x1, y) > 0, P(x2, y) > 0}
(outside S every feasible Q is zero). At the optimum Q(x1, x2, y) = pi_k softmax_y(a(x1, y) + b(x2, y)), where
the pair masses pi_k = Q(x1, x2) >= 0 are the multipliers of the constraints.

We solve this dual with an infeasible primal-dual interior-point method with Mehrotra's predictor-corrector
(Boyd and Vandenberghe, *Convex Optimization*, 2004, sec. 11.7; Nocedal and Wright, *Numerical Optimization*,
2006, sec. 14.2 and 19.3). Unknowns: (a, b), slacks s_k (-> -g_k) and multipliers pi_k. Eliminating s and pi
leaves one symmetric positive-definite system per step in the (|X1| + |X2|) |Y| dual variables, built from
per-pair |Y| x |Y| blocks with numpy; the a-variables (block diagonal, one |Y| x |Y| block per x1) are removed
by a Schur complement, so the dense Cholesky factorisation has size min(|X1|, |X2|) |Y|. Safeguards, each
needed on joints with probabilities down to 1e-250 in our stress tests:

* a weighted central path pi_k s_k = mu w_k (target following; w = the start's products), so pairs of tiny
  mass are not pushed to the common mu (which would blow their slacks up);
* a trust region of 3 nats on the change of each log Q(y | x1, x2) per step, and backtracking while the
  linearisation error of the convex g_k exceeds the new slack by more than 0.1 nats;
* mu is never driven below 1 % of the tolerance, so the last steps only remove infeasibility;
* Jacobi scaling of the Newton system.

The method exploits structure a generic conic solver cannot see, which is why it is 10-100x faster than the
ECOS cone path of dit (see ``benchmarks/bench_pid.py``).

**Certificate.** Any feasible (a, b) gives the lower bound f* >= <a, P1> + <b, P2>; the iterate is made
feasible by lowering a(x1, .) or b(x2, .) on the (rare) pairs with g_k > 0. The primal iterate pi_k p_k is
projected exactly onto Delta_P, one transportation polytope per y, by the rounding of Altschuler, Weed and
Rigollet (2017, Algorithm 2), which only moves mass inside S; f at that Q is an upper bound. The iteration
stops once upper - lower <= ``tol`` bits (the reported ``gap``), and every reported quantity is computed from
that exactly feasible Q, so U1, U2 >= 0 hold exactly and R, S >= -gap.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg.lapack

LN2 = math.log(2.0)

# Interior-point constants (see the module docstring).
_STEP = 0.99  # fraction of the way to the boundary of pi, s >= 0
_TRUST = 3.0  # nats: largest change of log Q(y | x1, x2) in one step
_LIN_ERR = 0.1  # nats: accepted linearisation error of g_k on top of the new slack
_MU_FLOOR = 0.01  # mu is kept >= _MU_FLOOR * tol
_STALL = 20  # iterations without a better certificate before giving up (the best one is returned)


@dataclass(frozen=True)
class BrojaSolution:
    """Optimum of the BROJA problem for one joint.

    Attributes:
        q: the optimal joint Q, same shape as the input (|X1|, |X2|, |Y|); it has exactly P's (X1, Y) and
            (X2, Y) marginals (up to float rounding).
        mi_min: I_Q(X1, X2; Y) at ``q`` in bits: the certified upper end of [m*, m* + gap].
        gap: certified optimality gap in bits (upper bound minus the dual lower bound); 0 for trivial cases.
        iterations: interior-point iterations used.
    """

    q: np.ndarray
    mi_min: float
    gap: float
    iterations: int


def _entropy_nats(p: np.ndarray) -> float:
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def _neg_cond_entropy(q: np.ndarray) -> float:
    """f(Q) = -H_Q(Y | X1, X2) in nats, for q of shape (n1, n2, ny); 0 log 0 = 0."""
    pair = np.broadcast_to(q.sum(-1, keepdims=True), q.shape)
    pos = q > 0
    return float((q * np.log(np.where(pos, q, 1.0) / np.where(pos, pair, 1.0))).sum())


def round_to_marginals(q: np.ndarray, p1: np.ndarray, p2: np.ndarray) -> np.ndarray:
    """Project q >= 0 onto {Q >= 0 : sum_x2 Q = p1, sum_x1 Q = p2}, one transportation polytope per y.

    Altschuler, Weed and Rigollet (2017), Algorithm 2: scale rows and columns down to their targets, then add
    the rank-one correction err_1 err_2^T / |err_1|. It moves O(marginal error) mass and puts mass only on
    cells where both targets are positive.

    Args:
        q: shape (n1, n2, ny), non-negative.
        p1: target (x1, y) marginal, shape (n1, ny).
        p2: target (x2, y) marginal, shape (n2, ny); p1.sum(0) == p2.sum(0).

    Returns:
        Array of shape (n1, n2, ny) with the target marginals.
    """
    rows = q.sum(1)
    q = q * np.minimum(1.0, p1 / np.where(rows > 0, rows, 1.0))[:, None, :]
    cols = q.sum(0)
    q = q * np.minimum(1.0, p2 / np.where(cols > 0, cols, 1.0))[None, :, :]
    err1 = np.maximum(p1 - q.sum(1), 0.0)
    err2 = np.maximum(p2 - q.sum(0), 0.0)
    mass = err1.sum(0)
    return q + err1[:, None, :] * err2[None, :, :] / np.where(mass > 0, mass, 1.0)


class _Dual:
    """The dual constraints g_k(a, b) = logsumexp_y(a(x1, y) + b(x2, y)) on the support, and derivatives.

    Shapes: p1 (n1, ny), p2 (n2, ny) are P's (x1, y) and (x2, y) marginals on the reduced alphabets.
    """

    def __init__(self, p1: np.ndarray, p2: np.ndarray) -> None:
        self.p1, self.p2 = p1, p2
        self.n1, self.ny = p1.shape
        self.n2 = p2.shape[0]
        self.on1, self.on2 = p1 > 0, p2 > 0
        self.support = self.on1[:, None, :] & self.on2[None, :, :]  # (n1, n2, ny)
        self.pairs = self.support.any(-1)  # (n1, n2): pairs k with a constraint

    def softmax(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """g (n1, n2; 0 on empty pairs) and the softmax p_k = grad g_k (n1, n2, ny; 0 off the support)."""
        lam = np.where(self.support, a[:, None, :] + b[None, :, :], -np.inf)
        top = np.where(self.pairs, lam.max(-1), 0.0)
        e = np.exp(lam - top[..., None])
        z = np.where(self.pairs, e.sum(-1), 1.0)
        return top + np.log(z), e / z[..., None]

    def lower_bound(self, a: np.ndarray, b: np.ndarray, g: np.ndarray) -> float:
        """<a, P1> + <b, P2> after lowering a or b until every g_k <= 0: a valid lower bound on f* (nats).

        A violated pair (x1, x2) is repaired through a(x1, .) or b(x2, .), whichever has the smaller mass, so
        violations on rare outcomes cost almost nothing.
        """
        viol = np.where(self.pairs, np.maximum(g, 0.0), 0.0)
        to_row = self.p1.sum(1)[:, None] <= self.p2.sum(1)[None, :]
        u = np.where(to_row, viol, 0.0).max(1)
        v = np.where(to_row, 0.0, viol).max(0)
        return float(((a - u[:, None]) * self.p1).sum() + ((b - v[:, None]) * self.p2).sum())


class _Newton:
    """Solve [[H_aa, H_ab], [H_ba, H_bb]] (da, db) = (ra, rb) by a Schur complement on the b-block.

    The matrix is sum_k B_k placed at (a(x1, .), b(x2, .)) with per-pair blocks B_k of shape (ny, ny), so H_aa
    and H_bb are block diagonal. Absent variables (P(x, y) = 0) and one b(x2, y) per y (the gauge a + t, b - t
    changes nothing) are pinned to zero by identity rows. Jacobi scaling is applied before factorising.
    """

    def __init__(self, dual: _Dual) -> None:
        self.n1, self.n2, self.ny = dual.n1, dual.n2, dual.ny
        self.free_a = dual.on1.copy()
        self.free_b = dual.on2.copy()
        self.free_b[np.argmax(dual.on2, axis=0), np.arange(self.ny)] = False
        self.eye = np.eye(self.ny, dtype=bool)
        base = np.arange(self.n2)[:, None, None] * self.ny
        self.bb_rows = base + np.arange(self.ny)[None, :, None]  # (n2, ny, 1): diagonal blocks of H_bb
        self.bb_cols = base + np.arange(self.ny)[None, None, :]

    def factor(self, blocks: np.ndarray) -> None:
        """Factorise for blocks of shape (n1, n2, ny, ny) (symmetric positive semi-definite per pair)."""
        n1, n2, ny = self.n1, self.n2, self.ny
        h_aa, h_bb = blocks.sum(1), blocks.sum(0)  # (n1, ny, ny), (n2, ny, ny)
        diag_a = np.diagonal(h_aa, axis1=1, axis2=2)
        diag_b = np.diagonal(h_bb, axis1=1, axis2=2)
        self.sa = np.where(self.free_a, 1.0 / np.sqrt(np.maximum(diag_a, 1e-300)), 0.0)
        self.sb = np.where(self.free_b, 1.0 / np.sqrt(np.maximum(diag_b, 1e-300)), 0.0)
        h_aa = self.sa[:, :, None] * h_aa * self.sa[:, None, :]
        h_aa[:, self.eye] += ~self.free_a
        h_bb = self.sb[:, :, None] * h_bb * self.sb[:, None, :]
        h_bb[:, self.eye] += ~self.free_b
        # Scaled off-diagonal block, rows a(x1, y), columns b(x2, y'): (n1, ny, n2 ny).
        h_ab = self.sa[:, :, None, None] * blocks.transpose(0, 2, 1, 3) * self.sb[None, None]
        self.l_aa = np.linalg.cholesky(h_aa)  # (n1, ny, ny)
        self.w = np.linalg.solve(self.l_aa, h_ab.reshape(n1, ny, n2 * ny))  # L_aa^-1 H_ab
        w2 = self.w.reshape(n1 * ny, n2 * ny)
        for ridge in (0.0, 1e-12, 1e-9):
            schur = -(w2.T @ w2)  # (n2 ny, n2 ny)
            schur[self.bb_rows, self.bb_cols] += h_bb
            schur.flat[:: n2 * ny + 1] += ridge
            self.chol, info = scipy.linalg.lapack.dpotrf(schur, lower=1, clean=0, overwrite_a=1)
            if info == 0:
                return
        raise np.linalg.LinAlgError("the BROJA Newton system is not positive definite")

    def solve(self, ra: np.ndarray, rb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(da (n1, ny), db (n2, ny)) for right-hand sides ra (n1, ny), rb (n2, ny)."""
        n1, n2, ny = self.n1, self.n2, self.ny
        ya = np.linalg.solve(self.l_aa, (self.sa * ra)[..., None])  # (n1, ny, 1)
        rhs_b = (self.sb * rb).ravel() - self.w.reshape(n1 * ny, n2 * ny).T @ ya.ravel()
        xb, _ = scipy.linalg.lapack.dpotrs(self.chol, rhs_b, lower=1)
        xa = np.linalg.solve(self.l_aa.transpose(0, 2, 1), ya - self.w @ xb[None, :, None])
        return self.sa * xa[..., 0], self.sb * xb.reshape(n2, ny)


#: Largest Schur system (rows) solved with one BLAS thread. Below it every BLAS call of the solver takes
#: microseconds, and waking BLAS worker threads costs more than it saves: on a busy 2-core machine a
#: 16 x 16 x 10 joint took 4-9 s per call with OpenBLAS's default threads and 0.05 s with one thread.
SINGLE_THREAD_MAX_ROWS = 2048


def _blas_threads_for(rows: int) -> Any:
    """A context with BLAS limited to one thread when the Schur system has at most ``rows`` rows."""
    if rows > SINGLE_THREAD_MAX_ROWS:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits  # installed with scikit-learn
    except ImportError:  # pragma: no cover
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def broja_solve(joint: np.ndarray, tol: float = 1e-7, max_iter: int = 200) -> BrojaSolution:
    """Solve min_{Q in Delta_P} I_Q(X1, X2; Y) for a validated joint of shape (|X1|, |X2|, |Y|).

    Args:
        joint: non-negative float64 array summing to 1 (validated by the caller), shape (n1, n2, ny).
        tol: stop when the certified optimality gap is at most this many bits.
        max_iter: iteration cap; if reached (or progress stalls) the best certified solution is returned and
            its ``gap`` says how far from optimal it may be.

    Returns:
        The optimum as a :class:`BrojaSolution` (``q`` of the input's shape, ``mi_min`` and ``gap`` in bits).
    """
    keep1, keep2 = joint.sum((1, 2)) > 0, joint.sum((0, 2)) > 0
    keepy = joint.sum((0, 1)) > 0
    sub = joint[np.ix_(keep1, keep2, keepy)]
    h_y = _entropy_nats(sub.sum((0, 1)))
    if sub.shape[2] <= 1 or sub.shape[0] == 1 or sub.shape[1] == 1:
        # A constant target (every Q has I = 0) or a constant source (Delta_P = {P}).
        return BrojaSolution(joint.copy(), max(h_y + _neg_cond_entropy(sub), 0.0) / LN2, 0.0, 0)
    swap = sub.shape[0] < sub.shape[1]  # the Cholesky factor is on the second (smaller) source
    if swap:
        sub = sub.transpose(1, 0, 2)
    with _blas_threads_for(sub.shape[1] * sub.shape[2]):
        q, lower, iters = _interior_point(_Dual(sub.sum(1), sub.sum(0)), tol * LN2, max_iter)
    upper = _neg_cond_entropy(q)
    out = np.zeros_like(joint)
    out[np.ix_(keep1, keep2, keepy)] = q.transpose(1, 0, 2) if swap else q
    return BrojaSolution(out, max(h_y + upper, 0.0) / LN2, max(upper - lower, 0.0) / LN2, iters)


def _interior_point(dual: _Dual, tol: float, max_iter: int) -> tuple[np.ndarray, float, int]:
    """Mehrotra predictor-corrector on the dual (tol in nats).

    Returns:
        (Q of shape (n1, n2, ny) with exactly P's marginals, dual lower bound on f* in nats, iterations).
    """
    p1, p2, pairs = dual.p1, dual.p2, dual.pairs
    # Start: the softmax is the conditionally independent coupling P(x1 | y) P(x2 | y) P(y) and pi its pair
    # masses, so the start is primal feasible, has g + s = 0 and lies exactly on the weighted central path.
    half_log_py = 0.5 * np.log(p1.sum(0))
    a = np.where(dual.on1, np.log(np.where(dual.on1, p1, 1.0)) - half_log_py, 0.0) - 1.0
    b = np.where(dual.on2, np.log(np.where(dual.on2, p2, 1.0)) - half_log_py, 0.0) - 1.0
    g, p = dual.softmax(a, b)
    pi = np.where(pairs, np.maximum(np.exp(g + 2.0), 1e-290), 0.0)
    s = np.where(pairs, -g, 1.0)
    w = pi * s
    w /= w.sum()
    newton = _Newton(dual)
    eye = np.eye(dual.ny, dtype=bool)
    best, best_it = (None, -np.inf, np.inf), 0
    for it in range(1, max_iter + 1):
        mu = float((pi * s).sum())
        if mu < tol:
            q = round_to_marginals(pi[..., None] * p, p1, p2)
            lower = dual.lower_bound(a, b, g)
            gap = _neg_cond_entropy(q) - lower
            if gap < best[2]:
                best, best_it = (q, lower, gap), it
            if gap <= tol or it - best_it >= _STALL:
                return best[0], best[1], it - 1
        rs = np.where(pairs, g + s, 0.0)  # slack residual
        d = pi / s
        blocks = (d - pi)[..., None, None] * p[..., :, None] * p[..., None, :]
        blocks[..., eye] += pi[..., None] * p  # pi diag(p) + (pi / s - pi) p p^T = pi hess g + (pi / s) pp^T
        newton.factor(blocks)
        state = (newton, dual, p, pi, s, rs)

        da, db, dpi, ds, _ = _direction(state, np.zeros_like(pi))  # predictor (affine scaling)
        alpha = _max_step(pi, dpi, s, ds)
        mu_aff = float(((pi + alpha * dpi) * (s + alpha * ds)).sum())
        target = max(min(mu_aff / mu, 1.0) ** 3 * mu, _MU_FLOOR * tol)
        da, db, dpi, ds, jdz = _direction(state, np.where(pairs, target * w - dpi * ds, 0.0))  # corrector
        alpha = min(1.0, _STEP * _max_step(pi, dpi, s, ds))
        dlog = np.where(dual.support, da[:, None, :] + db[None, :, :] - jdz[..., None], 0.0)
        alpha = min(alpha, _TRUST / max(float(np.abs(dlog).max()), 1e-300))
        for _ in range(60):
            g_new, p_new = dual.softmax(a + alpha * da, b + alpha * db)
            s_new = s + alpha * ds
            if np.all(~pairs | (g_new - g - alpha * jdz <= s_new + _LIN_ERR)):
                break
            alpha *= 0.5
        a, b, g, p = a + alpha * da, b + alpha * db, g_new, p_new
        pi = np.maximum(pi + alpha * dpi, 0.0)
        s = np.where(pairs, s_new, 1.0)
    q = round_to_marginals(pi[..., None] * p, p1, p2)
    lower = dual.lower_bound(a, b, g)
    if best[0] is None or _neg_cond_entropy(q) - lower < best[2]:
        best = (q, lower, 0.0)
    return best[0], best[1], it


def _direction(state: tuple, comp: np.ndarray) -> tuple[np.ndarray, ...]:
    """Newton step (da, db, dpi, ds, J dz) towards the complementarity target pi_k s_k -> comp_k (n1, n2).

    ``state`` = (factorised _Newton, _Dual, softmax p, pi, s, slack residual g + s) of the current iterate.
    """
    newton, dual, p, pi, s, rs = state
    vp = (comp / s + pi / s * rs)[..., None] * p
    da, db = newton.solve(dual.p1 - vp.sum(1), dual.p2 - vp.sum(0))
    jdz = (p * (da[:, None, :] + db[None, :, :])).sum(-1)
    ds = np.where(dual.pairs, -rs - jdz, 0.0)
    dpi = np.where(dual.pairs, (comp - pi * ds) / s - pi, 0.0)
    return da, db, dpi, ds, jdz


def _max_step(pi: np.ndarray, dpi: np.ndarray, s: np.ndarray, ds: np.ndarray) -> float:
    """Largest alpha <= 1 keeping pi + alpha dpi >= 0 and s + alpha ds >= 0 (the ratio test)."""
    r_pi = np.where(dpi < 0, pi / np.where(dpi < 0, -dpi, 1.0), np.inf)
    r_s = np.where(ds < 0, s / np.where(ds < 0, -ds, 1.0), np.inf)
    return min(1.0, float(r_pi.min()), float(r_s.min()))
