"""Pretraining throughput: images/s of the two-view training step on synthetic and on real data,
the real loader alone, and the fraction of the device's measured matmul rate that the step uses.

Run:    python -m paper_repro.benchmark [--config paper_repro/configs/vicreg.toml]
            [--overlay FILE] [--data ROOT] [--steps 50] [--warmup 10] [--batch-size 256]
            [--workers W] [--device auto] [--matmul-size N] [--out FILE.json]
            [--section.key=value ...]
Writes: the table on stdout and, with ``--out``, every number as JSON.

The step is :func:`paper_repro.pretrain.train_step` on the model of
:func:`paper_repro.pretrain.prepare_model`: the code that pretraining runs, not a copy. Phases,
in one process on one device, each timed after its warm-up steps and with the device
synchronised after every step (as the step itself does when it reads the loss):

1. the dense matmul rate (``size``^3, 2 size^3 FLOPs each) in the step's compute dtype (bf16
   when ``run.precision = "bf16"``), the reference "peak" that the step is compared with;
2. training on ``paper_repro.data.synthetic_loader`` (tensors made on the device): the compute
   ceiling; its first step runs under :class:`FlopCounter` (FLOPs of every convolution and
   linear layer, both views, backbone and projector, forward and backward);
3. with ``--data``: training on the real loader (``paper_repro.pretrain.default_train_loader``:
   JPEG workers, crops, the batched augmentations on the device), after only
   ``REAL_WARMUP`` steps, since the model is already warm and a longer warm-up would let the
   workers fill their prefetch queues and hide a slow loader;
4. with ``--data``: the real loader alone (no model), the whole loader and its CPU side
   (``cpu_batches``), from a fresh iterator.

The loader is the bottleneck when its rate alone is below the synthetic training rate; the
JSON says so and by how much (``bottleneck``). Rates of the real phases are also given over the
second half of the window, where a burst of batches prefetched before the window has been used up.
"""
from __future__ import annotations

import argparse
import math
import platform
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from mitheory._rng import seed_everything
from mitheory._validate import check_int
from mitheory.plotting import atomic_write_text
from paper_repro.config import Config, parse_args
from paper_repro.pretrain import (Runtime, default_train_loader, init_distributed,
                                  make_optimizer, prepare_model, train_step)

DEFAULT_CONFIG = Path(__file__).resolve().parent / "configs" / "vicreg.toml"
TARGET_SYNTHETIC_IMG_S = 3000.0  # the target on one H200 at the full VICReg config
TARGET_REAL_WITHIN = 0.10  # the real loader's training rate within 10% of the synthetic one
REAL_WARMUP = 2  # real-loader steps before its window (the model is warm from phase 2)
PREFETCH_FACTOR = 4  # batches each worker of paper_repro.data's loaders prefetches
MATMUL_REPEATS = 20  # matmuls per timing of the matmul rate (best of 3 timings)


# ---- FLOPs ----
def layer_flops(layer: nn.Module, output: torch.Tensor) -> float:
    """Forward FLOPs (2 per multiply-add) of one call of a convolution or linear layer.

    Convolution: ``2 * output.numel() * in_channels / groups * prod(kernel_size)``; linear:
    ``2 * output.numel() * in_features``. Bias additions, norms, activations and pooling are
    not counted (under 1% of a ResNet's). Other layers (and transposed convolutions): 0.
    """
    if isinstance(layer, nn.modules.conv._ConvNd) and not layer.transposed:
        per_out = layer.in_channels // layer.groups * math.prod(layer.kernel_size)
        return 2.0 * output.numel() * per_out
    if isinstance(layer, nn.Linear):
        return 2.0 * output.numel() * layer.in_features
    return 0.0


class FlopCounter:
    """FLOPs of every convolution and linear layer of ``module`` while the context is open.

    Forward hooks add :func:`layer_flops` per call to ``forward``. The backward of a call is
    counted when its output needs a gradient: the weight gradient (as many FLOPs as the
    forward) when the weight trains, plus the input gradient (as many again) when the input
    needs one, so the first convolution's backward is 1x its forward and a hidden layer's 2x;
    layers run without grad (an EMA target) count their forward only. Matmuls outside these
    layers (e.g. a loss's covariance) are not counted.

    Examples
    --------
    >>> net = nn.Linear(4, 3)
    >>> with FlopCounter(net) as fc:
    ...     _ = net(torch.ones(2, 4))
    >>> fc.forward, fc.backward  # 2 * (2 * 3) * 4; input without grad: weight gradient only
    (48.0, 48.0)
    """

    def __init__(self, module: nn.Module) -> None:
        if not isinstance(module, nn.Module):
            raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
        self.module = module
        self.forward = self.backward = 0.0
        self.calls = 0
        self._handles: list[Any] = []

    def _hook(self, layer: nn.Module, inputs: tuple, output: Any) -> None:
        f = layer_flops(layer, output)
        if not f:
            return
        self.forward += f
        self.calls += 1
        if torch.is_grad_enabled() and getattr(output, "requires_grad", False):
            weight = getattr(layer, "weight", None)
            x = inputs[0] if inputs else None
            self.backward += f * (weight is not None and weight.requires_grad)
            self.backward += f * bool(getattr(x, "requires_grad", False))

    def __enter__(self) -> FlopCounter:
        for m in self.module.modules():
            if isinstance(m, (nn.modules.conv._ConvNd, nn.Linear)):
                self._handles.append(m.register_forward_hook(self._hook))
        return self

    def __exit__(self, *exc: Any) -> None:
        for h in self._handles:
            h.remove()
        self._handles.clear()

    @property
    def train(self) -> float:
        """Forward + backward FLOPs."""
        return self.forward + self.backward


# ---- timing ----
def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_tflops(device: torch.device | str, *, size: int, dtype: torch.dtype,
                  repeats: int = MATMUL_REPEATS) -> float:
    """Measured dense matmul rate (TFLOP/s) of ``(size, size) @ (size, size)`` in ``dtype``
    on ``device``: the best of 3 timings of ``repeats`` products, 2 size^3 FLOPs each."""
    size = check_int(size, "size", minimum=1)
    repeats = check_int(repeats, "repeats", minimum=1)
    device = torch.device(device)
    g = torch.Generator(device=device).manual_seed(0)
    a = torch.randn(size, size, generator=g, device=device).to(dtype)
    b = torch.randn(size, size, generator=g, device=device).to(dtype)
    out = torch.empty(size, size, device=device, dtype=dtype)
    torch.matmul(a, b, out=out)  # warm-up: kernel choice, allocation
    best = math.inf
    for _ in range(3):
        _sync(device)
        t0 = time.perf_counter()
        for _ in range(repeats):
            torch.matmul(a, b, out=out)
        _sync(device)
        best = min(best, time.perf_counter() - t0)
    return 2.0 * size**3 * repeats / best / 1e12


def _cycle(loader) -> Iterator[Any]:
    """The loader's batches over consecutive epochs from epoch 0 (a fresh iterator)."""
    epoch = 0
    while True:
        loader.set_epoch(epoch)
        yield from loader
        epoch += 1


def time_phase(batches: Iterator[Any], run_one: Callable[[Any], Any], *, steps: int,
               warmup: int, batch_size: int, device: torch.device) -> dict[str, float]:
    """Images/s of ``run_one(batch)`` over ``steps`` batches after ``warmup`` untimed ones,
    the device synchronised after each; also over the window's second half, and the median
    step time."""
    for _ in range(warmup):
        run_one(next(batches))
    _sync(device)
    stamps = [time.perf_counter()]
    for _ in range(steps):
        run_one(next(batches))
        _sync(device)
        stamps.append(time.perf_counter())
    t = [s - stamps[0] for s in stamps]
    half = steps // 2
    second = (steps - half) * batch_size / (t[-1] - t[half]) if steps > 1 else math.nan
    return {"images_per_s": steps * batch_size / t[-1], "images_per_s_second_half": second,
            "step_ms_median": 1e3 * float(np.median(np.diff(t))), "wall_s": t[-1]}


# ---- the benchmark ----
def run_benchmark(cfg: Config, *, data_root: str | None = None, steps: int = 50,
                  warmup: int = 10, batch_size: int = 256, matmul_size: int | None = None,
                  log: Callable[[str], Any] = print) -> dict[str, Any]:
    """Measure phases 1-4 of the module doc for ``cfg`` (one process) and return the record.

    ``batch_size`` is this process's batch (the config's ``run.batch_size`` is the global
    batch of a many-GPU run); ``matmul_size`` defaults to 8192 on CUDA, 512 on CPU.
    ``data_root``: an ImageFolder root (``train/<class>/*.jpg``) for phases 3-4, else None.
    """
    steps = check_int(steps, "steps", minimum=1)
    warmup = check_int(warmup, "warmup", minimum=0)
    batch_size = check_int(batch_size, "batch_size", minimum=2)
    if data_root is not None and not (Path(data_root) / "train").is_dir():
        raise ValueError(f"data_root must hold train/<class>/ folders, got {str(data_root)!r}")
    rt = init_distributed(cfg.run.device)
    if rt.world_size > 1:
        raise ValueError(f"the benchmark measures one process, got world size {rt.world_size}")
    dev = rt.device
    matmul_size = check_int(matmul_size if matmul_size is not None else
                            (8192 if dev.type == "cuda" else 512), "matmul_size", minimum=1)
    seed_everything(cfg.run.seed, deterministic=False)
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True
    bf16 = cfg.run.precision == "bf16"
    rec: dict[str, Any] = _setup_record(cfg, dev, data_root, steps, warmup, batch_size)

    # ---- 1: the matmul rate ----
    dtype = torch.bfloat16 if bf16 else torch.float32
    peak = matmul_tflops(dev, size=matmul_size, dtype=dtype)
    rec["matmul"] = {"size": matmul_size, "dtype": str(dtype).replace("torch.", ""),
                     "tflops": peak, "repeats": MATMUL_REPEATS}
    log(f"matmul {matmul_size}^3 {rec['matmul']['dtype']}: {peak:.3g} TFLOP/s")

    # ---- 2: synthetic data, FLOPs counted on the first step ----
    from paper_repro import data

    method, model = prepare_model(cfg, Runtime(0, 1, dev, False))
    opt = make_optimizer(cfg, method, cfg.peak_lr())
    step = [0]
    total = 1 + warmup + steps + (REAL_WARMUP + steps) * (data_root is not None)  # all phases

    def one_step(batch) -> None:  # the lr does not change the cost: the peak throughout
        x1, x2, _ = batch
        train_step(model, method, opt, x1, x2, step=step[0], total=total,
                   lr=cfg.peak_lr(), channels_last=cfg.run.channels_last, world_size=1)
        step[0] += 1

    method.train()
    synth = _cycle(data.synthetic_loader(batch_size=batch_size, image_size=cfg.data.image_size,
                                         device=dev, seed=cfg.run.seed,
                                         num_classes=cfg.data.num_classes,
                                         n_batches=steps + warmup + 1))
    with FlopCounter(model) as fc:
        one_step(next(synth))
    rec["flops"] = {"forward_per_image": fc.forward / batch_size,
                    "train_per_image": fc.train / batch_size, "layer_calls": fc.calls,
                    "counted": "conv + linear layers of both views (backbone, projector, any "
                               "predictor / target), 2 FLOPs per multiply-add; backward = "
                               "weight grad + input grad where needed (FlopCounter)"}
    log(f"FLOPs per image: forward {fc.forward / batch_size / 1e9:.4g} G, train step "
        f"{fc.train / batch_size / 1e9:.4g} G ({fc.calls} layer calls)")
    rec["synthetic"] = _with_flops(time_phase(synth, one_step, steps=steps, warmup=warmup,
                                              batch_size=batch_size, device=dev), rec)
    log(f"synthetic: {rec['synthetic']['images_per_s']:,.1f} img/s")

    # ---- 3, 4: the real loader, with the model and alone ----
    if data_root is not None:
        real_cfg = _with_root(cfg, data_root)
        loader = default_train_loader(real_cfg, rank=0, world_size=1, batch_size=batch_size,
                                      device=dev)
        rec["real_loader_batches_per_epoch"] = len(loader)
        rec["real"] = _with_flops(time_phase(_cycle(loader), one_step, steps=steps,
                                             warmup=REAL_WARMUP, batch_size=batch_size,
                                             device=dev), rec)
        log(f"real loader + training: {rec['real']['images_per_s']:,.1f} img/s")
        alone = time_phase(_cycle(loader), lambda b: None, steps=steps, warmup=REAL_WARMUP,
                           batch_size=batch_size, device=dev)
        cpu = time_phase(_cpu_cycle(loader), lambda b: None, steps=min(steps, len(loader)),
                         warmup=0, batch_size=batch_size, device=torch.device("cpu"))
        rec["loader"] = {**alone, "cpu_side_images_per_s": cpu["images_per_s"]}
        log(f"real loader alone: {alone['images_per_s']:,.1f} img/s (CPU side "
            f"{cpu['images_per_s']:,.1f})")
    rec["bottleneck"] = bottleneck_verdict(rec)
    rec["target"] = _target(rec, cfg, dev)
    rec["wall_s"] = time.perf_counter() - rec.pop("_t0")
    return rec


def _cpu_cycle(loader) -> Iterator[Any]:
    while True:
        yield from loader.cpu_batches()


def _with_root(cfg: Config, root: str) -> Config:
    import dataclasses

    return dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, root=str(root),
                                                             synthetic=False))


def _with_flops(rates: dict[str, float], rec: dict[str, Any]) -> dict[str, float]:
    achieved = rates["images_per_s"] * rec["flops"]["train_per_image"] / 1e12
    return {**rates, "achieved_tflops": achieved,
            "fraction_of_matmul": achieved / rec["matmul"]["tflops"]}


def _setup_record(cfg: Config, dev: torch.device, data_root, steps, warmup, batch_size):
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else \
        f"cpu ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"
    d, m, r = cfg.data, cfg.model, cfg.run
    return {"_t0": time.perf_counter(), "device": str(dev), "device_name": name,
            "torch": torch.__version__, "method": m.method, "arch": m.arch, "width": m.width,
            "projector": m.projector, "image_size": d.image_size, "batch_size": batch_size,
            "precision": r.precision, "channels_last": r.channels_last, "compile": r.compile,
            "recipe": d.recipe, "workers": d.workers, "decoder": d.decoder,
            "data_root": None if data_root is None else str(data_root),
            "steps": steps, "warmup": warmup, "real_warmup": REAL_WARMUP,
            "prefetched_batches_at_most": d.workers * PREFETCH_FACTOR,
            "real": None, "loader": None, "config": cfg.to_dict()}


def bottleneck_verdict(rec: dict[str, Any]) -> dict[str, Any]:
    """Whether the real loader limits training, from a benchmark record's rates.

    ``loader_bound``: the loader alone (its slower of the whole window and the second half)
    is slower than synthetic training; ``loader_cap`` = that loader rate / the synthetic rate
    (< 1: training on real data can reach at most this fraction of the ceiling);
    ``real_over_synthetic``: the measured real-data training rate / the synthetic one;
    ``serial_bound_images_per_s`` = 1 / (1/synthetic + 1/loader), the real-data rate when
    loading and the step do not overlap (``workers = 0``: both in the training process).
    """
    if rec.get("loader") is None or rec.get("real") is None:
        return {"loader_bound": None, "verdict": "no --data: the real loader was not measured"}
    syn = rec["synthetic"]["images_per_s"]
    loader = _sustained(rec["loader"])
    real = _sustained(rec["real"])
    cap, ratio = loader / syn, real / syn
    bound = loader < syn
    serial = 1 / (1 / syn + 1 / loader)  # loader and step in series, one after the other
    if rec["workers"] == 0:
        verdict = (f"workers = 0: the loader runs in the training process, in series with the "
                   f"step, so real-data training is at most 1/(1/{syn:,.0f} + 1/{loader:,.0f}) "
                   f"= {serial:,.0f} img/s; measured {real:,.0f} img/s ({ratio:.0%} of "
                   f"synthetic); the loader alone gives {cap:.0%} of the synthetic rate")
    elif bound:
        verdict = (f"the loader IS the bottleneck: alone it gives {loader:,.0f} img/s, "
                   f"{cap:.0%} of the {syn:,.0f} img/s the step reaches on synthetic data "
                   f"(training on real data: {real:,.0f} img/s, {ratio:.0%})")
    else:
        verdict = (f"the loader is not the bottleneck: alone it gives {loader:,.0f} img/s, "
                   f"{cap:.2f}x the synthetic training rate {syn:,.0f} img/s; training on "
                   f"real data: {real:,.0f} img/s ({ratio:.0%} of synthetic"
                   + ("; the gap: the batched augmentations on the device and host contention)"
                      if ratio < 1 - TARGET_REAL_WITHIN else ")"))
    return {"loader_bound": bound, "loader_cap": cap, "real_over_synthetic": ratio,
            "loader_images_per_s": loader, "real_images_per_s": real,
            "serial_bound_images_per_s": serial, "verdict": verdict}


def _sustained(rates: dict[str, float]) -> float:
    """The slower of the window's rate and its second half's (a prefetched burst excluded)."""
    second = rates["images_per_s_second_half"]
    return min(rates["images_per_s"], second) if math.isfinite(second) else rates["images_per_s"]


def _target(rec: dict[str, Any], cfg: Config, dev: torch.device) -> dict[str, Any]:
    applies = (dev.type == "cuda" and cfg.model.arch == "resnet50" and cfg.model.width == 64
               and cfg.data.image_size == 224)
    syn = rec["synthetic"]["images_per_s"]
    real_ok = None if rec["real"] is None else \
        rec["bottleneck"]["real_over_synthetic"] >= 1 - TARGET_REAL_WITHIN
    return {"synthetic_images_per_s": TARGET_SYNTHETIC_IMG_S,
            "real_within": TARGET_REAL_WITHIN, "applies": applies,
            "synthetic_met": syn >= TARGET_SYNTHETIC_IMG_S if applies else None,
            "real_met": real_ok if applies else None,
            "note": "the target is for one H200 at the full ResNet-50 224 px config"
                    + ("" if applies else "; this run is not that setting: no verdict")}


def format_table(rec: dict[str, Any]) -> str:
    """The record as a few aligned lines (what ``main`` prints)."""
    lines = [f"device {rec['device_name']} | torch {rec['torch']} | {rec['method']} "
             f"{rec['arch']} width {rec['width']} projector {rec['projector']} | "
             f"{rec['image_size']} px | batch {rec['batch_size']} | {rec['precision']} | "
             f"steps {rec['steps']} after {rec['warmup']} warm-up",
             f"matmul {rec['matmul']['size']}^3 {rec['matmul']['dtype']}: "
             f"{rec['matmul']['tflops']:.4g} TFLOP/s (measured in this run)",
             f"FLOPs per image: forward {rec['flops']['forward_per_image'] / 1e9:.4g} G, "
             f"train step {rec['flops']['train_per_image'] / 1e9:.4g} G",
             f"{'phase':26s} {'img/s':>10s} {'2nd half':>10s} {'step ms':>9s} {'TFLOP/s':>9s} "
             f"{'of matmul':>9s}"]
    for key, label in (("synthetic", "train, synthetic data"), ("real", "train, real loader")):
        p = rec.get(key)
        if p:
            lines.append(f"{label:26s} {p['images_per_s']:10,.1f} "
                         f"{p['images_per_s_second_half']:10,.1f} {p['step_ms_median']:9.2f} "
                         f"{p['achieved_tflops']:9.4g} {p['fraction_of_matmul']:9.1%}")
    if rec.get("loader"):
        p = rec["loader"]
        lines.append(f"{'real loader alone':26s} {p['images_per_s']:10,.1f} "
                     f"{p['images_per_s_second_half']:10,.1f} {p['step_ms_median']:9.2f}")
        lines.append(f"{'  its CPU side alone':26s} {p['cpu_side_images_per_s']:10,.1f}")
    lines.append(rec["bottleneck"]["verdict"])
    t = rec["target"]
    met = {True: "met", False: "NOT met", None: "not measured"}
    said = (f"synthetic {met[t['synthetic_met']]}, real {met[t['real_met']]}" if t["applies"]
            else t["note"])
    lines.append(f"target: >= {t['synthetic_images_per_s']:,.0f} img/s synthetic, real within "
                 f"{t['real_within']:.0%}: {said}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    argv = sys.argv[1:] if argv is None else list(argv)
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0], add_help=True,
                                epilog="Other arguments go to the config: --config PATH, "
                                       "--overlay PATH, --section.key=value.")
    p.add_argument("--data", default=None, help="ImageFolder root for the real loader")
    p.add_argument("--steps", type=int, default=50, help="timed steps per phase")
    p.add_argument("--warmup", type=int, default=10, help="untimed steps before synthetic")
    p.add_argument("--batch-size", type=int, default=256, help="this process's batch")
    p.add_argument("--workers", type=int, default=None, help="loader workers (data.workers)")
    p.add_argument("--device", default=None, help="auto | cpu | cuda[:i] (run.device)")
    p.add_argument("--matmul-size", type=int, default=None, help="8192 on CUDA, 512 on CPU")
    p.add_argument("--out", default=None, help="JSON file to write")
    args, rest = p.parse_known_args(argv)
    if not any(a.split("=")[0] == "--config" for a in rest):
        rest = ["--config", str(DEFAULT_CONFIG), *rest]
    extra = ["--data.synthetic=true"]  # the config's root is not needed: loaders built here
    if args.workers is not None:
        extra.append(f"--data.workers={args.workers}")
    if args.device is not None:
        extra.append(f'--run.device="{args.device}"')
    cfg, _ = parse_args([*rest, *extra])
    rec = run_benchmark(cfg, data_root=args.data, steps=args.steps, warmup=args.warmup,
                        batch_size=args.batch_size, matmul_size=args.matmul_size)
    rec["argv"] = argv
    print(format_table(rec))
    if args.out:
        import json

        atomic_write_text(Path(args.out), json.dumps(rec, indent=1))
    return rec


if __name__ == "__main__":
    main()
