"""The training loop: plain PyTorch, synthetic data as tensors on the device (house style 3.4-3.5).

One run's randomness comes from one integer through ``Seeds`` (``np.random.SeedSequence(seed).spawn``):
``data`` (pre-training and probe samples), ``init`` (model and objective initialisation, dropout),
``augment`` (views), ``order`` (batch order) and ``probe`` (the probe's hold-out splits). Every epoch reseeds
its own streams from (stream seed, epoch), so an epoch computes the same numbers whether the run went
straight through or resumed from a checkpoint; the process-wide torch generator is only used inside
``torch.random.fork_rng`` (see ``interactions.experiment``), so no global random state leaks out.

Optimisation follows the CoMM controlled setting (spec section 5): AdamW, no schedule (``train.lr_schedule =
"cosine"`` anneals the rate per epoch, ``scheduled_lr``), no weight decay on biases, normalisation parameters
and 1-D parameters; the objective's auxiliary parameters (FactorCL's CLUB
critic) get their own AdamW stepped on ``objective.auxiliary_loss`` with detached embeddings.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .atomic import DamagedFileError, atomic_write
from .config import GENERIC_MODES, LR_SCHEDULES, VIEWS_MODES, TrainSettings
from .types import TERMS, BimodalSample

_NORM_TYPES = (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm)
#: sub-stream key of the token-mask draws under the trainer's seed
_MASK_STREAM = 7


@dataclasses.dataclass(frozen=True)
class Seeds:
    """Independent integer seeds of one run's random streams, spawned from one seed."""

    data: int
    init: int
    augment: int
    order: int
    probe: int

    @classmethod
    def from_seed(cls, seed: int) -> Seeds:
        """``np.random.SeedSequence(seed).spawn(5)``, one 32-bit integer per stream."""
        children = np.random.SeedSequence(int(seed)).spawn(5)
        return cls(*(int(c.generate_state(1)[0]) for c in children))


def derive(seed: int, *keys: int) -> int:
    """A 32-bit seed for the sub-stream ``keys`` (e.g. epoch, step, view) of ``seed``."""
    return int(np.random.SeedSequence([int(seed), *map(int, keys)]).generate_state(1)[0])


def to_device(x: np.ndarray, device: torch.device) -> torch.Tensor:
    """A numpy modality as a tensor on ``device``: uint8 images stay uint8 (4x less memory), else float32."""
    tensor = torch.from_numpy(np.ascontiguousarray(x))
    if tensor.dtype != torch.uint8:
        tensor = tensor.float()
    return tensor.to(device)


def as_input(x: torch.Tensor) -> torch.Tensor:
    """Model input: uint8 images become float in [0, 1]; float data passes through."""
    return x.float().div_(255.0) if x.dtype == torch.uint8 else x


def targets_to_device(sample: BimodalSample, device: torch.device) -> dict[str, torch.Tensor]:
    """``{term: int64 labels (n,)}`` on ``device``."""
    return {t: torch.as_tensor(np.asarray(sample.targets[t], dtype=np.int64), device=device) for t in TERMS}


# ---------------------------------------------------------------------------------------------- batches
class Batches:
    """The views of every batch of one epoch, for an objective that needs ``n_views`` of each sample.

    ``augment = "views"``: view k of a sample is ``generator.views(sample, seed)`` with the seed derived
    from (augment seed, epoch, k) when drawn per epoch, or (augment seed, epoch, step, k) per batch.
    ``augment = "generic"``: view k is ``augment(x, torch_generator)`` of the stored sample, per modality,
    with one torch generator per epoch seeded from (augment seed, epoch).
    ``augment = "views+generic"``: view k is the generic augmentation of the exact view k (same seeds).

    Args:
        generator: the pre-training generator (its ``views``).
        sample: the pre-training sample.
        settings: the ``[train]`` section.
        n_views: views per sample the objective needs.
        seeds: the run's seeds.
        device: where batches live.
        augmenters: the two generic augmentations (one per modality), for ``augment = "generic"`` and
            ``"views+generic"``.
    """

    def __init__(
        self,
        generator: Any,
        sample: BimodalSample,
        settings: TrainSettings,
        n_views: int,
        seeds: Seeds,
        device: torch.device,
        augmenters: tuple[Callable, Callable] | None = None,
    ) -> None:
        self.generator, self.sample, self.settings = generator, sample, settings
        self.n_views, self.seeds, self.device, self.augmenters = n_views, seeds, device, augmenters
        self.targets = targets_to_device(sample, device)
        self.x = None
        if settings.augment == "generic":
            self.x = (to_device(sample.x1, device), to_device(sample.x2, device))

    @property
    def steps(self) -> int:
        """Optimisation steps per epoch (incomplete last batch dropped)."""
        return len(self.sample) // self.settings.batch_size

    def order(self, epoch: int) -> np.ndarray:
        """The sample order of ``epoch`` (a seeded permutation)."""
        return np.random.default_rng(derive(self.seeds.order, epoch)).permutation(len(self.sample))

    def _draw(self, sample: BimodalSample, *keys: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        views = []
        for k in range(self.n_views):
            v = self.generator.views(sample, seed=derive(self.seeds.augment, *keys, k))
            views.append((to_device(v.x1, self.device), to_device(v.x2, self.device)))
        return views

    def epoch(self, epoch: int) -> Iterator[tuple[list[tuple[torch.Tensor, torch.Tensor]], dict]]:
        """Yield ``(views, targets)`` per step: views[k] = (x1, x2) model inputs, targets per term."""
        order = self.order(epoch)
        size = self.settings.batch_size
        whole = None
        if self.settings.augment in VIEWS_MODES and self.settings.views_per == "epoch":
            whole = self._draw(self.sample, epoch)
        torch_gen = None
        if self.settings.augment in GENERIC_MODES:
            torch_gen = torch.Generator(device=self.device)
            torch_gen.manual_seed(derive(self.seeds.augment, epoch))
        for step in range(self.steps):
            idx_np = order[step * size : (step + 1) * size]
            idx = torch.as_tensor(idx_np, device=self.device)
            targets = {t: y[idx] for t, y in self.targets.items()}
            if whole is not None:
                views = [(as_input(x1[idx]), as_input(x2[idx])) for x1, x2 in whole]
            elif self.x is None:
                views = [
                    (as_input(a), as_input(b)) for a, b in self._draw(self.sample.subset(idx_np), epoch, step)
                ]
            else:
                x1, x2 = as_input(self.x[0][idx]), as_input(self.x[1][idx])
                views = [(x1, x2)] * self.n_views
            if torch_gen is not None:
                aug1, aug2 = self.augmenters  # type: ignore[misc]
                views = [(aug1(a, torch_gen), aug2(b, torch_gen)) for a, b in views]
            yield views, targets


# -------------------------------------------------------------------------------------------- optimisers
def scheduled_lr(schedule: str, lr: float, epoch: int, epochs: int) -> float:
    """The learning rate of ``epoch`` (1..``epochs``) under ``schedule`` ("constant" or "cosine").

    "cosine" is cosine annealing without restarts (Loshchilov & Hutter, ICLR 2017), stepped per epoch:
    ``lr * (1 + cos(pi * (epoch - 1) / epochs)) / 2``, ``lr`` in the first epoch and near 0 in the last.
    A function of the epoch alone, so a resumed run takes the same steps as one that went straight through.
    """
    if not 1 <= epoch <= epochs:
        raise ValueError(f"epoch must be in 1..{epochs}, got {epoch!r}")
    if schedule == "constant":
        return lr
    if schedule == "cosine":
        return lr * (1.0 + math.cos(math.pi * (epoch - 1) / epochs)) / 2.0
    raise ValueError(f"unknown learning-rate schedule {schedule!r} (expected one of {LR_SCHEDULES})")


def no_decay(name: str, param: nn.Parameter, norm_params: set[int]) -> bool:
    """Spec 5: no weight decay for parameters with ndim < 2, biases and normalisation parameters."""
    return param.ndim < 2 or "bias" in name or id(param) in norm_params


def param_groups(modules: dict[str, nn.Module], weight_decay: float, exclude: set[int]) -> list[dict]:
    """AdamW parameter groups (decay / no decay) over ``modules``, skipping parameters in ``exclude``."""
    norm_params = {
        id(p)
        for m in modules.values()
        for mod in m.modules()
        if isinstance(mod, _NORM_TYPES)
        for p in mod.parameters(recurse=False)
    }
    decay, plain, seen = [], [], set(exclude)
    for prefix, module in modules.items():
        for name, p in module.named_parameters():
            if not p.requires_grad or id(p) in seen:
                continue
            seen.add(id(p))
            (plain if no_decay(f"{prefix}.{name}", p, norm_params) else decay).append(p)
    return [
        g
        for g in ({"params": decay, "weight_decay": weight_decay}, {"params": plain, "weight_decay": 0.0})
        if g["params"]
    ]


class Trainer:
    """Optimises a ``BimodalModel`` with an ``Objective`` (both already on ``device``).

    Args:
        model: the bimodal model (``embed``).
        objective: the objective (``forward``, ``auxiliary_parameters``, ``auxiliary_loss``, ``after_step``,
            ``check_model``, ``embed``, ``set_progress``).
        settings: the ``[train]`` section.
        device: the device of model, objective and batches.
        seed: the run's seed of the token-mask stream; ``mask_generator`` is reseeded from (seed, epoch)
            at the start of every epoch, so masked draws are reproducible and resumable.
    """

    def __init__(
        self,
        model: nn.Module,
        objective: nn.Module,
        settings: TrainSettings,
        device: torch.device,
        seed: int = 0,
    ):
        self.model, self.objective, self.settings, self.device = model, objective, settings, device
        objective.check_model(model)  # a missing model feature fails here, before any step
        self.seed, self.mask_generator = int(seed), torch.Generator(device=device)
        self.amp = bool(settings.amp and device.type == "cuda")
        aux = list(objective.auxiliary_parameters())
        aux_ids = {id(p) for p in aux}
        groups = param_groups({"model": model, "objective": objective}, settings.weight_decay, aux_ids)
        if not groups:
            raise ValueError("the model and objective have no trainable parameters")
        self.optimizer = torch.optim.AdamW(groups, lr=settings.lr)
        self.aux_optimizer = None
        if aux:
            aux_groups = param_groups({"aux": _ParamList(aux)}, settings.weight_decay, set())
            self.aux_optimizer = torch.optim.AdamW(aux_groups, lr=settings.lr)
        self.scaler = torch.amp.GradScaler(device.type, enabled=self.amp)
        self.aux_scaler = torch.amp.GradScaler(device.type, enabled=self.amp)

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.amp:
            return torch.autocast(device_type=self.device.type, dtype=torch.float16)
        return contextlib.nullcontext()

    def step(self, views: list[tuple[torch.Tensor, torch.Tensor]], targets: dict) -> dict[str, Any]:
        """One optimisation step on one batch; returns the loss terms (total under ``"loss"``)."""
        self.optimizer.zero_grad(set_to_none=True)
        with self._autocast():
            embedded = [
                self.objective.embed(self.model, x1, x2, k, self.mask_generator)
                for k, (x1, x2) in enumerate(views)
            ]
            out = self.objective(embedded, targets)
        self.scaler.scale(out.total).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        terms: dict[str, Any] = {"loss": out.total.detach(), **out.terms}
        if self.aux_optimizer is not None:
            self.aux_optimizer.zero_grad(set_to_none=True)
            detached = [{k: v.detach() for k, v in e.items()} for e in embedded]
            with self._autocast():
                aux_loss = self.objective.auxiliary_loss(detached, targets)
            if aux_loss is not None:
                self.aux_scaler.scale(aux_loss).backward()
                self.aux_scaler.step(self.aux_optimizer)
                self.aux_scaler.update()
                terms["aux_loss"] = aux_loss.detach()
        self.objective.after_step()
        return terms

    def train_epoch(self, batches: Iterator, epoch: int, progress: Any = None) -> dict[str, float]:
        """Run every step of one epoch; returns the epoch means of the loss terms.

        Raises:
            FloatingPointError: the loss became NaN or infinite (without mixed precision).
        """
        self.model.train()
        self.objective.train()
        self.mask_generator.manual_seed(derive(self.seed, epoch, _MASK_STREAM))
        self.objective.set_progress(max(epoch - 1, 0) / self.settings.epochs)  # epochs count from 1
        at = min(max(epoch, 1), self.settings.epochs)
        lr = scheduled_lr(self.settings.lr_schedule, self.settings.lr, at, self.settings.epochs)
        for optimizer in (self.optimizer, self.aux_optimizer):
            for group in optimizer.param_groups if optimizer is not None else ():
                group["lr"] = lr
        sums: dict[str, Any] = {}
        steps = 0
        step_losses: list[torch.Tensor] = []  # checked once per epoch: no device sync per step
        for views, targets in batches:
            terms = self.step(views, targets)
            for k, v in terms.items():
                sums[k] = sums.get(k, 0.0) + (v.float() if torch.is_tensor(v) else float(v))
            step_losses.append(torch.as_tensor(terms["loss"]).float())
            steps += 1
            if progress is not None:
                progress.update(1)
        if not self.amp:  # with mixed precision the GradScaler skips overflowing steps itself
            check_finite_losses(step_losses, epoch)
        return {k: float(v) / max(steps, 1) for k, v in sums.items()}

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue: model, objective, optimisers and scalers."""
        return {
            "model": self.model.state_dict(),
            "objective": self.objective.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "aux_optimizer": None if self.aux_optimizer is None else self.aux_optimizer.state_dict(),
            "scaler": self.scaler.state_dict(),
            "aux_scaler": self.aux_scaler.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore ``state_dict()``."""
        self.model.load_state_dict(state["model"])
        self.objective.load_state_dict(state["objective"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.aux_optimizer is not None:
            self.aux_optimizer.load_state_dict(state["aux_optimizer"])
        self.scaler.load_state_dict(state["scaler"])
        self.aux_scaler.load_state_dict(state["aux_scaler"])


def check_finite_losses(step_losses: list[torch.Tensor], epoch: int) -> None:
    """Raise ``FloatingPointError`` naming the epoch and the first step (1-based) whose loss is NaN or inf.

    Args:
        step_losses: the total loss of every step of the epoch, in order (0-d tensors).
        epoch: the epoch number (1-based), for the message.
    """
    if not step_losses:
        return
    losses = torch.stack([loss.detach().reshape(()) for loss in step_losses]).cpu()
    bad = (~torch.isfinite(losses)).nonzero()
    if len(bad):
        step = int(bad[0, 0])
        raise FloatingPointError(
            f"training loss became {float(losses[step])} at epoch {epoch}, step {step + 1} of "
            f"{len(step_losses)}; lower train.lr, or check the objective's parameters"
        )


class _ParamList(nn.Module):
    def __init__(self, params: list[nn.Parameter]) -> None:
        super().__init__()
        self.params = nn.ParameterList(params)


# ------------------------------------------------------------------------------------------- evaluation
@torch.no_grad()
def evaluation_features(
    model: nn.Module,
    objective: nn.Module,
    x1: torch.Tensor,
    x2: torch.Tensor,
    batch_size: int,
    amp: bool,
    subsets: tuple[str, ...] = (),
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """One eval-mode pass: the probe's features and the model's embeddings of modality ``subsets``.

    The probe's features are ``objective.represent(model.embed(x1, x2, objective.subsets))``; a requested
    subset the objective already embeds is taken from that same call, the others from one more ``embed``
    per batch (e.g. ``("1", "2")`` for the PID of the representation).

    Shape: x1 (n, *shape_1), x2 (n, *shape_2) on the model's device -> (z (n, D) float32 numpy,
    ``{subset: (n, D_subset) float32 numpy}``).
    """
    was = model.training, objective.training
    model.eval()
    objective.eval()
    own = tuple(objective.subsets)
    extra = tuple(s for s in subsets if s not in own)
    zs: list[torch.Tensor] = []
    parts: dict[str, list[torch.Tensor]] = {s: [] for s in subsets}
    try:
        for start in range(0, len(x1), batch_size):
            a, b = as_input(x1[start : start + batch_size]), as_input(x2[start : start + batch_size])
            ctx = (
                torch.autocast(device_type=a.device.type, dtype=torch.float16)
                if amp
                else contextlib.nullcontext()
            )
            with ctx:
                emb = model.embed(a, b, own)
                zs.append(objective.represent(emb).float().cpu())
                if extra:
                    emb = {**emb, **model.embed(a, b, extra)}
            for s in subsets:
                parts[s].append(emb[s].float().cpu())
    finally:
        model.train(was[0])
        objective.train(was[1])
    return torch.cat(zs).numpy(), {s: torch.cat(p).numpy() for s, p in parts.items()}


def features(
    model: nn.Module, objective: nn.Module, x1: torch.Tensor, x2: torch.Tensor, batch_size: int, amp: bool
) -> np.ndarray:
    """The probe's features ``objective.represent(model.embed(x1, x2, objective.subsets))``, eval mode.

    Shape: x1 (n, *shape_1), x2 (n, *shape_2) on the model's device -> (n, D) float32 numpy.
    """
    return evaluation_features(model, objective, x1, x2, batch_size, amp)[0]


# ------------------------------------------------------------------------------------------- checkpoints
#: First line of a checkpoint file; the second is ``sha256 <hex digest of the payload>``, then the payload
#: (``torch.save`` bytes). The digest is checked before ``torch.load`` reads anything.
CHECKPOINT_MAGIC = b"interactions-checkpoint v1\n"


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write ``state`` to ``path`` atomically (a temporary file, then ``os.replace``), with its SHA-256."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    payload = buffer.getvalue()
    header = CHECKPOINT_MAGIC + b"sha256 " + hashlib.sha256(payload).hexdigest().encode() + b"\n"
    atomic_write(path, lambda tmp: tmp.write_bytes(header + payload))


def load_checkpoint(path: Path, device: torch.device) -> dict[str, Any]:
    """Read a checkpoint written by ``save_checkpoint``, tensors mapped onto ``device``.

    Raises:
        DamagedFileError: the file is truncated, altered, or not a checkpoint of this toolkit (its
            SHA-256 does not match the one it was written with); nothing is unpickled in that case.
    """
    payload = checkpoint_payload(path)
    return torch.load(io.BytesIO(payload), map_location=device, weights_only=False)


def checkpoint_payload(path: Path) -> bytes:
    """The verified ``torch.save`` bytes of a checkpoint (see ``load_checkpoint``; nothing is unpickled).

    Raises:
        DamagedFileError: bad header or SHA-256 mismatch.
    """
    path = Path(path)
    data = path.read_bytes()
    first = len(CHECKPOINT_MAGIC)
    end = data.find(b"\n", first)
    if not data.startswith(CHECKPOINT_MAGIC) or end < 0 or not data[first:end].startswith(b"sha256 "):
        raise DamagedFileError(f"checkpoint {str(path)!r} is damaged or not a checkpoint (bad header)")
    expected = data[first + len(b"sha256 ") : end].decode("ascii", errors="replace")
    payload = data[end + 1 :]
    if hashlib.sha256(payload).hexdigest() != expected:
        raise DamagedFileError(f"checkpoint {str(path)!r} is damaged (its SHA-256 does not match)")
    return payload
