"""Registered SSL methods on images: a ResNet backbone + projector, trained on view pairs.

:func:`make_image_method` builds the encoder ``ResNet -> projector [-> SphereNorm]`` and hands it
to the registry's factory, so every registered method (its loss from ``mitheory.objectives``,
its predictor and EMA target) runs on images unchanged. The representation that is evaluated is
the backbone output, before the projector, as in SimCLR, BYOL and VICReg.
:func:`train_images` is the image loop: view pairs from an :class:`~mitheory.generative.ImageWorld`
or from a user's loader with a :class:`~mitheory.data.TwoViewAugment`, AdamW or LARS, linear
warmup + cosine learning rate, atomic checkpoints that resume bit-exactly (for an ImageWorld).
"""
from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from mitheory._rng import as_generator, spawn, torch_generator
from mitheory._types import Seed
from mitheory._validate import (check_device, check_finite_number, check_finite_tensor,
                                check_image_batch, check_int, check_method, check_module,
                                check_option, check_positive)
from mitheory.data import RECIPES, TwoViewAugment, augment_view
from mitheory.generative.images import ImageWorld
from mitheory.models import ResNet, SphereNorm, init_linear_, make_projector
from mitheory.train._loop import TrainResult, resolve_device
from mitheory.train._method import EMATarget, SSLMethod, method_spec
from mitheory.train._optim import LARS, param_groups, warmup_cosine


class ImageEncoder(nn.Module):
    """``head(backbone(x))``: a ResNet backbone and its projector head (maybe on the sphere).

    ``compute_dtype`` (default ``None``: the parameters' dtype) runs backbone and head under
    ``torch.autocast`` in that dtype (e.g. ``torch.bfloat16``) and returns float32 embeddings,
    so the loss after it (log-dets, covariances) is computed in float32 outside autocast.
    """

    compute_dtype: torch.dtype | None = None

    def __init__(self, backbone: nn.Module, head: nn.Module) -> None:
        check_module(backbone, "backbone")
        check_module(head, "head")
        super().__init__()
        self.backbone, self.head = backbone, head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.compute_dtype is None:
            return self.head(self.backbone(x))
        with torch.autocast(x.device.type, dtype=self.compute_dtype):
            z = self.head(self.backbone(x))
        return z.float()


class ImageMethod(SSLMethod):
    """A registered method whose encoder is an :class:`ImageEncoder`.

    ``loss`` and ``after_step`` are the wrapped method's; ``embed`` is the backbone output (the
    representation the papers evaluate). The wrapped method is ``self.method``.
    """

    def __init__(self, method: SSLMethod) -> None:
        nn.Module.__init__(self)  # the encoder is registered once, inside the wrapped method
        check_method(method)
        if not isinstance(method.encoder, ImageEncoder):
            raise TypeError("method.encoder must be an ImageEncoder")
        self.method = method
        self.name, self.needs_negatives = method.name, method.needs_negatives

    @property
    def encoder(self) -> ImageEncoder:  # type: ignore[override]
        return self.method.encoder

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.method.encoder.backbone(x)

    @property
    def gather(self) -> bool:  # type: ignore[override]
        return self.method.gather

    @gather.setter
    def gather(self, value: bool) -> None:
        self.method.gather = bool(value)

    def loss(self, x_a, x_b, x_neg=None):
        return self.method.loss(x_a, x_b, x_neg)

    def loss_and_terms(self, x_a, x_b, x_neg=None):
        return self.method.loss_and_terms(x_a, x_b, x_neg)

    def after_step(self, step: int, total_steps: int) -> None:
        self.method.after_step(step, total_steps)


def make_image_method(name: str, *, arch: Literal["resnet18", "resnet34", "resnet50"] = "resnet18",
                      stem: Literal["cifar", "imagenet"] = "cifar",
                      projector: str | None = "512-512", width: int = 64,
                      **options: Any) -> ImageMethod:
    """A registered method on images: ResNet backbone, projector, the method's own heads.

    Parameters
    ----------
    name : str
        A registered method (``method_names()``).
    arch, stem : str
        ResNet depth and stem (``"cifar"``: 3x3 stride-1 stem for 32x32 images).
    projector : str or None
        Projector widths after the backbone (``make_projector``; VICReg-style Linear-BN-ReLU,
        last Linear without bias); ``None`` puts the loss on the backbone output itself. The
        projector's last width is the ``dim_out`` the method's factory receives.
    width : int
        ResNet base width (64 in the papers; 8-16 for CPU-scale runs).
    **options
        The method's options (``tau``, ``kappa``, ``base_momentum``, ``predictor_hidden``...).

    Returns
    -------
    ImageMethod
        Untrained: :func:`train_images` (or :func:`init_image_method_`) initialises it from a
        seed. When the record's ``sphere_output`` holds for ``options``, ``SphereNorm`` follows
        the projector.
    """
    spec = method_spec(name)
    if projector is not None and not isinstance(projector, (str, list, tuple)):
        raise TypeError(f"projector must be a width spec such as '512-512' or None, got "
                        f"{projector!r}")
    backbone = ResNet(check_option(arch, "arch", ("resnet18", "resnet34", "resnet50")),
                      stem=stem, width=width)
    head: list[nn.Module] = []
    dim_out = backbone.feature_dim
    if projector is not None:
        try:
            proj = make_projector(projector, backbone.feature_dim)
        except ValueError as exc:
            raise ValueError(f"projector: {exc}") from exc
        head.append(proj)
        dim_out = proj[-1].out_features
    if spec.flag("sphere_output", options):
        head.append(SphereNorm())
    encoder = ImageEncoder(backbone, nn.Sequential(*head))
    return ImageMethod(spec.factory(encoder, dim_out, **options))


def init_image_method_(method: SSLMethod, seed: Seed) -> SSLMethod:
    """Initialise every weight of ``method`` from ``seed`` alone (no global RNG), in place.

    Convolutions Kaiming-normal (fan_out, ReLU) as torchvision, Linear layers as
    :func:`~mitheory.models.init_linear_`, BatchNorm weight 1, bias 0 and fresh running
    statistics; an EMA target becomes a copy of the online encoder. Returns ``method``.
    """
    check_method(method)
    ss_conv, ss_lin = spawn(seed, 2)
    g = torch_generator(ss_conv)
    with torch.no_grad():
        for m in method.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu", generator=g)
            elif isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.reset_parameters()
    init_linear_(method, ss_lin)
    inner = getattr(method, "method", method)
    if isinstance(inner, EMATarget):
        inner.target.load_state_dict(inner.encoder.state_dict())
    return method


@dataclass(frozen=True)
class ImageTrainConfig:
    """Settings of :func:`train_images`.

    Attributes
    ----------
    steps : int
        Optimiser steps.
    batch_size : int
        Pairs per step drawn from an ImageWorld (a loader's own batch size is used as it is).
    optimizer : {"adamw", "lars"}
        AdamW (``torch.optim.AdamW``) or :class:`LARS`; both with :func:`param_groups` (no decay
        on biases and norm parameters).
    lr : float
        Peak learning rate. For LARS, VICReg's rule is ``0.2 * batch_size / 256``.
    weight_decay : float
    warmup_steps : int
        Linear warmup steps, then cosine decay (:func:`warmup_cosine`).
    final_lr_ratio : float
        Final rate as a fraction of ``lr`` (VICReg: 0.001).
    augment : {"simclr", "byol", "vicreg"} or None
        Two-view recipe applied to an ImageWorld's rendered pair (view 1 recipe to the first
        image, view 2 to the second); ``None`` trains on the rendered pair as it is.
    blur : bool
        Keep the recipe's Gaussian blur (SimCLR drops it on CIFAR).
    device : str
        ``"auto"``, ``"cpu"`` or ``"cuda[:i]"``.
    log_every : int
        Record the loss every ``log_every`` steps (and at the last step).
    checkpoint_every : int
        Save a checkpoint every this many steps (0: only at the end); needs a ``checkpoint``
        path in :func:`train_images`.
    progress : bool
        tqdm bar (only when stderr is a terminal).
    """

    steps: int = 200
    batch_size: int = 64
    optimizer: Literal["adamw", "lars"] = "adamw"
    lr: float = 1e-3
    weight_decay: float = 1e-4
    warmup_steps: int = 0
    final_lr_ratio: float = 0.001
    augment: str | None = None
    blur: bool = False
    device: str = "auto"
    log_every: int = 10
    checkpoint_every: int = 0
    progress: bool = True

    def __post_init__(self) -> None:
        check_int(self.steps, "steps", minimum=1)
        check_int(self.batch_size, "batch_size", minimum=2)
        check_option(self.optimizer, "optimizer", ("adamw", "lars"))
        check_positive(self.lr, "lr")
        check_finite_number(self.weight_decay, "weight_decay")
        check_int(self.warmup_steps, "warmup_steps", minimum=0)
        if self.warmup_steps > self.steps:
            raise ValueError(f"warmup_steps must be <= steps={self.steps}, got "
                             f"{self.warmup_steps}")
        check_int(self.log_every, "log_every", minimum=1)
        check_int(self.checkpoint_every, "checkpoint_every", minimum=0)
        if self.augment is not None:
            check_option(self.augment, "augment", tuple(RECIPES))
        if self.device != "auto":
            check_device(self.device)


class _WorldViews:
    """View pairs and fresh negatives rendered by an ImageWorld (state: two generators)."""

    def __init__(self, world: ImageWorld, cfg: ImageTrainConfig, seed: Seed, device) -> None:
        ss_np, ss_aug = spawn(seed, 2)
        self.world, self.n, self.device = world, cfg.batch_size, device
        self.rng, self.gen = as_generator(ss_np), torch_generator(ss_aug, world.device)
        self.aug = (TwoViewAugment(cfg.augment, world.image_size, blur=cfg.blur)
                    if cfg.augment is not None else None)

    def _view(self, x: torch.Tensor, i: int) -> torch.Tensor:
        if self.aug is not None:
            x = augment_view(x, self.aug.views[i], self.aug.size, generator=self.gen)
        return x.to(self.device)

    def pair(self):
        b = self.world.sample_pairs(self.n, seed=self.rng)
        return self._view(b.x, 0), self._view(b.x_tilde, 1)

    def negatives(self) -> torch.Tensor:  # fresh marginal images, augmented as view 1
        return self._view(self.world.render(self.world.sample_factors(self.n, seed=self.rng)), 0)

    def state(self) -> dict[str, Any]:
        return {"numpy": self.rng.bit_generator.state, "torch": self.gen.get_state()}

    def load(self, state: dict[str, Any]) -> None:
        self.rng.bit_generator.state = state["numpy"]
        self.gen.set_state(state["torch"])


class _LoaderViews:
    """Two augmented views of each batch of a user's loader, cycled; negatives = next batch."""

    def __init__(self, loader: Iterable, augment: TwoViewAugment, seed: Seed, device) -> None:
        self.loader, self.aug, self.device = loader, augment, device
        self.gen, self.it = torch_generator(seed), iter(loader)

    def _batch(self) -> torch.Tensor:
        try:
            b = next(self.it)
        except StopIteration:
            self.it = iter(self.loader)
            b = next(self.it)
        return b[0] if isinstance(b, (list, tuple)) else b

    def pair(self):
        va, vb = self.aug(self._batch(), self.gen)
        return va.to(self.device), vb.to(self.device)

    def negatives(self) -> torch.Tensor:
        return self.aug(self._batch(), self.gen)[0].to(self.device)

    def state(self) -> dict[str, Any]:
        return {"torch": self.gen.get_state()}

    def load(self, state: dict[str, Any]) -> None:
        self.gen.set_state(state["torch"])


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> None:
    """``torch.save(state)`` atomically: a temporary file beside ``path``, then ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """The dict :func:`save_checkpoint` wrote (``weights_only=False``: it holds RNG states)."""
    return torch.load(path, map_location="cpu", weights_only=False)


def train_images(method: SSLMethod, sampler: ImageWorld | Iterable, cfg: ImageTrainConfig, *,
                 seed: Seed, augment: TwoViewAugment | None = None,
                 checkpoint: str | os.PathLike | None = None,
                 callback: Callable[[int, SSLMethod], None] | None = None) -> TrainResult:
    """Train ``method`` (e.g. from :func:`make_image_method`) on image view pairs.

    Parameters
    ----------
    method : SSLMethod
        Modified in place; initialised from ``seed`` (unless resumed from ``checkpoint``).
    sampler : ImageWorld or iterable of image batches
        An ImageWorld: each step renders ``cfg.batch_size`` fresh content/style pairs
        (augmented by ``cfg.augment`` if set). Otherwise a loader (e.g. a ``DataLoader`` over
        :class:`~mitheory.data.ArrayDataset`) yielding ``images`` or ``(images, labels)``
        batches, cycled; both views come from ``augment``.
    cfg : ImageTrainConfig
    seed : int, tuple, Generator or SeedSequence
        Two named streams: the initialisation, then the data (rendering and augmentations).
    augment : TwoViewAugment, optional
        Required with a loader.
    checkpoint : path, optional
        Saved every ``cfg.checkpoint_every`` steps and at the end; if the file exists when
        training starts, training resumes from it (model, optimiser, step, RNG states). With an
        ImageWorld the resumed run reproduces the uninterrupted one; a loader restarts its
        iteration (its order is the loader's own).
    callback : callable, optional
        ``callback(steps_done, method)`` after every optimiser step (e.g. an evaluation at
        chosen steps; the method is in train mode and must be left so).

    Notes
    -----
    Methods that need negatives (``needs_negatives``) get a fresh batch each step: newly
    rendered marginal images (ImageWorld) or the next loader batch, not the other views of the
    current batch (those include each anchor's own positive).

    Raises
    ------
    FloatingPointError
        At the first non-finite loss, naming the step, the method and the learning rate.
    ValueError
        For a loader without ``augment``, or bad config values.
    """
    check_method(method)
    if not isinstance(cfg, ImageTrainConfig):
        raise TypeError(f"cfg must be an ImageTrainConfig, got {type(cfg).__name__}")
    if not isinstance(sampler, ImageWorld) and not isinstance(sampler, Iterable):
        raise TypeError(f"sampler must be an ImageWorld or an iterable of image batches, got "
                        f"{type(sampler).__name__}")
    steps = check_int(cfg.steps, "steps", minimum=1)
    check_int(cfg.batch_size, "batch_size", minimum=2)
    check_positive(cfg.lr, "lr")
    check_option(cfg.optimizer, "optimizer", ("adamw", "lars"))
    if cfg.augment is not None:
        check_option(cfg.augment, "augment", tuple(RECIPES))
    ss_init, ss_data = spawn(seed, 2)
    device = resolve_device(cfg.device)
    if isinstance(sampler, ImageWorld):
        views: _WorldViews | _LoaderViews = _WorldViews(sampler, cfg, ss_data, device)
    elif augment is None:
        raise ValueError("augment (a TwoViewAugment) is required when sampler is a loader")
    else:
        views = _LoaderViews(sampler, augment, ss_data, device)
    init_image_method_(method, ss_init)
    method.to(device).train()
    groups = param_groups(method, cfg.weight_decay)
    opt = (LARS(groups, lr=cfg.lr) if cfg.optimizer == "lars"
           else torch.optim.AdamW(groups, lr=cfg.lr))
    result, start = TrainResult(device=str(device)), 0
    if checkpoint is not None and Path(checkpoint).exists():
        ck = load_checkpoint(checkpoint)
        method.load_state_dict(ck["method"])
        opt.load_state_dict(ck["optimizer"])
        views.load(ck["views"])
        start, result.losses = ck["step"], [tuple(x) for x in ck["losses"]]

    def save(step: int) -> None:
        if checkpoint is not None:
            save_checkpoint(checkpoint, {"step": step, "method": method.state_dict(),
                                         "optimizer": opt.state_dict(), "views": views.state(),
                                         "losses": result.losses})

    bar = tqdm(range(start, steps), desc=method.name, leave=False,
               disable=not (cfg.progress and sys.stderr.isatty()))
    t0 = time.perf_counter()
    for step in bar:
        lr = warmup_cosine(step, steps, min(cfg.warmup_steps, steps - 1), cfg.lr,
                           cfg.lr * cfg.final_lr_ratio)
        for g in opt.param_groups:
            g["lr"] = lr
        x_a, x_b = views.pair()
        x_neg = views.negatives() if method.needs_negatives else None
        loss = method.loss(x_a, x_b, x_neg)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"non-finite loss {loss.item()} at step {step} of method "
                                     f"{method.name} (lr={lr:.3g})")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        method.after_step(step, steps)
        if step % cfg.log_every == 0 or step == steps - 1:
            result.losses.append((step, float(loss.detach())))
            bar.set_postfix(loss=f"{float(loss.detach()):.4f}")
        if callback is not None:
            callback(step + 1, method)
        if cfg.checkpoint_every and (step + 1) % cfg.checkpoint_every == 0 and step + 1 < steps:
            save(step + 1)
    save(steps)
    result.wall_time_s, result.steps = time.perf_counter() - t0, steps
    method.eval()
    return result


@torch.no_grad()
def embed_images(method: SSLMethod, images: torch.Tensor, *, batch_size: int = 512,
                 features: Literal["embed", "encoder"] = "embed") -> np.ndarray:
    """Features of each image in eval mode, as float64 numpy (n, dim).

    ``features="embed"``: ``method.embed`` (for an :class:`ImageMethod`, the backbone output);
    ``"encoder"``: ``method.encoder``, the output the loss sees (after the projector).
    """
    check_method(method, needs_loss=False)
    check_image_batch(images, "images", channels=None)
    check_finite_tensor(images, "images")
    if len(images) < 1:
        raise ValueError("images must hold at least one image, got an empty batch")
    check_int(batch_size, "batch_size", minimum=1)
    fn = method.embed if check_option(features, "features", ("embed", "encoder")) == "embed" \
        else method.encoder
    was_training = method.training
    method.eval()
    device = next(method.parameters()).device
    out = [fn(images[i:i + batch_size].to(device)).cpu()
           for i in range(0, len(images), batch_size)]
    method.train(was_training)
    return torch.cat(out).double().numpy()
