"""Trace a torch CPA network into float64 ops that push values, Jacobians and offsets forward.

A traced network (``CPANetwork``) is a float64 snapshot of the weights as a sequence of ops:
affine ops (Linear, Conv2d, eval-mode batch norm as a per-channel affine map, average pooling,
Flatten, Identity), kink ops (ReLU, leaky ReLU, Abs, MaxPool2d) and residual ops (``BasicBlock``).
Propagating ``(h, A, b)`` through it gives the value, the Jacobian ``A`` with respect to a basis of
input directions, and the offset ``b`` of the affine map of the current activation region.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from mitheory._validate import check_device
from mitheory.cpa._modules import Abs, BasicBlock

SUPPORTED = ("Linear, Conv2d, BatchNorm1d/BatchNorm2d (eval mode), ReLU, LeakyReLU, "
             "mitheory.cpa.Abs, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Flatten, Identity, "
             "nn.Sequential and mitheory.cpa.BasicBlock")

# hook(op, g, normals, code), called at every kink layer before it acts: g (B, m) the signed
# values of the layer's constraints (pre-activations; max-pool: winner minus each other window
# entry, +inf for padding and the winner itself), normals (B, k, m) their gradients along the k
# basis directions (None when no Jacobian is propagated), code (B, m') the layer's region code.
Hook = Callable[["_Op", torch.Tensor, "torch.Tensor | None", torch.Tensor], None]


class NotCPAError(TypeError):
    """The network contains a layer that is not continuous piecewise affine (or not supported)."""


class _Op:
    kink = False

    def __init__(self, name: str) -> None:
        self.name = name

    def apply(self, h, A, b, hook):  # noqa: N803
        raise NotImplementedError


class _Affine(_Op):
    """``h -> L h + c`` applied to values and offsets, ``A -> L A`` to Jacobian columns."""

    def __init__(self, name: str, linear: Callable, bias: Callable | None = None) -> None:
        super().__init__(name)
        self.linear, self.bias = linear, bias

    def _full(self, t: torch.Tensor) -> torch.Tensor:
        out = self.linear(t)
        return out if self.bias is None else self.bias(out)

    def apply(self, h, A, b, hook):  # noqa: N803
        if A is not None:
            bsz, k = A.shape[:2]
            out = self.linear(A.reshape(bsz * k, *A.shape[2:]))  # (B*k, *feat_out)
            A = out.reshape(bsz, k, *out.shape[1:])
        return self._full(h), A, (None if b is None else self._full(b))


class _Kink(_Op):
    """ReLU (slope 0), leaky ReLU (slope s) or Abs (slope -1) for negative pre-activations."""

    kink = True

    def __init__(self, name: str, negative_slope: float, positive_at_zero: bool) -> None:
        super().__init__(name)
        self.slope, self.pos_at_zero = float(negative_slope), positive_at_zero

    def apply(self, h, A, b, hook):  # noqa: N803
        bsz = h.shape[0]
        pos = h >= 0 if self.pos_at_zero else h > 0  # relu'(0) = 0 as in torch; |.| takes +1
        if hook is not None:
            normals = None if A is None else A.reshape(bsz, A.shape[1], -1)
            hook(self, h.reshape(bsz, -1), normals, pos.reshape(bsz, -1))
        factor = torch.where(pos, h.new_tensor(1.0), h.new_tensor(self.slope))  # (B, *feat)
        h = h * factor
        if A is not None:
            A = A * factor.unsqueeze(1)
        return h, A, (None if b is None else b * factor)


class _MaxPool(_Op):
    """2-D max pooling: the region is the argmax pattern; constraints are ``h_win - h_j >= 0``."""

    kink = True

    def __init__(self, name: str, kernel, stride, padding, dilation) -> None:
        super().__init__(name)
        self.kw = dict(kernel_size=kernel, stride=stride, padding=padding, dilation=dilation)
        self._windows: dict[tuple, torch.Tensor] = {}

    def windows(self, hw: tuple[int, int], device) -> torch.Tensor:
        """(L, kk) flat input positions of each pooling window, -1 for padding."""
        key = (hw, str(device))
        if key not in self._windows:
            pos = torch.arange(1, hw[0] * hw[1] + 1, dtype=torch.float64, device=device)
            cols = F.unfold(pos.view(1, 1, *hw), **self.kw)[0]  # (kk, L), 0 marks padding
            self._windows[key] = cols.T.round().long() - 1
        return self._windows[key]

    def apply(self, h, A, b, hook):  # noqa: N803
        bsz, c, hh, ww = h.shape
        out, idx = F.max_pool2d(h, return_indices=True, **self.kw)  # idx: flat in hh*ww
        n_out = out.shape[2] * out.shape[3]
        flat_idx = idx.reshape(bsz, c, n_out)
        if hook is not None:
            win = self.windows((hh, ww), h.device)  # (L, kk)
            hv = h.reshape(bsz, c, hh * ww)[:, :, win.clamp(min=0)]  # (B, C, L, kk)
            invalid = (win < 0).view(1, 1, *win.shape) | (win.view(1, 1, *win.shape)
                                                          == flat_idx.unsqueeze(-1))
            g = (out.reshape(bsz, c, n_out, 1) - hv).masked_fill(invalid, float("inf"))
            normals = None
            if A is not None:
                af = A.reshape(bsz, A.shape[1], c, hh * ww)
                a_win = af.gather(-1, flat_idx.unsqueeze(1).expand(-1, A.shape[1], -1, -1))
                normals = (a_win.unsqueeze(-1) - af[..., win.clamp(min=0)]).reshape(
                    bsz, A.shape[1], -1)
            hook(self, g.reshape(bsz, -1), normals, flat_idx.reshape(bsz, -1))
        if A is not None:
            k = A.shape[1]
            g_idx = flat_idx.unsqueeze(1).expand(-1, k, -1, -1)
            A = A.reshape(bsz, k, c, hh * ww).gather(-1, g_idx).reshape(bsz, k, *out.shape[1:])
        if b is not None:
            b = b.reshape(bsz, c, hh * ww).gather(-1, flat_idx).reshape(out.shape)
        return out, A, b


class _Residual(_Op):
    """``body(x) + shortcut(x)``: both branches see the same ``(h, A, b)``."""

    def __init__(self, name: str, body: list[_Op], shortcut: list[_Op]) -> None:
        super().__init__(name)
        self.body, self.shortcut = body, shortcut

    def apply(self, h, A, b, hook):  # noqa: N803
        h1, a1, b1 = _run(self.body, h, A, b, hook)
        h2, a2, b2 = _run(self.shortcut, h, A, b, hook)
        return h1 + h2, (None if A is None else a1 + a2), (None if b is None else b1 + b2)


def _run(ops: Sequence[_Op], h, A, b, hook):  # noqa: N803
    for op in ops:
        h, A, b = op.apply(h, A, b, hook)
    return h, A, b


def _param(t: torch.Tensor | None, device) -> torch.Tensor | None:
    return None if t is None else t.detach().to(device=device, dtype=torch.float64).clone()


def _channel_view(t: torch.Tensor, ndim: int) -> torch.Tensor:
    """Broadcast a per-channel vector over (N, C, *spatial) with ``ndim`` dims."""
    return t.view(1, -1, *([1] * (ndim - 2)))


def _trace(m: nn.Module, path: str, device) -> list[_Op]:
    name = path or type(m).__name__
    if isinstance(m, nn.Sequential) and type(m).forward is nn.Sequential.forward:
        ops: list[_Op] = []
        # _modules, not named_children(): a module object reused at two positions runs twice
        for child_name, child in m._modules.items():
            ops += _trace(child, f"{path}.{child_name}" if path else child_name, device)
        return ops
    if isinstance(m, BasicBlock) and type(m).forward is BasicBlock.forward:
        return [_Residual(name, _trace(m.body, f"{path}.body", device),
                          _trace(m.shortcut, f"{path}.shortcut", device)),
                *_trace(m.act, f"{path}.act", device)]
    if isinstance(m, nn.Linear):
        w, bias = _param(m.weight, device), _param(m.bias, device)
        return [_Affine(name, lambda t: F.linear(t, w),
                        None if bias is None else (lambda t: t + bias))]
    if isinstance(m, nn.Conv2d):
        if m.padding_mode != "zeros":
            raise NotCPAError(f"layer '{name}' (Conv2d) uses padding_mode={m.padding_mode!r}; "
                              "only 'zeros' is supported")
        w, bias = _param(m.weight, device), _param(m.bias, device)
        kw = dict(stride=m.stride, padding=m.padding, dilation=m.dilation, groups=m.groups)
        return [_Affine(name, lambda t: F.conv2d(t, w, None, **kw),
                        None if bias is None else (lambda t: t + _channel_view(bias, t.ndim)))]
    if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
        if m.training or not m.track_running_stats or m.running_mean is None:
            raise ValueError(
                f"layer '{name}' ({type(m).__name__}) must be in eval mode with running "
                f"statistics (training={m.training}, track_running_stats="
                f"{m.track_running_stats}); only then is batch norm a fixed affine map: "
                "call net.eval()")
        var, mean = _param(m.running_var, device), _param(m.running_mean, device)
        scale = 1.0 / torch.sqrt(var + m.eps)
        if m.affine:
            scale = scale * _param(m.weight, device)
        shift = -mean * scale + (_param(m.bias, device) if m.affine else 0.0)
        return [_Affine(name, lambda t: t * _channel_view(scale, t.ndim),
                        lambda t: t + _channel_view(shift, t.ndim))]
    if isinstance(m, (nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.Identity)):
        return [_Affine(name, m)]  # linear with no bias: the module itself maps A and b
    if isinstance(m, nn.Flatten):
        if m.start_dim != 1 or m.end_dim != -1:
            raise NotCPAError(f"layer '{name}' (Flatten) must flatten dims 1..-1, got "
                              f"start_dim={m.start_dim}, end_dim={m.end_dim}")
        return [_Affine(name, m)]
    if isinstance(m, nn.ReLU):
        return [_Kink(name, 0.0, positive_at_zero=False)]
    if isinstance(m, nn.LeakyReLU):
        return [_Kink(name, m.negative_slope, positive_at_zero=False)]
    if isinstance(m, Abs):
        return [_Kink(name, -1.0, positive_at_zero=True)]
    if isinstance(m, nn.MaxPool2d):
        if m.ceil_mode:
            raise NotCPAError(f"layer '{name}' (MaxPool2d) uses ceil_mode=True, not supported")
        return [_MaxPool(name, m.kernel_size, m.stride, m.padding, m.dilation)]
    raise NotCPAError(
        f"network is not CPA: layer '{name}' is {type(m).__name__}, which is not a supported "
        f"continuous piecewise-affine layer. Supported: {SUPPORTED}.")


class CPANetwork:
    """A traced CPA network: float64 ops over a snapshot of the weights (see ``trace_cpa``).

    Calling it on a float64 tensor ``(n, *in_shape)`` returns the network output in float64.
    """

    def __init__(self, ops: list[_Op], device: torch.device, source: str,
                 in_spec: tuple[int, int] | None = None) -> None:
        self.ops, self.device, self.source = ops, device, source
        self.in_spec = in_spec  # (input ndim, size of dim 1) when the first layer fixes it

    def check_input(self, x: torch.Tensor, name: str = "x") -> None:
        """Raise ``ValueError`` unless ``x`` is a finite batch the first layer accepts."""
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
        if self.in_spec is not None:
            ndim, size = self.in_spec
            if x.ndim != ndim or x.shape[1] != size:
                want = f"(n, {size})" if ndim == 2 else f"(n, {size}, height, width)"
                raise ValueError(f"{name} must have shape {want} for this network's first "
                                 f"layer, got {tuple(x.shape)}")
        if not bool(torch.isfinite(x).all()):
            raise ValueError(f"{name} contains NaN or infinite values")

    def __repr__(self) -> str:
        return f"CPANetwork({self.source}, {len(self.ops)} ops, device={self.device})"

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        self.check_input(x)
        return _run(self.ops, x, None, None, None)[0]

    def propagate(self, x: torch.Tensor, *, basis: torch.Tensor | None = None,
                  offset: bool = False, hook: Hook | None = None):
        """Push ``x`` (B, *in_shape) forward with the Jacobian along ``basis`` (k, d) or (B, k, d).

        Returns ``(h, A, b)``: output (B, *out), Jacobian (B, k, *out) or None, offset
        (B, *out) or None, with ``h = A^T x + b`` on the region of ``x`` when ``basis`` is I.
        """
        bsz = x.shape[0]
        A = None
        if basis is not None:
            k = basis.shape[-2]
            A = basis.reshape(-1, k, *x.shape[1:]).expand(bsz, k, *x.shape[1:])
        b = torch.zeros_like(x) if offset else None
        return _run(self.ops, x, A, b, hook)


def as_device(device: str | torch.device | None, net: Any = None) -> torch.device:
    """``device``, else the network's parameter device, else CPU."""
    if device is not None:
        return check_device(device)
    if isinstance(net, CPANetwork):
        return net.device
    if isinstance(net, nn.Module):
        for p in net.parameters():
            return p.device
    return torch.device("cpu")


def trace_cpa(net: nn.Module | CPANetwork, *, device: str | torch.device | None = None
              ) -> CPANetwork:
    """Trace a torch network into a float64 ``CPANetwork``, or raise if it is not CPA.

    Parameters
    ----------
    net : torch.nn.Module or CPANetwork
        Composed of Linear, Conv2d, BatchNorm1d/2d (eval mode), ReLU, LeakyReLU, ``Abs``,
        MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Flatten, Identity, ``nn.Sequential`` and
        ``BasicBlock``. A ``CPANetwork`` is returned unchanged (when on ``device``).
    device : str or torch.device, optional
        Where the float64 weights live; default: the network's parameter device.

    Returns
    -------
    CPANetwork
        A snapshot: later changes to ``net``'s parameters are not seen.

    Raises
    ------
    NotCPAError
        (a ``TypeError``) naming the first unsupported layer, e.g. Softmax or GELU.
    ValueError
        A batch-norm layer in training mode.

    Examples
    --------
    >>> from mitheory.cpa import cpa_mlp
    >>> trace_cpa(cpa_mlp([2, 8, 1], seed=0))
    CPANetwork(Sequential, 3 ops, device=cpu)
    """
    dev = as_device(device, net)
    if isinstance(net, CPANetwork):
        if net.device != dev:
            raise ValueError(f"CPANetwork lives on {net.device}, requested device {dev}: "
                             "trace the torch module again on that device")
        return net
    if not isinstance(net, nn.Module):
        raise TypeError(f"net must be a torch.nn.Module or CPANetwork, got {type(net).__name__}")
    return CPANetwork(_trace(net, "", dev), dev, type(net).__name__, _input_spec(net))


def _input_spec(m: nn.Module) -> tuple[int, int] | None:
    """(input ndim, channels/features) fixed by the first layer, or None if not inferable."""
    while True:
        if isinstance(m, nn.Sequential) and len(m):
            m = m[0]
        elif isinstance(m, BasicBlock):
            m = m.body
        else:
            break
    if isinstance(m, nn.Linear):
        return 2, m.in_features
    if isinstance(m, nn.Conv2d):
        return 4, m.in_channels
    return None


def as_input(x: Any, name: str, device: torch.device) -> torch.Tensor:
    """A finite float64 batch ``(n, *in_shape)`` on ``device``."""
    if isinstance(x, torch.Tensor):
        t = x.detach().to(device=device, dtype=torch.float64)
    else:
        try:
            t = torch.as_tensor(np.asarray(x, dtype=np.float64), device=device)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must be a numeric array or tensor: {exc}") from None
    if t.ndim < 2:
        raise ValueError(f"{name} must be a batch of shape (n, *in_shape), got shape "
                         f"{tuple(t.shape)} (use x[None] for one input)")
    if t.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {tuple(t.shape)})")
    if not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name} contains NaN or infinite values")
    return t


def prepare(net: nn.Module | CPANetwork, x: Any, name: str,
            device: str | torch.device | None) -> tuple[CPANetwork, torch.Tensor]:
    """Trace ``net`` on the chosen device and validate the input batch ``x`` onto it."""
    cnet = trace_cpa(net, device=as_device(device, net))
    xt = as_input(x, name, cnet.device)
    cnet.check_input(xt, name)
    return cnet, xt
