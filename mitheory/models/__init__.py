"""Encoders and heads: the cl-ica MLP of the latent-process studies, ResNet-18/34/50 (CIFAR and
ImageNet stems), projector / expander and predictor MLPs.

``mitheory.models`` sits below ``train`` and ``paper_repro``: it builds networks and knows nothing
of objectives or data.
"""
from mitheory.models._heads import make_predictor, make_projector
from mitheory.models._mlp import (SphereNorm, Standardise, Whiten, init_linear_,
                                  make_mlp_encoder, paper_hidden)
from mitheory.models._resnet import BasicBlock, Bottleneck, ResNet, resnet18, resnet34, resnet50

__all__ = [
    "BasicBlock",
    "Bottleneck",
    "ResNet",
    "SphereNorm",
    "Standardise",
    "Whiten",
    "init_linear_",
    "make_mlp_encoder",
    "make_predictor",
    "make_projector",
    "paper_hidden",
    "resnet18",
    "resnet34",
    "resnet50",
]
