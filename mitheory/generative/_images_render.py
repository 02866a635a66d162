"""Procedural renderer of the image world: factors -> antialiased RGB images (vectorised torch).

Each shape class is a signed-distance function (SDF, negative inside) in object-local units where
the shape fits in the unit disc; formulas after Inigo Quilez's 2D SDF notes (box, polygon) or
exact set operations on discs (ring, crescent).
"""
from __future__ import annotations

import math

import torch

from mitheory._color import hsv_to_rgb

SHAPE_NAMES: tuple[str, ...] = (
    "circle", "square", "triangle", "cross", "ring",
    "star", "diamond", "ellipse", "crescent", "hexagon",
)
FACTOR_NAMES: tuple[str, ...] = (
    "class", "pos_x", "pos_y", "scale", "rotation", "object_hue", "background_hue", "texture",
)
# (low, high) of each continuous factor; positions and scale are fractions of the half-width.
FACTOR_RANGES: dict[str, tuple[float, float]] = {
    "pos_x": (-0.4, 0.4),
    "pos_y": (-0.4, 0.4),
    "scale": (0.35, 0.6),
    "rotation": (0.0, 2.0 * math.pi),
    "object_hue": (0.0, 1.0),
    "background_hue": (0.0, 1.0),
    "texture": (0.0, 1.0),
}
OBJECT_SV = (0.85, 0.95)  # object saturation, value (value is modulated by the stripes)
BACKGROUND_SV = (0.45, 0.5)
STRIPE_DEPTH = 0.4  # stripes scale the object's value between 1 - STRIPE_DEPTH and 1
STRIPE_CYCLES = (0.5, 2.0)  # texture 0 -> 0.5, texture 1 -> 2 stripe cycles per object radius


def _sdf_polygon(u, v, n_sides: int, rotation: float = 0.0):
    """Regular ``n_sides``-gon with circumradius 1: max over edge normals of p.n - apothem."""
    angles = rotation + 2.0 * math.pi * torch.arange(n_sides, dtype=u.dtype,
                                                     device=u.device) / n_sides
    proj = u[..., None] * torch.cos(angles) + v[..., None] * torch.sin(angles)
    return proj.amax(-1) - math.cos(math.pi / n_sides)


def _sdf_box(u, v, half_w: float, half_h: float):
    qx, qy = u.abs() - half_w, v.abs() - half_h
    outside = torch.sqrt(qx.clamp(min=0) ** 2 + qy.clamp(min=0) ** 2)
    return outside + torch.maximum(qx, qy).clamp(max=0)


def _sdf_star(u, v):
    """Five-pointed star in polar form: r - R(phi), R a triangle wave between 0.45 and 1."""
    r = torch.sqrt(u * u + v * v)
    t = torch.atan2(v, u) * (5.0 / (2.0 * math.pi)) + 0.25  # one tip points up (-v)
    tri = (2.0 * torch.remainder(t, 1.0) - 1.0).abs()
    return (r - (0.45 + 0.55 * tri)) * 0.7  # 0.7: rough Lipschitz correction for the polar form


def _shape_sdf(cls: int, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """SDF of shape class ``cls`` at local coordinates ``(u, v)`` (any matching shapes)."""
    name = SHAPE_NAMES[cls]
    if name == "circle":
        return torch.sqrt(u * u + v * v) - 0.9
    if name == "square":
        return _sdf_polygon(u, v, 4)
    if name == "triangle":
        return _sdf_polygon(u, v, 3, rotation=math.pi / 2.0)  # apex up (image y points down)
    if name == "cross":
        return torch.minimum(_sdf_box(u, v, 0.95, 0.3), _sdf_box(u, v, 0.3, 0.95))
    if name == "ring":
        return (torch.sqrt(u * u + v * v) - 0.7).abs() - 0.25
    if name == "star":
        return _sdf_star(u, v)
    if name == "diamond":
        a, b = 0.6, 1.0
        return (u.abs() / a + v.abs() / b - 1.0) * (a * b / math.hypot(a, b))
    if name == "ellipse":
        a, b = 1.0, 0.5
        return (torch.sqrt((u / a) ** 2 + (v / b) ** 2) - 1.0) * b
    if name == "crescent":
        outer = torch.sqrt(u * u + v * v) - 0.95
        bite = 0.8 - torch.sqrt((u - 0.45) ** 2 + v * v)
        return torch.maximum(outer, bite)
    return _sdf_polygon(u, v, 6)  # hexagon


def render_factors(factors: torch.Tensor, image_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Render ``factors`` (n, 8) in ``FACTOR_NAMES`` order into images and object masks.

    Parameters
    ----------
    factors : torch.Tensor, shape (n, 8)
        Factor values (the class column holds integers as floats); already validated.
    image_size : int
        Height = width in pixels.

    Returns
    -------
    images : torch.Tensor, shape (n, 3, image_size, image_size)
        RGB in [0, 1], same dtype and device as ``factors``.
    alpha : torch.Tensor, shape (n, 1, image_size, image_size)
        Antialiased object coverage in [0, 1] (1 inside, 0 on pure background).
    """
    n, dev, dt = factors.shape[0], factors.device, factors.dtype
    grid = (2.0 * torch.arange(image_size, device=dev, dtype=dt) + 1.0) / image_size - 1.0
    cls = factors[:, 0].long()
    px, py, scale, rot = (factors[:, j, None, None] for j in (1, 2, 3, 4))
    dx = (grid[None, None, :] - px) / scale  # (n, 1, W)
    dy = (grid[None, :, None] - py) / scale  # (n, H, 1)
    cos, sin = torch.cos(rot), torch.sin(rot)
    u = cos * dx + sin * dy  # (n, H, W): rotate the pixel grid by -rotation
    v = cos * dy - sin * dx
    sdf = torch.empty_like(u)
    for k in torch.unique(cls).tolist():
        idx = (cls == k).nonzero(as_tuple=True)[0]
        sdf[idx] = _shape_sdf(k, u[idx], v[idx])
    # coverage of a pixel by the shape, linear in the signed distance in pixels (1 px wide edge)
    alpha = (0.5 - sdf * (scale * (image_size / 2.0))).clamp(0.0, 1.0).unsqueeze(1)
    lo, hi = STRIPE_CYCLES
    cycles = (lo + (hi - lo) * factors[:, 7, None, None])  # per object radius
    shade = 1.0 - STRIPE_DEPTH * 0.5 * (1.0 + torch.cos(2.0 * math.pi * cycles * u))
    ones = torch.ones(n, device=dev, dtype=dt)
    obj = hsv_to_rgb(torch.stack([factors[:, 5], OBJECT_SV[0] * ones, OBJECT_SV[1] * ones], 1)
                     [..., None, None])  # (n, 3, 1, 1)
    bg = hsv_to_rgb(torch.stack([factors[:, 6], BACKGROUND_SV[0] * ones,
                                 BACKGROUND_SV[1] * ones], 1)[..., None, None])
    # lerp is exact at both ends: alpha = 0 gives the background, alpha = 1 the object
    images = torch.lerp(bg.expand(-1, -1, image_size, image_size), obj * shade.unsqueeze(1), alpha)
    return images.clamp(0.0, 1.0), alpha
