"""Latent processes with known truth: samplers, conditionals, invertible mixing, view pairs.

Zimmermann et al. (2021) sphere/box processes and von Kuegelgen et al. (2021) content/style
process, each mixed by cl-ica's invertible leaky-ReLU MLP; the procedural image world
(``images``: shapes with known factors rendered to pixels, content/style view pairs).
"""
from mitheory._special import vmf_mean_resultant_length
from mitheory.generative._box import (
    BOX_CONDITIONALS,
    sample_truncated_conditional,
    sample_uniform_box,
)
from mitheory.generative._content_style import ContentStyleProcess
from mitheory.generative._mixing import MixingMLP, make_mixing_mlp
from mitheory.generative._processes import BoxProcess, LatentProcess, SphereProcess, ViewBatch
from mitheory.generative._registry import PROCESS_NAMES, make_process
from mitheory.generative._vmf import (
    MU_NORM_TOL,
    sample_uniform_sphere,
    sample_vmf,
)
from mitheory.generative.images import FACTOR_NAMES, SHAPE_NAMES, ImageWorld
from mitheory.generative._gaussian_pairs import sample_correlated_pairs

__all__ = [
    "BOX_CONDITIONALS",
    "FACTOR_NAMES",
    "MU_NORM_TOL",
    "PROCESS_NAMES",
    "SHAPE_NAMES",
    "BoxProcess",
    "ContentStyleProcess",
    "ImageWorld",
    "LatentProcess",
    "MixingMLP",
    "SphereProcess",
    "ViewBatch",
    "make_mixing_mlp",
    "make_process",
    "sample_truncated_conditional",
    "sample_uniform_box",
    "sample_uniform_sphere",
    "sample_vmf",
    "vmf_mean_resultant_length",
    "sample_correlated_pairs",
]
