"""Benchmark: JPEG decode backends and the pretraining loader's CPU side, on ImageNet-sized files.

1. Decode images/s of each ``paper_repro.decode`` backend on generated 375x500 quality-90 JPEGs
   (``paper_repro.make_imagefolder``), at full size and reduced by 1/2 and 1/4 in the DCT
   domain, one thread, and the ratio to Pillow's full decode measured in the same run; the
   same for two real photos (sklearn's china.jpg and flower.jpg re-encoded at 375x500, q90) as
   a check that the generated files cost what photos cost.
2. ``make_train_loader``'s CPU side (read, header, decode, two random resized crops to 224 px,
   uint8; ``TwoViewLoader.cpu_batches``) in images/s for 0 (in-process), 1 and 2 worker
   processes, and the device-side rest of the recipe on this CPU for reference (the GPU runs
   it in the real setting), plus the per-core rate extrapolated to the 3,000 images/s one H200
   needs.

Run:    python -m benchmarks.bench_jpeg [--n-images 256] [--batch 64] [--image-size 224]
Writes: benchmarks/results_jpeg.txt (and prints the same lines)
"""
from __future__ import annotations

import argparse
import io
import math
import os
import platform
import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from benchmarks._timing import best_time
from paper_repro.data import make_train_loader
from paper_repro.decode import available_backends, decode_jpeg
from paper_repro.make_imagefolder import write_imagefolder

TARGET_IMG_S = 3000  # images/s to feed one H200 (the paper_repro throughput target)


def _decode_all(datas, backend, min_size):
    return [decode_jpeg(d, backend=backend, min_size=min_size) for d in datas]


def _photo_bytes(size_hw) -> list[bytes]:
    from sklearn.datasets import load_sample_images

    out = []
    for a in load_sample_images().images:
        buf = io.BytesIO()
        Image.fromarray(a).resize(size_hw[::-1], Image.BICUBIC).save(buf, "JPEG", quality=90)
        out.append(buf.getvalue())
    return out


def _decode_lines(datas, label, size_hw, repeats) -> list[str]:
    h, w = size_hw
    lines, ref = [], None
    kb = np.mean([len(d) for d in datas]) / 1e3
    for backend in available_backends()[::-1]:  # pillow first: the reference
        for name, ms in (("full", None), ("1/2", (h // 2, w // 2)), ("1/4", (h // 4, w // 4))):
            t, out = best_time(lambda: _decode_all(datas, backend, ms), repeats)
            rate = len(datas) / t
            ref = rate if ref is None else ref
            lines.append(f"decode {label} ({len(datas)} files, {kb:.0f} kB mean), {backend:10s} "
                         f"{name:4s} -> {out[0].shape[1]}x{out[0].shape[0]}: {rate:7,.0f} img/s "
                         f"({1e3 / rate:.2f} ms), {rate / ref:.2f}x Pillow full")
    return lines


def _loader_rate(folder, batch, size, workers, reduced, repeats):
    loader = make_train_loader(folder, batch_size=batch, image_size=size, workers=workers,
                               reduced_decode=reduced, seed=0)
    n = len(loader) * batch

    def epoch():
        for _ in loader.cpu_batches():
            pass

    epoch()  # warm-up: starts the persistent workers, fills the page cache
    t, _ = best_time(epoch, repeats)
    return n / t, loader


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n-images", type=int, default=256)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--image-size", type=int, default=224)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--out", default="benchmarks/results_jpeg.txt")
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    size_hw = (375, 500)
    lines = [f"# bench_jpeg  torch {torch.__version__}  {platform.machine()}  "
             f"{os.cpu_count()} cores, load average at start {os.getloadavg()[0]:.1f} "
             f"(shared machine: other jobs ran alongside)"]
    with tempfile.TemporaryDirectory() as tmp:
        info = write_imagefolder(tmp, n_images=a.n_images, n_classes=10, n_val=0, size=size_hw,
                                 workers=1)
        lines.append(f"make_imagefolder: {a.n_images} files 375x500 q90 grain 16, "
                     f"{info['mean_file_kb']:.0f} kB mean, {info['wall_s']:.1f} s on 1 process "
                     f"({a.n_images / info['wall_s']:.0f} files/s)")
        datas = [f.read_bytes() for f in sorted(Path(tmp, "train").rglob("*.JPEG"))]
        lines += _decode_lines(datas, "generated", size_hw, a.repeats)
        lines += _decode_lines(_photo_bytes(size_hw) * 32, "photos   ", size_hw, a.repeats)
        rates = {}
        for workers in (0, 1, 2):
            rates[workers], loader = _loader_rate(tmp, a.batch, a.image_size, workers, True,
                                                  a.repeats)
            lines.append(f"loader CPU side, two {a.image_size} px views, batch {a.batch}, "
                         f"workers={workers}: {rates[workers]:6,.0f} img/s")
            del loader
        off, _ = _loader_rate(tmp, a.batch, a.image_size, 0, False, a.repeats)
        lines.append(f"loader CPU side, workers=0, reduced_decode=False: {off:6,.0f} img/s "
                     f"(at {a.image_size} px on 375-row files the 1/2 factor never applies)")
        loader = make_train_loader(tmp, batch_size=a.batch, image_size=a.image_size, workers=0)
        batch = next(iter(loader.cpu_batches()))
        t, _ = best_time(lambda: loader._finish(batch, loader._batch_generator(0)), a.repeats)
        lines.append(f"device-side steps (vicreg flip/jitter/gray/blur/solarize + normalise, two "
                     f"views) on this CPU, 1 thread: {a.batch / t:6,.0f} img/s (runs on the GPU "
                     f"in the real setting)")
    per_core = rates[0]
    eff = rates[2] / (2 * rates[1])
    cores = math.ceil(TARGET_IMG_S / per_core)
    lines += [
        f"per-core rate (in-process, one core): {per_core:,.0f} img/s; 2 workers / (2 x 1 "
        f"worker) = {eff:.2f} scaling on this 2-core machine (the main process shares them)",
        f"EXTRAPOLATION (not measured): {TARGET_IMG_S:,} img/s for one H200 needs "
        f"{TARGET_IMG_S} / {per_core:,.0f} = {cores} cores at the per-core rate above, plus one "
        f"for the main process; 16 cores at that rate give ~{16 * per_core:,.0f} img/s "
        f"(~{15 * per_core:,.0f} with 15 workers), assuming linear scaling and cores as fast "
        f"as these",
    ]
    text = "\n".join(lines) + "\n"
    print(text, end="")
    Path(a.out).write_text(text)


if __name__ == "__main__":
    main()
