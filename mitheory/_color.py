"""Colour-space conversions on batched torch images (RGB in [0, 1], channel dim -3).

Shared by the image world (``generative.images``) and the augmentations (``data``); the formulas
follow torchvision's tensor ``_rgb2hsv`` / ``_hsv2rgb`` and Pillow's ``"L"`` conversion.
"""
from __future__ import annotations

import torch

# ITU-R 601-2 luma transform, as in Pillow's ``Image.convert("L")``: L = R*299/1000 + G*587/1000
# + B*114/1000 (Pillow docs, ``Image.convert``).
GRAY_WEIGHTS = (0.299, 0.587, 0.114)


def rgb_to_gray(img: torch.Tensor) -> torch.Tensor:
    """Luma of ``img`` (..., 3, H, W) -> (..., 1, H, W) with the ITU-R 601-2 weights."""
    r, g, b = img.unbind(-3)
    return (GRAY_WEIGHTS[0] * r + GRAY_WEIGHTS[1] * g + GRAY_WEIGHTS[2] * b).unsqueeze(-3)


def hsv_to_rgb(hsv: torch.Tensor) -> torch.Tensor:
    """HSV (..., 3, H, W) or (..., 3) with channel dim given by the layout -> RGB, all in [0, 1].

    Uses the closed form ``c_n = v - v s clamp(min(k, 4 - k), 0, 1)``, ``k = (n + 6 h) mod 6`` with
    ``n = 5, 3, 1`` for R, G, B; the hue is taken modulo 1. ``hsv`` has its channels on dim -3
    (images); pass ``hsv[..., None, None]`` for plain (..., 3) colours.
    """
    h, s, v = hsv.unbind(-3)
    out = []
    for n in (5.0, 3.0, 1.0):
        k = torch.remainder(n + 6.0 * h, 6.0)
        out.append(v - v * s * torch.clamp(torch.minimum(k, 4.0 - k), 0.0, 1.0))
    return torch.stack(out, dim=-3)


def rgb_to_hsv(img: torch.Tensor) -> torch.Tensor:
    """RGB (..., 3, H, W) in [0, 1] -> HSV with h in [0, 1) (torchvision ``_rgb2hsv`` formula)."""
    r, g, b = img.unbind(-3)
    maxc = torch.maximum(torch.maximum(r, g), b)
    minc = torch.minimum(torch.minimum(r, g), b)
    cr = maxc - minc
    eq = cr == 0  # grey pixels: hue 0, saturation 0
    s = cr / torch.where(maxc == 0, torch.ones_like(maxc), maxc)
    crd = torch.where(eq, torch.ones_like(cr), cr)
    rc, gc, bc = (maxc - r) / crd, (maxc - g) / crd, (maxc - b) / crd
    hr = (maxc == r) * (bc - gc)
    hg = ((maxc == g) & (maxc != r)) * (2.0 + rc - bc)
    hb = ((maxc != g) & (maxc != r)) * (4.0 + gc - rc)
    h = torch.remainder((hr + hg + hb) / 6.0 + 1.0, 1.0)
    h = torch.where(eq, torch.zeros_like(h), h)
    return torch.stack([h, s, maxc], dim=-3)
