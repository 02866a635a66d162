"""Encoders for the latent-process studies: the cl-ica / ssl_identifiability MLP and its
output maps.

cl-ica ``encoders.get_mlp``: n -> 10n -> 50n -> 50n -> 50n -> 50n -> 10n -> n with LeakyReLU
(slope 0.01), no batch norm (dossier entrec_identifiability.md section 2.2).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import torch
from torch import nn

from mitheory._rng import torch_generator
from mitheory._types import Seed
from mitheory._validate import check_finite_number, check_int, check_module, check_option

OutputMap = Literal["none", "sphere"]


class SphereNorm(nn.Module):
    """Project onto the unit sphere (cl-ica ``RescaleLayer`` with r = 1)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.normalize(x, dim=-1)


def _finite_vector(t: Any, name: str) -> torch.Tensor:
    """``t`` as a float32 tensor, which must be 1-D and finite (the statistics' check)."""
    t = torch.as_tensor(t, dtype=torch.float32)
    if t.ndim != 1 or not torch.isfinite(t).all():
        raise ValueError(f"{name} must be a finite 1-D tensor, got shape {tuple(t.shape)}")
    return t


class Standardise(nn.Module):
    """``x -> (x - mean) / std`` per coordinate, with fixed statistics (buffers, not trained).

    An affine bijection of the input, so it changes nothing a representation can identify; it
    puts the input on the scale of PyTorch's default initialisation. Build the statistics with
    ``mitheory.train.input_statistics``.
    """

    def __init__(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        super().__init__()
        mean, std = _finite_vector(mean, "mean"), _finite_vector(std, "std")
        if mean.shape != std.shape:
            raise ValueError(f"mean and std must have the same shape, got {tuple(mean.shape)} "
                             f"and {tuple(std.shape)}")
        if not (std > 0).all():
            raise ValueError(f"std must be > 0 in every coordinate, got min {float(std.min())}")
        self.register_buffer("mean", mean)
        self.register_buffer("std", std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


class Whiten(nn.Module):
    """``x -> (x - mean) @ matrix`` with a fixed whitening matrix (buffers, not trained).

    With ``matrix`` the symmetric inverse square root of the input covariance (ZCA whitening,
    ``mitheory.train.input_statistics(..., whiten=True)``) the input has identity covariance:
    every direction of x starts on the scale of PyTorch's default initialisation, the weak ones
    too. An affine bijection (``matrix`` must be invertible), so it changes nothing a
    representation can identify.
    """

    def __init__(self, mean: torch.Tensor, matrix: torch.Tensor) -> None:
        super().__init__()
        mean = _finite_vector(mean, "mean")
        matrix = torch.as_tensor(matrix, dtype=torch.float32)
        if matrix.shape != (len(mean), len(mean)) or not torch.isfinite(matrix).all():
            raise ValueError(f"matrix must be a finite ({len(mean)}, {len(mean)}) tensor like "
                             f"mean, got shape {tuple(matrix.shape)}")
        sv = torch.linalg.svdvals(matrix.double())
        if not sv.min() > 1e-12 * sv.max():
            raise ValueError(f"matrix must be invertible, got singular values {sv.tolist()}")
        self.register_buffer("mean", mean)
        self.register_buffer("matrix", matrix)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) @ self.matrix


def paper_hidden(dim_in: int) -> tuple[int, ...]:
    """Hidden widths of the papers' encoder for input dimension ``dim_in`` (10n, 50n x4, 10n)."""
    n = check_int(dim_in, "dim_in", minimum=1)
    return (10 * n, 50 * n, 50 * n, 50 * n, 50 * n, 10 * n)


def make_mlp_encoder(
    dim_in: int,
    dim_out: int,
    *,
    hidden: Sequence[int] = (128, 128, 128),
    negative_slope: float = 0.01,
    output: OutputMap = "none",
    input_stats: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> nn.Sequential:
    """A LeakyReLU MLP encoder ``dim_in -> hidden... -> dim_out`` with an optional sphere output.

    Parameters
    ----------
    dim_in, dim_out : int
        Input (observation) and output (representation) dimensions.
    hidden : sequence of int
        Hidden widths. ``paper_hidden(dim_in)`` gives the papers' 6 hidden layers; the default
        (128, 128, 128) is the laptop-scale encoder of the studies' embedded default.
    negative_slope : float
        LeakyReLU slope (0.01, PyTorch's default, as in cl-ica).
    output : {"none", "sphere"}
        ``"sphere"`` L2-normalises the output (for objectives defined on the sphere).
    input_stats : (mean, std) or (mean, matrix), optional
        Input statistics (``mitheory.train.input_statistics``): with a 1-D ``std`` the encoder
        starts with ``Standardise(mean, std)``, with a 2-D whitening ``matrix`` with
        ``Whiten(mean, matrix)``.
    """
    check_int(dim_in, "dim_in", minimum=1)
    check_int(dim_out, "dim_out", minimum=1)
    check_option(output, "output", ("none", "sphere"))
    check_finite_number(negative_slope, "negative_slope")
    widths = [dim_in, *[check_int(h, "hidden", minimum=1) for h in hidden], dim_out]
    layers: list[nn.Module] = []
    if input_stats is not None:
        mean, scale = input_stats
        layers.append((Whiten if torch.as_tensor(scale).ndim == 2 else Standardise)(mean, scale))
        if layers[0].mean.shape != (dim_in,):
            raise ValueError(f"input_stats must have dim_in={dim_in} entries, got "
                             f"{tuple(layers[0].mean.shape)}")
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(widths) - 2:
            layers.append(nn.LeakyReLU(negative_slope))
    if output == "sphere":
        layers.append(SphereNorm())
    return nn.Sequential(*layers)


def init_linear_(module: nn.Module, seed: Seed) -> nn.Module:
    """Re-initialise every ``nn.Linear`` in ``module`` from an explicit generator, in place.

    Weights and biases are drawn U(-1/sqrt(fan_in), 1/sqrt(fan_in)), PyTorch's default
    (kaiming-uniform with a = sqrt 5), in ``module.modules()`` order, from
    ``torch_generator(seed)``: no global RNG is touched, so the same seed gives the same network
    whatever ran before. Returns ``module``.
    """
    check_module(module, "module")
    g = torch_generator(seed)
    for m in module.modules():
        if isinstance(m, nn.Linear):
            bound = 1.0 / math.sqrt(m.in_features)
            with torch.no_grad():
                m.weight.uniform_(-bound, bound, generator=g)
                if m.bias is not None:
                    m.bias.uniform_(-bound, bound, generator=g)
    return module
