"""TOML run configs of ``paper_repro``: one frozen dataclass per section, ``--key=value`` overrides.

``load_config(path, overrides)`` reads ``configs/<row>.toml`` (``tomllib``), applies overrides
such as ``--optim.base_lr=0.3`` and validates everything before a run starts: an unknown key, a
wrong type or an impossible value raises ``ValueError`` (``TypeError`` for a type) naming the
key, e.g. ``optim.base_lr``. The comment beside each field is its ``--help`` text.
"""
from __future__ import annotations

import dataclasses
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mitheory._validate import (check_finite_number, check_int, check_option, check_positive,
                                check_probability)
from mitheory.cli import field_help
from mitheory.data import RECIPES
from mitheory.train import method_names


@dataclass(frozen=True)
class ModelConfig:
    method: str = "vicreg"  # a registered method: mitheory.train.method_names()
    arch: str = "resnet50"  # resnet18 | resnet34 | resnet50
    stem: str = "imagenet"  # imagenet (7x7 stride 2 + max-pool) | cifar (3x3 stride 1)
    width: int = 64  # ResNet base width (64 in the papers; 4-8 for CPU tests)
    projector: str = "8192-8192-8192"  # projector widths, "none" for the loss on the backbone
    zero_init_residual: bool = True  # last BN of each block starts at 0 (VICReg's resnet50)
    options: dict = field(default_factory=dict)  # the method's options ([model.options])


@dataclass(frozen=True)
class OptimConfig:
    optimizer: str = "lars"  # lars (mitheory.train.LARS, no decay/trust on 1-D) | sgd | adamw
    base_lr: float = 0.2  # VICReg: peak lr = base_lr * batch_size / 256 (lr_rule = "linear")
    lr_rule: str = "linear"  # linear: base_lr * batch_size / 256 | constant: base_lr
    weight_decay: float = 1e-6  # on weights only (biases and norms get none)
    momentum: float = 0.9  # LARS / SGD heavy-ball momentum
    eta: float = 0.001  # LARS trust coefficient
    warmup_epochs: float = 10.0  # linear warmup, then cosine decay per step
    final_lr_ratio: float = 0.001  # final lr / peak lr (VICReg: 0.001)
    epochs: int = 1000  # pretraining epochs


@dataclass(frozen=True)
class DataConfig:
    root: str = ""  # dataset root: root/train/<class>/*.jpg and root/val/<class>/*.jpg
    image_size: int = 224  # crop size of both views
    recipe: str = "vicreg"  # two-view augmentation recipe (mitheory.data.RECIPES)
    workers: int = 8  # decoding workers per process
    decoder: str = "auto"  # JPEG decoder of paper_repro.data (auto picks the fastest present)
    synthetic: bool = False  # random tensors made on the device: the compute ceiling, no JPEGs
    num_classes: int = 1000  # labels of the synthetic loader


@dataclass(frozen=True)
class RunConfig:
    batch_size: int = 2048  # global batch, split evenly over the processes
    precision: str = "bf16"  # bf16 (autocast encoder, float32 loss) | fp32
    channels_last: bool = True  # NHWC memory format for the convolutions
    compile: bool = False  # torch.compile the backbones (nn.Module.compile, same state keys)
    sync_bn: bool = True  # SyncBatchNorm when world size > 1 (CUDA only in torch)
    checkpoint_every: int = 1000  # optimiser steps between checkpoints (0: end of run only)
    out_dir: str = "runs/vicreg"  # checkpoint.pt, stats.jsonl, config.json
    seed: int = 0  # initialisation and data order
    log_every: int = 100  # steps between stats.jsonl lines
    max_steps: int = 0  # stop after this many steps (0: the full schedule; lr follows it anyway)
    device: str = "auto"  # auto (cuda:LOCAL_RANK when present, else cpu) | cpu | cuda
    deterministic: bool = False  # torch.use_deterministic_algorithms (slower on GPU)


@dataclass(frozen=True)
class LinearConfig:
    epochs: int = 100  # linear-probe epochs (VICReg evaluate.py default)
    batch_size: int = 256  # global batch of the probe
    optimizer: str = "sgd"  # sgd | lars
    lr: float = 0.02  # head lr (VICReg README command --lr-head 0.02), cosine over epochs
    momentum: float = 0.9  # SGD momentum (VICReg evaluate.py)
    weight_decay: float = 1e-6  # VICReg evaluate.py default
    label_smoothing: float = 0.0  # none in the papers' protocols
    knn_k: int = 200  # kNN monitor neighbours (Wu et al. 2018; solo-learn)
    knn_temperature: float = 0.1  # kNN vote temperature
    knn_train_samples: int = 0  # training images in the kNN bank (0: all; features in RAM)


@dataclass(frozen=True)
class PaperConfig:
    top1: float = 0.0  # the paper's ImageNet linear top-1 (%), 0 when the paper gives none
    epochs: int = 0  # pretraining epochs behind that number
    source: str = ""  # where the number is stated
    reconstructed: list = field(default_factory=list)  # keys whose value the paper does not give
    reference_top1: float = 0.0  # a verified public number that is NOT this paper's (0: none)
    reference_source: str = ""  # where that reference number is stated, and its setting


@dataclass(frozen=True)
class Config:
    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    data: DataConfig = field(default_factory=DataConfig)
    run: RunConfig = field(default_factory=RunConfig)
    linear: LinearConfig = field(default_factory=LinearConfig)
    paper: PaperConfig = field(default_factory=PaperConfig)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """Nested plain dict (JSON- and TOML-able), the form saved in checkpoints."""
        return dataclasses.asdict(self)

    def peak_lr(self) -> float:
        """``base_lr * batch_size / 256`` (``lr_rule = "linear"``) or ``base_lr``."""
        scale = self.run.batch_size / 256 if self.optim.lr_rule == "linear" else 1.0
        return self.optim.base_lr * scale


SECTIONS: dict[str, type] = {f.name: typing.get_type_hints(Config)[f.name]
                             for f in dataclasses.fields(Config)}
# keys that may change between a run and its resumption (they do not change the numbers)
RESUMABLE_CHANGES = frozenset({"data.workers", "run.log_every", "run.checkpoint_every",
                               "run.max_steps"})


def _parse_value(text: str) -> Any:
    """A command-line value as a TOML literal (``0.3``, ``true``, ``[1, 2]``), else a string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """``raw`` with each ``--section.key=value`` (or ``--model.options.key=value``) applied."""
    out = {k: dict(v) if isinstance(v, dict) else v for k, v in raw.items()}
    for item in overrides:
        if not item.startswith("--") or "=" not in item:
            raise ValueError(f"override must look like --section.key=value, got {item!r}")
        key, text = item[2:].split("=", 1)
        parts = key.split(".")
        if len(parts) < 2:
            raise ValueError(f"override key must be section.key, got {key!r}")
        node = out
        for p in parts[:-1]:
            node[p] = dict(node.get(p, {})) if isinstance(node.get(p, {}), dict) else node[p]
            node = node[p]
        node[parts[-1]] = _parse_value(text)
    return out


def _check_type(key: str, value: Any, tp: Any) -> Any:
    ok = {int: lambda v: isinstance(v, int) and not isinstance(v, bool),
          float: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
          bool: lambda v: isinstance(v, bool), str: lambda v: isinstance(v, str),
          dict: lambda v: isinstance(v, dict), list: lambda v: isinstance(v, list)}[tp]
    if not ok(value):
        raise TypeError(f"{key} must be of type {tp.__name__}, got {value!r}")
    return float(value) if tp is float else value


def _build_section(name: str, cls: type, raw: Any) -> Any:
    if not isinstance(raw, dict):
        raise TypeError(f"[{name}] must be a table, got {raw!r}")
    hints = typing.get_type_hints(cls)
    unknown = sorted(set(raw) - set(hints))
    if unknown:
        raise ValueError(f"unknown key {name}.{unknown[0]} = {raw[unknown[0]]!r}; [{name}] takes "
                         f"{sorted(hints)}")
    return cls(**{k: _check_type(f"{name}.{k}", v, hints[k]) for k, v in raw.items()})


def _validate(cfg: Config) -> None:
    m, o, d, r, lin = cfg.model, cfg.optim, cfg.data, cfg.run, cfg.linear
    check_option(m.method, "model.method", method_names())
    check_option(m.arch, "model.arch", ("resnet18", "resnet34", "resnet50"))
    check_option(m.stem, "model.stem", ("imagenet", "cifar"))
    check_int(m.width, "model.width", minimum=1)
    check_option(o.optimizer, "optim.optimizer", ("lars", "sgd", "adamw"))
    check_positive(o.base_lr, "optim.base_lr")
    check_option(o.lr_rule, "optim.lr_rule", ("linear", "constant"))
    check_positive(o.weight_decay, "optim.weight_decay", strict=False)
    check_probability(o.momentum, "optim.momentum")
    check_positive(o.eta, "optim.eta")
    check_positive(o.warmup_epochs, "optim.warmup_epochs", strict=False)
    check_positive(o.final_lr_ratio, "optim.final_lr_ratio", strict=False)
    check_int(o.epochs, "optim.epochs", minimum=1)
    if o.warmup_epochs >= o.epochs:
        raise ValueError(f"optim.warmup_epochs must be < optim.epochs={o.epochs}, got "
                         f"{o.warmup_epochs}")
    if o.final_lr_ratio > 1:
        raise ValueError(f"optim.final_lr_ratio must be <= 1, got {o.final_lr_ratio}")
    check_int(d.image_size, "data.image_size", minimum=8)
    check_option(d.recipe, "data.recipe", tuple(RECIPES))
    check_int(d.workers, "data.workers", minimum=0)
    check_int(d.num_classes, "data.num_classes", minimum=2)
    if not d.synthetic and not d.root:
        raise ValueError("data.root must name an ImageFolder (or set data.synthetic = true), "
                         "got ''")
    check_int(r.batch_size, "run.batch_size", minimum=2)
    check_option(r.precision, "run.precision", ("bf16", "fp32"))
    check_int(r.checkpoint_every, "run.checkpoint_every", minimum=0)
    check_int(r.log_every, "run.log_every", minimum=1)
    check_int(r.max_steps, "run.max_steps", minimum=0)
    check_int(r.seed, "run.seed", minimum=0)
    if not r.out_dir:
        raise ValueError("run.out_dir must be a folder, got ''")
    if r.device != "auto" and r.device.split(":")[0] not in ("cpu", "cuda"):
        raise ValueError(f"run.device must be auto, cpu or cuda[:i], got {r.device!r}")
    check_int(lin.epochs, "linear.epochs", minimum=1)
    check_int(lin.batch_size, "linear.batch_size", minimum=1)
    check_option(lin.optimizer, "linear.optimizer", ("sgd", "lars"))
    check_positive(lin.lr, "linear.lr")
    check_probability(lin.momentum, "linear.momentum")
    check_positive(lin.weight_decay, "linear.weight_decay", strict=False)
    check_probability(lin.label_smoothing, "linear.label_smoothing")
    check_int(lin.knn_k, "linear.knn_k", minimum=1)
    check_positive(lin.knn_temperature, "linear.knn_temperature")
    check_int(lin.knn_train_samples, "linear.knn_train_samples", minimum=0)
    check_finite_number(cfg.paper.top1, "paper.top1")
    check_finite_number(cfg.paper.reference_top1, "paper.reference_top1")
    for key in cfg.paper.reconstructed:
        section, _, name = str(key).partition(".")
        if section not in SECTIONS or not name:
            raise ValueError(f"paper.reconstructed entries must be section.key, got {key!r}")


def config_from_dict(raw: dict[str, Any]) -> Config:
    """A validated :class:`Config` from a nested dict (a parsed TOML file, a checkpoint's)."""
    if not isinstance(raw, dict):
        raise TypeError(f"config must be a dict of sections, got {type(raw).__name__}")
    unknown = sorted(set(raw) - set(SECTIONS))
    if unknown:
        raise ValueError(f"unknown section [{unknown[0]}]; a config has {sorted(SECTIONS)}")
    cfg = Config(**{name: _build_section(name, cls, raw.get(name, {}))
                    for name, cls in SECTIONS.items()})
    _validate(cfg)
    return cfg


def load_config(path: str | Path, overrides: list[str] | None = None) -> Config:
    """Read a TOML config, apply ``--section.key=value`` overrides, validate (see module doc)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"config must be a TOML file, got {str(path)!r} (not found)")
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    return config_from_dict(apply_overrides(raw, list(overrides or [])))


def check_world_size(cfg: Config, world_size: int) -> int:
    """The per-process batch; ``ValueError`` naming ``run.batch_size`` if it does not divide."""
    b = cfg.run.batch_size
    if b % world_size:
        raise ValueError(f"run.batch_size={b} must be divisible by the world size {world_size}")
    if b // world_size < 2:
        raise ValueError(f"run.batch_size={b} gives {b // world_size} image per process; batch "
                         f"statistics need at least 2 per process")
    return b // world_size


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict) and v:
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def config_diff(saved: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Dotted keys whose values differ between two config dicts (``RESUMABLE_CHANGES`` aside)."""
    a, b = _flatten(saved), _flatten(current)
    return sorted(k for k in set(a) | set(b)
                  if a.get(k) != b.get(k) and k not in RESUMABLE_CHANGES)


def help_text() -> str:
    """Every key with its default and its comment, for ``--help``."""
    lines = []
    for name, cls in SECTIONS.items():
        lines.append(f"[{name}]")
        helps = field_help(cls)
        for f in dataclasses.fields(cls):
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            lines.append(f"  --{name}.{f.name}={default!r}  {helps.get(f.name, '')}")
    return "\n".join(lines)


def overrides_from_file(path: str | Path) -> list[str]:
    """An overlay TOML (e.g. ``configs/tiny.toml``) as ``--section.key=value`` overrides."""
    import json

    with Path(path).open("rb") as fh:
        raw = tomllib.load(fh)
    return [f"--{k}={json.dumps(v)}" for k, v in _flatten(raw).items()]


def parse_args(argv: list[str]) -> tuple[Config, list[str]]:
    """``--config PATH [--overlay PATH ...] [--section.key=value ...]`` -> (config, argv).

    ``--help`` prints every key with its default and meaning. Overlays apply in order, then the
    explicit overrides.
    """
    args, config_path, overrides, overlays = list(argv), None, [], []
    if "-h" in args or "--help" in args:
        print("usage: --config PATH [--overlay PATH] [--section.key=value ...]\n" + help_text())
        raise SystemExit(0)
    i = 0
    while i < len(args):
        a = args[i]
        name, _, val = a.partition("=")
        if name in ("--config", "--overlay"):
            if not val:
                if i + 1 >= len(args):
                    raise ValueError(f"{name} needs a path")
                i, val = i + 1, args[i + 1]
            if name == "--config":
                config_path = val
            else:
                overlays.append(val)
        else:
            overrides.append(a)
        i += 1
    if config_path is None:
        raise ValueError("--config PATH (a paper_repro/configs/*.toml file) is required")
    extra = [o for f in overlays for o in overrides_from_file(f)]
    return load_config(config_path, extra + overrides), list(argv)
