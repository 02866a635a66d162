"""Self-supervised pretraining on ImageNet (any ImageFolder) under torchrun: one readable script.

Run:    torchrun --nproc_per_node=8 -m paper_repro.pretrain --config paper_repro/configs/vicreg.toml
        python -m paper_repro.pretrain --config paper_repro/configs/vicreg.toml  (one process)
        ... --overlay paper_repro/configs/tiny.toml --optim.base_lr=0.3   (overlays, overrides)
Writes: <run.out_dir>/config.json, stats.jsonl (JSON lines, rank 0), checkpoint.pt (atomic).

Modelled on facebookresearch/vicreg ``main_vicreg.py``: the registry's method on a ResNet
(``mitheory.train.make_image_method``), DDP, SyncBatchNorm, LARS without decay or adaptation on
biases and norms, linear warmup + cosine per step, losses over the all-gathered batch (the
method's ``gather``, i.e. ``gather_with_grad``, the official ``FullGatherLayer``). Every loss is
the one of ``mitheory.objectives``. A run killed at any point resumes from the last checkpoint
exactly: model, optimiser, EMA target, step, loader position and every RNG state.
"""
from __future__ import annotations

import json
import os
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from mitheory._rng import seed_everything
from mitheory.models import BasicBlock, Bottleneck
from mitheory.plotting import atomic_write_text
from mitheory.train import (LARS, EMATarget, ImageEncoder, ImageMethod, init_image_method_,
                            load_checkpoint, make_image_method, param_groups, save_checkpoint,
                            warmup_cosine)
from paper_repro.config import Config, check_world_size, config_diff, parse_args


class NonFiniteLossError(FloatingPointError):
    """A non-finite loss: ``step`` and ``term`` (``"loss"``, the first non-finite term, or the
    embedding the objective found non-finite, e.g. ``"z_a"``)."""

    def __init__(self, step: int, term: str, value: float, detail: str = "") -> None:
        self.step, self.term, self.value = step, term, value
        super().__init__(f"non-finite loss at step {step}: {term} = {value} {detail}".strip())


# ---- distributed ----
@dataclass(frozen=True)
class Runtime:
    rank: int
    world_size: int
    device: torch.device
    owns_group: bool  # this script initialised the process group (and destroys it)


def init_distributed(device: str = "auto") -> Runtime:
    """Process group from torchrun's env (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``): nccl on
    cuda, gloo on cpu. One process without those variables; an existing group is reused."""
    cuda = torch.cuda.is_available() and device != "cpu"
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    owns = False
    if not dist.is_initialized() and int(os.environ.get("WORLD_SIZE", 1)) > 1:
        if cuda:
            torch.cuda.set_device(local_rank)
        dist.init_process_group("nccl" if cuda else "gloo")
        owns = True
    rank, world = (dist.get_rank(), dist.get_world_size()) if dist.is_initialized() else (0, 1)
    if device in ("auto", "cuda"):
        dev = torch.device(f"cuda:{local_rank}") if cuda else torch.device("cpu")
    else:
        dev = torch.device(device)
    return Runtime(rank, world, dev, owns)


def _rng_state() -> dict[str, Any]:
    return {"python": random.getstate(), "numpy": np.random.get_state(),
            "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []}


def _set_rng_state(s: dict[str, Any]) -> None:
    random.setstate(s["python"])
    np.random.set_state(s["numpy"])
    torch.set_rng_state(s["torch"])
    if s["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(s["cuda"])


# ---- model ----
def build_method(cfg: Config) -> ImageMethod:
    """The registry's method on a ResNet, initialised from ``run.seed`` (same on every rank)."""
    m = cfg.model
    try:
        method = make_image_method(m.method, arch=m.arch, stem=m.stem, width=m.width,
                                   projector=None if m.projector == "none" else m.projector,
                                   **m.options)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"model.options / model.projector of {m.method!r}: {exc}") from exc
    init_image_method_(method, cfg.run.seed)
    if m.zero_init_residual:  # each residual block starts as the identity (VICReg's resnet50)
        for block in method.modules():
            if isinstance(block, (BasicBlock, Bottleneck)):
                nn.init.zeros_(block.last_bn().weight)
        if isinstance(method.method, EMATarget):
            method.method.target.load_state_dict(method.method.encoder.state_dict())
    return method


class LossModule(nn.Module):
    """What DDP wraps: ``forward(x1, x2)`` is the method's ``loss_and_terms``."""

    def __init__(self, method: ImageMethod) -> None:
        super().__init__()
        self.method = method

    def forward(self, x1: torch.Tensor, x2: torch.Tensor):
        return self.method.loss_and_terms(x1, x2)


def forward_loss(model: nn.Module, x1: torch.Tensor, x2: torch.Tensor, step: int,
                 world_size: int) -> tuple[torch.Tensor, dict[str, float]]:
    """The local loss (to backpropagate) and the loss and terms averaged over ranks (to log).

    One all-reduce of the few scalars per step: every rank sees the same values, so a
    non-finite loss on any rank stops all of them at the same step (no rank left waiting).
    """
    try:
        loss, terms = model(x1, x2)
    except ValueError as exc:  # the objectives' input checks: "z_a is not finite (...)"
        if "not finite" not in str(exc):
            raise
        raise NonFiniteLossError(step, str(exc).split()[0], float("nan"), f"({exc})") from exc
    names = ["loss", *terms]
    vec = torch.stack([loss.detach(), *(t.detach() for t in terms.values())]).float()
    if world_size > 1:
        dist.all_reduce(vec)
        vec = vec / world_size
    values = dict(zip(names, vec.tolist()))
    for name in [*names[1:], "loss"]:  # name a term first: it says where the NaN came from
        if not np.isfinite(values[name]):
            raise NonFiniteLossError(step, name, values[name])
    return loss, values


def prepare_model(cfg: Config, rt: Runtime) -> tuple[ImageMethod, nn.Module]:
    """:func:`build_method` made ready to train as a run trains it: the encoders' bf16 autocast
    (``run.precision``), ``torch.compile`` (``run.compile``), SyncBatchNorm (world size > 1 and
    ``run.sync_bn``), moved to ``rt.device``, channels_last (``run.channels_last``), and wrapped
    in :class:`LossModule` (and DDP when world size > 1). Returns ``(method, model)``: the
    method owns the parameters and state, ``model(x1, x2)`` is the loss."""
    r = cfg.run
    method = build_method(cfg)
    method.gather = rt.world_size > 1  # batch-level terms over the global batch
    for enc in (m for m in method.modules() if isinstance(m, ImageEncoder)):
        enc.compute_dtype = torch.bfloat16 if r.precision == "bf16" else None
        if r.compile:
            enc.backbone.compile()
    if rt.world_size > 1 and r.sync_bn:
        method = nn.SyncBatchNorm.convert_sync_batchnorm(method)
    method.to(rt.device)
    if r.channels_last:
        method.to(memory_format=torch.channels_last)
    model: nn.Module = LossModule(method)
    if rt.world_size > 1:
        ids = [rt.device.index] if rt.device.type == "cuda" else None
        model = nn.parallel.DistributedDataParallel(model, device_ids=ids)
    return method, model


def train_step(model: nn.Module, method: ImageMethod, opt: torch.optim.Optimizer,
               x1: torch.Tensor, x2: torch.Tensor, *, step: int, total: int, lr: float,
               channels_last: bool, world_size: int) -> dict[str, float]:
    """One optimiser step of pretraining at learning rate ``lr``: the loss of the two views
    (:func:`forward_loss`, which raises :class:`NonFiniteLossError`), backward, the optimiser,
    then the method's own update (EMA targets). Returns the loss and terms averaged over ranks."""
    for g in opt.param_groups:
        g["lr"] = lr
    if channels_last:
        x1 = x1.contiguous(memory_format=torch.channels_last)
        x2 = x2.contiguous(memory_format=torch.channels_last)
    loss, values = forward_loss(model, x1, x2, step, world_size)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    method.after_step(step, total)  # EMA targets: the method's own update
    return values


def make_optimizer(cfg: Config, method: nn.Module, lr: float) -> torch.optim.Optimizer:
    """LARS / SGD / AdamW over :func:`mitheory.train.param_groups` (no decay on 1-D params)."""
    o = cfg.optim
    groups = param_groups(method, o.weight_decay)
    if o.optimizer == "lars":
        return LARS(groups, lr=lr, weight_decay=o.weight_decay, momentum=o.momentum, eta=o.eta)
    if o.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=o.momentum)
    return torch.optim.AdamW(groups, lr=lr)


# ---- data ----
def default_train_loader(cfg: Config, *, rank: int, world_size: int, batch_size: int,
                         device: torch.device):
    """``paper_repro.data``'s two-view loader over ``data.root/train`` (or the synthetic one);
    ``batch_size`` is this rank's share of ``run.batch_size``."""
    from paper_repro import data

    d = cfg.data
    if d.synthetic:
        return data.synthetic_loader(batch_size=batch_size, image_size=d.image_size,
                                     device=device, seed=cfg.run.seed + rank,
                                     num_classes=d.num_classes)
    return data.make_train_loader(d.root, batch_size=batch_size, image_size=d.image_size,
                                  recipe=d.recipe, workers=d.workers, decoder=d.decoder,
                                  rank=rank, world_size=world_size, seed=cfg.run.seed,
                                  device=device)


# ---- stats ----
def _append_json(path: Path, record: dict[str, Any]) -> None:
    with path.open("a") as fh:
        fh.write(json.dumps(record) + "\n")


def read_stats(path: str | Path) -> list[dict[str, Any]]:
    """The records of a stats.jsonl (a line cut short by a kill is dropped)."""
    out = []
    for line in Path(path).read_text().splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


def _truncate_stats(path: Path, step: int) -> None:
    """Keep the records before ``step`` (those after it are redone on resume), atomically."""
    if not path.exists():
        return
    keep = [r for r in read_stats(path) if r.get("step", -1) < step]
    atomic_write_text(path, "".join(json.dumps(r) + "\n" for r in keep))


# ---- loop ----
def train(cfg: Config, argv: list[str] | None = None, *,
          make_loader: Callable[..., Any] | None = None) -> dict[str, Any]:
    """Pretrain per ``cfg`` (resuming from ``run.out_dir/checkpoint.pt`` if it exists).

    ``make_loader(cfg, rank=, world_size=, batch_size=, device=)`` gives the two-view loader
    (default :func:`default_train_loader`; tests pass an in-memory one). Returns the last
    step, the last logged values and the wall time.

    Raises
    ------
    NonFiniteLossError
        At the first non-finite loss or term (nothing is saved at that step).
    ValueError
        For a checkpoint written with another config (naming the differing keys) or another
        world size, or a global batch the world size does not divide.
    """
    rt = init_distributed(cfg.run.device)
    try:
        return _train(cfg, list(argv or []), rt, make_loader or default_train_loader)
    finally:
        if rt.owns_group:
            dist.destroy_process_group()


def _train(cfg: Config, argv: list[str], rt: Runtime, make_loader) -> dict[str, Any]:
    r, o = cfg.run, cfg.optim
    local_batch = check_world_size(cfg, rt.world_size)
    seed_everything(r.seed + rt.rank, deterministic=r.deterministic)
    if rt.device.type == "cuda":
        torch.backends.cudnn.benchmark = not r.deterministic
    out = Path(r.out_dir)
    ck_path, stats_path = out / "checkpoint.pt", out / "stats.jsonl"
    if rt.rank == 0:
        out.mkdir(parents=True, exist_ok=True)

    # ---- data ----
    loader = make_loader(cfg, rank=rt.rank, world_size=rt.world_size, batch_size=local_batch,
                         device=rt.device)
    steps_per_epoch = len(loader)
    total = o.epochs * steps_per_epoch  # the schedule's length, whatever run.max_steps says
    warmup = int(round(o.warmup_epochs * steps_per_epoch))
    stop = min(total, r.max_steps) if r.max_steps else total
    peak = cfg.peak_lr()

    # ---- model ----
    method, model = prepare_model(cfg, rt)

    # ---- optim ----
    opt = make_optimizer(cfg, method, peak)

    # ---- resume ----
    step, epoch, resumed_epoch = 0, 0, None
    if ck_path.exists():
        ck = load_checkpoint(ck_path)
        diff = config_diff(ck["config"], cfg.to_dict())
        if diff:
            raise ValueError(f"{ck_path} was written with another config; differing keys: "
                             f"{', '.join(diff)} (use another run.out_dir, or the saved config "
                             f"in {out / 'config.json'})")
        if ck["world_size"] != rt.world_size:
            raise ValueError(f"{ck_path} was written by {ck['world_size']} processes, this run "
                             f"has {rt.world_size}")
        method.load_state_dict(ck["method"])
        opt.load_state_dict(ck["optimizer"])
        loader.load_state_dict(ck["loader"])
        _set_rng_state(ck["rng"][rt.rank])
        step, epoch = ck["step"], ck["loader"]["epoch"]
        resumed_epoch = epoch
        if rt.rank == 0:
            _truncate_stats(stats_path, step)
    if rt.rank == 0:
        (out / "config.json").write_text(json.dumps(cfg.to_dict(), indent=1))
        _append_json(stats_path, {"argv": argv, "resumed_at_step": step if step else None,
                                  "world_size": rt.world_size, "device": str(rt.device),
                                  "torch": torch.__version__})

    def save(at_step: int) -> None:
        rngs = [None] * rt.world_size
        if rt.world_size > 1:
            dist.all_gather_object(rngs, _rng_state())
        else:
            rngs = [_rng_state()]
        if rt.rank == 0:
            save_checkpoint(ck_path, {"step": at_step, "config": cfg.to_dict(),
                                      "method": method.state_dict(),
                                      "optimizer": opt.state_dict(),
                                      "loader": loader.state_dict(), "rng": rngs,
                                      "world_size": rt.world_size})
        if rt.world_size > 1:
            dist.barrier()

    # ---- loop ----
    method.train()
    values: dict[str, float] = {}
    t_start = t_log = time.perf_counter()
    n_log = 0
    while step < stop:
        if epoch != resumed_epoch:  # a resumed epoch continues from the loader's position
            loader.set_epoch(epoch)
        for x1, x2, _ in loader:
            lr = warmup_cosine(step, total, warmup, peak, peak * o.final_lr_ratio)
            values = train_step(model, method, opt, x1, x2, step=step, total=total, lr=lr,
                                channels_last=r.channels_last, world_size=rt.world_size)
            step, n_log = step + 1, n_log + 1
            if rt.rank == 0 and ((step - 1) % r.log_every == 0 or step == stop):
                now = time.perf_counter()
                _append_json(stats_path, {"step": step - 1, "epoch": epoch, "lr": lr, **values,
                                          "images_per_s": n_log * r.batch_size / (now - t_log),
                                          "time_s": now - t_start})
                t_log, n_log = now, 0
            if r.checkpoint_every and step % r.checkpoint_every == 0 and step < stop:
                save(step)
            if step >= stop:
                break
        else:
            epoch += 1
            continue
        break
    save(step)
    return {"step": step, "values": values, "wall_s": time.perf_counter() - t_start,
            "out_dir": str(out)}


def main(argv: list[str] | None = None, *, make_loader: Callable[..., Any] | None = None) -> dict:
    """Command line: ``--config PATH [--overlay PATH] [--section.key=value ...]``."""
    argv = sys.argv[1:] if argv is None else argv
    cfg, argv = parse_args(argv)
    return train(cfg, argv, make_loader=make_loader)


if __name__ == "__main__":
    main()
