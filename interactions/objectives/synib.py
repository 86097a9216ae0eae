"""SynIB: the supervised task loss plus a penalty on confident predictions with one modality withheld.

Kontras et al., "SynIB" (arXiv 2606.09853, 2026). The paper's abstract: train with the usual task loss on
all modalities, plus a penalty on the prediction's confidence when one modality is masked, so that the
model cannot answer from one modality alone and must use their synergy. Implemented as the spec's
toolkit-native mapping A (newer-objectives spec 5.5) of the official code (``kkontras/SynIB`` at 1e59f5d,
``FusionIBModel_Mask``), whose penalty family it keeps:

``L = CE(f(Z_12), y) + lam * [KL(f(Z_1), s(Z_1)) + KL(f(Z_2), s(Z_2))]``

with ``f`` the classifier shared by every pass, ``s`` a log-variance head and
``KL(o, s) = mean_b 1/2 sum_c (e^{s_c} + o_c^2 - 1 - s_c)`` = ``KL(N(o, diag e^s) || N(0, I))``
(``functional.gaussian_confidence_kl``). ``Z_1`` is the fusion model's pass with modality 2's tokens
dropped (modality 2 withheld), ``Z_2`` the pass with modality 1 withheld.

Official defaults and the choices made here (spec 5.3, 5.6):

- ``lam``: the code has **no default** (0 = off unless set; sweep grids {0.001 ... 100}; README example 1.0;
  SynIB-U config 0.1). Here ``lam=1.0``; sweep {0.01, 0.1, 1} on xor before drawing conclusions.
- Masking: the code perturbs *features* of one modality with learned (20 inner Adam steps) or random
  masks in a late-fusion MLP; here the modality is withheld completely inside the fusion transformer (the
  abstract's "one modality masked at a time"). The code's extra CE terms (unimodal heads, random-masked
  passes) are not part of "task loss + penalty" and are left out.
- ``penalty="gaussian"`` (the code's; at s = 0 an L2 pull of the logits to 0, i.e. to a uniform
  prediction) or ``"uniform"`` (``KL(softmax(o) || Uniform)``, the plainest reading of "penalise
  confidence"; no log-variance head then).
- ``detach_masked=False``: the penalty trains the encoders too. ``True`` mimics the code, where the
  perturbed features are detached and the penalty trains only the classifier (and log-variance head).
- The probe sees ``Z_12``, as ``Supervised``; compare SynIB with ``supervised`` on the same ``target``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from torch import Tensor, nn
from torch.nn import functional as F

from .base import EmbeddedView, LossOutput, as_terms
from .functional import gaussian_confidence_kl, uniform_kl
from .supervised import Supervised

#: penalty families on the withheld-modality predictions
PENALTIES: tuple[str, ...] = ("gaussian", "uniform")


class SynIB(Supervised):
    """Cross-entropy on ``Z_12`` plus ``lam`` times a confidence penalty on ``Z_1`` and ``Z_2``.

    Args:
        dims: model widths; uses ``dims["1"]``, ``dims["2"]``, ``dims["12"]`` (one width W).
        target: the term whose label is trained, one of ``TERMS`` (required).
        n_classes: its number of classes (required; the trainer passes it).
        lam: penalty weight >= 0 (1.0; the official code has no default). 0 gives ``Supervised``'s loss.
        penalty: ``"gaussian"`` (official) or ``"uniform"``.
        detach_masked: stop the penalty's gradient at the withheld-modality embeddings (official code).

    Terms logged: ``ce``, ``kl_1`` (penalty of the pass keeping only modality 1), ``kl_2``, ``acc``,
    ``conf_1``, ``conf_2`` (mean max-softmax probability of those passes: 1 / n_classes = no confidence).
    """

    name = "synib"
    display_name = "SynIB"
    architecture = "fusion"
    n_views = 1
    subsets = ("1", "2", "12")
    needs_target = True

    def __init__(
        self,
        dims: Mapping[str, int],
        *,
        target: str | None = None,
        n_classes: int | None = None,
        lam: float = 1.0,
        penalty: str = "gaussian",
        detach_masked: bool = False,
    ) -> None:
        super().__init__(dims, target=target, n_classes=n_classes)
        if len({self.dims[s] for s in self.subsets}) != 1:
            raise ValueError(f"SynIB needs one width for subsets 1, 2, 12 (a fusion model), got dims={dims}")
        if isinstance(lam, bool) or not isinstance(lam, (int, float)) or not 0 <= lam < float("inf"):
            raise ValueError(f"lam must be a finite number >= 0, got {lam!r}")
        if penalty not in PENALTIES:
            raise ValueError(f"penalty must be one of {PENALTIES}, got {penalty!r}")
        if not isinstance(detach_masked, bool):
            raise TypeError(f"detach_masked must be a bool, got {detach_masked!r}")
        self.lam, self.penalty, self.detach_masked = float(lam), penalty, detach_masked
        self.log_variance = nn.Linear(self.dims["12"], self.n_classes) if penalty == "gaussian" else None

    def confidence_penalty(self, z: Tensor) -> tuple[Tensor, Tensor]:
        """The penalty of one withheld-modality embedding and its mean max-softmax confidence.

        Shape: z (B, W) -> two scalars.
        """
        if self.detach_masked:
            z = z.detach()
        logits = self.classifier(z)  # (B, n_classes)
        if self.log_variance is None:
            value = uniform_kl(logits)
        else:
            value = gaussian_confidence_kl(logits, self.log_variance(z))
        return value, logits.softmax(dim=1).amax(dim=1).mean()

    def forward(
        self, views: Sequence[EmbeddedView], targets: Mapping[str, Tensor] | None = None
    ) -> LossOutput:
        self.check_views(views)
        view = views[0]
        y = self.labels(targets, len(view["12"]))
        logits = self.classifier(view["12"])  # (B, n_classes)
        ce = F.cross_entropy(logits, y)
        kl_1, conf_1 = self.confidence_penalty(view["1"])  # modality 2 withheld
        kl_2, conf_2 = self.confidence_penalty(view["2"])  # modality 1 withheld
        total = ce + self.lam * (kl_1 + kl_2)
        acc = (logits.argmax(dim=1) == y).float().mean()
        return LossOutput(total, as_terms(ce=ce, kl_1=kl_1, kl_2=kl_2, acc=acc, conf_1=conf_1, conf_2=conf_2))
