"""Convert a torchvision-layout ResNet (BasicBlock stages) into a traceable CPA ``nn.Sequential``.

``trace_cpa`` follows ``nn.Sequential`` and :class:`~mitheory.cpa.BasicBlock`; a ResNet with its
own ``forward`` (``mitheory.models.ResNet``, torchvision's) is copied here into those modules,
weights shared by value, so the exit probabilities and region maps of a trained encoder can be
computed. The layout is read by attribute names, so this module imports no model code.
"""
from __future__ import annotations

from copy import deepcopy

from torch import nn

from mitheory._validate import check_module
from mitheory.cpa._modules import BasicBlock
from mitheory.cpa._trace import NotCPAError

_STAGES = ("layer1", "layer2", "layer3", "layer4")


def _copy_block(block: nn.Module, name: str) -> BasicBlock:
    """A :class:`BasicBlock` computing ``relu(bn2(conv2(relu(bn1(conv1 x)))) + shortcut(x))``."""
    parts = ("conv1", "bn1", "conv2", "bn2")
    if not all(isinstance(getattr(block, p, None), nn.Module) for p in parts) or \
            hasattr(block, "conv3"):
        raise NotCPAError(f"block '{name}' ({type(block).__name__}) is not a basic block with "
                          "conv1, bn1, conv2, bn2 (bottleneck ResNets are not supported)")
    relu = getattr(block, "relu", None)
    if not isinstance(relu, nn.ReLU):
        raise NotCPAError(f"block '{name}' activation must be nn.ReLU, got "
                          f"{type(relu).__name__}")
    conv1 = block.conv1
    out = BasicBlock(conv1.in_channels, conv1.out_channels, conv1.stride[0])
    for i, src in zip((0, 1, 3, 4), parts):
        out.body[i].load_state_dict(getattr(block, src).state_dict())
    down = getattr(block, "downsample", None)
    if down is None:
        if not isinstance(out.shortcut, nn.Identity):
            raise NotCPAError(f"block '{name}' changes shape but has no downsample")
    else:
        if isinstance(out.shortcut, nn.Identity):
            raise NotCPAError(f"block '{name}' has a downsample on an identity-shaped shortcut")
        out.shortcut.load_state_dict(down.state_dict())
    return out


def cpa_from_resnet(net: nn.Module) -> nn.Sequential:
    """An ``nn.Sequential`` equal to ``net`` (features mode) that :func:`trace_cpa` accepts.

    Parameters
    ----------
    net : torch.nn.Module
        A ResNet in torchvision's layout: ``conv1, bn1, relu, maxpool, layer1..layer4`` of basic
        blocks (``conv1, bn1, relu, conv2, bn2, downsample``), ``avgpool``, and ``fc`` either
        ``None`` or absent (the pooled features; e.g. ``mitheory.models.ResNet(num_classes=None)``
        and its ResNet-18/34).

    Returns
    -------
    torch.nn.Sequential
        ``[conv1, bn1, ReLU, maxpool, BasicBlock..., avgpool, Flatten]``: new modules holding
        copies of the weights and running statistics, in ``net``'s training mode, on its device
        and dtype. Later changes to ``net`` are not seen.

    Raises
    ------
    NotCPAError
        For bottleneck blocks, a non-ReLU activation, a classifier ``fc`` or a missing part.
    TypeError
        If ``net`` is not a module.
    """
    check_module(net, "net")
    missing = [a for a in ("conv1", "bn1", "maxpool", *_STAGES, "avgpool")
               if not isinstance(getattr(net, a, None), nn.Module)]
    if missing:
        raise NotCPAError(f"net ({type(net).__name__}) is not a torchvision-layout ResNet: "
                          f"missing {missing}")
    if getattr(net, "fc", None) is not None and not isinstance(net.fc, nn.Identity):
        raise NotCPAError("net has a classifier fc; convert the feature extractor "
                          "(num_classes=None)")
    layers: list[nn.Module] = [deepcopy(net.conv1), deepcopy(net.bn1), nn.ReLU(),
                               deepcopy(net.maxpool)]
    for stage in _STAGES:
        layers += [_copy_block(b, f"{stage}.{i}") for i, b in enumerate(getattr(net, stage))]
    layers += [deepcopy(net.avgpool), nn.Flatten()]
    p = next(net.parameters())
    return nn.Sequential(*layers).to(device=p.device, dtype=p.dtype).train(net.training)

