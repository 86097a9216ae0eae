"""Models: per-modality encoders, CoMM's fusion transformer, late fusion, and heads.

``build_model(architecture, shapes, **model_params)`` is the entry point; ``architecture`` is ``"fusion"``
(CoMM) or ``"late"`` (the baselines), and ``model_params`` is the ``[model]`` section of a config.
"""

from __future__ import annotations

from .bimodal import ARCHITECTURES, SUBSETS, BimodalModel, FusionModel, LateFusionModel, build_model
from .encoders import ENCODERS, sincos_2d
from .fusion import TransformerFusion
from .heads import ConcatCritic, ProjectionHead, linear_projection

__all__ = [
    "ARCHITECTURES",
    "ENCODERS",
    "SUBSETS",
    "BimodalModel",
    "ConcatCritic",
    "FusionModel",
    "LateFusionModel",
    "ProjectionHead",
    "TransformerFusion",
    "build_model",
    "linear_projection",
    "sincos_2d",
]
