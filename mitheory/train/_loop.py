"""A small, readable training loop for the studies: Adam, fixed steps, fresh batches each step.

Deterministic on CPU for a given seed (data stream and initialisation come from named
``SeedSequence`` streams; the study entry point turns on deterministic algorithms).
"""
from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from tqdm.auto import tqdm

from mitheory._rng import as_generator, spawn
from mitheory._types import Seed
from mitheory._validate import (check_int, check_method, check_option, check_positive,
                                check_process)
from mitheory.models import init_linear_
from mitheory.train._method import EMATarget, SSLMethod
from mitheory.train._optim import warmup_cosine


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings.

    Attributes
    ----------
    steps : int
        Number of Adam steps (each on a freshly sampled batch of positive pairs).
    batch_size : int
    lr : float
        Adam learning rate (the papers use 1e-4 for 100k-300k steps; the laptop-scale
        default of the studies uses a larger rate for far fewer steps).
    device : str
        ``"auto"`` (CUDA when available, else CPU), ``"cpu"`` or ``"cuda[:i]"``.
    progress : bool
        Show a tqdm progress bar (only when stderr is a terminal).
    log_every : int
        Record the loss every ``log_every`` steps.
    lr_schedule : {"constant", "cosine"}
        ``"cosine"``: linear warmup over ``warmup_steps``, then cosine decay to 0
        (:func:`~mitheory.train.warmup_cosine`), set before every step.
    warmup_steps : int
        Warmup steps of the cosine schedule (``0 <= warmup_steps < steps``).
    negatives : int, optional
        Fresh marginal negatives per step for methods that need them (InfoNCE); default
        ``batch_size``. With a small temperature few negatives are close enough to an anchor to
        matter, so more of them sharpen the gradient at less cost than more anchors.
    prefetch_steps : int
        Draw the batches of this many steps in one ``sample_pairs`` / ``sample_negatives`` call
        and use them in order: the same law (every batch is still fresh and independent), far
        fewer small numpy calls (``benchmarks/bench_train``); 1 draws each step's batch alone.
        A different value gives a different (equally valid) data stream.
    """

    steps: int = 2000
    batch_size: int = 512
    lr: float = 1e-3
    device: str = "auto"
    progress: bool = True
    log_every: int = 50
    lr_schedule: Literal["constant", "cosine"] = "constant"
    warmup_steps: int = 0
    negatives: int | None = None
    prefetch_steps: int = 1


@dataclass
class TrainResult:
    """What a training run leaves behind (the trained method is modified in place)."""

    losses: list[tuple[int, float]] = field(default_factory=list)
    wall_time_s: float = 0.0
    steps: int = 0
    device: str = "cpu"

    def to_dict(self) -> dict[str, Any]:
        return {"losses": self.losses, "wall_time_s": self.wall_time_s, "steps": self.steps,
                "device": self.device, "final_loss": self.losses[-1][1] if self.losses else None}


def resolve_device(device: str) -> torch.device:
    """``"auto"`` -> CUDA if available else CPU; otherwise ``torch.device(device)`` (validated)."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError as exc:
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda[:i]', got {device!r}") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} requested but CUDA is not available")
    return dev


def train(method: SSLMethod, process: Any, cfg: TrainConfig, *, seed: Seed = 0,
          callback: Callable[[int, SSLMethod], None] | None = None) -> TrainResult:
    """Train ``method`` (an ``SSLMethod``) on positive pairs drawn from ``process``.

    Parameters
    ----------
    method : SSLMethod
        Modified in place.
    process : LatentProcess
        Supplies ``sample_pairs(n, seed=)`` and ``sample_negatives(n, seed=)``.
    cfg : TrainConfig
    seed : int or Generator
        Seeds the initialisation and the data stream (two named streams).
    callback : callable, optional
        ``callback(steps_done, method)`` after every optimiser step (e.g. an evaluation at
        chosen steps). The method is in train mode and must be left so (an evaluation switches
        to eval mode and back); the callback must not change its parameters or draw from the
        training stream, so the run is the same with or without it.

    Raises
    ------
    FloatingPointError
        As soon as the loss is not finite, naming the step and the method.
    """
    check_method(method)
    check_process(process)
    if not isinstance(cfg, TrainConfig):
        raise TypeError(f"cfg must be a TrainConfig, got {type(cfg).__name__}")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable, got {type(callback).__name__}")
    check_int(cfg.steps, "steps", minimum=1)
    check_int(cfg.batch_size, "batch_size", minimum=2)
    check_positive(cfg.lr, "lr")
    check_option(cfg.lr_schedule, "lr_schedule", ("constant", "cosine"))
    check_int(cfg.warmup_steps, "warmup_steps", minimum=0)
    check_int(cfg.prefetch_steps, "prefetch_steps", minimum=1)
    if cfg.negatives is not None:
        check_int(cfg.negatives, "negatives", minimum=1)
    if cfg.warmup_steps >= cfg.steps and cfg.lr_schedule == "cosine":
        raise ValueError(f"warmup_steps must be < steps={cfg.steps}, got {cfg.warmup_steps}")
    ss_init, ss_data = spawn(seed, 2)
    device = resolve_device(cfg.device)
    init_linear_(method, ss_init)
    if isinstance(method, EMATarget):  # the target starts as a copy of the online encoder
        method.target.load_state_dict(method.encoder.state_dict())
    method.to(device).train()
    params = [p for p in method.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=cfg.lr)
    rng = as_generator(ss_data)
    result = TrainResult(device=str(device))
    prefetched: list = []
    bar = tqdm(range(cfg.steps), desc=getattr(method, "name", "train"), leave=False,
               disable=not (cfg.progress and sys.stderr.isatty()))
    t0 = time.perf_counter()
    for step in bar:
        if cfg.lr_schedule == "cosine":
            for g in opt.param_groups:
                g["lr"] = warmup_cosine(step, cfg.steps, cfg.warmup_steps, cfg.lr)
        x_a, x_b, x_neg = _batch(process, cfg, rng, step, method.needs_negatives, prefetched)
        loss = method.loss(x_a.to(device), x_b.to(device),
                           None if x_neg is None else x_neg.to(device))
        value = loss.item()  # one scalar read (cheaper than torch.isfinite on the tensor)
        if not math.isfinite(value):
            raise FloatingPointError(
                f"non-finite loss {value} at step {step} of method "
                f"{getattr(method, 'name', type(method).__name__)} (lr={cfg.lr}, "
                f"batch_size={cfg.batch_size})")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        method.after_step(step, cfg.steps)
        if step % cfg.log_every == 0 or step == cfg.steps - 1:
            result.losses.append((step, value))
            bar.set_postfix(loss=f"{value:.4f}")
        if callback is not None:
            t_cb = time.perf_counter()
            callback(step + 1, method)
            t0 += time.perf_counter() - t_cb  # wall_time_s counts training only
    result.wall_time_s = time.perf_counter() - t0
    result.steps = cfg.steps
    method.eval()
    return result


def _batch(process: Any, cfg: TrainConfig, rng: Any, step: int, negatives: bool,
           prefetched: list) -> tuple[Any, Any, Any]:
    """Step ``step``'s ``(x, x_tilde, x_neg or None)``; with ``prefetch_steps = k`` a block of
    up to ``k`` steps is drawn at once (pairs, then negatives) into ``prefetched`` and sliced."""
    k, b = cfg.prefetch_steps, cfg.batch_size
    m = cfg.negatives or b
    i = step % k
    if i == 0:
        n = min(k, cfg.steps - step)
        pairs = process.sample_pairs(b * n, seed=rng)
        neg = process.sample_negatives(m * n, seed=rng)[0] if negatives else None
        prefetched[:] = [pairs.x, pairs.x_tilde, neg]
    x, xt, neg = prefetched
    return (x[i * b:(i + 1) * b], xt[i * b:(i + 1) * b],
            None if neg is None else neg[i * m:(i + 1) * m])


def _check_embed_args(method: Any, process: Any, n: int, batch_size: int) -> None:
    check_method(method, needs_loss=False)
    check_process(process)
    check_int(n, "n", minimum=1)
    check_int(batch_size, "batch_size", minimum=1)


def _embed(method: Any, x: torch.Tensor, batch_size: int) -> Any:
    """``method.embed`` over ``x`` in batches on the method's device, as float64 numpy."""
    device = next(method.parameters()).device
    return torch.cat([method.embed(x[i:i + batch_size].to(device)).cpu()
                      for i in range(0, len(x), batch_size)]).double().numpy()


@torch.no_grad()
def embed_samples(method: Any, process: Any, n: int, *, seed: Seed,
                  batch_size: int = 4096) -> tuple[Any, Any]:
    """Embed ``n`` fresh marginal samples: returns numpy ``(h, z)`` (representation, true
    latents)."""
    _check_embed_args(method, process, n, batch_size)
    x, z = process.sample_negatives(n, seed=seed)
    return _embed(method, x, batch_size), z.double().numpy()


@torch.no_grad()
def embed_pairs(method: Any, process: Any, n: int, *, seed: Seed,
                batch_size: int = 4096) -> tuple[Any, Any]:
    """Embed ``n`` fresh positive pairs: returns numpy ``(h(x), h(x~))``, each ``(n, dim_out)``."""
    _check_embed_args(method, process, n, batch_size)
    b = process.sample_pairs(n, seed=seed)
    return _embed(method, b.x, batch_size), _embed(method, b.x_tilde, batch_size)
