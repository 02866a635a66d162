"""CPA building blocks and small CPA networks: ``Abs``, the ResNet ``BasicBlock``, and factories.

Every network built here is continuous piecewise affine (Balestriero & Baraniuk's spline view,
used by Shwartz-Ziv et al. 2023, Sec. 2): affine layers, batch norm (eval mode), ReLU-family
activations, max/average pooling and identity skip connections.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
from torch import nn

from mitheory._rng import torch_generator
from mitheory._types import Seed
from mitheory._validate import check_int, check_option

Activation = Literal["relu", "leaky_relu", "abs"]
ACTIVATIONS: tuple[str, ...] = ("relu", "leaky_relu", "abs")


class Abs(nn.Module):
    """Elementwise absolute value, ``|x|`` (a CPA activation with one kink at 0)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.abs(x)


def make_activation(activation: Activation, *, negative_slope: float = 0.01) -> nn.Module:
    """The module for ``activation`` in ``{"relu", "leaky_relu", "abs"}``."""
    check_option(activation, "activation", ACTIVATIONS)
    if activation == "relu":
        return nn.ReLU()
    if activation == "leaky_relu":
        return nn.LeakyReLU(negative_slope)
    return Abs()


class BasicBlock(nn.Module):
    """ResNet basic block: ``act(bn2(conv2(act(bn1(conv1(x))))) + shortcut(x))``.

    The shortcut is the identity when shapes agree, else a 1x1 strided convolution plus batch
    norm (He et al. 2016, option B). Batch norm must be in eval mode for the block to be a fixed
    CPA function.

    Parameters
    ----------
    in_channels, out_channels : int
    stride : int
        Stride of ``conv1`` and of the projection shortcut.
    activation : {"relu", "leaky_relu", "abs"}
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, *,
                 activation: Activation = "relu") -> None:
        super().__init__()
        self.in_channels = check_int(in_channels, "in_channels", minimum=1)
        check_int(out_channels, "out_channels", minimum=1)
        check_int(stride, "stride", minimum=1)
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            make_activation(activation),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
        )
        if stride != 1 or in_channels != out_channels:
            self.shortcut: nn.Module = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )
        else:
            self.shortcut = nn.Identity()
        self.act = make_activation(activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"x must have shape (batch, {self.in_channels}, height, width), "
                             f"got {tuple(x.shape)}")
        return self.act(self.body(x) + self.shortcut(x))


def _check_in_shape(in_shape: Sequence[int]) -> tuple[int, int, int]:
    """``(channels, height, width)`` of an image input, each a positive integer."""
    shape = tuple(in_shape)
    if len(shape) != 3:
        raise ValueError(f"in_shape must be (channels, height, width), got {shape}")
    return tuple(check_int(v, "in_shape[i]", minimum=1) for v in shape)  # type: ignore[return-value]


def _check_widths(widths: Sequence[int], name: str) -> tuple[int, ...]:
    """A non-empty sequence of positive layer widths."""
    out = tuple(check_int(w, f"{name}[i]", minimum=1) for w in widths)
    if not out:
        raise ValueError(f"{name} must hold at least one width")
    return out


def _init(net: nn.Module, seed: Seed) -> nn.Module:
    """Re-draw parameters from a local generator (PyTorch's default scales; no global RNG)."""
    g = torch_generator(seed)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.Linear, nn.Conv2d)):
                fan_in = m.weight[0].numel()
                bound = 1.0 / fan_in**0.5
                # He-uniform for weights keeps activations O(1) with depth; bias as PyTorch
                m.weight.uniform_(-(6.0 / fan_in) ** 0.5, (6.0 / fan_in) ** 0.5, generator=g)
                if m.bias is not None:
                    m.bias.uniform_(-bound, bound, generator=g)
            elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                # non-trivial running statistics so the folded affine map is not the identity
                m.running_mean.uniform_(-0.1, 0.1, generator=g)
                m.running_var.uniform_(0.5, 1.5, generator=g)
                m.weight.uniform_(0.5, 1.5, generator=g)
                m.bias.uniform_(-0.1, 0.1, generator=g)
    return net.eval()


def cpa_mlp(dims: Sequence[int], *, activation: Activation = "relu",
            negative_slope: float = 0.01, batch_norm: bool = False, seed: Seed = None
            ) -> nn.Sequential:
    """A CPA multilayer perceptron ``dims[0] -> ... -> dims[-1]`` (no activation after the last).

    Parameters
    ----------
    dims : sequence of int
        Layer widths including input and output, at least two entries.
    activation : {"relu", "leaky_relu", "abs"}
    negative_slope : float
        Slope of leaky ReLU for negative inputs.
    batch_norm : bool
        Insert ``BatchNorm1d`` (eval mode, random running statistics) after each hidden Linear.
    seed : int, Generator or None
        Parameter initialisation (He-uniform weights, PyTorch-default biases).

    Returns
    -------
    torch.nn.Sequential
        In eval mode, float32.

    Examples
    --------
    >>> net = cpa_mlp([4, 16, 16, 2], seed=0)
    >>> net(torch.zeros(3, 4)).shape
    torch.Size([3, 2])
    """
    check_option(activation, "activation", ACTIVATIONS)
    dims = [check_int(d, "dims[i]", minimum=1) for d in dims]
    if len(dims) < 2:
        raise ValueError(f"dims needs at least 2 entries (input and output), got {dims}")
    layers: list[nn.Module] = []
    for i, (d_in, d_out) in enumerate(zip(dims[:-1], dims[1:])):
        layers.append(nn.Linear(d_in, d_out))
        if i < len(dims) - 2:
            if batch_norm:
                layers.append(nn.BatchNorm1d(d_out))
            layers.append(make_activation(activation, negative_slope=negative_slope))
    return _init(nn.Sequential(*layers), seed)


def cpa_cnn(in_shape: Sequence[int], *, channels: Sequence[int] = (4, 8), out_dim: int = 4,
            activation: Activation = "relu", pool: Literal["max", "avg"] = "max",
            seed: Seed = None) -> nn.Sequential:
    """A small CPA convolutional network: [conv3x3 - BN - act - pool2x2] per stage, then Linear.

    Parameters
    ----------
    in_shape : (channels, height, width)
        Input image shape; height and width must be divisible by ``2 ** len(channels)``.
    channels : sequence of int
        Output channels of each stage.
    out_dim : int
    activation : {"relu", "leaky_relu", "abs"}
    pool : {"max", "avg"}
    seed : int, Generator or None
    """
    c, h, w = _check_in_shape(in_shape)
    channels = _check_widths(channels, "channels")
    check_int(out_dim, "out_dim", minimum=1)
    check_option(pool, "pool", ("max", "avg"))
    if h % 2 ** len(channels) or w % 2 ** len(channels):
        raise ValueError(f"in_shape {tuple(in_shape)} spatial size must be divisible by "
                         f"2**len(channels) = {2 ** len(channels)}")
    layers: list[nn.Module] = []
    for c_out in channels:
        layers += [nn.Conv2d(c, c_out, 3, padding=1), nn.BatchNorm2d(c_out),
                   make_activation(activation),
                   nn.MaxPool2d(2) if pool == "max" else nn.AvgPool2d(2)]
        c, h, w = c_out, h // 2, w // 2
    layers += [nn.Flatten(), nn.Linear(c * h * w, out_dim)]
    return _init(nn.Sequential(*layers), seed)


def cpa_resnet(in_shape: Sequence[int], *, widths: Sequence[int] = (8, 16),
               blocks_per_stage: int = 1, out_dim: int = 4, activation: Activation = "relu",
               seed: Seed = None) -> nn.Sequential:
    """A small ResNet (CIFAR-style): conv stem, stages of ``BasicBlock``, global average pool.

    Stage ``i > 0`` halves the resolution with a strided block. The same structure with
    widths (64, 128, 256, 512) and (2, 2, 2, 2) blocks is ResNet-18 minus the ImageNet stem.
    """
    c = _check_in_shape(in_shape)[0]
    check_int(blocks_per_stage, "blocks_per_stage", minimum=1)
    check_int(out_dim, "out_dim", minimum=1)
    widths = _check_widths(widths, "widths")
    layers: list[nn.Module] = [nn.Conv2d(c, widths[0], 3, padding=1, bias=False),
                               nn.BatchNorm2d(widths[0]), make_activation(activation)]
    c = widths[0]
    for i, w in enumerate(widths):
        for j in range(blocks_per_stage):
            layers.append(BasicBlock(c, w, stride=2 if (i > 0 and j == 0) else 1,
                                     activation=activation))
            c = w
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, out_dim)]
    return _init(nn.Sequential(*layers), seed)
