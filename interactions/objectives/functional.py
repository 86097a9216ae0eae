"""Loss maths of every objective, as pure tensor functions (no modules, no state).

Losses are in **nats** (natural log, as trained); they are training signals, not reported information
quantities. Rows of the inputs are paired: ``a[k]`` and ``b[k]`` come from the same sample.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import TypeVar

import torch
import torch.nn.functional as F
from torch import Tensor

#: logit of removed self-similarities (the official code uses -1e8; exp() of it is exactly 0 in float32)
_REMOVED = -1e8

_F = TypeVar("_F", bound=Callable[..., Tensor])


def float32_loss(fn: _F) -> _F:
    """Run a loss function in float32 with autocast off, whatever the caller's autocast (AMP) state.

    Under float16 autocast the similarity products would be float16: ``_REMOVED`` is not representable
    there (filling it raises), and logits / tau lose precision. Tensor arguments of a floating type
    narrower than float32 are cast to float32 (gradients flow back to the float16 activations); float32
    and float64 arguments are used as they are.
    """

    def as_float(value):
        narrow = isinstance(value, Tensor) and value.is_floating_point() and value.element_size() < 4
        return value.float() if narrow else value

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        tensors = [a for a in (*args, *kwargs.values()) if isinstance(a, Tensor)]
        tensors += [t for a in args if isinstance(a, (list, tuple)) for t in a if isinstance(t, Tensor)]
        device_type = tensors[0].device.type if tensors else "cpu"
        args = tuple(
            type(a)(as_float(t) for t in a) if isinstance(a, (list, tuple)) else as_float(a) for a in args
        )
        kwargs = {k: as_float(v) for k, v in kwargs.items()}
        with torch.autocast(device_type=device_type, enabled=False):
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _check_pair(a: Tensor, b: Tensor) -> None:
    if a.ndim != 2 or b.ndim != 2 or a.shape[0] != b.shape[0]:
        raise ValueError(
            f"expected paired embeddings (N, D_a), (N, D_b), got {tuple(a.shape)}, {tuple(b.shape)}"
        )


def _check_temperature(temperature: float) -> None:
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature!r}")


@float32_loss
def nt_xent(a: Tensor, b: Tensor, temperature: float = 0.1) -> Tensor:
    """SimCLR's NT-Xent loss of paired embeddings (Chen et al. 2020, arXiv 2002.05709; CoMM spec 1.4).

    Both inputs are l2-normalised. For anchor ``a_k`` the positive is ``b_k`` and the ``2N - 2`` negatives
    are ``b_l`` and ``a_l`` for ``l != k`` (likewise for anchor ``b_k``); the loss is the mean over the
    ``2N`` anchors of ``-log softmax(positive)``. Symmetric in ``(a, b)``.

    Args:
        a: Shape: (N, D). b: Shape: (N, D).
        temperature: tau > 0 (0.1 in CoMM).

    Returns:
        Scalar loss in nats. When every positive cosine similarity is p and every negative one is c the
        loss is ``-log(e^{p/t} / (e^{p/t} + (2N-2) e^{c/t}))``.
    """
    _check_pair(a, b)
    _check_temperature(temperature)
    n = a.shape[0]
    z = F.normalize(torch.cat([a, b]), dim=1)  # (2N, D): rows 0..N-1 are a, N..2N-1 are b
    # one (2N, 2N) similarity matrix holds s_aa, s_ab, s_ba, s_bb; drop each anchor's self-similarity
    sim = (z @ z.T / temperature).fill_diagonal_(_REMOVED)
    positive = torch.arange(2 * n, device=a.device).roll(n)  # a_k <-> b_k: targets N..2N-1, 0..N-1
    return F.cross_entropy(sim, positive)  # mean over the 2N anchors


@float32_loss
def retrieval_accuracy(a: Tensor, b: Tensor) -> Tensor:
    """Top-1 accuracy of retrieving ``b_k`` from ``a_k`` by cosine similarity (CoMM's "ssl_acc").

    Shape: a (N, D), b (N, D) -> scalar in [0, 1].
    """
    _check_pair(a, b)
    sim = F.normalize(a, dim=1) @ F.normalize(b, dim=1).T
    return (sim.argmax(dim=1) == torch.arange(a.shape[0], device=a.device)).float().mean()


@float32_loss
def clip_loss(u: Tensor, v: Tensor, logit_scale: Tensor) -> Tensor:
    """Symmetric CLIP cross-entropy (Radford et al. 2021, arXiv 2103.00020; CoMM spec 3.1).

    ``logits[k, l] = exp(logit_scale) * <u_k, v_l>`` on l2-normalised rows; the loss is
    ``(CE(rows) + CE(columns)) / 2`` with the diagonal as target. No intra-modal negatives.

    Args:
        u: Shape: (N, D). v: Shape: (N, D).
        logit_scale: the *log* of the inverse temperature, a scalar tensor.

    Returns:
        Scalar loss in nats.
    """
    _check_pair(u, v)
    logits = logit_scale.exp() * F.normalize(u, dim=1) @ F.normalize(v, dim=1).T  # (N, N)
    target = torch.arange(u.shape[0], device=u.device)
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2


@float32_loss
def comm_terms(first: Sequence[Tensor], second: Sequence[Tensor], temperature: float = 0.1) -> list[Tensor]:
    """CoMM's per-term losses, as in the official ``CoMMLoss`` (CoMM spec 1.4).

    ``first = [Z'_1, ..., Z'_n, Z']`` and ``second = [Z''_1, ..., Z''_n, Z'']`` are the projected embeddings
    of the two augmented views, the full-modality one **last**. Term i (i = 1..n, full) is
    ``(NT-Xent(Z'_i, Z'') + NT-Xent(Z''_i, Z')) / 2``: each masked embedding is paired with the *other*
    view's full embedding only (the code's choice, spec 7.10). The full term equals ``NT-Xent(Z', Z'')``.

    Args:
        first, second: n + 1 tensors each. Shape: (N, D) each.
        temperature: tau of NT-Xent.

    Returns:
        The n + 1 term losses (scalars, nats), full term last.
    """
    if len(first) != len(second) or len(first) < 1:
        raise ValueError(
            f"need the same number (>= 1) of embeddings per view, got {len(first)}, {len(second)}"
        )
    full_1, full_2 = first[-1], second[-1]
    terms = [
        (nt_xent(z1, full_2, temperature) + nt_xent(z2, full_1, temperature)) / 2
        for z1, z2 in zip(first[:-1], second[:-1])
    ]
    terms.append(nt_xent(full_1, full_2, temperature))
    return terms


def weighted_mean(terms: Sequence[Tensor], weights: Sequence[float] | None = None) -> Tensor:
    """``(1 / n) * sum_i w_i * L_i`` over ``n`` term losses: CoMM's and InfMasking's total.

    With ``weights=None`` all ``w_i = 1`` (the plain mean). With weights the sum is still divided by ``n`` and
    not by ``sum(w)``, exactly as both official codes (``mean_i(w_i L_i)``).

    Returns:
        Scalar loss in nats.
    """
    if len(terms) < 1:
        raise ValueError("need at least one term")
    if weights is None:
        return torch.stack(list(terms)).mean()
    if len(weights) != len(terms):
        raise ValueError(f"weights must have {len(terms)} entries, one per term, got {weights}")
    return sum(w * t for w, t in zip(weights, terms)) / len(terms)


@float32_loss
def infmasking_mask_loss(q: Tensor, keys: Tensor, lam: float, temperature: float = 0.1) -> Tensor:
    """InfMasking's mask loss of one view (official ``InfMaskingLoss``, newer-objectives spec 2.2 step 1-4).

    The anchor ``q_b`` (the unmasked full-input embedding) is aligned with the mean ``mu_b`` of its ``T``
    token-masked draws ``k_{t,b}``; the positive logit adds the Gaussian moment term
    ``lam * q_b^T Sigma_b q_b / (2 tau^2)`` (``Sigma_b`` the biased covariance of the draws, gradients flow
    through it), and the same term is added back as a regulariser ``R``, so the loss is ``CE + R`` with

    ``CE = mean_b[-s_b + log(e^{s_b} + sum_{t, n != b} e^{q_b.k_{t,n}/tau} + sum_{n != b} e^{q_b.q_n/tau})]``,
    ``s_b = q_b.mu_b / tau + lam q_b^T Sigma_b q_b / (2 tau^2)``. The anchor's own draws are not negatives.

    Args:
        q: l2-normalised anchors. Shape: (B, D).
        keys: l2-normalised masked draws, ``keys[t, b]`` a draw of sample b. Shape: (T, B, D).
        lam: the (ramped) lambda >= 0.
        temperature: tau > 0 (0.1).

    Returns:
        Scalar loss in nats.
    """
    _check_temperature(temperature)
    if q.ndim != 2 or keys.ndim != 3 or keys.shape[1:] != q.shape:
        raise ValueError(f"expected q (B, D) and keys (T, B, D), got {tuple(q.shape)}, {tuple(keys.shape)}")
    if not lam >= 0:
        raise ValueError(f"lam must be >= 0, got {lam!r}")
    n_draws, batch, _ = keys.shape
    tau = temperature
    own = torch.einsum("bd,tbd->tb", q, keys)  # q_b . k_{t,b}, (T, B)
    mean = own.mean(dim=0)  # q_b . mu_b, (B,)
    variance = (own - mean).pow(2).mean(dim=0)  # q_b^T Sigma_b q_b, (B,)
    moment = lam * variance / (2 * tau**2)
    positive = mean / tau + moment  # (B,)
    other = torch.eye(batch, dtype=torch.bool, device=q.device)
    masked = torch.einsum("bd,tnd->btn", q, keys) / tau  # q_b . k_{t,n} / tau, (B, T, B)
    masked = masked.masked_fill(other[:, None, :], _REMOVED).flatten(1)  # drop the anchor's own draws
    anchors = (q @ q.T / tau).masked_fill(other, _REMOVED)  # (B, B)
    logits = torch.cat([positive[:, None], masked, anchors], dim=1)  # (B, 1 + T B + B)
    cross_entropy = (torch.logsumexp(logits, dim=1) - positive).mean()
    return cross_entropy + moment.mean()


@float32_loss
def squared_cosine(a: Tensor, b: Tensor) -> Tensor:
    """``mean_k cos^2(a_k, b_k)``, COrAL's orthogonality penalty of paired embeddings.

    Shape: a (N, D), b (N, D) -> scalar in [0, 1]; 0 for orthogonal rows, 1 for parallel ones.
    """
    _check_pair(a, b)
    return F.cosine_similarity(a, b, dim=1).pow(2).mean()


@float32_loss
def gaussian_confidence_kl(logits: Tensor, log_variance: Tensor) -> Tensor:
    """SynIB's penalty ``mean_b KL(N(o_b, diag e^{s_b}) || N(0, I))`` (official ``FusionIBModel_Mask``).

    ``= mean_b 1/2 sum_c (e^{s_bc} + o_bc^2 - 1 - s_bc)``: 0 exactly when the logits are 0 (a uniform
    prediction) and the log-variance is 0; at ``s = 0`` it is ``||o||^2 / 2``, a pull of the logits to 0.

    Args:
        logits: o. Shape: (B, C). log_variance: s. Shape: (B, C).

    Returns:
        Scalar in nats.
    """
    if logits.shape != log_variance.shape or logits.ndim != 2:
        raise ValueError(
            f"expected logits and log_variance (B, C), got {tuple(logits.shape)}, {tuple(log_variance.shape)}"
        )
    return 0.5 * (log_variance.exp() + logits.pow(2) - 1 - log_variance).sum(dim=1).mean()


@float32_loss
def uniform_kl(logits: Tensor) -> Tensor:
    """``mean_b KL(softmax(o_b) || Uniform(C))`` = ``mean_b [sum_c p_bc log p_bc] + log C``, in nats.

    Shape: logits (B, C) -> scalar in [0, log C].
    """
    if logits.ndim != 2:
        raise ValueError(f"expected logits (B, C), got {tuple(logits.shape)}")
    log_p = logits.log_softmax(dim=1)
    return (log_p.exp() * log_p).sum(dim=1).mean() + math.log(logits.shape[1])


@float32_loss
def nce_bound(scores: Tensor) -> Tensor:
    """InfoNCE lower bound from a critic's pair scores (FactorCL, Liang et al. 2023; CoMM spec 3.3).

    ``I_hat = mean_k T(a_k, b_k) - mean_k logsumexp_l T(a_l, b_k) + log N``.

    Args:
        scores: ``scores[l, k] = T(a_l, b_k)``. Shape: (N, N).

    Returns:
        Scalar, nats (at most log N).
    """
    if scores.ndim != 2 or scores.shape[0] != scores.shape[1]:
        raise ValueError(f"scores must be square (N, N), got {tuple(scores.shape)}")
    n = scores.shape[0]
    return scores.diagonal().mean() - torch.logsumexp(scores, dim=0).mean() + math.log(n)


@float32_loss
def club_bound(scores: Tensor) -> Tensor:
    """CLUB estimate ``mean T(positive pairs) - mean T(all pairs)`` (Cheng et al. 2020; FactorCL).

    Args:
        scores: ``scores[l, k] = T(a_l, b_k)``. Shape: (N, N).

    Returns:
        Scalar, nats.
    """
    if scores.ndim != 2 or scores.shape[0] != scores.shape[1]:
        raise ValueError(f"scores must be square (N, N), got {tuple(scores.shape)}")
    return scores.diagonal().mean() - scores.mean()


__all__ = [
    "gaussian_confidence_kl",
    "infmasking_mask_loss",
    "squared_cosine",
    "uniform_kl",
    "clip_loss",
    "club_bound",
    "comm_terms",
    "nce_bound",
    "nt_xent",
    "retrieval_accuracy",
    "weighted_mean",
]
