"""Benchmark of the headline study's training cell: the previous and the new configuration.

Run:  python -m benchmarks.bench_train [--steps 200] [--repeats 2] [--out FILE]
Writes: the printed report to ``--out`` (default benchmarks/results_train.txt).

In this process, one thread, measured in the same run:

1. Training steps/s of every default objective of ``studies.latent_identifiability`` on a
   sphere, a box and a content/style setting, through ``mitheory.train.train`` (best of
   ``repeats`` x ``steps`` steps), for the previous configuration (each step's batch drawn
   alone: ``prefetch_steps=1``, batch 256 for every objective) and the new default
   (``prefetch_steps=50``, the study's per-objective batch), and the R^2 evaluation time.
2. The kernels replaced in the new code, against the implementations they replace:
   InfoNCE's denominator, ``torch.logsumexp`` vs ``mitheory._kde.logsumexp`` (forward +
   backward on box-temperature logits), the truncated-Normal box conditional,
   ``scipy.stats.truncnorm.ppf`` inverse-CDF sampling vs the rejection sampler, and the
   finiteness check every loss runs on its embeddings, ``isfinite(z).all()`` vs
   ``mitheory._validate.check_finite_tensor`` (a sum and one scalar read).
3. Seconds per cell and for the whole default grid (58 cells over the study's workers) from
   the measured parts: ``steps x step time + evaluations x evaluation time``, per
   configuration; the previous one at batch 256 and 3000 steps with 3 evaluations, the new one
   at the study's steps per setting.
"""
from __future__ import annotations

import argparse
import math
import platform
from pathlib import Path

import numpy as np
import torch
from scipy.stats import truncnorm
from threadpoolctl import threadpool_limits

from benchmarks._timing import best_time
from mitheory import generative, train as tr
from mitheory._kde import logsumexp
from mitheory._validate import check_finite_tensor
from mitheory.generative import sample_truncated_conditional
from mitheory.stats import log_checkpoints
from studies.latent_identifiability import Config

OUT = Path(__file__).resolve().parent / "results_train.txt"
SETTINGS = ("sphere_vmf", "box_normal", "cs_p1.0")


def _step_time(name, proc, cfg: Config, batch: int, prefetch: int, steps: int,
               repeats: int) -> float:
    opts = tr.infonce_options(proc) if name == "infonce" else {}
    best = float("inf")
    for r in range(repeats):
        m = tr.make_method(name, dim_in=proc.dim_x, hidden=cfg.hidden,
                           dim_out=tr.representation_dim(name, proc, **opts), **opts)
        tc = tr.TrainConfig(steps=steps, batch_size=batch, lr=1e-3, device="cpu",
                            progress=False, prefetch_steps=prefetch)
        best = min(best, tr.train(m, proc, tc, seed=r).wall_time_s / steps)
    return best


def _autograd_logsumexp(x: torch.Tensor, dim: int) -> torch.Tensor:
    """The floored log-sum-exp as it was before its backward was written out (the same
    values; autograd's chain through the clamp, exp, sum and log): the baseline."""
    m = x.detach().amax(dim, keepdim=True)
    m = torch.where(torch.isfinite(m), m, torch.zeros_like(m))
    s = torch.exp((x - m).clamp_min(-80.0)).sum(dim)
    out = m.squeeze(dim) + torch.log(s)
    return torch.where(torch.isneginf(x).all(dim), torch.full_like(out, -math.inf), out)


def _kernels(repeats: int) -> list[str]:
    g = torch.Generator().manual_seed(0)
    h, neg = torch.rand(1024, 10, generator=g), torch.rand(1024, 10, generator=g)
    logits = (-torch.cdist(h, neg) ** 2 / 0.005).requires_grad_()  # box InfoNCE, tau 2 * .05^2
    # content/style InfoNCE, tau 1: 512 anchors x (512 positives + 512 fresh negatives)
    cs = torch.randn(512, 5, generator=g) * 2
    cs_logits = (-torch.cdist(cs, torch.randn(1024, 5, generator=g) * 2) ** 2).requires_grad_()

    def lse(f, x=logits):
        return lambda: torch.autograd.grad(f(x, 1).sum(), x)

    t_ref, _ = best_time(lse(torch.logsumexp), repeats=5 * repeats)
    t_new, _ = best_time(lse(logsumexp), repeats=5 * repeats)
    b_ref, _ = best_time(lse(_autograd_logsumexp, cs_logits), repeats=5 * repeats)
    b_new, _ = best_time(lse(logsumexp, cs_logits), repeats=5 * repeats)
    loc = np.random.default_rng(0).uniform(size=(12800, 10))  # 50 steps x batch 256 of a box
    scale = 0.05

    def ppf():
        u = np.random.default_rng(1).uniform(size=loc.shape)
        return loc + scale * truncnorm.ppf(u, -loc / scale, (1 - loc) / scale)

    s_ref, _ = best_time(ppf, repeats=repeats)
    s_new, _ = best_time(lambda: sample_truncated_conditional(loc, scale, seed=1),
                         repeats=repeats)
    z = torch.randn(256, 10, generator=g).requires_grad_() * 2  # a VICReg batch's embeddings

    def finite_checks(check):
        return lambda: [check(z) for _ in range(1000)]

    f_ref, _ = best_time(finite_checks(lambda t: bool(torch.isfinite(t).all())),
                         repeats=repeats)
    f_new, _ = best_time(finite_checks(lambda t: check_finite_tensor(t, "z")), repeats=repeats)
    return ["| kernel | baseline ms | new ms | speed-up |", "|---|---|---|---|",
            f"| InfoNCE logsumexp fwd+bwd, 1024 x 1024 box logits | {t_ref * 1e3:.2f} "
            f"(torch.logsumexp) | {t_new * 1e3:.2f} | {t_ref / t_new:.2f}x |",
            f"| the same fwd+bwd, 512 x 1024 content/style logits | {b_ref * 1e3:.2f} "
            f"(autograd's backward) | {b_new * 1e3:.2f} (written backward) | "
            f"{b_ref / b_new:.2f}x |",
            f"| truncated Normal, 12800 x 10 box conditional | {s_ref * 1e3:.2f} "
            f"(truncnorm.ppf) | {s_new * 1e3:.2f} | {s_ref / s_new:.2f}x |",
            f"| 1000 finiteness checks of a 256 x 10 embedding batch | {f_ref * 1e3:.2f} "
            f"(isfinite(z).all()) | {f_new * 1e3:.2f} | {f_ref / f_new:.2f}x |"]


def main(argv=None) -> str:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=200, help="steps timed per repeat")
    ap.add_argument("--repeats", type=int, default=2, help="best of this many repeats")
    ap.add_argument("--out", type=Path, default=OUT, help="report file")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    threadpool_limits(1)  # the study's workers' BLAS threads, for the evaluation timing
    cfg = Config()
    n_ev = len(log_checkpoints(cfg.steps, cfg.n_checkpoints))
    lines = [f"bench_train: one thread, torch {torch.__version__}, {platform.machine()}; "
             f"hidden {cfg.hidden}, best of {args.repeats} x {args.steps} steps; cell = steps + "
             f"{n_ev} evaluations (n_fit={cfg.n_fit}, n_kernel_fit={cfg.n_kernel_fit}); previous "
             f"3000 steps, new {cfg.steps} ({cfg.zimmermann_steps_factor} x on sphere/box, "
             f"{cfg.dependent_infonce_steps_factor} x for InfoNCE on cs_stat(_causal))", "",
             "| setting | objective | previous steps/s (batch 256, prefetch 1; new kernels) | "
             "new batch | new steps/s (prefetch 50) | eval s | previous cell s | new cell s |",
             "|---" * 8 + "|"]
    cells = {"previous": {}, "new": {}}
    for setting in SETTINGS:
        proc = generative.make_process(setting, seed=0)
        for name in cfg.objectives:
            if name == "er_gaussian" and setting == "sphere_vmf":
                continue
            tcfg = cfg.train_config(name, setting)
            batch = tcfg.batch_size
            old = _step_time(name, proc, cfg, 256, 1, args.steps, args.repeats)
            new = _step_time(name, proc, cfg, batch, 50, args.steps, args.repeats)
            m = tr.make_method(name, dim_in=proc.dim_x, hidden=cfg.hidden,
                               dim_out=tr.representation_dim(name, proc))
            t_eval, _ = best_time(lambda: tr.evaluate_identifiability(
                m, proc, n_fit=cfg.n_fit, n_eval=cfg.n_eval, n_kernel_fit=cfg.n_kernel_fit,
                seed=0, style_baseline=False), repeats=args.repeats)
            c_old = 3000 * old + n_ev * t_eval
            c_new = tcfg.steps * new + n_ev * t_eval
            cells["previous"][setting, name], cells["new"][setting, name] = (old, t_eval), (
                new, t_eval)
            lines.append(f"| {setting} | {name} | {1 / old:.0f} | {batch} | {1 / new:.0f} | "
                         f"{t_eval:.2f} | {c_old:.1f} | {c_new:.1f} |")
    # the default grid: 2 seeds x 6 settings x 5 objectives, no er_gaussian on the sphere; a
    # step of a content/style setting costs what cs_p1.0's does, each setting's cells train
    # their study steps (previous: 3000) and run n_ev evaluations
    kind = {s: ("sphere_vmf" if s.startswith("sph") else "box_normal" if s.startswith("box")
                else "cs_p1.0") for s in cfg.settings}
    grid = {k: cfg.n_seeds * sum(
        (3000 if k == "previous" else cfg.train_config(o, s).steps) * v[kind[s], o][0]
        + n_ev * v[kind[s], o][1] for s in cfg.settings for o in cfg.objectives
        if (kind[s], o) in v) for k, v in cells.items()}
    lines += ["", f"default grid ({cfg.n_seeds} seeds, {len(cfg.settings)} settings): "
              f"previous {grid['previous']:.0f} s, new {grid['new']:.0f} s of worker time "
              f"(~{grid['new'] / cfg.workers:.0f} s wall on {cfg.workers} workers); the new "
              f"configuration's larger InfoNCE batches cost {grid['new'] / grid['previous']:.2f}x "
              "the previous grid", "", *_kernels(args.repeats)]
    report = "\n".join(lines) + "\n"
    print(report)
    args.out.write_text(report)
    return report


if __name__ == "__main__":
    main()
