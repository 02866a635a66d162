"""ImageNet loaders for pretraining and linear evaluation: sharded, resumable, two-view.

CPU worker processes read each file, decode it (``paper_repro.decode``) and cut the random
resized crops (bilinear with anti-aliasing, as torchvision's PIL path) to uint8; the rest
of the recipe (flip, colour jitter, grayscale, blur, solarize: ``mitheory.data``'s batched
ops) and the ImageNet normalisation run per batch on ``device``. Every random number comes
from a seed derived from ``(seed, epoch, sample index)`` (crops, on CPU) or ``(seed, epoch,
rank, batch index)`` (the batched ops, on ``device``), so a run resumed from ``state_dict``
yields exactly the batches the uninterrupted run would have (on the same device type).

The layout is ImageNet's: ``root/train/<class>/*`` and ``root/val/<class>/*`` (the class
folders of ``val`` must be the same as ``train``'s, e.g. after the usual val re-foldering).
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from mitheory._validate import check_device, check_int, check_option
from mitheory.data import (
    RECIPES,
    ImageFolderDataset,
    ViewRecipe,
    augment_after_crop,
    sample_crop_boxes,
)
from paper_repro.decode import decode_jpeg, jpeg_size, reduced_min_size, resolve_backend

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
EVAL_RESIZE_RATIO = 256 / 224  # eval: resize the short side to 256 for a 224 crop
# the linear-eval train transform: RandomResizedCrop (on CPU) + horizontal flip (on device)
EVAL_TRAIN_VIEW = ViewRecipe(flip_p=0.5, jitter_p=0.0, gray_p=0.0, blur_p=0.0, solarize_p=0.0)
_CROP_STREAM, _BATCH_STREAM = 0, 1  # tags that keep the two seed families apart


def _derived_seed(*parts: int) -> int:
    """A 63-bit torch seed from a tuple of non-negative ints (``SeedSequence`` hashing)."""
    state = np.random.SeedSequence([int(p) for p in parts]).generate_state(1, dtype=np.uint64)
    return int(state[0] % (2**63 - 1))


def shard_indices(n_samples: int, *, epoch: int, seed: int, rank: int, world_size: int,
                  shuffle: bool = True, equal_shards: bool = True) -> np.ndarray:
    """The sample indices of ``rank`` for ``epoch``: ``DistributedSampler``'s rule.

    A permutation of ``range(n_samples)`` seeded by ``(seed, epoch)`` (or the identity when
    ``shuffle`` is False), cut to a multiple of ``world_size`` when ``equal_shards`` (the
    ``n_samples mod world_size`` samples at its end are skipped this epoch, a different few
    each epoch; DistributedSampler pads with repeats instead), then every ``world_size``-th
    index from ``rank``. The shards of all ranks are disjoint.
    """
    if shuffle:
        order = np.random.default_rng([seed, epoch]).permutation(n_samples)
    else:
        order = np.arange(n_samples)
    if equal_shards:
        order = order[: n_samples // world_size * world_size]
    return order[rank::world_size]


class _ShardBatches:
    """Batch sampler over one rank's shard, from batch ``start`` (set before each iteration).

    Yields lists of ``(epoch, sample_index)``: the epoch travels with the index so that
    persistent workers, which hold a frozen copy of the dataset, still seed by it.
    """

    def __init__(self, n_samples: int, batch_size: int, *, seed: int, rank: int,
                 world_size: int, shuffle: bool, drop_last: bool) -> None:
        self.n_samples, self.batch_size, self.seed = n_samples, batch_size, seed
        self.rank, self.world_size = rank, world_size
        self.shuffle, self.drop_last = shuffle, drop_last
        self.epoch, self.start = 0, 0

    def _shard(self) -> np.ndarray:
        return shard_indices(self.n_samples, epoch=self.epoch, seed=self.seed, rank=self.rank,
                             world_size=self.world_size, shuffle=self.shuffle,
                             equal_shards=self.shuffle)

    def __len__(self) -> int:
        ws = self.world_size  # equal shards when shuffled, else ceil((n - rank) / ws)
        n = self.n_samples // ws if self.shuffle else (self.n_samples - self.rank + ws - 1) // ws
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        idx = self._shard()
        for b in range(self.start, len(self)):
            yield [(self.epoch, int(i)) for i in idx[b * self.batch_size:(b + 1) * self.batch_size]]


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise OSError(f"cannot read image file {path!r}: {exc}") from exc
    if not data:
        raise ValueError(f"image file {path!r} is empty (0 bytes)")
    return data


def _resize_u8(x: torch.Tensor, hw: tuple[int, int]) -> torch.Tensor:
    """uint8 (1, 3, h, w) -> uint8 (3, *hw): bilinear with anti-aliasing, torch's uint8 kernel
    (matches Pillow's BILINEAR resize, torchvision's PIL path, to within 1/100 grey level on
    average when measured, at a third of its CPU time)."""
    if tuple(x.shape[-2:]) == tuple(hw):
        return x[0].contiguous()
    y = F.interpolate(x, size=hw, mode="bilinear", antialias=True, align_corners=False)
    return y[0].contiguous()


def _crop_resize(img: torch.Tensor, box: torch.Tensor, scale_yx: tuple[float, float],
                 size: int) -> torch.Tensor:
    """``box = (top, left, h, w)`` in full-resolution pixels, cut from ``img`` (uint8
    (1, 3, H', W') decoded at ``scale_yx`` of full resolution; the box is rounded to its pixels)
    and resized to uint8 (3, size, size)."""
    sy, sx = scale_yx
    top, left, h, w = (float(v) for v in box)
    t, lf = int(round(top * sy)), int(round(left * sx))
    hh, ww = max(1, int(round(h * sy))), max(1, int(round(w * sx)))
    return _resize_u8(img[:, :, t:t + hh, lf:lf + ww], (size, size))


class _FolderCrops(torch.utils.data.Dataset):
    """Worker-side work for one sample: read, decode (reduced when the crops allow), crop.

    ``views`` holds one ``ViewRecipe`` per random resized crop (two for pretraining, one for
    linear-eval training); ``views=()`` means the eval transform (short side resized to
    ``round(image_size * 256 / 224)``, centre crop).
    """

    def __init__(self, samples: list[tuple[str, int]], *, image_size: int,
                 views: tuple[ViewRecipe, ...], decoder: str, seed: int,
                 reduced_decode: bool) -> None:
        self.samples, self.size, self.views = samples, image_size, views
        self.decoder, self.seed, self.reduced_decode = decoder, seed, reduced_decode
        # one draw for all views when they share the crop law (saves torch's per-call cost)
        self._one_draw = len({(v.crop_scale, v.crop_ratio) for v in views}) == 1

    def __len__(self) -> int:
        return len(self.samples)

    def _decode(self, data: bytes, path: str, h: int, w: int, smallest: float, target: int):
        ms = reduced_min_size(h, w, smallest, target) if self.reduced_decode else None
        arr = decode_jpeg(data, backend=self.decoder, min_size=ms, name=path)  # (h', w', 3)
        img = torch.from_numpy(arr).permute(2, 0, 1)[None]  # (1, 3, h', w'), channels-last view
        return img, (arr.shape[0] / h, arr.shape[1] / w)

    def _boxes(self, h: int, w: int, g: torch.Generator) -> list[torch.Tensor]:
        v = self.views
        if self._one_draw:
            return list(sample_crop_boxes(len(v), h, w, scale=v[0].crop_scale,
                                          ratio=v[0].crop_ratio, generator=g))
        return [sample_crop_boxes(1, h, w, scale=r.crop_scale, ratio=r.crop_ratio,
                                  generator=g)[0] for r in v]

    def __getitem__(self, item: tuple[int, int]):
        epoch, index = item
        path, label = self.samples[index]
        data = _read(path)
        h, w = jpeg_size(data, name=path)
        if not self.views:
            return self._center(data, path, h, w), label
        g = torch.Generator().manual_seed(_derived_seed(self.seed, epoch, index, _CROP_STREAM))
        boxes = self._boxes(h, w, g)  # (top, left, h, w) per view
        smallest = min(float(b[2:].min()) for b in boxes)
        img, scale = self._decode(data, path, h, w, smallest, self.size)
        return (*(_crop_resize(img, b, scale, self.size) for b in boxes), label)

    def _center(self, data: bytes, path: str, h: int, w: int) -> torch.Tensor:
        s = self.size
        short = int(round(s * EVAL_RESIZE_RATIO))
        img, _ = self._decode(data, path, h, w, min(h, w), short)
        ih, iw = img.shape[-2:]
        # torchvision Resize(short): the short side to `short`, the long one int(short*l/s)
        nh, nw = (int(short * ih / iw), short) if iw <= ih else (short, int(short * iw / ih))
        img = _resize_u8(img, (nh, nw))
        top, left = int(round((nh - s) / 2.0)), int(round((nw - s) / 2.0))  # CenterCrop
        return img[:, top:top + s, left:left + s].contiguous()


def _worker_init(_: int) -> None:
    torch.set_num_threads(1)  # the batched ops run in the main process; workers decode


class _EpochLoader:
    """Shared machinery: epochs, per-rank batches, resume state, device transfer."""

    def __init__(self, dataset, n_samples: int, *, batch_size: int, seed: int, rank: int,
                 world_size: int, workers: int, device, shuffle: bool, drop_last: bool) -> None:
        self.batch_size = check_int(batch_size, "batch_size", minimum=1)
        self.seed = check_int(seed, "seed", minimum=0)
        self.world_size = check_int(world_size, "world_size", minimum=1)
        self.rank = check_int(rank, "rank", minimum=0)
        if self.rank >= self.world_size:
            raise ValueError(f"rank must be < world_size = {world_size}, got {rank}")
        workers = check_int(workers, "workers", minimum=0)
        self.device = check_device(device)
        self._sampler = _ShardBatches(n_samples, self.batch_size, seed=self.seed, rank=self.rank,
                                      world_size=self.world_size, shuffle=shuffle,
                                      drop_last=drop_last)
        if len(self._sampler) == 0:
            raise ValueError(f"{n_samples} samples over world_size = {world_size} ranks give no "
                             f"full batch of batch_size = {batch_size}")
        self._loader = None if dataset is None else torch.utils.data.DataLoader(
            dataset, batch_sampler=self._sampler, num_workers=workers,
            pin_memory=self.device.type == "cuda", persistent_workers=workers > 0,
            prefetch_factor=4 if workers > 0 else None,
            worker_init_fn=_worker_init if workers > 0 else None)
        self.epoch, self._start, self._consumed = 0, 0, 0

    def __len__(self) -> int:
        return len(self._sampler)

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch (its shuffle and augmentation seeds); a new epoch starts at batch 0,
        the epoch of a just-loaded state keeps its resume batch."""
        epoch = check_int(epoch, "epoch", minimum=0)
        if epoch != self.epoch:
            self.epoch, self._start, self._consumed = epoch, 0, 0

    def state_dict(self) -> dict:
        """``{"epoch", "batch": batches already yielded in this epoch, "seed"}``."""
        return {"epoch": self.epoch, "batch": self._consumed, "seed": self.seed}

    def load_state_dict(self, state: dict) -> None:
        """Resume: the next iteration starts at ``state["batch"]`` of ``state["epoch"]``.

        Exact when ``batch_size``, ``world_size``, ``rank``, the file list and the device
        type are those of the run that saved it. Raises ``ValueError`` for a missing key, a
        batch outside ``0..len(self)``, or a seed other than this loader's.
        """
        if not isinstance(state, dict) or not {"epoch", "batch", "seed"} <= set(state):
            raise ValueError(f"state must be a dict with keys epoch, batch, seed, got {state!r}")
        if state["seed"] != self.seed:
            raise ValueError(f"state['seed'] = {state['seed']!r} differs from this loader's "
                             f"seed {self.seed}: the resumed batches would not match")
        epoch = check_int(state["epoch"], "state['epoch']", minimum=0)
        batch = check_int(state["batch"], "state['batch']", minimum=0)
        if batch > len(self):
            raise ValueError(f"state['batch'] must be <= len(loader) = {len(self)}, got {batch}")
        self.epoch, self._start, self._consumed = epoch, batch, batch

    def _batch_generator(self, batch: int) -> torch.Generator:
        g = torch.Generator(device=self.device)
        g.manual_seed(_derived_seed(self.seed, self.epoch, self.rank, batch, _BATCH_STREAM))
        return g

    def _normalise(self, x: torch.Tensor) -> torch.Tensor:
        mean = torch.tensor(IMAGENET_MEAN, device=x.device).view(1, 3, 1, 1)
        std = torch.tensor(IMAGENET_STD, device=x.device).view(1, 3, 1, 1)
        return (x - mean) / std

    def _to_device(self, t: torch.Tensor) -> torch.Tensor:
        return t.to(self.device, non_blocking=True)

    def _source(self):
        return iter(self._loader)

    def _finish(self, batch, gen: torch.Generator):
        raise NotImplementedError

    def cpu_batches(self):
        """The worker side alone: this epoch's collated CPU batches (uint8 crops, labels), from
        batch 0, without the device-side steps and without touching the resume state (to
        measure the CPU cost per image)."""
        self._sampler.epoch, self._sampler.start = self.epoch, 0
        return self._source()

    def __iter__(self):
        start, self._start = self._start, 0  # a loaded resume point applies once
        self._sampler.epoch, self._sampler.start = self.epoch, start
        self._consumed = start
        for b, batch in enumerate(self._source(), start=start):
            out = self._finish(batch, self._batch_generator(b))
            self._consumed = b + 1  # counted when handed out: a checkpoint taken now resumes after
            yield out


class TwoViewLoader(_EpochLoader):
    """Iterable over ``(x1, x2, labels)``: two augmented, normalised views per image.

    ``x1``, ``x2``: float32 (B, 3, S, S) on ``device``; ``labels``: int64 (B,) on ``device``.
    ``len()`` is the number of batches per epoch of this rank (the last partial batch is
    dropped, so every rank takes the same number of steps). Built by
    :func:`make_train_loader` or :func:`synthetic_loader`.
    """

    def __init__(self, dataset, n_samples: int, *, views: tuple[ViewRecipe, ViewRecipe],
                 **kw) -> None:
        super().__init__(dataset, n_samples, shuffle=True, drop_last=True, **kw)
        self.views = views

    def _finish(self, batch, gen: torch.Generator):
        v1, v2, labels = (self._to_device(t) for t in batch)
        x1 = self._normalise(augment_after_crop(v1, self.views[0], generator=gen))
        x2 = self._normalise(augment_after_crop(v2, self.views[1], generator=gen))
        return x1, x2, labels


class _SyntheticTwoView(TwoViewLoader):
    """Random normalised-scale tensors made on ``device``: no files, no decode, no CPU work."""

    def __init__(self, *, batch_size: int, image_size: int, num_classes: int, n_batches: int,
                 **kw) -> None:
        self.image_size = check_int(image_size, "image_size", minimum=1)
        self.num_classes = check_int(num_classes, "num_classes", minimum=1)
        n_batches = check_int(n_batches, "n_batches", minimum=1)
        super().__init__(None, n_batches * batch_size, batch_size=batch_size, views=(),
                         world_size=1, rank=0, workers=0, **kw)

    def _source(self):
        return iter(range(self._sampler.start, len(self)))

    def _finish(self, batch, gen: torch.Generator):
        shape = (self.batch_size, 3, self.image_size, self.image_size)
        x1 = torch.randn(shape, generator=gen, device=self.device)
        x2 = torch.randn(shape, generator=gen, device=self.device)
        labels = torch.randint(0, self.num_classes, (self.batch_size,), generator=gen,
                               device=self.device)
        return x1, x2, labels


class EvalLoader(_EpochLoader):
    """Iterable over ``(x, labels)`` for linear evaluation (see :func:`make_eval_loader`)."""

    def __init__(self, dataset, n_samples: int, *, train: bool, augment: bool, **kw) -> None:
        super().__init__(dataset, n_samples, shuffle=train, drop_last=False, **kw)
        self.train, self.augment = train, augment

    def _finish(self, batch, gen: torch.Generator):
        x, labels = (self._to_device(t) for t in batch)
        if self.augment:
            return self._normalise(augment_after_crop(x, EVAL_TRAIN_VIEW, generator=gen)), labels
        return self._normalise(x.float() / 255), labels


def _split_samples(root, split: str) -> list[tuple[str, int]]:
    folder = Path(root) / split
    if not folder.is_dir():
        raise FileNotFoundError(f"{str(folder)!r} is not a folder: root must hold the "
                                f"ImageFolder trees train/ and val/ (as ImageNet's)")
    return ImageFolderDataset(folder).samples


def _common(image_size, decoder) -> tuple[int, str]:
    size = check_int(image_size, "image_size", minimum=1)
    if not isinstance(decoder, str):
        raise TypeError(f"decoder must be a string, got {decoder!r}")
    return size, resolve_backend(decoder)


def make_train_loader(root: str | os.PathLike, *, batch_size: int, image_size: int = 224,
                      recipe: str = "vicreg", workers: int = 8, decoder: str = "auto",
                      rank: int = 0, world_size: int = 1, seed: int = 0, device="cpu",
                      reduced_decode: bool = True) -> TwoViewLoader:
    """The pretraining loader over ``root/train``: two views per image (``recipe``).

    Parameters
    ----------
    root : path
        Folder holding ``train/<class>/*`` (ImageNet's layout).
    batch_size : int
        Images per batch on this rank (the global batch is ``batch_size * world_size``).
    image_size : int
        Side of each view.
    recipe : {"simclr", "byol", "vicreg"}
        ``mitheory.data.RECIPES``; the crop parameters are used on CPU, the rest on device.
    workers : int
        DataLoader worker processes (0: decode in this process).
    decoder : {"auto", "pillow", "simplejpeg"}
        ``paper_repro.decode`` backend.
    rank, world_size : int
        This process's shard of the epoch's permutation (see :func:`shard_indices`).
    seed : int
        Seeds the permutation, the crops and the batched augmentations.
    device : str or torch.device
        Where the batched augmentations run and the batches are returned.
    reduced_decode : bool
        Decode in the DCT domain at the smallest scale that keeps both crops at >= image_size
        pixels per side (``decode.reduced_min_size``); changes the pixels slightly (box
        filtering before the bilinear resize), see ``decode_jpeg``.

    Raises
    ------
    FileNotFoundError
        If ``root/train`` is missing. ``ValueError``: unknown recipe or decoder, rank out of
        range, a shard too small for one batch; a corrupt or empty file raises ``ValueError``
        naming it when its batch is loaded.
    """
    size, backend = _common(image_size, decoder)
    check_option(recipe, "recipe", tuple(RECIPES))
    samples = _split_samples(root, "train")
    ds = _FolderCrops(samples, image_size=size, views=RECIPES[recipe], decoder=backend,
                      seed=check_int(seed, "seed", minimum=0), reduced_decode=reduced_decode)
    return TwoViewLoader(ds, len(samples), views=RECIPES[recipe], batch_size=batch_size,
                         seed=seed, rank=rank, world_size=world_size, workers=workers,
                         device=device)


def synthetic_loader(*, batch_size: int, image_size: int = 224, device="cpu", seed: int = 0,
                     num_classes: int = 1000, n_batches: int = 100) -> TwoViewLoader:
    """A :class:`TwoViewLoader` of standard-normal tensors made on ``device`` (``n_batches``
    per epoch), to measure the training step's compute ceiling without any data loading."""
    return _SyntheticTwoView(batch_size=batch_size, image_size=image_size,
                             num_classes=num_classes, n_batches=n_batches, seed=seed,
                             device=device)


def make_eval_loader(root: str | os.PathLike, *, batch_size: int, image_size: int = 224,
                     train: bool, augment: bool | None = None, workers: int = 8,
                     decoder: str = "auto", rank: int = 0, world_size: int = 1, seed: int = 0,
                     device="cpu", reduced_decode: bool = True) -> EvalLoader:
    """Linear-evaluation loader: ``(x, labels)`` batches, normalised, on ``device``.

    ``train=True`` reads ``root/train`` shuffled per epoch with RandomResizedCrop(0.08, 1)
    (CPU) and a horizontal flip (device), equal shards per rank; ``train=False`` reads
    ``root/val`` in file order, short side resized to ``round(image_size * 256 / 224)``
    (bilinear) and centre-cropped, every sample exactly once over the ranks (shards differ by
    at most one sample). The last batch may be partial. ``augment`` (default: ``train``)
    chooses the transform independently of the split: ``train=True, augment=False`` is the
    train split, shuffled, with the val transform (resize + centre crop), e.g. a kNN bank of
    un-augmented train images. Other arguments as :func:`make_train_loader`.
    """
    if not isinstance(train, bool):
        raise TypeError(f"train must be a bool, got {train!r}")
    augment = train if augment is None else augment
    if not isinstance(augment, bool):
        raise TypeError(f"augment must be a bool or None, got {augment!r}")
    size, backend = _common(image_size, decoder)
    samples = _split_samples(root, "train" if train else "val")
    views = (ViewRecipe(),) if augment else ()  # ViewRecipe(): crop scale (0.08, 1), ratio 3/4..4/3
    ds = _FolderCrops(samples, image_size=size, views=views, decoder=backend,
                      seed=check_int(seed, "seed", minimum=0), reduced_decode=reduced_decode)
    return EvalLoader(ds, len(samples), train=train, augment=augment, batch_size=batch_size,
                      seed=seed, rank=rank, world_size=world_size, workers=workers,
                      device=device)
