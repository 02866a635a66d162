"""Small-scale training for the studies: encoders, SSL methods over ``mitheory.objectives``, loop.

Importing the package registers every built-in method (``method_names()`` lists them).
"""
from mitheory.train._encoders import SphereNorm, make_mlp_encoder, paper_hidden
from mitheory.train._evaluate import evaluate_identifiability
from mitheory.train._loop import TrainConfig, TrainResult, embed_samples, resolve_device, train
from mitheory.train._methods import (BYOL, ER, METHODS, SPHERICAL, BarlowTwins, InfoNCE, SimCLR,
                                     SSLMethod, VICReg, make_method, method_names,
                                     register_method)
from mitheory.train._methods_family_a import ERBYOL, VICREG_ESTIMATORS, ERSimCLR, VICRegEntropy
from mitheory.train._methods_family_b import (MINC, MMI, FMIAlpha, SpectralContrastive,
                                              effective_rank, gradient_variance)

__all__ = [
    "BYOL", "ER", "ERBYOL", "ERSimCLR", "FMIAlpha", "METHODS", "MINC", "MMI", "SPHERICAL",
    "BarlowTwins", "InfoNCE", "SSLMethod", "SimCLR", "SpectralContrastive", "SphereNorm",
    "TrainConfig", "TrainResult", "VICREG_ESTIMATORS", "VICReg", "VICRegEntropy",
    "effective_rank", "embed_samples", "evaluate_identifiability", "gradient_variance",
    "make_method", "make_mlp_encoder", "method_names", "paper_hidden", "register_method",
    "resolve_device", "train",
]
