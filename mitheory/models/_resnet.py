"""ResNet-18/34/50 in plain torch (He et al. 2016; torchvision's v1.5 layout), with CIFAR stem.

Layer for layer as ``torchvision.models.resnet`` (stride on the 3x3 conv of the bottleneck), so
the parameter counts with a 1000-way fc equal torchvision's published ones.
"""
from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from mitheory._validate import check_int, check_option


def _conv3x3(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)


def _check_block(cin: int, planes: int, stride: int) -> None:
    check_int(cin, "cin", minimum=1)
    check_int(planes, "planes", minimum=1)
    check_int(stride, "stride", minimum=1)


class BasicBlock(nn.Module):
    """Two 3x3 convs with BN; identity (or 1x1-conv + BN) shortcut."""

    expansion = 1

    def __init__(self, cin: int, planes: int, stride: int = 1, downsample: nn.Module | None = None):
        super().__init__()
        _check_block(cin, planes, stride)
        self.conv1, self.bn1 = _conv3x3(cin, planes, stride), nn.BatchNorm2d(planes)
        self.conv2, self.bn2 = _conv3x3(planes, planes), nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def last_bn(self) -> nn.BatchNorm2d:
        return self.bn2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (carries the stride: ResNet v1.5), 1x1 expand by 4; BN after each."""

    expansion = 4

    def __init__(self, cin: int, planes: int, stride: int = 1, downsample: nn.Module | None = None):
        super().__init__()
        _check_block(cin, planes, stride)
        self.conv1, self.bn1 = nn.Conv2d(cin, planes, 1, bias=False), nn.BatchNorm2d(planes)
        self.conv2, self.bn2 = _conv3x3(planes, planes, stride), nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def last_bn(self) -> nn.BatchNorm2d:
        return self.bn3

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


RESNET_LAYERS: dict[str, tuple[type[nn.Module], tuple[int, ...]]] = {
    "resnet18": (BasicBlock, (2, 2, 2, 2)),
    "resnet34": (BasicBlock, (3, 4, 6, 3)),
    "resnet50": (Bottleneck, (3, 4, 6, 3)),
}


class ResNet(nn.Module):
    """A ResNet encoder or classifier.

    Parameters
    ----------
    depth : {"resnet18", "resnet34", "resnet50"}
    num_classes : int or None
        Size of the final fc layer; ``None`` returns the pooled features, of size
        ``feature_dim`` (512 for ResNet-18/34, 2048 for ResNet-50).
    stem : {"imagenet", "cifar"}
        ``"imagenet"``: 7x7 conv stride 2 + 3x3 max-pool stride 2; ``"cifar"``: 3x3 conv stride
        1, no max-pool (the SimCLR CIFAR-10 variant, Chen et al. 2020 Appendix B.9).
    zero_init_residual : bool
        Start the last BN of every block at weight 0, so each block begins as the identity
        (Goyal et al. 2017; torchvision's flag of the same name).
    in_channels : int
        Input channels (3 for RGB).
    width : int
        Channels of the stem and the first stage (64 in He et al.; stages have ``width``,
        ``2 width``, ``4 width``, ``8 width``). A smaller width (e.g. 16) cuts the compute about
        ``(64 / width)^2``-fold, for CPU-scale runs; ``feature_dim`` is ``8 width`` times the
        block expansion.

    Notes
    -----
    Initialisation as torchvision: Kaiming-normal (fan_out, ReLU) convolutions, BN weight 1 and
    bias 0. For ``channels_last``, call ``model.to(memory_format=torch.channels_last)`` and pass
    inputs in that format (``x.to(memory_format=torch.channels_last)``).
    """

    def __init__(self, depth: Literal["resnet18", "resnet34", "resnet50"] = "resnet18", *,
                 num_classes: int | None = None, stem: Literal["imagenet", "cifar"] = "imagenet",
                 zero_init_residual: bool = False, in_channels: int = 3,
                 width: int = 64) -> None:
        super().__init__()
        check_int(in_channels, "in_channels", minimum=1)
        check_option(depth, "depth", tuple(RESNET_LAYERS))
        check_option(stem, "stem", ("imagenet", "cifar"))
        block, counts = RESNET_LAYERS[depth]
        self.depth, self.stem_kind = depth, stem
        w = self.width = check_int(width, "width", minimum=1)
        if stem == "imagenet":
            self.conv1 = nn.Conv2d(in_channels, w, 7, stride=2, padding=3, bias=False)
            self.maxpool: nn.Module = nn.MaxPool2d(3, stride=2, padding=1)
        else:
            self.conv1 = nn.Conv2d(in_channels, w, 3, stride=1, padding=1, bias=False)
            self.maxpool = nn.Identity()
        self.bn1, self.relu = nn.BatchNorm2d(w), nn.ReLU(inplace=True)
        self._cin = w
        self.layer1 = self._make_layer(block, w, counts[0], 1)
        self.layer2 = self._make_layer(block, 2 * w, counts[1], 2)
        self.layer3 = self._make_layer(block, 4 * w, counts[2], 2)
        self.layer4 = self._make_layer(block, 8 * w, counts[3], 2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.feature_dim = 8 * w * block.expansion
        self.fc = None if num_classes is None else nn.Linear(
            self.feature_dim, check_int(num_classes, "num_classes", minimum=1))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, (BasicBlock, Bottleneck)):
                    nn.init.zeros_(m.last_bn().weight)

    def _make_layer(self, block, planes: int, n_blocks: int, stride: int) -> nn.Sequential:
        down = None
        if stride != 1 or self._cin != planes * block.expansion:
            down = nn.Sequential(
                nn.Conv2d(self._cin, planes * block.expansion, 1, stride=stride, bias=False),
                nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self._cin, planes, stride, down)]
        self._cin = planes * block.expansion
        layers += [block(self._cin, planes) for _ in range(n_blocks - 1)]
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Images (B, C, H, W) -> logits (B, num_classes) or features (B, feature_dim)."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = torch.flatten(self.avgpool(x), 1)
        return x if self.fc is None else self.fc(x)


def resnet18(**kwargs) -> ResNet:
    """ResNet-18 (BasicBlock, 2-2-2-2); keywords as :class:`ResNet`."""
    return ResNet("resnet18", **kwargs)


def resnet34(**kwargs) -> ResNet:
    """ResNet-34 (BasicBlock, 3-4-6-3); keywords as :class:`ResNet`."""
    return ResNet("resnet34", **kwargs)


def resnet50(**kwargs) -> ResNet:
    """ResNet-50 (Bottleneck, 3-4-6-3); keywords as :class:`ResNet`."""
    return ResNet("resnet50", **kwargs)
