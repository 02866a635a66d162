"""Encoders and heads: ResNet-18/34/50 (CIFAR and ImageNet stems), projector and predictor MLPs."""
from mitheory.models._heads import make_predictor, make_projector
from mitheory.models._resnet import BasicBlock, Bottleneck, ResNet, resnet18, resnet34, resnet50

__all__ = [
    "BasicBlock",
    "Bottleneck",
    "ResNet",
    "make_predictor",
    "make_projector",
    "resnet18",
    "resnet34",
    "resnet50",
]
