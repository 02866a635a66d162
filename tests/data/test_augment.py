"""Batched augmentations pinned to hand computations and to Pillow on fixed parameters."""
import numpy as np
import pytest
import torch
from PIL import Image, ImageEnhance, ImageOps

from mitheory.data import (
    TwoViewAugment,
    adjust_brightness,
    adjust_contrast,
    adjust_hue,
    adjust_saturation,
    color_jitter,
    gaussian_blur,
    grayscale,
    hflip,
    resized_crop,
    sample_crop_boxes,
    solarize,
)


@pytest.fixture(scope="module")
def photo():
    """A smooth random uint8 RGB image (Pillow) and the same as a float (1, 3, H, W) tensor."""
    rng = np.random.default_rng(0)
    small = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    pil = Image.fromarray(small).resize((32, 24), Image.BILINEAR)
    return pil, torch.from_numpy(np.array(pil)).permute(2, 0, 1)[None].float() / 255.0


def _to_float(pil):
    return torch.from_numpy(np.asarray(pil, dtype=np.float32) / 255.0).permute(2, 0, 1)[None]


def test_hue_rotation_of_pure_colours():
    red = torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1)
    assert torch.allclose(adjust_hue(red, 1 / 3), torch.tensor([0.0, 1.0, 0.0]).view(1, 3, 1, 1),
                          atol=1e-6)  # float32 rounding of 6 h
    assert torch.allclose(adjust_hue(red, -1 / 3), torch.tensor([0.0, 0.0, 1.0]).view(1, 3, 1, 1),
                          atol=1e-6)
    orange = torch.tensor([1.0, 0.5, 0.0]).view(1, 3, 1, 1)  # hue 1/12; +1/2 -> 7/12 (azure)
    assert torch.allclose(adjust_hue(orange, 0.5), torch.tensor([0.0, 0.5, 1.0]).view(1, 3, 1, 1),
                          atol=1e-6)
    grey = torch.full((1, 3, 2, 2), 0.3)
    assert torch.allclose(adjust_hue(grey, 0.2), grey)


def test_grayscale_matches_pillow_L(photo):
    pil, x = photo
    ref = torch.from_numpy(np.asarray(pil.convert("L"), dtype=np.float32) / 255.0)
    # Pillow rounds L to an integer grey level: at most half a level (0.5/255) off
    assert float((grayscale(x)[0, 0] - ref).abs().max()) <= 0.5 / 255 + 1e-6
    assert torch.equal(grayscale(x)[0, 0], grayscale(x)[0, 2])


@pytest.mark.parametrize("factor", [0.3, 1.7])
def test_brightness_contrast_saturation_match_pillow(photo, factor):
    pil, x = photo
    ops = [(adjust_brightness, ImageEnhance.Brightness), (adjust_saturation, ImageEnhance.Color)]
    for ours, theirs in ops:
        ref = _to_float(theirs(pil).enhance(factor))
        # Pillow works in uint8 and rounds the blend (and its grey level): within 1.5 levels
        assert float((ours(x, factor) - ref).abs().max()) <= 1.5 / 255
    # Pillow's contrast mean is the L histogram mean rounded to an integer level: a grey-level
    # offset of up to 0.5 scaled by |1 - factor| adds to the 1.5 rounding levels above
    ref = _to_float(ImageEnhance.Contrast(pil).enhance(factor))
    assert (float((adjust_contrast(x, factor) - ref).abs().max())
            <= (1.5 + 0.5 * abs(1 - factor)) / 255)


def test_solarize_matches_pillow(photo):
    pil, x = photo
    ref = _to_float(ImageOps.solarize(pil, threshold=128))
    assert torch.allclose(solarize(x, threshold=128 / 255), ref, atol=1e-6)  # exact up to float32
    out = solarize(torch.tensor([0.49, 0.5, 0.9]).view(1, 3, 1, 1)).flatten()
    assert torch.allclose(out, torch.tensor([0.49, 0.5, 0.1]), atol=1e-7)  # float32 of 1 - 0.9


def test_crop_box_by_hand():
    x = torch.arange(2 * 3 * 24 * 32, dtype=torch.float32).view(2, 3, 24, 32)
    boxes = torch.tensor([[4.0, 8.0, 16.0, 16.0], [0.0, 0.0, 24.0, 32.0]])
    out = resized_crop(x, boxes, (16, 16))
    assert torch.allclose(out[0], x[0, :, 4:20, 8:24], atol=1e-3)  # same-size box: the slice
    # 2x down: pixel (i, j) samples input (2i + 0.5, 2j + 0.5) -> the mean of a 2x2 block
    down = resized_crop(x[:1], torch.tensor([[4.0, 8.0, 16.0, 16.0]]), 8)
    ref = x[0, :, 4:20, 8:24].reshape(3, 8, 2, 8, 2).mean((2, 4))
    assert torch.allclose(down[0], ref, atol=1e-2)  # float32 interpolation weights on values ~2e3
    g = torch.Generator().manual_seed(0)
    b = sample_crop_boxes(5000, 24, 32, scale=(0.2, 0.6), ratio=(0.75, 1.333), generator=g)
    top, left, h, w = b.unbind(1)
    assert bool(((top >= 0) & (left >= 0) & (top + h <= 24) & (left + w <= 32)).all())
    frac = h * w / (24 * 32)
    # rounding w and h to integers moves the area by at most (w + h + 1) / 2 pixels
    slack = (w + h + 1) / 2 / (24 * 32)
    assert bool(((frac >= 0.2 - slack) & (frac <= 0.6 + slack)).all())
    assert float(frac.std()) > 0.05  # per-image boxes, not one box for the batch


def test_flip_blur_and_jitter_per_image():
    x = torch.rand(4, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    f = hflip(x, torch.tensor([True, False, True, False]))
    assert torch.equal(f[0], x[0].flip(-1)) and torch.equal(f[1], x[1])
    const = torch.full((1, 3, 9, 9), 0.4)
    assert torch.allclose(gaussian_blur(const, 1.5, 5), const, atol=1e-6)  # weights sum to 1
    delta = torch.zeros(1, 1, 9, 9)
    delta[0, 0, 4, 4] = 1.0
    k = gaussian_blur(delta.expand(1, 3, 9, 9).contiguous(), torch.tensor([1.0]), 5)[0, 0, 4]
    w = torch.exp(-torch.arange(-2.0, 3.0) ** 2 / 2)
    w = w / w.sum()
    assert torch.allclose(k[2:7], w * w[2], atol=1e-6)  # separable: row of the outer product
    g = torch.Generator().manual_seed(0)
    y = color_jitter(x, brightness=0.4, contrast=0.4, saturation=0.2, hue=0.1, generator=g)
    assert y.shape == x.shape and float(y.min()) >= 0 and float(y.max()) <= 1
    assert torch.equal(color_jitter(x, brightness=0.4, contrast=0.4, saturation=0.2, hue=0.1,
                                    generator=g, p=0.0), x)


@pytest.mark.parametrize("name", ["simclr", "byol", "vicreg"])
def test_two_view_recipes_deterministic(name):
    x = torch.rand(6, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    aug = TwoViewAugment(name, 32)
    a1, b1 = aug(x, torch.Generator().manual_seed(5))
    a2, b2 = aug(x, torch.Generator().manual_seed(5))
    assert torch.equal(a1, a2) and torch.equal(b1, b2) and not torch.equal(a1, b1)
    assert a1.shape == (6, 3, 32, 32) and float(a1.min()) >= 0 and float(a1.max()) <= 1
    u8 = (x * 255).to(torch.uint8)
    assert aug(u8, torch.Generator().manual_seed(5))[0].dtype == torch.float32
    with pytest.raises(ValueError, match="recipe"):
        TwoViewAugment("moco", 32)


def test_augment_after_crop_applies_each_step_by_hand():
    from mitheory.data import ViewRecipe, augment_after_crop

    x = torch.rand(3, 3, 12, 12, generator=torch.Generator().manual_seed(3))
    off = dict(flip_p=0.0, jitter_p=0.0, gray_p=0.0, blur_p=0.0, solarize_p=0.0,
               crop_scale=(0.08, 0.1))  # crop fields are ignored: the output keeps 12 x 12
    g = torch.Generator().manual_seed(0)
    assert torch.equal(augment_after_crop(x, ViewRecipe(**off), generator=g), x)
    flip = ViewRecipe(**{**off, "flip_p": 1.0})
    assert torch.equal(augment_after_crop(x, flip, generator=g), x.flip(-1))
    steps = ViewRecipe(**{**off, "gray_p": 1.0, "solarize_p": 1.0})
    assert torch.equal(augment_after_crop(x, steps, generator=g), solarize(grayscale(x)))
    u8 = (x * 255).round().to(torch.uint8)
    assert torch.equal(augment_after_crop(u8, flip, generator=g), u8.flip(-1).float() / 255.0)
