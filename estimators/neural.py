"""Variational (neural) estimates of I(X; Y) in bits: InfoNCE, NWJ and SMILE.

Each estimator trains a small critic f(x, y) on a training split and evaluates its bound on held-out
pairs, so the number is not inflated by the critic memorising its training batch. Positives are the paired
rows (x_i, y_i); negatives are the mismatched rows (x_i, y_j), i != j, of the same batch.

* **InfoNCE** (van den Oord et al. 2018, arXiv 1807.03748; Poole et al. 2019, ICML, "On variational bounds
  of mutual information"): ``E[f(x_i, y_i) - log (1/K) sum_j exp f(x_i, y_j)]`` over batches of K pairs.
  A lower bound on I(X; Y) with low variance, but it can never exceed log K: ``<= log2(batch_size)`` bits,
  so it is biased low whenever the MI approaches log K.
* **NWJ** (Nguyen, Wainwright and Jordan 2010; Poole et al. 2019): ``E_p[f] - e^{-1} E_q[e^f]``. An unbiased
  estimate of a lower bound, not capped by log K, but its variance grows like e^{I} (Song and Ermon 2020).
* **SMILE** (Song and Ermon 2020, ICLR, "Understanding the limitations of variational mutual information
  estimators", arXiv 1910.06222): the Donsker-Varadhan form with the partition term clipped,
  ``E_p[f] - log E_q[exp clip(f, -tau, tau)]``. Clipping trades the DV estimator's exploding variance for a
  bias; with finite tau it is **not** a guaranteed lower bound (it tends to under-estimate at high MI, and
  the log of a sample mean makes it biased even as tau -> infinity). As in the paper, the critic is trained
  with the Jensen-Shannon (f-GAN) objective and only evaluated with the clipped DV form: trained on the
  clipped DV itself, nothing stops f on the positives from growing without bound.

All three are point estimates from one trained critic: rerun with other seeds to see their spread.
torch is imported inside the functions, so ``import estimators`` does not import it. The device is taken
from the inputs when they are tensors (or given explicitly); the seed drives a private ``torch.Generator``
(critic initialisation and batch order), so no global random state is touched.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .information import NATS_TO_BITS

#: The bounds ``neural_mi_bits`` knows.
BOUNDS: tuple[str, ...] = ("infonce", "nwj", "smile")
#: The critic architectures.
CRITICS: tuple[str, ...] = ("separable", "concat")


def _mlp(sizes: list[int], generator: Any, device: Any) -> Any:
    """ReLU MLP with PyTorch's default Linear init drawn from ``generator`` (no global RNG)."""
    import torch

    layers: list[Any] = []
    for i, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        linear = torch.nn.Linear(d_in, d_out, device=device)
        bound = 1.0 / math.sqrt(d_in)
        with torch.no_grad():
            linear.weight.uniform_(-bound, bound, generator=generator)
            linear.bias.uniform_(-bound, bound, generator=generator)
        layers.append(linear)
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


class _Critic:
    """Scores every (x_i, y_j) pair of a batch: ``scores(x, y) -> (K, K)``, positives on the diagonal."""

    def __init__(self, kind: str, dx: int, dy: int, hidden: int, embed_dim: int, generator: Any, device: Any):
        self.kind = kind
        if kind == "separable":  # f(x, y) = g(x) . h(y)
            self.nets = [
                _mlp([dx, hidden, hidden, embed_dim], generator, device),
                _mlp([dy, hidden, hidden, embed_dim], generator, device),
            ]
        else:  # f(x, y) = MLP([x, y]) on all K^2 pairs
            self.nets = [_mlp([dx + dy, hidden, hidden, 1], generator, device)]

    def parameters(self) -> list[Any]:
        return [p for net in self.nets for p in net.parameters()]

    def scores(self, x: Any, y: Any) -> Any:
        import torch

        if self.kind == "separable":
            return self.nets[0](x) @ self.nets[1](y).T
        k = len(x)
        pairs = torch.cat([x[:, None, :].expand(k, k, -1), y[None, :, :].expand(k, k, -1)], dim=-1)
        return self.nets[0](pairs).squeeze(-1)


def bound_nats(scores: Any, bound: str, clip: float = 5.0) -> Any:
    """The chosen bound (nats) from a (K, K) score matrix with positives on the diagonal.

    Args:
        scores: tensor (K, K), ``scores[i, j] = f(x_i, y_j)``.
        bound: "infonce", "nwj" or "smile" (or "js", the training objective used for "smile").
        clip: SMILE's tau.
    """
    import torch

    k = scores.shape[0]
    diag = torch.diagonal(scores)
    if bound == "infonce":
        return (diag - torch.logsumexp(scores, dim=1)).mean() + math.log(k)
    off = scores[~torch.eye(k, dtype=torch.bool, device=scores.device)]  # the K(K-1) negatives
    if bound == "nwj":  # e^{-1} E_q[e^f] = E_q[e^{f - 1}]
        return diag.mean() - torch.exp(off - 1.0).mean()
    if bound == "smile":
        return diag.mean() - (torch.logsumexp(off.clamp(-clip, clip), dim=0) - math.log(off.numel()))
    if bound == "js":  # f-GAN Jensen-Shannon objective: SMILE's training signal, not an MI estimate
        softplus = torch.nn.functional.softplus
        return -softplus(-diag).mean() - softplus(off).mean()
    raise ValueError(f"unknown bound {bound!r}; bounds are {BOUNDS}")


def _as_tensor(a: Any, name: str, device: Any) -> Any:
    import torch

    t = a if isinstance(a, torch.Tensor) else torch.as_tensor(np.asarray(a))
    if t.ndim == 1:
        t = t[:, None]
    if t.ndim != 2:
        raise ValueError(f"{name} must have shape (n,) or (n, d), got shape {tuple(t.shape)}")
    if not (t.dtype.is_floating_point or t.dtype in (torch.int32, torch.int64, torch.bool)):
        raise TypeError(f"{name} must be numeric, got dtype {t.dtype}")
    t = t.detach().to(device=device, dtype=torch.float32)
    if not torch.isfinite(t).all():
        raise ValueError(f"{name} must be finite (found NaN or inf)")
    return t


def neural_mi_bits(
    x: Any,
    y: Any,
    *,
    bound: str = "infonce",
    critic: str = "separable",
    hidden: int = 64,
    embed_dim: int = 16,
    steps: int = 300,
    batch_size: int = 128,
    lr: float = 5e-3,
    clip: float = 5.0,
    test_fraction: float = 0.5,
    seed: int = 0,
    device: Any = None,
) -> float:
    """Train a critic on a train split and return its held-out variational MI estimate in bits.

    Args:
        x: shape (n, dx) or (n,), numpy or torch; y: shape (n, dy) or (n,), rows paired with x.
        bound: "infonce" (lower bound, <= log2(batch_size)), "nwj" (lower bound, high variance) or
            "smile" (clipped DV, biased; see the module docstring).
        critic: "separable" (g(x) . h(y), cheap) or "concat" (MLP on [x, y], K^2 evaluations per batch).
        hidden, embed_dim: critic width and (separable) embedding size.
        steps, batch_size, lr: Adam training; batch_size is also the K of the evaluation batches.
        clip: SMILE's tau (ignored by the other bounds).
        test_fraction: fraction of rows held out for the evaluation (random, seeded split).
        seed: seeds the split, the critic initialisation and the batch order.
        device: torch device; default the device of x when it is a tensor, else CPU.

    Returns:
        The bound averaged over the held-out rows cut into batches of ``batch_size``, in bits.
    """
    import torch

    if bound not in BOUNDS:
        raise ValueError(f"unknown bound {bound!r}; bounds are {BOUNDS}")
    if critic not in CRITICS:
        raise ValueError(f"unknown critic {critic!r}; critics are {CRITICS}")
    for name, value in (("hidden", hidden), ("embed_dim", embed_dim), ("steps", steps)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 2:
        raise ValueError(f"batch_size must be an int >= 2, got {batch_size!r}")
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction!r}")
    if device is None:
        device = x.device if isinstance(x, torch.Tensor) else torch.device("cpu")
    xt, yt = _as_tensor(x, "x", device), _as_tensor(y, "y", device)
    n = len(xt)
    if len(yt) != n:
        raise ValueError(f"x and y must have the same number of rows, got {n} and {len(yt)}")
    n_test = int(round(test_fraction * n))
    if n_test < batch_size or n - n_test < batch_size:
        raise ValueError(
            f"n = {n} rows with test_fraction {test_fraction} leave {n - n_test} train / {n_test} test rows; "
            f"each part needs at least batch_size = {batch_size}"
        )
    gen = torch.Generator(device="cpu").manual_seed(int(seed))
    perm = torch.randperm(n, generator=gen).to(device)
    train, test = perm[n_test:], perm[:n_test]
    model = _Critic(critic, xt.shape[1], yt.shape[1], hidden, embed_dim, gen, device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        idx = train[torch.randperm(len(train), generator=gen)[:batch_size].to(device)]
        loss = -bound_nats(model.scores(xt[idx], yt[idx]), "js" if bound == "smile" else bound, clip)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        batches = test[: (len(test) // batch_size) * batch_size].reshape(-1, batch_size)
        values = [bound_nats(model.scores(xt[b], yt[b]), bound, clip) for b in batches]
    return float(torch.stack(values).mean()) * NATS_TO_BITS


def infonce_mi_bits(x: Any, y: Any, **kwargs: Any) -> float:
    """InfoNCE lower bound on I(X; Y) in bits (<= log2(batch_size)); keywords as ``neural_mi_bits``."""
    return neural_mi_bits(x, y, bound="infonce", **kwargs)


def nwj_mi_bits(x: Any, y: Any, **kwargs: Any) -> float:
    """NWJ lower bound on I(X; Y) in bits (high variance at high MI); keywords as ``neural_mi_bits``."""
    return neural_mi_bits(x, y, bound="nwj", **kwargs)


def smile_mi_bits(x: Any, y: Any, **kwargs: Any) -> float:
    """SMILE (clipped DV, tau = ``clip``) estimate of I(X; Y) in bits; keywords as ``neural_mi_bits``."""
    return neural_mi_bits(x, y, bound="smile", **kwargs)
