"""Objective hooks (contract 4): set_progress each epoch, token masks drawn from the trainer's per-epoch
seeded generator, model features required by objectives and checked before training, display names."""

from __future__ import annotations

import pytest
import torch

from interactions.config import TrainSettings
from interactions.models import TokenMask, build_model
from interactions.objectives import OBJECTIVES, LossOutput, Objective, register_objective
from interactions.objectives.base import validate_objective_class
from interactions.objectives.functional import nt_xent
from interactions.training import Trainer


class _Recorder(Objective):
    """Records progress and the masks it receives; the loss is NT-Xent of the first masked draw."""

    name, architecture, n_views, subsets = "recorder", "fusion", 2, ("12",)
    requires = frozenset({"token_masking"})

    def __init__(self, dims, *, ratio: float = 0.5):
        super().__init__(dims)
        self.ratio, self.progress, self.seen = ratio, [], []
        self.scale = torch.nn.Parameter(torch.ones(()))

    def set_progress(self, progress: float) -> None:
        self.progress.append(progress)

    def token_masks(self, view: int) -> dict[str, TokenMask]:
        return {"m": TokenMask(ratio=(self.ratio, self.ratio), draws=2)}

    def forward(self, views, targets=None):
        self.check_views(views)
        self.seen.append(views[0]["m"].detach().clone())
        loss = self.scale * nt_xent(views[0]["m"][0], views[1]["m"][1])
        return LossOutput(loss, {"nt": float(loss.detach())})


def _trainer(objective_cls=_Recorder, arch="fusion", seed=0, epochs=4, **params):
    torch.manual_seed(0)
    model = build_model(arch, ((6,), (5,)), width=16, n_tokens=4, heads=2, hidden=16)
    objective = objective_cls(model.dims, **params)
    settings = TrainSettings(n_train=16, epochs=epochs, batch_size=8, eval_every=0, device="cpu", amp=False)
    return Trainer(model, objective, settings, torch.device("cpu"), seed=seed)


def _batches(n_steps=2):
    gen = torch.Generator().manual_seed(0)
    return [
        ([(torch.randn(8, 6, generator=gen), torch.randn(8, 5, generator=gen)) for _ in range(2)], {})
        for _ in range(n_steps)
    ]


def test_trainer_calls_set_progress_with_epoch_index_over_epochs():
    trainer = _trainer(epochs=4)
    for epoch in (1, 2, 3, 4):  # the experiment's epochs count from 1
        trainer.train_epoch(iter(_batches(1)), epoch)
    assert trainer.objective.progress == [0.0, 0.25, 0.5, 0.75]


def test_masks_follow_the_trainer_seed_and_epoch_reproducibly():
    def draws(seed, epoch):
        trainer = _trainer(seed=seed)  # the same initial parameters every time: only the masks can differ
        trainer.train_epoch(iter(_batches(1)), epoch)
        return trainer.objective.seen[-1]

    assert torch.equal(draws(0, 3), draws(0, 3))  # a resumed epoch draws the same masks
    assert not torch.equal(draws(0, 3), draws(0, 4))
    assert not torch.equal(draws(0, 3), draws(1, 3))


def test_eval_mode_embeds_without_masks():
    trainer = _trainer()
    objective, model = trainer.objective, trainer.model
    x1, x2 = torch.randn(4, 6), torch.randn(4, 5)
    assert set(objective.embed(model, x1, x2, 0, torch.Generator())) == {"12", "m"}
    objective.eval()
    assert set(objective.embed(model, x1, x2, 0, torch.Generator())) == {"12"}


class _NeedsMasksOnLate(_Recorder):
    name, architecture = "needs_masks_late", "late"


class _NeedsDual(_Recorder):
    requires = frozenset({"dual_path"})


def test_missing_model_feature_is_rejected_at_class_validation():
    with pytest.raises(
        ValueError, match=r"needs model feature\(s\) \['token_masking'\].*'late'.*architecture = 'fusion'"
    ):
        validate_objective_class(_NeedsMasksOnLate)
    with pytest.raises(ValueError, match=r"\['dual_path'\].*'fusion' model lacks.*architecture = 'dual'"):
        register_objective("needs_dual", _NeedsDual)
    assert "needs_dual" not in OBJECTIVES


def test_missing_model_feature_fails_when_the_trainer_is_built():
    torch.manual_seed(0)
    model = build_model("late", ((6,), (5,)), width=16, late_encoder="transformer", n_tokens=4, heads=2)
    objective = _Recorder.__new__(_Recorder)  # a fusion objective handed a late model by hand
    _Recorder.__init__(objective, model.dims)
    settings = TrainSettings(n_train=16, epochs=1, batch_size=8, eval_every=0, device="cpu", amp=False)
    with pytest.raises(
        ValueError,
        match=r"objective 'recorder' needs model feature\(s\) \['token_masking'\].*"
        r"set _Recorder.architecture = 'fusion'",
    ):
        Trainer(model, objective, settings, torch.device("cpu"))


def test_unknown_feature_and_extra_keys_need_the_architecture():
    class _Unknown(_Recorder):
        requires = frozenset({"telepathy"})

    with pytest.raises(ValueError, match="requires must be a frozenset of"):
        validate_objective_class(_Unknown)

    class _Unique(_Recorder):
        subsets = ("12", "u1")

    with pytest.raises(ValueError, match=r"keys of architecture 'fusion'"):
        validate_objective_class(_Unique)
    _Unique.architecture = "dual"
    validate_objective_class(_Unique)  # "u1" is declared by the dual architecture


def test_builtin_objectives_have_display_names():
    expected = {
        "comm": "CoMM",
        "cross": "Cross",
        "cross_self": "Cross+Self",
        "simclr": "SimCLR",
        "factorcl": "FactorCL",
        "supervised": "Supervised",
    }
    for name, display in expected.items():
        assert OBJECTIVES[name].display_name == display
    for cls in OBJECTIVES.values():
        assert isinstance(cls.display_name, str) and cls.display_name
