"""Two-view augmentation recipes (SimCLR, BYOL, VICReg) as batched pipelines of ``_augment`` ops.

Sources: SimCLR, Chen et al. 2020 Appendix A; BYOL, Grill et al. 2020 Table 6 (VICReg,
Bardes et al. 2022 Appendix C, uses the BYOL recipe); ``facebookresearch/vicreg``
``augmentations.py`` @ 7c44ca0.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from mitheory._validate import check_image_batch, check_int, check_option, check_probability
from mitheory.data import _augment as A


@dataclass(frozen=True)
class ViewRecipe:
    """Parameters of one view's random augmentation chain (applied in field order).

    crop_scale, crop_ratio : random-resized-crop area fraction and aspect-ratio ranges.
    flip_p : horizontal flip probability.
    jitter_p, brightness, contrast, saturation, hue : ``ColorJitter`` applied with ``jitter_p``.
    gray_p : probability of the ITU-R 601-2 grayscale.
    blur_p, blur_sigma, blur_kernel_frac : Gaussian blur probability, sigma range (pixels) and
        kernel size as a fraction of the output side (rounded to the nearest odd integer).
    solarize_p : solarisation probability (threshold 0.5).
    """

    crop_scale: tuple[float, float] = (0.08, 1.0)
    crop_ratio: tuple[float, float] = (3.0 / 4.0, 4.0 / 3.0)
    flip_p: float = 0.5
    jitter_p: float = 0.8
    brightness: float = 0.4
    contrast: float = 0.4
    saturation: float = 0.2
    hue: float = 0.1
    gray_p: float = 0.2
    blur_p: float = 0.0
    blur_sigma: tuple[float, float] = (0.1, 2.0)
    blur_kernel_frac: float = 0.1
    solarize_p: float = 0.0


# SimCLR: colour strength s = 1 (0.8 s, 0.8 s, 0.8 s, 0.2 s), blur p 0.5 on ImageNet, kernel 10%
# of the side (paper Appendix A; the same numbers in third-party ports, official TF code not read).
_SIMCLR = ViewRecipe(brightness=0.8, contrast=0.8, saturation=0.8, hue=0.2, blur_p=0.5)
# BYOL Table 6: jitter (0.4, 0.4, 0.2, 0.1) p 0.8, gray 0.2, blur 1.0 / 0.1, solarize 0.0 / 0.2,
# kernel 23 px at 224 (~10%). Jitter and gray verified in vicreg augmentations.py @ 7c44ca0, whose
# blur/solarize probabilities are arguments (defaults 0.5 / 0.5 there); the per-view values are
# the papers' (BYOL Table 6, VICReg Appendix C), not checked against the official TF BYOL code.
_BYOL_1 = ViewRecipe(blur_p=1.0, solarize_p=0.0)
_BYOL_2 = ViewRecipe(blur_p=0.1, solarize_p=0.2)
RECIPES: dict[str, tuple[ViewRecipe, ViewRecipe]] = {
    "simclr": (_SIMCLR, _SIMCLR),
    "byol": (_BYOL_1, _BYOL_2),
    "vicreg": (_BYOL_1, _BYOL_2),
}


def _float_images(x: torch.Tensor) -> torch.Tensor:
    """uint8 images divided by 255, then checked as a float (B, 3, H, W) batch."""
    if isinstance(x, torch.Tensor) and x.dtype == torch.uint8:
        x = x.float() / 255.0
    check_image_batch(x, "x")
    return x


def augment_view(x: torch.Tensor, recipe: ViewRecipe, size: int, *,
                 generator: torch.Generator) -> torch.Tensor:
    """One random view of every image of a batch.

    Parameters
    ----------
    x : torch.Tensor, shape (B, 3, H, W)
        Float images in [0, 1], or uint8 (divided by 255 here).
    recipe : ViewRecipe
    size : int
        Output side.
    generator : torch.Generator
        On ``x``'s device; every random parameter comes from it.

    Returns
    -------
    torch.Tensor, shape (B, 3, size, size), float in [0, 1]
    """
    x = _float_images(x)
    n, dev, r = x.shape[0], x.device, recipe
    boxes = A.sample_crop_boxes(n, x.shape[-2], x.shape[-1], scale=r.crop_scale,
                                ratio=r.crop_ratio, generator=generator, device=dev)
    return augment_after_crop(A.resized_crop(x, boxes, size), r, generator=generator)


def augment_after_crop(x: torch.Tensor, recipe: ViewRecipe, *,
                       generator: torch.Generator) -> torch.Tensor:
    """Every step of a view's recipe after its random resized crop, batched on ``x``'s device.

    Flip, colour jitter, grayscale, blur and solarize in ``recipe``'s order, for images that
    were already cropped (e.g. per image on CPU by a data loader's workers).
    ``augment_view(x, r, s, generator=g)`` equals this function applied to the crop that
    ``augment_view`` draws first from the same ``g``.

    Parameters
    ----------
    x : torch.Tensor, shape (B, 3, S, S)
        Cropped images, float or uint8 as in :func:`augment_view`; the blur kernel is
        ``blur_kernel_frac`` of the width ``S``.
    recipe : ViewRecipe
        Its ``crop_*`` fields are not used.
    generator : torch.Generator
        As in :func:`augment_view`.

    Returns
    -------
    torch.Tensor, shape (B, 3, S, S), float in [0, 1], like :func:`augment_view`.
    """
    x = _float_images(x)
    n, dev, r, size = x.shape[0], x.device, recipe, x.shape[-1]
    y = A.hflip(x, A._bernoulli(n, r.flip_p, generator, dev))
    if r.jitter_p > 0:
        y = A.color_jitter(y, brightness=r.brightness, contrast=r.contrast,
                           saturation=r.saturation, hue=r.hue, generator=generator, p=r.jitter_p)
    if r.gray_p > 0:
        y = A.grayscale(y, A._bernoulli(n, r.gray_p, generator, dev))
    if r.blur_p > 0:
        k = int(round(r.blur_kernel_frac * size)) // 2 * 2 + 1  # nearest odd, at least 1
        sigma = A._uniform(n, *r.blur_sigma, generator, dev)
        blur = A._bernoulli(n, r.blur_p, generator, dev).view(-1, 1, 1, 1)
        y = torch.where(blur, A.gaussian_blur(y, sigma, k), y)
    if r.solarize_p > 0:
        y = A.solarize(y, A._bernoulli(n, r.solarize_p, generator, dev))
    return y


class TwoViewAugment:
    """A named two-view recipe at a given output size: ``(view_1, view_2) = aug(x, generator)``.

    Parameters
    ----------
    recipe : {"simclr", "byol", "vicreg"} or (ViewRecipe, ViewRecipe)
    size : int
        Output side (32 for CIFAR, 224 for ImageNet).
    blur : bool or None
        ``None`` keeps the recipe's blur; ``False`` switches it off (SimCLR drops blur on
        CIFAR-10, Appendix B.9 of Chen et al. 2020).

    Raises
    ------
    ValueError
        For an unknown recipe name or a probability outside [0, 1].
    """

    def __init__(self, recipe="simclr", size: int = 32, *, blur: bool | None = None) -> None:
        if isinstance(recipe, str):
            check_option(recipe, "recipe", tuple(RECIPES))
            recipe = RECIPES[recipe]
        self.views = tuple(recipe)
        if len(self.views) != 2 or not all(isinstance(v, ViewRecipe) for v in self.views):
            raise TypeError(f"recipe must be a name or two ViewRecipe, got {recipe!r}")
        if blur is False:
            self.views = tuple(replace(v, blur_p=0.0) for v in self.views)
        for i, v in enumerate(self.views):
            for f in ("flip_p", "jitter_p", "gray_p", "blur_p", "solarize_p"):
                check_probability(getattr(v, f), f"recipe[{i}].{f}")
        self.size = check_int(size, "size", minimum=1)

    def __call__(self, x: torch.Tensor, generator: torch.Generator):
        return tuple(augment_view(x, v, self.size, generator=generator) for v in self.views)
