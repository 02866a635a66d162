"""Counting activation regions: exactly along line segments, on a grid over a 2-D slice.

Region counts as a function of width and depth are the usual measure of a ReLU network's
expressivity (Hanin & Rolnick 2019, "Complexity of linear regions in deep networks"); here they
also say how far input noise can go before Theorem 1's single-region assumption fails.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from mitheory._validate import check_int, check_positive
from mitheory.cpa._boundary import boundary_distance
from mitheory.cpa._regions import batch_code, chunks, max_kink_width
from mitheory.cpa._trace import CPANetwork, as_device, as_input, trace_cpa


@dataclass(frozen=True)
class SegmentRegions:
    """Regions crossed by segments ``x(t) = start + t (end - start)``, ``t`` in [0, 1].

    Attributes
    ----------
    n_regions : ndarray (n,) int
        Number of activation regions each segment passes through.
    breakpoints : list of ndarray
        For each segment, the parameters ``t`` in (0, 1) where it enters a new region.
    resolution : float
        Parameter step taken past each crossing; regions narrower than this along the segment
        can be missed (the count is exact up to this resolution).
    """

    n_regions: np.ndarray
    breakpoints: list[np.ndarray]
    resolution: float


class _CrossingHook:
    """Next crossing ``t`` (along the propagated direction) and the region code at a point."""

    def __init__(self) -> None:
        self.step: torch.Tensor | None = None
        self.parts: list[torch.Tensor] = []

    def __call__(self, op, g, normals, code) -> None:
        dg = normals[:, 0, :]  # (B, m): derivative of each constraint along the segment
        ahead = (g * dg < 0) & torch.isfinite(g)  # constraint moving towards zero
        step = torch.where(ahead, -g / dg, torch.inf).min(dim=1).values
        self.step = step if self.step is None else torch.minimum(self.step, step)
        self.parts.append(code.to(torch.int32))


def regions_on_segment(net: nn.Module | CPANetwork, start: Any, end: Any, *,
                       resolution: float = 1e-9, max_steps: int = 100_000,
                       device: str | torch.device | None = None) -> SegmentRegions:
    """Exact enumeration of the activation regions crossed by line segments (batched).

    Parameters
    ----------
    net : torch.nn.Module or CPANetwork
    start, end : array or tensor, shape (n, *in_shape)
        Segment end points.
    resolution : float
        Step in ``t`` past each crossing before the next region is evaluated.
    max_steps : int
        Safety limit on regions per segment; exceeding it raises ``RuntimeError``.
    device : str or torch.device, optional

    Returns
    -------
    SegmentRegions

    Notes
    -----
    Inside the current region every constraint is affine in ``t``,
    :math:`g_u(t) = g_u(t_0) + g_u'(t_0)(t - t_0)`, with :math:`g_u'` from one forward-mode pass
    along ``end - start``. The segment leaves the region at the first root ahead,
    :math:`t_1 = t_0 + \\min_u \\{-g_u/g_u' : g_u g_u' < 0\\}` (exact: see
    ``boundary_distance`` for why the constraints of all layers describe the region); the walk
    restarts at :math:`t_1 + \\text{resolution}` and counts a new region when the code changes.
    One batched forward pass per region crossed.
    """
    check_positive(resolution, "resolution")
    max_steps = check_int(max_steps, "max_steps", minimum=1)
    dev = as_device(device, net)
    cnet = trace_cpa(net, device=dev)
    x0, x1 = as_input(start, "start", dev), as_input(end, "end", dev)
    if x0.shape != x1.shape:
        raise ValueError(f"start and end must have the same shape, got {tuple(x0.shape)} and "
                         f"{tuple(x1.shape)}")
    n = len(x0)
    v = (x1 - x0).reshape(n, 1, -1)  # (n, 1, d)
    t = torch.zeros(n, dtype=torch.float64, device=dev)
    counts = np.ones(n, dtype=np.int64)
    bps: list[list[float]] = [[] for _ in range(n)]
    pending = np.full(n, np.nan)
    prev: torch.Tensor | None = None
    active = torch.arange(n, device=dev)
    with torch.no_grad():
        for _ in range(max_steps):
            hook = _CrossingHook()
            pts = x0[active] + t[active].view(-1, *[1] * (x0.ndim - 1)) * (x1 - x0)[active]
            cnet.propagate(pts, basis=v[active], hook=hook)
            code = torch.cat(hook.parts, dim=1) if hook.parts else torch.zeros(
                len(active), 0, dtype=torch.int32, device=dev)
            ids = active.cpu().numpy()
            if prev is not None:
                changed = (code != prev[active]).any(dim=1).cpu().numpy()
                for i in ids[changed]:
                    counts[i] += 1
                    bps[i].append(float(pending[i]))
                prev[active] = code
            else:
                prev = code.clone()
            step = hook.step if hook.step is not None else torch.full_like(t[active], torch.inf)
            t_next = t[active] + step
            go = (t_next < 1.0) & (t[active] < 1.0)
            pending[ids[go.cpu().numpy()]] = t_next[go].cpu().numpy()
            t[active[go]] = torch.clamp(t_next[go] + resolution, max=1.0)
            active = active[go]
            if len(active) == 0:
                break
        else:
            raise RuntimeError(f"more than max_steps={max_steps} regions on a segment; raise "
                               "max_steps or shorten the segment")
    return SegmentRegions(n_regions=counts, breakpoints=[np.array(b) for b in bps],
                          resolution=float(resolution))


@dataclass(frozen=True)
class SliceRegions:
    """Activation regions met by a grid over the square ``centre + s u + t v``, ``|s|,|t| <= e``.

    Attributes
    ----------
    n_regions : int
        Number of distinct regions hit by the grid: a lower bound on the regions meeting the
        square, exact once the grid is finer than the narrowest region.
    labels : ndarray (resolution, resolution) int
        Region label of each grid point (row: ``t``, column: ``s``).
    s, t : ndarray (resolution,)
        Grid coordinates.
    """

    n_regions: int
    labels: np.ndarray
    s: np.ndarray
    t: np.ndarray


# Fixed random odd multipliers for hashing region codes (two 64-bit hashes, arithmetic mod 2^64).
_HASH_KEY = np.random.SeedSequence(20230301)


def code_hash(code: np.ndarray) -> np.ndarray:
    """Two 64-bit hashes (n, 2) uint64 per code row; distinct codes collide w.p. ~2^-128."""
    w = np.random.default_rng(_HASH_KEY).integers(0, 2**63, size=(code.shape[1], 2),
                                                 dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    return code.astype(np.uint64) @ w


def regions_in_slice(net: nn.Module | CPANetwork, centre: Any, u: Any, v: Any, *,
                     extent: float = 1.0, resolution: int = 128, chunk_size: int | None = None,
                     device: str | torch.device | None = None) -> SliceRegions:
    """Activation regions on a 2-D slice of input space, from a batched grid of region codes.

    Parameters
    ----------
    net : torch.nn.Module or CPANetwork
    centre, u, v : array, shape in_shape
        Slice centre and its two spanning directions.
    extent : float
        Half-width of the square in the (s, t) coordinates.
    resolution : int
        Grid points per side.
    chunk_size : int, optional
    device : str or torch.device, optional

    Returns
    -------
    SliceRegions
        ``n_regions`` is a lower bound (regions are convex, so each region's slice is one
        connected piece and counts once); compare ``regions_on_segment`` for exact 1-D counts.

    Raises
    ------
    ValueError
        If ``centre``, ``u``, ``v`` are not finite arrays of one shape, ``u`` and ``v`` are
        linearly dependent, or ``extent``/``resolution`` is invalid.
    """
    check_positive(extent, "extent")
    res = check_int(resolution, "resolution", minimum=2)
    dev = as_device(device, net)
    cnet = trace_cpa(net, device=dev)
    c, du, dv = (as_input(np.asarray(a)[None] if not isinstance(a, torch.Tensor) else a[None],
                          name, dev) for a, name in ((centre, "centre"), (u, "u"), (v, "v")))
    if not (c.shape == du.shape == dv.shape):
        raise ValueError(f"centre, u, v must have one shape, got {tuple(c.shape[1:])}, "
                         f"{tuple(du.shape[1:])}, {tuple(dv.shape[1:])}")
    if int(torch.linalg.matrix_rank(torch.stack([du.reshape(-1), dv.reshape(-1)]))) < 2:
        raise ValueError("u and v must be linearly independent (they span the slice plane)")
    grid = np.linspace(-extent, extent, res)
    ss, tt = np.meshgrid(grid, grid)  # (res, res): rows t, columns s
    st = torch.as_tensor(np.stack([ss.ravel(), tt.ravel()], 1), device=dev)
    shape = (-1, *[1] * (c.ndim - 1))
    pts = c + st[:, 0].reshape(shape) * du + st[:, 1].reshape(shape) * dv
    width = max_kink_width(cnet, pts)
    hashes = []
    with torch.no_grad():
        for sl in chunks(len(pts), chunk_size, per_item_bytes=8 * width * 4):
            hashes.append(code_hash(batch_code(cnet, pts[sl]).cpu().numpy()))
    uniq, labels = np.unique(np.concatenate(hashes), axis=0, return_inverse=True)
    return SliceRegions(n_regions=len(uniq), labels=labels.reshape(res, res), s=grid, t=grid)


def region_statistics(net: nn.Module | CPANetwork, points: Any, *,
                      device: str | torch.device | None = None) -> dict[str, float]:
    """How finely a network cuts the space around given points (e.g. prototypes).

    Returns
    -------
    dict
        ``regions_per_segment_mean`` / ``_max``: exact counts of regions crossed by the segments
        between all pairs of points (``regions_on_segment``); ``boundary_distance_min`` /
        ``_median``: distances from the points to their region boundaries
        (``boundary_distance``); ``n_pairs``. Noise much smaller than the boundary distances
        stays in one region, the condition of Theorem 1.
    """
    cnet = trace_cpa(net, device=as_device(device, net))
    pts = as_input(points, "points", cnet.device)
    if len(pts) < 2:
        raise ValueError(f"points needs at least 2 rows, got shape {tuple(pts.shape)}")
    i, j = np.triu_indices(len(pts), k=1)
    seg = regions_on_segment(cnet, pts[i], pts[j])
    dist = boundary_distance(cnet, pts).distance
    return {"regions_per_segment_mean": float(seg.n_regions.mean()),
            "regions_per_segment_max": int(seg.n_regions.max()),
            "boundary_distance_min": float(dist.min()),
            "boundary_distance_median": float(np.median(dist)), "n_pairs": int(len(i))}
