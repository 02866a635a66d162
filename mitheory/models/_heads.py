"""Projector / expander and predictor MLP heads of two-view SSL (VICReg, SimCLR, BYOL).

The projector follows ``facebookresearch/vicreg`` ``main_vicreg.py`` ``Projector``: Linear + BN +
ReLU between layers, last Linear without BN and without bias.
"""
from __future__ import annotations

from torch import nn

from mitheory._validate import check_int


def _parse_spec(spec: str | list[int] | tuple[int, ...], name: str) -> list[int]:
    if isinstance(spec, str):
        try:
            dims = [int(s) for s in spec.split("-")]
        except ValueError:
            raise ValueError(f"{name} must look like '8192-8192-8192', got {spec!r}") from None
    else:
        dims = list(spec)
    for d in dims:
        check_int(d, name, minimum=1)
    if not dims:
        raise ValueError(f"{name} must name at least one layer width, got {spec!r}")
    return dims


def make_projector(spec: str | list[int], in_dim: int, *, last_bias: bool = False) -> nn.Sequential:
    """MLP projector ``in_dim -> spec[0] -> ... -> spec[-1]``.

    Parameters
    ----------
    spec : str or list of int
        Layer widths, e.g. ``"8192-8192-8192"`` (VICReg, ResNet-50) or ``"2048-128"`` (SimCLR).
    in_dim : int
        Encoder feature size (512 for ResNet-18, 2048 for ResNet-50).
    last_bias : bool
        Bias on the last Linear (VICReg's official code: none).

    Returns
    -------
    torch.nn.Sequential
        ``[Linear, BatchNorm1d, ReLU] * (len(spec) - 1) + [Linear]``.

    Raises
    ------
    ValueError
        If ``spec`` is not a dash-separated list of positive integers.
    """
    dims = [check_int(in_dim, "in_dim", minimum=1), *_parse_spec(spec, "spec")]
    layers: list[nn.Module] = []
    for a, b in zip(dims[:-2], dims[1:-1]):
        layers += [nn.Linear(a, b), nn.BatchNorm1d(b), nn.ReLU(inplace=True)]
    layers.append(nn.Linear(dims[-2], dims[-1], bias=last_bias))
    return nn.Sequential(*layers)


def make_predictor(dim: int, hidden: int = 4096) -> nn.Sequential:
    """BYOL / SimSiam predictor ``dim -> hidden -> dim`` (Linear, BN, ReLU, Linear with bias).

    Grill et al. 2020, Sec. 3.3: the predictor has the projector's architecture, hidden 4096 and
    output 256 for ResNet-50.
    """
    dim, hidden = check_int(dim, "dim", minimum=1), check_int(hidden, "hidden", minimum=1)
    return nn.Sequential(nn.Linear(dim, hidden), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True),
                         nn.Linear(hidden, dim))
