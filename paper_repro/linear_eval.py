"""Linear evaluation of a pretrained backbone (frozen, BN in eval mode) plus a kNN monitor.

Run:    python -m paper_repro.linear_eval --checkpoint runs/vicreg/checkpoint.pt --data ROOT
        torchrun --nproc_per_node=8 -m paper_repro.linear_eval ... [--linear.lr=0.3 ...]
Writes: <out>/linear_eval.json (top-1/top-5 of the probe and the kNN monitor, per-epoch curve,
        plateau status, protocol) and <out>/linear_eval.md (the row beside the paper's number).

The protocol is facebookresearch/vicreg ``evaluate.py`` (@7c44ca0, read in full): backbone
frozen and in eval mode, ``Linear(feature_dim, classes)`` initialised N(0, 0.01) with zero bias,
SGD momentum 0.9 with weight decay, cosine annealing per epoch, cross-entropy without label
smoothing, train views RandomResizedCrop + flip, val Resize(256) + CenterCrop(224); the
papers' lr / epochs / batch come from the config's ``[linear]`` (VICReg's README: lr 0.02).
For the other rows the probe settings the dossiers do not give are listed as reconstructed in
the JSON (the config's ``paper.reconstructed`` entries under ``linear.``). The kNN monitor is
the weighted kNN of ``mitheory.train.knn_predict`` (k = 200, T = 0.1) on the same features;
its bank is the train split without augmentation (resize + centre crop, as the val images),
shuffled, so that a ``linear.knn_train_samples`` limit takes a random subset of the classes' images.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from mitheory.plotting import atomic_write_text
from mitheory.train import LARS, knn_predict, load_checkpoint, trend_status, warmup_cosine
from paper_repro.config import Config, apply_overrides, config_from_dict
from paper_repro.pretrain import build_method, init_distributed

PLATEAU_TOL = 0.1  # top-1 points between the last two epochs for "plateaued"


def default_eval_loader(root: str, *, batch_size: int, image_size: int, train: bool,
                        rank: int, world_size: int, seed: int, device: torch.device,
                        augment: bool | None = None):
    """``paper_repro.data.make_eval_loader``: ``root/train`` shuffled (``train=True``) or
    ``root/val`` in file order; augmented (RandomResizedCrop + flip) when ``augment`` (default:
    ``train``), else resized and centre-cropped."""
    from paper_repro import data

    return data.make_eval_loader(root, batch_size=batch_size, image_size=image_size,
                                 train=train, augment=augment, rank=rank,
                                 world_size=world_size, seed=seed, device=device)


def _topk_correct(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(correct top-1, correct top-5, count) of one batch (top-5 capped at the classes)."""
    top = logits.topk(min(5, logits.shape[1]), dim=1).indices  # (B, 5)
    hit = top == y[:, None]
    return torch.tensor([hit[:, 0].sum().item(), hit.any(dim=1).sum().item(), len(y)],
                        dtype=torch.float64)


def _all_sum(t: torch.Tensor, world: int, device: torch.device) -> torch.Tensor:
    if world > 1:
        t = t.to(device)
        dist.all_reduce(t)
    return t.cpu()


@torch.no_grad()
def _features(backbone: nn.Module, loader, limit: int = 0) -> tuple[np.ndarray, np.ndarray]:
    feats, labels, n = [], [], 0
    for x, y in loader:
        feats.append(backbone(x).float().cpu())
        labels.append(y.cpu())
        n += len(y)
        if limit and n >= limit:
            break
    f, lab = torch.cat(feats).numpy(), torch.cat(labels).numpy()
    return (f[:limit], lab[:limit]) if limit else (f, lab)


def knn_accuracy(train_f: np.ndarray, train_y: np.ndarray, test_f: np.ndarray,
                 test_y: np.ndarray, *, k: int, temperature: float, n_classes: int,
                 chunk: int = 1024) -> dict[str, float]:
    """Top-1 / top-5 (%) of :func:`mitheory.train.knn_predict`, queries in chunks (memory)."""
    top1 = top5 = 0
    for i in range(0, len(test_f), chunk):
        _, scores = knn_predict(train_f, train_y, test_f[i:i + chunk], k=k,
                                temperature=temperature, n_classes=n_classes)
        c = _topk_correct(torch.as_tensor(scores), torch.as_tensor(test_y[i:i + chunk]))
        top1, top5 = top1 + c[0].item(), top5 + c[1].item()
    return {"top1": 100 * top1 / len(test_f), "top5": 100 * top5 / len(test_f),
            "k": min(k, len(train_f)), "temperature": temperature, "n_train": len(train_f),
            "n_test": len(test_f)}


def evaluate(checkpoint: str | Path, data_root: str | Path, *, out: str | Path | None = None,
             overrides: list[str] | None = None,
             make_loader: Callable[..., Any] | None = None) -> dict[str, Any]:
    """Linear probe + kNN monitor of ``checkpoint``'s backbone on ``data_root/{train,val}``.

    ``overrides`` (``--linear.lr=0.3`` ...) change the checkpoint config's ``[linear]`` only.
    Returns the dict written to ``out/linear_eval.json`` (rank 0; default out: the
    checkpoint's folder).
    """
    ck_path, root = Path(checkpoint), Path(data_root)
    if not ck_path.is_file():
        raise ValueError(f"checkpoint must be a file written by paper_repro.pretrain, got "
                         f"{str(ck_path)!r}")
    for split in ("train", "val"):
        if not (root / split).is_dir():
            raise ValueError(f"data must hold {split}/<class>/ folders, got {str(root)!r}")
    bad = [o for o in overrides or [] if not o.startswith("--linear.")]
    if bad:
        raise ValueError(f"only --linear.key=value overrides apply to an evaluation, got {bad}")
    ck = load_checkpoint(ck_path)
    cfg: Config = config_from_dict(apply_overrides(ck["config"], list(overrides or [])))
    lin = cfg.linear
    rt = init_distributed(cfg.run.device)
    make_loader = make_loader or default_eval_loader
    try:
        # ---- model: the frozen backbone ----
        method = build_method(cfg)
        method.load_state_dict(ck["method"])
        backbone = method.method.encoder.backbone.to(rt.device).eval().requires_grad_(False)
        if cfg.run.channels_last:
            backbone.to(memory_format=torch.channels_last)
        classes = sorted(d.name for d in (root / "train").iterdir() if d.is_dir())
        head = nn.Linear(backbone.feature_dim, len(classes)).to(rt.device)
        nn.init.normal_(head.weight, mean=0.0, std=0.01)
        nn.init.zeros_(head.bias)
        probe: nn.Module = head
        if rt.world_size > 1:
            ids = [rt.device.index] if rt.device.type == "cuda" else None
            probe = nn.parallel.DistributedDataParallel(head, device_ids=ids)
        dtype = torch.bfloat16 if cfg.run.precision == "bf16" else None

        def feats(x: torch.Tensor) -> torch.Tensor:
            if cfg.run.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            with torch.no_grad(), torch.autocast(rt.device.type, dtype=dtype or torch.float32,
                                                 enabled=dtype is not None):
                return backbone(x).float()

        # ---- data ----
        if lin.batch_size % rt.world_size:
            raise ValueError(f"linear.batch_size={lin.batch_size} must be divisible by the "
                             f"world size {rt.world_size}")
        kw = dict(batch_size=lin.batch_size // rt.world_size, image_size=cfg.data.image_size,
                  rank=rt.rank, world_size=rt.world_size, seed=cfg.run.seed, device=rt.device)
        train_loader = make_loader(str(root), train=True, **kw)
        val_loader = make_loader(str(root), train=False, **kw)

        # ---- optim ----
        if lin.optimizer == "lars":
            opt = LARS(head.parameters(), lr=lin.lr, weight_decay=lin.weight_decay,
                       momentum=lin.momentum)
        else:
            opt = torch.optim.SGD(head.parameters(), lr=lin.lr, momentum=lin.momentum,
                                  weight_decay=lin.weight_decay)
        criterion = nn.CrossEntropyLoss(label_smoothing=lin.label_smoothing)

        # ---- loop: cosine over epochs, val after each ----
        curve, t0 = [], time.perf_counter()
        for epoch in range(lin.epochs):
            for g in opt.param_groups:  # CosineAnnealingLR(opt, epochs), eta_min 0
                g["lr"] = warmup_cosine(epoch, lin.epochs, 0, lin.lr)
            train_loader.set_epoch(epoch)
            head.train()
            for x, y in train_loader:
                loss = criterion(probe(feats(x)), y)
                if not torch.isfinite(loss):
                    raise FloatingPointError(f"non-finite probe loss at epoch {epoch}: "
                                             f"{loss.item()} (linear.lr={lin.lr})")
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
            head.eval()
            counts = torch.zeros(3, dtype=torch.float64)
            with torch.no_grad():
                for x, y in val_loader:
                    counts += _topk_correct(head(feats(x)), y)
            c = _all_sum(counts, rt.world_size, rt.device)
            curve.append({"epoch": epoch, "top1": 100 * c[0].item() / c[2].item(),
                          "top5": 100 * c[1].item() / c[2].item(), "loss": float(loss.detach())})

        # ---- kNN monitor (rank 0, one process's view of the splits) ----
        result: dict[str, Any] = {}
        if rt.rank == 0:
            # the bank: the train split without augmentation (the val transform), shuffled
            solo = dict(kw, rank=0, world_size=1)
            bank = make_loader(str(root), train=True, augment=False, **solo)
            bank.set_epoch(0)
            tr_f, tr_y = _features(feats, bank, lin.knn_train_samples)
            te_f, te_y = _features(feats, make_loader(str(root), train=False, **solo))
            knn = knn_accuracy(tr_f, tr_y, te_f, te_y, k=lin.knn_k,
                               temperature=lin.knn_temperature, n_classes=len(classes))
            knn["bank"] = "train split without augmentation (resize + centre crop), shuffled"
            result = _report(cfg, ck, curve, knn, ck_path, time.perf_counter() - t0)
            out_dir = Path(out) if out is not None else ck_path.parent
            out_dir.mkdir(parents=True, exist_ok=True)
            atomic_write_text(out_dir / "linear_eval.json", json.dumps(result, indent=1))
            atomic_write_text(out_dir / "linear_eval.md", result["table"])
        if rt.world_size > 1:
            dist.barrier()
        return result
    finally:
        if rt.owns_group:
            dist.destroy_process_group()




def _report(cfg: Config, ck: dict, curve: list[dict], knn: dict, ck_path: Path,
            wall_s: float) -> dict[str, Any]:
    last, p = curve[-1], cfg.paper
    recon = [k for k in p.reconstructed if k.startswith("linear.")]
    row = (f"| {cfg.model.method} | {cfg.model.arch} | {ck['step']} steps | {last['top1']:.2f} | "
           f"{knn['top1']:.2f} | {p.top1 if p.top1 else 'n/a'} ({p.epochs or '?'} ep) | "
           f"{p.reference_top1 if p.reference_top1 else 'n/a'} |")
    table = ("| method | backbone | pretraining | linear top-1 (%) | kNN top-1 (%) | paper top-1 "
             "| public reference (not the paper) |\n|---|---|---|---|---|---|---|\n" + row + "\n")
    return {
        "checkpoint": str(ck_path), "pretraining_steps": ck["step"],
        "linear": {"top1": last["top1"], "top5": last["top5"],
                   "best_top1": max(c["top1"] for c in curve),
                   "best_top5": max(c["top5"] for c in curve), "per_epoch": curve,
                   "status": trend_status([c["top1"] for c in curve], tol=PLATEAU_TOL),
                   "plateau_tol_top1": PLATEAU_TOL},
        "knn": knn,
        "paper": cfg.to_dict()["paper"],
        "protocol": {"name": "facebookresearch/vicreg evaluate.py (frozen backbone, BN eval)",
                     "status": "reconstructed" if recon else "official",
                     "reconstructed": recon, "settings": cfg.to_dict()["linear"]},
        "wall_s": wall_s, "torch": torch.__version__, "table": table,
    }


def main(argv: list[str] | None = None, *, make_loader: Callable[..., Any] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--checkpoint", required=True, help="checkpoint.pt of paper_repro.pretrain")
    p.add_argument("--data", required=True, help="dataset root with train/ and val/ folders")
    p.add_argument("--out", default=None, help="output folder (default: the checkpoint's)")
    args, overrides = p.parse_known_args(sys.argv[1:] if argv is None else argv)
    return evaluate(args.checkpoint, args.data, out=args.out, overrides=overrides,
                    make_loader=make_loader)


if __name__ == "__main__":
    main()
