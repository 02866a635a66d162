"""Batched image augmentations in plain torch (any device), one random draw per image.

Ops take float images (B, 3, H, W) in [0, 1] and per-image parameters; the samplers draw those
parameters from an explicit ``torch.Generator``. Semantics follow torchvision's tensor ops and
Pillow (``ImageEnhance``, ``ImageOps.solarize``, ``convert("L")``); each test pins one op.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from mitheory._color import hsv_to_rgb, rgb_to_gray, rgb_to_hsv


def _per_image(v: torch.Tensor | float, x: torch.Tensor) -> torch.Tensor:
    """A scalar or (B,) parameter as a (B, 1, 1, 1) tensor on ``x``'s device and dtype."""
    return torch.as_tensor(v, dtype=x.dtype, device=x.device).reshape(-1, 1, 1, 1)


def _uniform(n: int, lo: float, hi: float, gen: torch.Generator, device) -> torch.Tensor:
    return lo + (hi - lo) * torch.rand(n, generator=gen, device=device)


def _bernoulli(n: int, p: float, gen: torch.Generator, device) -> torch.Tensor:
    return torch.rand(n, generator=gen, device=device) < p


def sample_crop_boxes(n: int, height: int, width: int, *, scale=(0.08, 1.0),
                      ratio=(3.0 / 4.0, 4.0 / 3.0), generator: torch.Generator,
                      device="cpu", attempts: int = 10) -> torch.Tensor:
    """Random-resized-crop boxes, torchvision's ``RandomResizedCrop.get_params`` per image.

    Up to ``attempts`` draws of area ``U(scale) * H * W`` and log-uniform aspect ratio; the first
    that fits is kept, otherwise the central crop with the ratio clamped into ``ratio``.

    Returns
    -------
    torch.Tensor, shape (n, 4), float
        ``(top, left, height, width)`` in pixels (integers stored as floats).
    """
    area = height * width
    a = area * _uniform(n * attempts, scale[0], scale[1], generator, device).view(n, attempts)
    logr = _uniform(n * attempts, math.log(ratio[0]), math.log(ratio[1]), generator, device)
    r = torch.exp(logr).view(n, attempts)
    w = torch.round(torch.sqrt(a * r))
    h = torch.round(torch.sqrt(a / r))
    ok = (w > 0) & (h > 0) & (w <= width) & (h <= height)  # (n, attempts)
    first = torch.argmax(ok.int(), dim=1)  # index of the first fitting draw (0 if none)
    any_ok = ok.any(dim=1)
    rows = torch.arange(n, device=device)
    w, h = w[rows, first], h[rows, first]
    in_ratio = width / height  # fallback: torchvision's central crop
    if in_ratio < ratio[0]:
        fw, fh = float(width), float(round(width / ratio[0]))
    elif in_ratio > ratio[1]:
        fw, fh = float(round(height * ratio[1])), float(height)
    else:
        fw, fh = float(width), float(height)
    w = torch.where(any_ok, w, torch.full_like(w, fw))
    h = torch.where(any_ok, h, torch.full_like(h, fh))
    u = torch.rand(n, 2, generator=generator, device=device)
    top = torch.where(any_ok, torch.floor(u[:, 0] * (height - h + 1)),
                      torch.round((height - h) / 2))
    left = torch.where(any_ok, torch.floor(u[:, 1] * (width - w + 1)), torch.round((width - w) / 2))
    return torch.stack([top, left, h, w], dim=1)


def resized_crop(x: torch.Tensor, boxes: torch.Tensor, size: int | tuple[int, int]) -> torch.Tensor:
    """Crop each image to its box and resize to ``size`` (bilinear, pixel-centre aligned).

    One affine grid per image and one ``grid_sample`` call for the batch; a box at integer
    pixels with the output's size reproduces the slice ``x[:, :, top:top+h, left:left+w]``
    exactly. No antialiasing when shrinking (torchvision's tensor default before 0.17 too).

    Parameters
    ----------
    x : torch.Tensor, shape (B, C, H, W)
    boxes : torch.Tensor, shape (B, 4)
        ``(top, left, height, width)`` in pixels.
    size : int or (int, int)
        Output height and width.
    """
    oh, ow = (size, size) if isinstance(size, int) else size
    b, _, hh, ww = x.shape
    top, left, h, w = boxes.to(x.dtype).unbind(1)
    theta = torch.zeros(b, 2, 3, dtype=x.dtype, device=x.device)
    # output normalised coord t in [-1, 1] -> input (2 left + (t + 1) w) / W - 1
    # (align_corners=False)
    theta[:, 0, 0] = w / ww
    theta[:, 0, 2] = (2 * left + w) / ww - 1
    theta[:, 1, 1] = h / hh
    theta[:, 1, 2] = (2 * top + h) / hh - 1
    grid = F.affine_grid(theta, [b, x.shape[1], oh, ow], align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def hflip(x: torch.Tensor, flags: torch.Tensor) -> torch.Tensor:
    """Mirror the images where ``flags`` (B,) bool is True."""
    return torch.where(flags.view(-1, 1, 1, 1), x.flip(-1), x)


def adjust_brightness(x: torch.Tensor, factor) -> torch.Tensor:
    """``clamp(factor * x)``: Pillow ``ImageEnhance.Brightness`` (blend with black)."""
    return (x * _per_image(factor, x)).clamp(0.0, 1.0)


def adjust_contrast(x: torch.Tensor, factor) -> torch.Tensor:
    """Blend with the mean grey level: ``clamp(m + factor (x - m))``, m = mean luma per image.

    Pillow ``ImageEnhance.Contrast`` uses the same blend with m rounded to an integer grey level.
    """
    m = rgb_to_gray(x).mean(dim=(-3, -2, -1), keepdim=True)
    return torch.lerp(m.expand_as(x), x, _per_image(factor, x)).clamp(0.0, 1.0)


def adjust_saturation(x: torch.Tensor, factor) -> torch.Tensor:
    """Blend with the grey image: Pillow ``ImageEnhance.Color``."""
    return torch.lerp(rgb_to_gray(x).expand_as(x), x, _per_image(factor, x)).clamp(0.0, 1.0)


def adjust_hue(x: torch.Tensor, shift) -> torch.Tensor:
    """Rotate the hue by ``shift`` (fraction of a turn, in [-0.5, 0.5]) in HSV space."""
    hsv = rgb_to_hsv(x)
    h = torch.remainder(hsv[:, :1] + _per_image(shift, x), 1.0)
    return hsv_to_rgb(torch.cat([h, hsv[:, 1:]], dim=1))


def grayscale(x: torch.Tensor, flags: torch.Tensor | None = None) -> torch.Tensor:
    """ITU-R 601-2 luma copied to the three channels (where ``flags`` (B,) is True, or all)."""
    g = rgb_to_gray(x).expand_as(x)
    return g if flags is None else torch.where(flags.view(-1, 1, 1, 1), g, x)


def solarize(x: torch.Tensor, flags: torch.Tensor | None = None,
             threshold: float = 0.5) -> torch.Tensor:
    """Invert pixels ``>= threshold`` (``PIL.ImageOps.solarize``: 255 - v for v >= threshold)."""
    s = torch.where(x >= threshold, 1.0 - x, x)
    return s if flags is None else torch.where(flags.view(-1, 1, 1, 1), s, x)


def gaussian_blur(x: torch.Tensor, sigma, kernel_size: int) -> torch.Tensor:
    """Separable Gaussian blur with one ``sigma`` per image and reflect padding.

    As torchvision's ``gaussian_blur``: weights ``exp(-t^2 / (2 sigma^2))`` at integer offsets
    ``t`` in ``[-(k-1)/2, (k-1)/2]``, normalised to sum 1; ``kernel_size`` (odd) is capped at
    ``2 min(H, W) - 1`` so the reflect padding stays inside the image.
    """
    b, c, hh, ww = x.shape
    k = min(kernel_size, 2 * min(hh, ww) - 1)  # reflect padding needs (k - 1) / 2 < H, W
    half = (k - 1) // 2
    t = torch.arange(-half, half + 1, dtype=x.dtype, device=x.device)
    s = torch.as_tensor(sigma, dtype=x.dtype, device=x.device).reshape(-1, 1).expand(b, 1)
    kern = torch.exp(-(t**2) / (2 * s**2))
    kern = (kern / kern.sum(1, keepdim=True)).repeat_interleave(c, 0)  # (B*C, k)
    y = F.pad(x.reshape(1, b * c, hh, ww), (half, half, half, half), mode="reflect")
    y = F.conv2d(y, kern.view(b * c, 1, 1, k), groups=b * c)
    y = F.conv2d(y, kern.view(b * c, 1, k, 1), groups=b * c)
    return y.view(b, c, hh, ww)


def color_jitter(x: torch.Tensor, *, brightness: float, contrast: float, saturation: float,
                 hue: float, generator: torch.Generator, p: float = 1.0) -> torch.Tensor:
    """torchvision ``ColorJitter`` per image (random factors and a random order of the four ops).

    Factors ``U(max(0, 1 - v), 1 + v)`` for brightness, contrast and saturation; hue shift
    ``U(-hue, hue)``; applied to each image with probability ``p`` (``RandomApply``).
    """
    n, dev = x.shape[0], x.device
    apply = _bernoulli(n, p, generator, dev)
    params = [
        (adjust_brightness, _uniform(n, max(0.0, 1 - brightness), 1 + brightness, generator, dev)),
        (adjust_contrast, _uniform(n, max(0.0, 1 - contrast), 1 + contrast, generator, dev)),
        (adjust_saturation, _uniform(n, max(0.0, 1 - saturation), 1 + saturation, generator, dev)),
        (adjust_hue, _uniform(n, -hue, hue, generator, dev)),
    ]
    order = torch.argsort(torch.rand(n, 4, generator=generator, device=dev), dim=1)  # (n, 4)
    out = x.clone()
    active = [j for j, v in enumerate((brightness, contrast, saturation, hue)) if v > 0]
    for pos in range(4):
        for j in active:
            idx = ((order[:, pos] == j) & apply).nonzero(as_tuple=True)[0]
            if idx.numel():
                fn, factor = params[j]
                out[idx] = fn(out[idx], factor[idx])
    return out
