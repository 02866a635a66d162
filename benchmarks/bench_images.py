"""Benchmark: image-world renderer, batched two-view augmentation vs Pillow, ResNet-18 training.

1. Renderer images/s at 32x32 on one thread (``torch.set_num_threads(1)``).
2. The BYOL view-1 chain (random resized crop, flip, colour jitter, grayscale, blur) applied
   batched in torch vs the same ops per image in Pillow (crop+resize, transpose, ImageEnhance x3,
   HSV hue shift, convert("L"), GaussianBlur), both on one thread in the same run; the ratio is
   printed.
3. Two-view ResNet-18 (CIFAR stem, 32x32) forward + backward + SGD step, images/s on CPU.

Run:    python -m benchmarks.bench_images [--n-render 20000] [--n-aug 2000] [--batch 32]
Writes: benchmarks/results_images.txt (and prints the same lines)
"""
from __future__ import annotations

import argparse
import platform
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageEnhance, ImageFilter

from mitheory.data import TwoViewAugment
from benchmarks._timing import best_time
from mitheory.data._views import RECIPES, augment_view
from mitheory.generative import ImageWorld
from mitheory.models import make_projector, resnet18


def pillow_view(img: Image.Image, rng: np.random.Generator, size: int) -> Image.Image:
    """The BYOL view-1 chain per image in Pillow (the loop the batched version replaces)."""
    w, h = img.size
    s, r = rng.uniform(0.08, 1.0), np.exp(rng.uniform(np.log(3 / 4), np.log(4 / 3)))
    cw = int(min(w, round(np.sqrt(s * w * h * r))))
    ch = int(min(h, round(np.sqrt(s * w * h / r))))
    top, left = rng.integers(0, h - ch + 1), rng.integers(0, w - cw + 1)
    img = img.resize((size, size), Image.BILINEAR, box=(left, top, left + cw, top + ch))
    if rng.uniform() < 0.5:
        img = img.transpose(Image.FLIP_LEFT_RIGHT)
    if rng.uniform() < 0.8:
        img = ImageEnhance.Brightness(img).enhance(rng.uniform(0.6, 1.4))
        img = ImageEnhance.Contrast(img).enhance(rng.uniform(0.6, 1.4))
        img = ImageEnhance.Color(img).enhance(rng.uniform(0.8, 1.2))
        hh, ss, vv = img.convert("HSV").split()
        shift = int(rng.uniform(-0.1, 0.1) * 255)
        hh = hh.point(lambda v: (v + shift) % 256)
        img = Image.merge("HSV", (hh, ss, vv)).convert("RGB")
    if rng.uniform() < 0.2:
        img = img.convert("L").convert("RGB")
    return img.filter(ImageFilter.GaussianBlur(rng.uniform(0.1, 2.0)))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n-render", type=int, default=20_000)
    p.add_argument("--n-aug", type=int, default=2_000)
    p.add_argument("--batch", type=int, default=32, help="ResNet-18 batch (per view)")
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--out", default="benchmarks/results_images.txt")
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    lines = [f"# bench_images  torch {torch.__version__}"
             f"  {platform.processor() or platform.machine()}"
             f"  threads={torch.get_num_threads()}"]

    world = ImageWorld(seed=0)
    f = world.sample_factors(a.n_render, seed=1)
    world.render(f[:100])
    t = best_time(lambda: world.render(f))[0]
    lines.append(f"renderer 32x32, 1 thread: {a.n_render / t:,.0f} images/s "
                 f"({a.n_render} images in {t:.3f} s)")
    vb = world.sample_pairs(a.n_aug, seed=2)
    x = vb.x
    g = torch.Generator().manual_seed(0)
    recipe = RECIPES["byol"][0]
    augment_view(x[:64], recipe, 32, generator=g)
    t_torch = best_time(lambda: augment_view(x, recipe, 32, generator=g))[0]
    pils = [Image.fromarray((im.permute(1, 2, 0).numpy() * 255).astype(np.uint8)) for im in x]
    rng = np.random.default_rng(0)
    t_pil = best_time(lambda: [pillow_view(im, rng, 32) for im in pils], repeats=1)[0]
    lines.append(f"augmentation (BYOL view 1, 32x32), 1 thread: torch batched "
                 f"{a.n_aug / t_torch:,.0f} images/s, Pillow per image {a.n_aug / t_pil:,.0f} "
                 f"images/s, ratio torch/Pillow = {t_pil / t_torch:.2f}x")

    torch.manual_seed(0)
    enc, proj = resnet18(stem="cifar"), make_projector("512-128", in_dim=512)
    opt = torch.optim.SGD([*enc.parameters(), *proj.parameters()], lr=0.01, momentum=0.9)
    aug = TwoViewAugment("byol", 32)
    xb = x[: a.batch]

    def step():
        v1, v2 = aug(xb, g)
        z = proj(enc(torch.cat([v1, v2])))
        z1, z2 = z.chunk(2)
        loss = ((z1 - z2) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()

    step()
    t = best_time(lambda: [step() for _ in range(a.steps)], repeats=1)[0] / a.steps
    lines.append(f"ResNet-18 CIFAR stem, two views of {a.batch} at 32x32, fwd+bwd+SGD "
                 f"(augmentation included), 1 thread: {a.batch / t:,.1f} images/s "
                 f"({2 * a.batch / t:,.1f} views/s)")
    text = "\n".join(lines) + "\n"
    print(text, end="")
    Path(a.out).write_text(text)


if __name__ == "__main__":
    main()
