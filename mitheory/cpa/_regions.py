"""Activation regions of a CPA network: region codes and the exact per-region affine map (A, b).

On the activation region ``w`` that contains ``x`` the network is ``f(x) = A_w x + b_w``
(Balestriero & Baraniuk 2018; Shwartz-Ziv et al. 2023, Sec. 2); ``A_w`` is the Jacobian there.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import nn

from mitheory._validate import check_int, check_option
from mitheory.cpa._trace import CPANetwork, prepare

_MEMORY_BUDGET_BYTES = 256 * 2**20  # per propagated chunk; keeps the default under ~1 GB peak


def max_kink_width(cnet: CPANetwork, x1: torch.Tensor) -> int:
    """Largest number of constraints (units or max-pool pairs) in any kink layer, for one input."""
    widths = [int(np.prod(x1.shape[1:]))]
    cnet.propagate(x1[:1], hook=lambda op, g, nrm, code: widths.append(g.shape[1]))
    return max(widths)


def chunks(n: int, chunk_size: int | None, *, per_item_bytes: int) -> Iterator[slice]:
    """Slices of ``range(n)``; default size keeps ``chunk * per_item_bytes`` under the budget."""
    if chunk_size is None:
        chunk_size = max(1, _MEMORY_BUDGET_BYTES // max(1, per_item_bytes))
    else:
        check_int(chunk_size, "chunk_size", minimum=1)
    for start in range(0, n, chunk_size):
        yield slice(start, min(n, start + chunk_size))


class _CodeHook:
    """Collect the region code of every kink layer, concatenated in forward order."""

    def __init__(self) -> None:
        self.parts: list[torch.Tensor] = []

    def __call__(self, op, g, normals, code) -> None:
        self.parts.append(code.to(torch.int32))

    def code(self, bsz: int, device) -> torch.Tensor:
        if not self.parts:
            return torch.zeros(bsz, 0, dtype=torch.int32, device=device)
        return torch.cat(self.parts, dim=1)


def batch_code(cnet: CPANetwork, x: torch.Tensor) -> torch.Tensor:
    """Region codes (B, n_code) int32 of a float64 batch, one forward pass, on ``x``'s device."""
    hook = _CodeHook()
    cnet.propagate(x, hook=hook)
    return hook.code(len(x), x.device)


@dataclass(frozen=True)
class RegionMap:
    """The affine map of each input's activation region, in float64.

    Attributes
    ----------
    output : ndarray, shape (n, dim_out)
        ``f(x)`` (flattened), float64.
    A : ndarray, shape (n, dim_out, dim_in)
        Slope of the region's affine map (the Jacobian of ``f`` at ``x``).
    b : ndarray, shape (n, dim_out)
        Offset, propagated layer by layer (not computed as ``f(x) - A x``).
    code : ndarray, shape (n, n_code), int32
        Region code: 1/0 for positive/non-positive pre-activation of each ReLU-family unit
        (``>= 0`` for Abs), and the flat argmax position of each max-pool output.
    """

    output: np.ndarray
    A: np.ndarray
    b: np.ndarray
    code: np.ndarray

    def apply(self, x: ArrayLike) -> np.ndarray:
        """``A_i x_i + b_i`` for inputs ``x`` (n, *in_shape): equals ``f(x_i)`` inside region i."""
        xf = np.asarray(x, dtype=np.float64).reshape(len(self.A), -1)
        return np.einsum("nod,nd->no", self.A, xf) + self.b


def region_code(net: nn.Module | CPANetwork, x: Any, *, chunk_size: int | None = None,
                device: str | torch.device | None = None) -> np.ndarray:
    """Activation pattern (region code) of each input, from one batched forward pass.

    Parameters
    ----------
    net : torch.nn.Module or CPANetwork
        A CPA network (see ``trace_cpa``).
    x : array or tensor, shape (n, *in_shape)
    chunk_size : int, optional
        Inputs per batched pass (default: from a memory budget).
    device : str or torch.device, optional

    Returns
    -------
    ndarray, shape (n, n_code), int32
        Two inputs lie in the same activation region iff their rows are equal.
    """
    cnet, xt = prepare(net, x, "x", device)
    width = max_kink_width(cnet, xt)
    out = []
    with torch.no_grad():
        for sl in chunks(len(xt), chunk_size, per_item_bytes=8 * width * 4):
            out.append(batch_code(cnet, xt[sl]).cpu())
    return torch.cat(out).numpy()


def _forward_mode(cnet: CPANetwork, x: torch.Tensor, eye: torch.Tensor):
    """(output, A (B, dim_out, d), b, code) by pushing the identity basis forward."""
    hook = _CodeHook()
    h, A, b = cnet.propagate(x, basis=eye, offset=True, hook=hook)
    bsz = len(x)
    return (h.reshape(bsz, -1), A.reshape(bsz, eye.shape[0], -1).transpose(1, 2),
            b.reshape(bsz, -1), hook.code(bsz, x.device))


def _reverse_mode(cnet: CPANetwork, x: torch.Tensor, dim_out: int):
    """(output, A, b, code) from dim_out batched vector-Jacobian products of the float64 ops.

    Autograd differentiates the same ops (``h * slope`` with the slope a constant of the
    region, max-pool gathers), so it uses the same convention at ties as forward mode.
    """
    hook = _CodeHook()
    xg = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        h = cnet.propagate(xg, hook=hook)[0].reshape(len(x), -1)  # (B, dim_out)
        seeds = torch.eye(dim_out, dtype=h.dtype, device=h.device)[:, None, :].expand(
            dim_out, len(x), dim_out)
        (g,) = torch.autograd.grad(h, xg, grad_outputs=seeds, is_grads_batched=True)
    A = g.reshape(dim_out, len(x), -1).transpose(0, 1)  # (B, dim_out, d)
    h = h.detach()
    b = h - torch.einsum("nod,nd->no", A, x.reshape(len(x), -1))
    return h, A, b, hook.code(len(x), x.device)


def region_affine_map(net: nn.Module | CPANetwork, x: Any, *,
                      method: Literal["auto", "forward", "reverse"] = "auto",
                      chunk_size: int | None = None,
                      device: str | torch.device | None = None) -> RegionMap:
    """Exact affine map ``f(x') = A x' + b`` of the activation region of each input, batched.

    Parameters
    ----------
    net : torch.nn.Module or CPANetwork
        A CPA network (see ``trace_cpa``); evaluated in float64.
    x : array or tensor, shape (n, *in_shape)
    method : {"auto", "forward", "reverse"}
        ``"forward"`` pushes the identity basis through the layers (cost ∝ dim_in) and
        propagates ``b`` layer by layer; ``"reverse"`` takes dim_out batched vector-Jacobian
        products (cost ∝ dim_out) and sets ``b = f(x) - A x``. ``"auto"`` picks the cheaper.
    chunk_size : int, optional
        Inputs per batched pass; default from a 256 MiB budget for the propagated Jacobian.
    device : str or torch.device, optional
        Default: the network's device.

    Returns
    -------
    RegionMap
        ``output``, ``A`` (n, dim_out, dim_in), ``b`` (n, dim_out), ``code``.
        Exact (up to float64 rounding) on the whole region, not only at ``x``.

    Notes
    -----
    Forward-mode propagation: the identity basis is pushed through every layer,

    .. math:: A^{(l)} = D^{(l)} W^{(l)} A^{(l-1)}, \\qquad
              b^{(l)} = D^{(l)} (W^{(l)} b^{(l-1)} + c^{(l)}),

    with :math:`D^{(l)}` the diagonal of activation slopes (1/0 for ReLU, 1/s for leaky ReLU,
    ±1 for Abs) or the argmax selection of max pooling, fixed on the region. This is the
    spline form :math:`f(x) = \\sum_\\omega (A_\\omega x + b_\\omega) 1\\{x \\in \\omega\\}`
    (dossier vicreg_infotheory.md, Sec. 2.2). Cost: O(n · dim_in · sum_l width_l · width_{l-1})
    flops and O(chunk · dim_in · max width) memory; the reverse mode replaces dim_in by dim_out.
    Both are batched over inputs (no Python loop per input).

    Examples
    --------
    >>> from mitheory.cpa import cpa_mlp
    >>> net = cpa_mlp([3, 16, 2], seed=0)
    >>> rm = region_affine_map(net, np.ones((4, 3)))
    >>> rm.A.shape, rm.b.shape
    ((4, 2, 3), (4, 2))
    """
    check_option(method, "method", ("auto", "forward", "reverse"))
    cnet, xt = prepare(net, x, "x", device)
    d = int(np.prod(xt.shape[1:]))
    width = max_kink_width(cnet, xt)
    with torch.no_grad():
        dim_out = cnet(xt[:1]).numel()
    if method == "auto":
        method = "reverse" if dim_out < d else "forward"
    k = d if method == "forward" else dim_out
    eye = torch.eye(d, dtype=torch.float64, device=cnet.device)
    parts: list[tuple[torch.Tensor, ...]] = []
    with torch.no_grad():
        for sl in chunks(len(xt), chunk_size, per_item_bytes=8 * k * width * 4):
            out = (_forward_mode(cnet, xt[sl], eye) if method == "forward"
                   else _reverse_mode(cnet, xt[sl], dim_out))
            parts.append(tuple(t.cpu() for t in out))
    h, A, b, code = (torch.cat(p).numpy() for p in zip(*parts))
    return RegionMap(output=h, A=A, b=b, code=code)
