"""R^2 per CPU-second of one InfoNCE cell of the headline study at a chosen scale.

Run:  python -m benchmarks.scale_search setting=box_normal bs=1024 sched=cosine lr=5e-3 \
          [steps=3000] [width=64] [std=8192] [white=1] [neg=N] [rep=0]

Trains InfoNCE (the form ``train.infonce_options`` matches to the process) on one replicate of
``studies.latent_identifiability``'s process, with that study's seed streams for the process,
the training, the evaluation and the input statistics (so ``bs=512 sched=cosine lr=5e-3
steps=2400 white=1`` on a content/style setting is the study's default cell), and prints the
training seconds and the
content linear / kernel R^2 at ``log_checkpoints(steps, 4)``. ``std=0`` feeds raw x,
``white=1`` ZCA-whitens x with the ``std`` samples (else each coordinate is standardised);
``neg`` sets InfoNCE's fresh negatives per step apart from the batch. The measurements that
chose the default are in ``benchmarks/results_scale.txt``.
"""
from __future__ import annotations

import sys
import time

import torch

from mitheory import generative, train as tr
from mitheory.stats import log_checkpoints
from mitheory.study import int_seed, spawn
from studies.latent_identifiability import Config


def main(argv=None) -> str:
    args = dict(a.split("=", 1) for a in (sys.argv[1:] if argv is None else argv))
    torch.set_num_threads(1)
    cfg = Config()
    setting = args.get("setting", "box_normal")
    steps, rep = int(args.get("steps", 3000)), int(args.get("rep", 0))
    sched, std = args.get("sched", "constant"), int(args.get("std", 8192))
    si = cfg.settings.index(setting)
    proc = generative.make_process(setting, seed=int_seed((cfg.seed, si, rep)))
    ss_train, ss_eval, ss_std = spawn((cfg.seed, si, rep, 1), 3)  # InfoNCE is objective 0
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
                       for c in fit.curve))
    print(line, flush=True)
    return line


if __name__ == "__main__":
    main()
