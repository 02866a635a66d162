"""Write an ImageFolder tree of ImageNet-like JPEGs rendered from mitheory's ImageWorld.

Run:  python -m paper_repro.make_imagefolder OUT --images N --classes K [--val-images M]
          [--size 375x500] [--quality 90] [--grain 16] [--seed 0] [--workers W]
Writes: OUT/train/<kk>_<shape>/<shape>_<i>.JPEG, OUT/val/..., OUT/imagefolder.json,
        OUT/{train,val}_factors.npy (row i: the ImageWorld factors of file i)

Each image is an ImageWorld render at its native 64 px (class = the world's shape-class factor,
balanced: image i has class i mod K), upscaled (bicubic) to the long side, centre-cropped to
``size`` and given per-pixel Gaussian grain so that decoding costs what a photo's does: a
smooth upscale compresses to ~7 kB, far below a photo's entropy. At the defaults (375x500,
quality 90, grain 16) a file is ~84 kB, between sklearn's ``china.jpg`` re-encoded at the same
size and quality (65 kB) and ImageNet's train-set mean (~110 kB: 138 GB / 1.281 M files).
The crop keeps the middle 75% of the rows of a 500 px square, so an object's centre
(|pos_y| <= 0.4 of the half-width) is always inside the image; large objects near the top or
bottom are cut, as photos cut objects.
"""
from __future__ import annotations

import argparse
import io
import json
import multiprocessing as mp
import os
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from mitheory.generative import SHAPE_NAMES, ImageWorld
from mitheory.plotting import atomic_write_bytes, atomic_write_text

RENDER_SIZE = 64  # ImageWorld's largest native size
_CHUNK = 64  # images per worker task


def class_folder(k: int) -> str:
    """Folder name of class ``k``: sorted order equals the class index."""
    return f"{k:02d}_{SHAPE_NAMES[k]}"


def _parse_size(text: str) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"size must be HEIGHTxWIDTH such as 375x500, got {text!r}") from None
    if h < 8 or w < 8:
        raise ValueError(f"size must be at least 8x8 pixels, got {text!r}")
    return h, w


def _to_photo(img: np.ndarray, size: tuple[int, int], grain: float,
              rng: np.random.Generator) -> Image.Image:
    """A (64, 64, 3) uint8 render -> upscaled, centre-cropped, grained RGB image of ``size``."""
    h, w = size
    side = max(h, w)
    big = Image.fromarray(img).resize((side, side), Image.BICUBIC)
    top, left = (side - h) // 2, (side - w) // 2
    a = np.asarray(big.crop((left, top, left + w, top + h)), dtype=np.float32)  # (h, w, 3)
    if grain > 0:
        a = a + rng.normal(0.0, grain, a.shape).astype(np.float32)
    return Image.fromarray(np.clip(np.rint(a), 0, 255).astype(np.uint8))


def _write_chunk(task) -> int:
    """Render, encode and write one chunk; returns the bytes written. Each file is written to a
    temporary name and renamed, so an interrupted run leaves no truncated JPEG."""
    world_seed, factors, names, size, quality, grain, grain_seeds = task
    world = ImageWorld(image_size=RENDER_SIZE, seed=world_seed)
    imgs = (world.render(factors).permute(0, 2, 3, 1).numpy() * 255.0).round().astype(np.uint8)
    total = 0
    for img, path, gs in zip(imgs, names, grain_seeds):
        buf = io.BytesIO()
        _to_photo(img, size, grain, np.random.default_rng(gs)).save(buf, "JPEG", quality=quality)
        atomic_write_bytes(Path(path), buf.getvalue())
        total += buf.tell()
    return total


def write_imagefolder(out: str | os.PathLike, *, n_images: int, n_classes: int,
                      n_val: int | None = None, size: tuple[int, int] = (375, 500),
                      quality: int = 90, grain: float = 16.0, seed: int = 0,
                      workers: int = 1) -> dict:
    """Write ``out/train`` (``n_images`` files) and ``out/val`` (``n_val``, default
    ``max(n_images // 10, n_classes)``; 0 writes no val split) and return a summary dict
    (also saved as ``out/imagefolder.json``, written last).

    Raises ``ValueError`` for counts out of range (``n_classes`` in 1..10, at least one image
    per class in each written split), a quality outside 1..95, negative grain, and
    ``FileExistsError`` if ``out/train`` or ``out/val`` already exists.
    """
    for v, name in ((n_images, "n_images"), (n_classes, "n_classes"), (n_val, "n_val"),
                    (quality, "quality"), (workers, "workers"), (seed, "seed")):
        if not (isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                or (name == "n_val" and v is None)):
            raise TypeError(f"{name} must be an int, got {v!r}")
    if n_val is None:
        n_val = max(n_images // 10, n_classes)
    if not 1 <= n_classes <= len(SHAPE_NAMES):
        raise ValueError(f"n_classes must be in 1..{len(SHAPE_NAMES)} (ImageWorld's shape "
                         f"classes), got {n_classes}")
    if n_images < n_classes:
        raise ValueError(f"n_images must be >= n_classes = {n_classes} (one image per class), "
                         f"got {n_images}")
    if n_val != 0 and n_val < n_classes:
        raise ValueError(f"n_val must be 0 or >= n_classes = {n_classes}, got {n_val}")
    if not 1 <= quality <= 95:
        raise ValueError(f"quality must be in 1..95 (Pillow's useful range), got {quality}")
    if not (np.isfinite(grain) and grain >= 0):
        raise ValueError(f"grain must be a finite number >= 0, got {grain!r}")
    if workers < 1 or seed < 0:
        raise ValueError(f"workers must be >= 1 and seed >= 0, got {workers}, {seed}")
    size = _parse_size(size) if isinstance(size, str) else tuple(int(v) for v in size)
    _parse_size(f"{size[0]}x{size[1]}")
    out = Path(out)
    splits = [("train", n_images)] + ([("val", n_val)] if n_val else [])
    for split, _ in splits:
        if (out / split).exists():
            raise FileExistsError(f"{str(out / split)!r} already exists; pick a new OUT folder")
    ss_world, ss_train, ss_val = np.random.SeedSequence(seed).spawn(3)
    world = ImageWorld(image_size=RENDER_SIZE, seed=ss_world)
    tasks, t0 = [], time.perf_counter()
    for (split, n), ss in zip(splits, (ss_train, ss_val)):
        ss_factors, ss_grain = ss.spawn(2)
        factors = world.sample_factors(n, seed=ss_factors)
        factors[:, 0] = torch.arange(n) % n_classes  # balanced classes
        grain_seeds = ss_grain.spawn(n)
        for k in range(n_classes):
            (out / split / class_folder(k)).mkdir(parents=True)
        np.save(out / f"{split}_factors.npy", factors.numpy())  # row i: file ..._{i:08d}.JPEG
        names = [str(out / split / class_folder(i % n_classes)
                     / f"{SHAPE_NAMES[i % n_classes]}_{i:08d}.JPEG") for i in range(n)]
        for a in range(0, n, _CHUNK):
            b = min(n, a + _CHUNK)
            tasks.append((ss_world, factors[a:b], names[a:b], size, quality, grain,
                          grain_seeds[a:b]))
    if workers == 1:
        total = sum(map(_write_chunk, tasks))
    else:
        with mp.get_context("fork").Pool(workers) as pool:
            total = sum(pool.imap_unordered(_write_chunk, tasks))
    n_files = n_images + n_val
    summary = {"n_train": n_images, "n_val": n_val, "n_classes": n_classes,
               "size_hw": list(size), "quality": quality, "grain": grain, "seed": seed,
               "render_size": RENDER_SIZE, "classes": [class_folder(k) for k in range(n_classes)],
               "mean_file_kb": total / n_files / 1e3, "wall_s": time.perf_counter() - t0,
               "workers": workers}
    atomic_write_text(out / "imagefolder.json", json.dumps(summary, indent=1))
    return summary


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m paper_repro.make_imagefolder",
                                description=__doc__.split("\n")[0])
    p.add_argument("out", help="output folder (train/ and val/ must not exist yet)")
    p.add_argument("--images", type=int, required=True, help="number of train images")
    p.add_argument("--classes", type=int, required=True,
                   help=f"number of classes, 1..{len(SHAPE_NAMES)} (ImageWorld's shapes)")
    p.add_argument("--val-images", type=int, default=None,
                   help="number of val images (default max(images // 10, classes); 0: none)")
    p.add_argument("--size", default="375x500",
                   help="HEIGHTxWIDTH of every image (ImageNet's most common: 375x500)")
    p.add_argument("--quality", type=int, default=90, help="JPEG quality (ImageNet's ~90)")
    p.add_argument("--grain", type=float, default=16.0,
                   help="std of per-pixel Gaussian grain, grey levels (16: ~84 kB per file)")
    p.add_argument("--seed", type=int, default=0, help="seed of factors and grain")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                   help="processes rendering and encoding in parallel")
    a = p.parse_args(argv)
    try:
        s = write_imagefolder(a.out, n_images=a.images, n_classes=a.classes, n_val=a.val_images,
                              size=_parse_size(a.size), quality=a.quality, grain=a.grain,
                              seed=a.seed, workers=a.workers)
    except (ValueError, TypeError, FileExistsError) as exc:
        p.error(str(exc))
    print(json.dumps(s, indent=1))


if __name__ == "__main__":
    main()
