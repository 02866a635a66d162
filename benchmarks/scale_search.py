"""R^2 per CPU-second of one InfoNCE cell of the headline study at a chosen scale.

Run:  python -m benchmarks.scale_search setting=box_normal bs=1024 sched=cosine lr=5e-3 \
          [steps=3000] [width=64] [std=8192] [white=1] [neg=N] [rep=0] [train_seed=N] \
          [directions=1]

Trains InfoNCE (the form ``train.infonce_options`` matches to the process) on one replicate of
``studies.latent_identifiability``'s process, with that study's seed streams for the process,
the training, the evaluation and the input statistics (so ``bs=512 sched=cosine lr=5e-3
steps=2400 white=1`` on a content/style setting is the study's default cell), and prints the
training seconds and the content linear / kernel R^2 at ``log_checkpoints(steps, 4)``.

* ``std=0`` feeds raw x; ``white=1`` ZCA-whitens x with the ``std`` samples (else each
  coordinate is standardised).
* ``neg`` sets InfoNCE's fresh negatives per step apart from the batch.
* ``train_seed`` replaces the study's training stream (the same process, another
  initialisation and batch order).
* ``directions=1`` (content/style settings) also prints the held-out linear R^2 from h of each
  eigen-direction of the content covariance and of each style direction beyond content (the
  generalised eigenvectors behind ``ContentStyleProcess.style_invariance_ratios``; a large
  ratio: the augmentation hardly moves that direction), each as ``eigenvalue-or-ratio:R^2``.

The measurements that chose the default are in ``benchmarks/results_scale.txt``.
"""
from __future__ import annotations

import sys
import time

import numpy as np
import torch

from mitheory import stats, train as tr
from mitheory.stats import log_checkpoints
from studies.latent_identifiability import Config


def direction_r2(method, proc) -> dict[str, tuple[np.ndarray, list[float]]]:
    """Held-out linear R^2 from h of each content eigen-direction (``"content"``: eigenvalues
    of Sigma_c, R^2) and each style direction beyond content (``"style"``: invariance ratios,
    R^2), on 8192 marginal samples of a stream of their own, fitted on one half."""
    h, z = tr.embed_samples(method, proc, 8192, seed=12345)  # a stream of its own
    c, s = z[:, :proc.n_content], z[:, proc.n_content:]
    s0 = s - c @ proc.b_matrix.T - proc.a_vector  # style given content (zero shift if none)
    ratios, style_dirs = proc.style_invariance_directions()
    evals, content_dirs = np.linalg.eigh(proc.sigma_c)
    half, out = len(h) // 2, {}
    for block, vals, proj in (("content", evals, c @ content_dirs),
                              ("style", ratios, s0 @ style_dirs)):
        r2 = stats.r2_identifiability(h[:half], proj[:half], h[half:], proj[half:])
        out[block] = (vals, r2["r2_per_dim"])
    return out


def _directions(method, proc) -> str:
    """:func:`direction_r2` as ``label: R^2 value:r2 ...`` for content and style."""
    return " | ".join(f"{label}: R^2 " + " ".join(f"{v:.3g}:{r:.3f}" for v, r in zip(*vals_r2))
                      for label, vals_r2 in zip(("content eigenvalue", "style ratio"),
                                                direction_r2(method, proc).values()))


def main(argv=None) -> str:
    args = dict(a.split("=", 1) for a in (sys.argv[1:] if argv is None else argv))
    torch.set_num_threads(1)
    cfg = Config()
    setting = args.get("setting", "box_normal")
    steps, rep = int(args.get("steps", 3000)), int(args.get("rep", 0))
    sched, std = args.get("sched", "constant"), int(args.get("std", 8192))
    proc = cfg.process(setting, rep)
    ss_train, ss_eval, ss_std = cfg.cell_streams(setting, rep, "infonce")
    ss_train = int(args["train_seed"]) if "train_seed" in args else ss_train
    tcfg = tr.TrainConfig(steps=steps, batch_size=int(args.get("bs", 256)),
                          lr=float(args.get("lr", 2e-3)), device="cpu", progress=False,
                          lr_schedule=sched, warmup_steps=steps // 20 if sched == "cosine" else 0,
                          prefetch_steps=50,
                          negatives=int(args["neg"]) if "neg" in args else None)
    t0 = time.perf_counter()
    fit = tr.fit_and_evaluate(
        "infonce", proc, tcfg, seed_train=ss_train, seed_eval=ss_eval, n_fit=cfg.n_fit,
        n_eval=cfg.n_eval, n_kernel_fit=cfg.n_kernel_fit,
        hidden=(int(args.get("width", 64)),) * 3,
        input_stats=tr.input_statistics(proc, std, seed=ss_std, whiten=args.get("white") == "1")
        if std else None,
        checkpoints=log_checkpoints(steps, 4), **tr.infonce_options(proc))
    line = (" ".join(f"{k}={v}" for k, v in args.items())
            + f" | train {fit.train.wall_time_s:.0f} s, cell {time.perf_counter() - t0:.0f} s | "
            + " ".join(f"{c['step']}:{c['content']['linear']:.3f}/{c['content']['kernel']:.3f}"
                       for c in fit.curve)
            + (" | " + _directions(fit.method, proc) if args.get("directions") == "1" else ""))
    print(line, flush=True)
    return line


if __name__ == "__main__":
    main()
