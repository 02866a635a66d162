"""In-memory stand-ins for ``paper_repro.data``'s loaders, with its documented interface.

``TwoViewStandIn`` reads a small ImageFolder into memory and yields ``(x1, x2, labels)``
(augmented by ``mitheory.data.TwoViewAugment``, normalised); its order and augmentation depend
only on (seed, epoch, rank, batch), so ``load_state_dict`` resumes at the exact batch.
``EvalStandIn`` yields ``(x, labels)``. Used by the tests only; a ``stall_at`` step lets the
kill-and-resume test stop a run at a chosen batch.
"""
from __future__ import annotations

import time
from pathlib import Path

import torch

from mitheory.data import ImageFolderDataset, TwoViewAugment, augment_view

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def _load(root, size):
    ds = ImageFolderDataset(root, size=size)
    xs, ys = zip(*(ds[i] for i in range(len(ds))))
    return torch.stack(xs), torch.tensor(ys)


def _generator(*keys: int) -> torch.Generator:
    g = torch.Generator()
    g.manual_seed(hash(keys) % (2**62))  # ints hash to themselves: stable across processes
    return g


class TwoViewStandIn:
    def __init__(self, root, *, batch_size, image_size, recipe, rank=0, world_size=1, seed=0,
                 device="cpu", stall_at=None):
        self.x, self.y = _load(root, image_size)
        self.aug = TwoViewAugment(recipe, image_size)
        self.b, self.rank, self.world, self.seed = batch_size, rank, world_size, seed
        self.device, self.epoch, self.batch, self.stall_at = device, 0, 0, stall_at
        self.consumed = 0  # batches yielded over the loader's life (for stall_at)

    def __len__(self):
        return len(self.x) // (self.b * self.world)

    def set_epoch(self, epoch):
        self.epoch, self.batch = epoch, 0

    def state_dict(self):
        return {"epoch": self.epoch, "batch": self.batch, "seed": self.seed}

    def load_state_dict(self, d):
        self.epoch, self.batch, self.seed = d["epoch"], d["batch"], d["seed"]

    def __iter__(self):
        order = torch.randperm(len(self.x), generator=_generator(self.seed, self.epoch))
        while self.batch < len(self):
            if self.stall_at is not None and self.consumed == self.stall_at:
                time.sleep(600)  # the test kills the process here
            start = (self.batch * self.world + self.rank) * self.b
            idx = order[start:start + self.b]
            g = _generator(self.seed, self.epoch, self.rank, self.batch)
            x1, x2 = self.aug(self.x[idx], g)
            self.batch += 1
            self.consumed += 1
            yield ((x1 - MEAN) / STD).to(self.device), ((x2 - MEAN) / STD).to(self.device), \
                self.y[idx].to(self.device)


class EvalStandIn:
    def __init__(self, root, *, batch_size, image_size, train, augment=None, rank=0,
                 world_size=1, seed=0, device="cpu"):
        self.x, self.y = _load(root, image_size)
        self.b, self.train, self.rank, self.world = batch_size, train, rank, world_size
        self.augment = train if augment is None else augment
        self.seed, self.device, self.epoch = seed, device, 0
        self.view = TwoViewAugment("vicreg", image_size).views[0]

    def set_epoch(self, epoch):
        self.epoch = epoch

    def __len__(self):
        n = len(self.x) // self.world
        return -(-n // self.b)

    def __iter__(self):
        idx_all = torch.arange(len(self.x))[self.rank::self.world]
        if self.train:
            idx_all = idx_all[torch.randperm(len(idx_all),
                                             generator=_generator(self.seed, self.epoch))]
        for i in range(0, len(idx_all), self.b):
            idx = idx_all[i:i + self.b]
            x = self.x[idx]
            if self.augment:
                x = augment_view(x, self.view, x.shape[-1],
                                 generator=_generator(self.seed, self.epoch, self.rank, i))
            yield ((x - MEAN) / STD).to(self.device), self.y[idx].to(self.device)


def train_loader_factory(root, stall_at=None):
    """A ``make_loader`` for :func:`paper_repro.pretrain.train` over the ImageFolder ``root``."""
    def make(cfg, *, rank, world_size, batch_size, device):
        assert str(cfg.data.root) == str(root), "the config must name the stand-in's root"
        return TwoViewStandIn(Path(root) / "train", batch_size=batch_size,
                              image_size=cfg.data.image_size,
                              recipe=cfg.data.recipe, rank=rank, world_size=world_size,
                              seed=cfg.run.seed, device=device, stall_at=stall_at)
    return make


def eval_loader_factory():
    """A ``make_loader`` for :func:`paper_repro.linear_eval.evaluate` (dataset root)."""
    def make(root, *, batch_size, image_size, train, rank, world_size, seed, device,
             augment=None):
        return EvalStandIn(Path(root) / ("train" if train else "val"), batch_size=batch_size,
                           image_size=image_size, train=train, augment=augment, rank=rank,
                           world_size=world_size, seed=seed, device=device)
    return make
