"""Models: per-modality encoders, CoMM's fusion transformer, late fusion, and heads.

``build_model(architecture, shapes, **model_params)`` is the entry point; ``architecture`` is ``"fusion"``
(CoMM), ``"late"`` (the baselines) or ``"dual"`` (COrAL), and ``model_params`` is the ``[model]`` section of a
config.
"""

from __future__ import annotations

from .bimodal import (
    ARCHITECTURE_FEATURES,
    ARCHITECTURE_KEYS,
    ARCHITECTURES,
    FEATURES,
    SUBSETS,
    BimodalModel,
    DualPathModel,
    FusionModel,
    LateFusionModel,
    build_model,
)
from .encoders import ENCODERS, sincos_2d
from .fusion import TokenMask, TransformerFusion
from .heads import ConcatCritic, ProjectionHead, linear_projection

__all__ = [
    "ARCHITECTURES",
    "ARCHITECTURE_FEATURES",
    "ARCHITECTURE_KEYS",
    "ENCODERS",
    "FEATURES",
    "SUBSETS",
    "BimodalModel",
    "ConcatCritic",
    "DualPathModel",
    "FusionModel",
    "LateFusionModel",
    "ProjectionHead",
    "TokenMask",
    "TransformerFusion",
    "build_model",
    "linear_projection",
    "sincos_2d",
]
