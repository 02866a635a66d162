"""Compute estimate of every paper_repro row: GPU-hours and wall time of its full pretraining.

Run:    python -m paper_repro.estimate [--gpus 8] [--images-per-s X | --benchmark FILE.json]
            [--scaling-efficiency E] [--out FILE.json]

For each ``configs/<row>.toml`` (``tiny`` aside): GPU-hours = epochs x 1,281,167 ImageNet-1k
train images / (images/s per GPU x 3600); wall hours on G GPUs = GPU-hours / (G x E), E the
scaling efficiency (1 on one GPU). The images/s per GPU are, in order of preference:

- ``--images-per-s X``: given on the command line, used for every row;
- ``--benchmark FILE``: a ``paper_repro.benchmark`` JSON; its sustained real-loader training
  rate (``bottleneck.real_images_per_s``), else its synthetic rate (the compute ceiling, no
  data loading). Measured on the benchmark's config only: for the other rows it is an
  assumption (same backbone; projector and heads differ), and rows on another backbone or
  image size get none;
- otherwise ``ASSUMED_IMAGES_PER_S``: published rates, NOT measured here and not on an H200,
  each with its source. Every row says which of the three it used.

Two-view pretraining counts an image once per step (both views), as ``pretrain``'s
``images_per_s`` does. The paper's top-1 and epochs (the config's ``[paper]`` table) are printed
beside each row; no row's accuracy is claimed here.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from mitheory._validate import check_int, check_positive
from mitheory.plotting import atomic_write_text
from paper_repro.config import Config, load_config

IMAGENET_TRAIN_IMAGES = 1_281_167  # ImageNet-1k (ILSVRC-2012) train split
CONFIGS = Path(__file__).resolve().parent / "configs"
TOY_CONFIGS = ("tiny",)  # overlays, not table rows
# two-view images/s per GPU, by backbone: published single-view training rates, halved (two
# forward-backward passes per image); /work/shared/reference/imagescale_facts.md section B
ASSUMED_IMAGES_PER_S: dict[str, tuple[float, str]] = {
    "resnet50": (1235.0, "ASSUMED, not measured: NVIDIA DeepLearningExamples ResNet-50 v1.5, "
                         "1x A100 80GB AMP + DALI, 2470 img/s single view at 224 px, halved for "
                         "two views (imagescale_facts.md B.1, B.6); an A100, not an H200"),
    "resnet18": (4900.0, "ASSUMED, not measured: FFCV rn18, 1x A100, ~9.8k img/s single view at "
                         "160-192 px, halved for two views (imagescale_facts.md B.2); lower "
                         "resolution than 224 px"),
}
# 8x A100 AMP 16,621 img/s vs 8 x 2,470 on one (imagescale_facts.md B.1): 0.84
ASSUMED_SCALING_EFFICIENCY = 16621 / (8 * 2470)


def gpu_hours(epochs: float, images_per_s: float, n_images: int = IMAGENET_TRAIN_IMAGES) -> float:
    """``epochs * n_images / (images_per_s * 3600)``: GPU-hours at ``images_per_s`` per GPU."""
    check_positive(epochs, "epochs")
    check_positive(images_per_s, "images_per_s")
    check_int(n_images, "n_images", minimum=1)
    return epochs * n_images / (images_per_s * 3600.0)


def wall_hours(gpu_h: float, gpus: int, efficiency: float) -> float:
    """``gpu_h / (gpus * efficiency)`` on ``gpus`` GPUs (``efficiency`` is ignored for one)."""
    check_positive(gpu_h, "gpu_h")
    gpus = check_int(gpus, "gpus", minimum=1)
    check_positive(efficiency, "efficiency")
    if efficiency > 1:
        raise ValueError(f"efficiency must be in (0, 1], got {efficiency}")
    return gpu_h / (gpus * (1.0 if gpus == 1 else efficiency))


def benchmark_rate(path: str | Path) -> dict[str, Any]:
    """The images/s of a ``paper_repro.benchmark`` JSON and the setting it was measured in."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"benchmark must be a JSON file written by paper_repro.benchmark, got "
                         f"{str(path)!r} (not found)")
    try:
        rec = json.loads(path.read_text())
        syn = float(rec["synthetic"]["images_per_s"])
        setting = {k: rec[k] for k in ("method", "arch", "width", "image_size", "batch_size",
                                       "device_name", "precision")}
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"benchmark {str(path)!r} is not a paper_repro.benchmark JSON "
                         f"({type(exc).__name__}: {exc})") from exc
    real = (rec.get("bottleneck") or {}).get("real_images_per_s")
    rate, kind = (float(real), "real loader") if real else (syn, "synthetic data, no loading")
    if not (math.isfinite(rate) and rate > 0):
        raise ValueError(f"benchmark {str(path)!r} has images/s {rate!r}; need a positive rate")
    return {"images_per_s": rate, "kind": kind, **setting}


def _row_rate(cfg: Config, images_per_s: float | None, bench: dict[str, Any] | None):
    m = cfg.model
    if images_per_s is not None:
        return images_per_s, "given on the command line (--images-per-s)"
    if bench is not None:
        where = (f"{bench['device_name']}, {bench['method']} {bench['arch']}, "
                 f"{bench['image_size']} px, batch {bench['batch_size']}, {bench['kind']}")
        if (bench["arch"], bench["width"], bench["image_size"]) != (m.arch, m.width,
                                                                      cfg.data.image_size):
            return None, f"no rate: the benchmark ({where}) measured another backbone or size"
        if bench["method"] == m.method:
            return bench["images_per_s"], f"measured by paper_repro.benchmark ({where})"
        return bench["images_per_s"], (f"ASSUMED from the {bench['method']} measurement "
                                       f"({where}); this row's heads differ")
    if m.arch in ASSUMED_IMAGES_PER_S and m.width == 64:
        return ASSUMED_IMAGES_PER_S[m.arch]
    return None, f"no published rate for {m.arch} width {m.width}: pass --images-per-s"


def estimate_rows(*, gpus: int = 8, images_per_s: float | None = None,
                  benchmark: str | Path | None = None,
                  efficiency: float = ASSUMED_SCALING_EFFICIENCY,
                  configs: str | Path = CONFIGS) -> list[dict[str, Any]]:
    """One record per row config of ``configs``: epochs, images, rate and its source,
    GPU-hours, wall hours on ``gpus`` GPUs, the paper's number (see the module doc)."""
    gpus = check_int(gpus, "gpus", minimum=1)
    if images_per_s is not None and benchmark is not None:
        raise ValueError("give images_per_s or benchmark, not both")
    if images_per_s is not None:
        check_positive(images_per_s, "images_per_s")
    bench = benchmark_rate(benchmark) if benchmark is not None else None
    wall_hours(1.0, 2, efficiency)  # validates efficiency
    paths = sorted(p for p in Path(configs).glob("*.toml") if p.stem not in TOY_CONFIGS)
    if not paths:
        raise ValueError(f"configs must be a folder of row .toml files, got {str(configs)!r}")
    rows = []
    for path in paths:
        cfg = load_config(path)
        rate, source = _row_rate(cfg, images_per_s, bench)
        epochs = cfg.optim.epochs
        gh = gpu_hours(epochs, rate) if rate else None
        p = cfg.paper
        rows.append({"row": path.stem, "method": cfg.model.method, "arch": cfg.model.arch,
                     "epochs": epochs, "images": IMAGENET_TRAIN_IMAGES,
                     "images_per_s_per_gpu": rate, "rate_source": source, "gpu_hours": gh,
                     "gpus": gpus, "scaling_efficiency": 1.0 if gpus == 1 else efficiency,
                     "wall_hours": wall_hours(gh, gpus, efficiency) if gh else None,
                     "paper_top1": p.top1 or None, "paper_epochs": p.epochs or None,
                     "paper_source": p.source})
    return rows


def format_table(rows: list[dict[str, Any]]) -> str:
    """Markdown table of :func:`estimate_rows`, then the rate sources, numbered."""
    g = rows[0]["gpus"]
    eff = rows[0]["scaling_efficiency"]
    head = (f"| row | method | epochs | images | img/s per GPU | GPU-hours | wall on {g} GPU"
            f"{'s' if g > 1 else ''} (eff. {eff:.2f}) | paper top-1 (epochs) |\n"
            "|---|---|---|---|---|---|---|---|\n")
    sources: list[str] = []
    lines = []
    for r in rows:
        if r["rate_source"] not in sources:
            sources.append(r["rate_source"])
        ref = f"[{sources.index(r['rate_source']) + 1}]"
        rate = f"{r['images_per_s_per_gpu']:,.0f} {ref}" if r["images_per_s_per_gpu"] else \
            f"n/a {ref}"
        gh = f"{r['gpu_hours']:,.1f}" if r["gpu_hours"] else "n/a"
        wall = _duration(r["wall_hours"]) if r["wall_hours"] else "n/a"
        paper = (f"{r['paper_top1']} ({r['paper_epochs'] or '?'} ep)" if r["paper_top1"]
                 else "none")
        lines.append(f"| {r['row']} | {r['method']} | {r['epochs']} | {r['images']:,} | {rate} "
                     f"| {gh} | {wall} | {paper} |")
    notes = "\n".join(f"[{i + 1}] {s}" for i, s in enumerate(sources))
    said = ("ASSUMED (NVIDIA ResNet-50 AMP, 8x A100 vs 1x: 16,621 / (8 x 2,470), "
            "imagescale_facts.md B.1)" if eff == ASSUMED_SCALING_EFFICIENCY
            else "given on the command line")
    eff_note = "" if g == 1 else f"\nscaling efficiency {eff:.3f}: {said}"
    return head + "\n".join(lines) + "\n\n" + notes + eff_note


def _duration(hours: float) -> str:
    return f"{hours:,.1f} h" if hours < 48 else f"{hours:,.1f} h ({hours / 24:,.1f} d)"


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--gpus", type=int, default=8, help="GPUs of the run (wall time)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--images-per-s", type=float, default=None,
                     help="two-view images/s per GPU, for every row")
    src.add_argument("--benchmark", default=None, help="a paper_repro.benchmark JSON")
    p.add_argument("--scaling-efficiency", type=float, default=ASSUMED_SCALING_EFFICIENCY,
                   help="multi-GPU efficiency (default: NVIDIA's 8x A100 ResNet-50, 0.84)")
    p.add_argument("--out", default=None, help="JSON file to write")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    rows = estimate_rows(gpus=args.gpus, images_per_s=args.images_per_s,
                         benchmark=args.benchmark, efficiency=args.scaling_efficiency)
    print(format_table(rows))
    if args.out:
        atomic_write_text(Path(args.out), json.dumps(rows, indent=1))
    return rows


if __name__ == "__main__":
    main()
