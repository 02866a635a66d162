"""Small-scale training for the studies: encoders, SSL methods over ``mitheory.objectives``, loop."""
from mitheory.train._encoders import SphereNorm, make_mlp_encoder, paper_hidden
from mitheory.train._evaluate import evaluate_identifiability
from mitheory.train._loop import TrainConfig, TrainResult, embed_samples, resolve_device, train
from mitheory.train._methods import (BYOL, ER, METHODS, SPHERICAL, BarlowTwins, InfoNCE, SimCLR,
                                     SSLMethod, VICReg, make_method, method_names,
                                     register_method)
from mitheory.train import _methods_family_a  # noqa: F401,E402  (registers vicreg_*/er_simclr/er_byol)

__all__ = [
    "BYOL", "ER", "METHODS", "SPHERICAL", "BarlowTwins", "InfoNCE", "SimCLR", "SSLMethod",
    "SphereNorm", "TrainConfig", "TrainResult", "VICReg", "embed_samples",
    "evaluate_identifiability", "make_method",
    "make_mlp_encoder", "method_names", "paper_hidden", "register_method", "resolve_device",
    "train",
]
from mitheory.train._methods_family_b import FMIAlpha, MINC, MMI, SpectralContrastive, effective_rank, gradient_variance  # noqa: E402,F401,I001  (registers "mmi", "spectral", "fmi_alpha", "minc")
