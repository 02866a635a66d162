"""MINC's gradients are less noisy than the spectral contrastive loss's. Claim C14 (part: lower-
variance gradients; the other parts are in studies.minc_ablations). Paper: Guo et al. 2025.

Run:  python -m studies.minc_gradient_variance [--quick] [--seed 0] [--batch-sizes 32 ... 1024]
Writes: figures/minc_gradient_variance.{png,pdf,json,md,csv}

Protocol ``reconstructed`` (MINC's equations and ImageNet protocol were not readable; dossier
mmi_minc.md 2.4): one MLP encoder is trained briefly with the spectral contrastive loss on a
latent process; at those fixed weights, each loss's mini-batch gradient is drawn over
independent batches (``train.gradient_variance_sweep``) and its relative variance
tr Cov(g)/|E g|^2 (scale-free, so losses of different scales compare) is measured per batch
size. The reference is the unclipped spectral loss (mu = 1e6; the official mu = 1 clips
gradient norms), the loss MINC is derived from; MINC's moment EMA gets 10 warm-up batches.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from mitheory import train as tr
from mitheory.plotting import lines_by
from mitheory.study import cached_process, every_verdict, run_study, spawn, subplots

MINC = {"decorrelation": "gha", "moment_decay": 0.8}  # MINC as in studies.minc_ablations
GV_METHODS = {"spectral": ("spectral", {}, 0), "spectral unclipped": ("spectral", {"mu": 1e6}, 0),
              "minc ema=0": ("minc", {**MINC, "moment_decay": 0.0}, 0),
              "minc ema=0.8": ("minc", MINC, 10)}  # label: (method, options, warm-up batches)


@dataclass(frozen=True)
class Config:
    process: str = "cs_p1.0"  # latent process (PROCESS_NAMES) the encoder is trained on
    batch_sizes: tuple[int, ...] = (32, 64, 128, 256, 512, 1024)  # gradient-variance batches
    seed: int = 0  # root seed of every stream of the study
    batch_size: int = 256  # positive pairs per step of the encoder's brief training
    hidden: tuple[int, ...] = (64, 64)  # encoder hidden widths
    gv_pretrain_steps: int = 200  # spectral-loss steps of the encoder the gradients are taken at
    gv_batches: int = 24  # independent batches per gradient-variance estimate


QUICK = replace(Config(), batch_sizes=(32, 128), batch_size=64, gv_pretrain_steps=5,
                gv_batches=4)


def run(cfg: Config) -> dict:
    # gradient spread at one fixed encoder, briefly trained with the spectral loss
    proc = cached_process(cfg.process, (cfg.seed, 0, 0))
    base, _ = tr.make_and_train("spectral", proc, tr.TrainConfig(
        steps=cfg.gv_pretrain_steps, batch_size=cfg.batch_size, device="cpu", progress=False),
        seed=spawn((cfg.seed, 99), 2)[0], dim_out=len(proc.content_idx), hidden=cfg.hidden)
    gv = tr.gradient_variance_sweep(  # reference: the loss MINC is derived from (no clipping)
        base, proc, GV_METHODS, cfg.batch_sizes, reference="spectral unclipped",
        n_batches=cfg.gv_batches, hidden=cfg.hidden, dim_out=len(proc.content_idx),
        seed=cfg.seed, cos_key="cos_mean_grad_vs_unclipped_spectral")
    return {"protocol": "reconstructed", "grad_variance": gv, "claims": verdicts(gv)}


def verdicts(gv: list[dict]) -> list[dict]:
    ratio = tr.relative_variance_ratio(gv, "minc ema=0.8", reference="spectral unclipped")
    return [every_verdict(
        "C14", ratio, ("<", 1), (">=", 1), over="batch size", protocol="reconstructed",
        quantity="relative gradient variance tr Cov(g)/|E g|^2 of MINC (EMA 0.8) over the "
        "unclipped spectral loss's (mu = 1e6: the official mu = 1 clips norms)", n_seeds=1,
        evidence={"relvar_minc_over_unclipped_spectral": ratio, "rows": [dict(r) for r in gv]},
        notes="part: lower-variance gradients")]


def plot(results: dict):
    gv = results["grad_variance"]
    fig, axes = subplots(1, 2, axsize=(3.4, 2.6))
    lines_by(axes[0, 0], gv, "label", "batch_size", lambda r: r["total_variance"] / r["signal"]
             if r["signal"] > 0 else np.nan, marker="o")
    axes[0, 0].set(title="gradient noise / signal", xlabel="batch size", xscale="log",
                   yscale="log", ylabel=r"tr Cov(g) / $\|E g\|^2$")
    lines_by(axes[0, 1], gv, "label", "batch_size", "cos_mean_grad_vs_unclipped_spectral",
             marker="o")
    axes[0, 1].set(title="direction of the mean gradient", xlabel="batch size", xscale="log",
                   ylabel="cosine to the unclipped spectral's")
    return fig


def main(argv: list[str] | None = None) -> dict:
    return run_study("minc_gradient_variance", Config, run, plot, argv, quick=QUICK,
                     description=__doc__, tables=lambda r: {"minc_gradient_variance":
                                                            r["grad_variance"]})


if __name__ == "__main__":
    main()
