"""Where InfoNCE's content R^2 falls short on the headline's dependent content/style settings.

Run:  python -m benchmarks.infonce_ceiling [--settings cs_stat cs_stat_causal] [--reps 0 1]
          [--steps N] [--workers 2]

For each of the study's own draws (``studies.latent_identifiability.Config.process``, its seed
streams and its default scale), three trainings of the study's encoder (``Config.hidden``, the
same Adam, cosine schedule, steps and evaluation samples), so the gap between them says which
part of the problem holds the number back:

* ``infonce(x)``: the study's InfoNCE cell itself (the library's ``fit_and_evaluate``);
* ``infonce(z)``: the same cell with the mixing g bypassed (the encoder sees the latents z,
  ZCA-whitened like x): what InfoNCE reaches at this batch and budget when nothing must be
  inverted;
* ``supervised(x)``: the same encoder regressed on x to the standardised true content
  (squared error, the same schedule and batch): what this encoder and budget can invert of g
  at all, whatever the objective.

Each row prints the content kernel / linear R^2 at the study's checkpoints, the training
seconds, and the R^2 of each content eigen-direction (eigenvalue of Sigma_c : linear R^2 from
h, the ``scale_search directions=1`` diagnostic). Output committed in
``benchmarks/results_infonce_ceiling.txt``.
"""
from __future__ import annotations

import argparse
import copy
import time
import types

import numpy as np
import torch
from torch import nn

from mitheory import train as tr
from mitheory.grid import parallel_map
from mitheory.models import init_linear_, make_mlp_encoder
from mitheory.stats import log_checkpoints
from mitheory.study import spawn
from mitheory.train import warmup_cosine
from benchmarks.scale_search import direction_r2
from studies.latent_identifiability import Config

ARMS = ("infonce(x)", "infonce(z)", "supervised(x)")


def _identity_mix(self, z, *, device=None):
    """x = z: the observation is the latent itself (g bypassed), as a float32 tensor."""
    zt = torch.as_tensor(np.asarray(z) if not torch.is_tensor(z) else z)
    return zt.to(device=device or "cpu", dtype=torch.float32)


def latents_as_inputs(process):
    """A copy of ``process`` whose observations are its latents (every other draw the same)."""
    p = copy.copy(process)
    p.mix = types.MethodType(_identity_mix, p)
    return p


class _Encoder(nn.Module):
    """An encoder with the ``embed`` that ``train.evaluate_identifiability`` calls."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def _supervised(proc, tcfg, cfg: Config, stats_in, ss_train, ss_eval, at) -> tuple[dict, list]:
    """Regress the standardised content on x with the study's encoder, schedule and batch."""
    ss_init, ss_data = spawn(ss_train, 2)
    enc = _Encoder(init_linear_(make_mlp_encoder(proc.dim_x, proc.n_content, hidden=cfg.hidden,
                                                 input_stats=stats_in), ss_init))
    opt = torch.optim.Adam(enc.parameters(), lr=tcfg.lr)
    sd = torch.as_tensor(np.sqrt(np.diag(proc.sigma_c)), dtype=torch.float32)
    curve, data, t_eval = [], spawn(ss_data, tcfg.steps), 0.0
    t0 = time.perf_counter()
    for step in range(tcfg.steps):
        for g in opt.param_groups:
            g["lr"] = warmup_cosine(step, tcfg.steps, tcfg.warmup_steps, tcfg.lr)
        x, z = proc.sample_negatives(tcfg.batch_size, seed=data[step])
        loss = ((enc.embed(x) - z[:, :proc.n_content]) / sd).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step + 1 in at:  # evaluation time is not training time
            t1 = time.perf_counter()
            ev = tr.evaluate_identifiability(enc, proc, n_fit=cfg.n_fit, n_eval=cfg.n_eval,
                                             n_kernel_fit=cfg.n_kernel_fit,
                                             seed=copy.deepcopy(ss_eval), style_baseline=False)
            curve.append({"step": step + 1, "content": ev["content"]})
            t_eval += time.perf_counter() - t1
    return {"wall_time_s": time.perf_counter() - t0 - t_eval}, curve, enc


def _directions(enc, proc) -> str:
    """Linear R^2 from h of each eigen-direction of Sigma_c (``eigenvalue:R^2``)."""
    return " ".join(f"{v:.3g}:{r:.2f}" for v, r in zip(*direction_r2(enc, proc)["content"]))


def run_arm(cfg: Config, setting: str, rep: int, arm: str) -> dict:
    """One arm on one draw: the R^2 curve, seconds and per-direction R^2."""
    torch.set_num_threads(1)
    proc = cfg.process(setting, rep)
    seen = latents_as_inputs(proc) if arm == "infonce(z)" else proc
    tcfg = cfg.train_config("infonce", setting)
    ss_train, ss_eval, ss_std = cfg.cell_streams(setting, rep, "infonce")
    stats_in = tr.input_statistics(seen, cfg.whiten_samples, seed=ss_std, whiten=True)
    at = log_checkpoints(tcfg.steps, cfg.n_checkpoints)
    if arm == "supervised(x)":
        train, curve, enc = _supervised(proc, tcfg, cfg, stats_in, ss_train, ss_eval, at)
    else:
        fit = tr.fit_and_evaluate(
            "infonce", seen, tcfg, seed_train=ss_train, seed_eval=ss_eval, n_fit=cfg.n_fit,
            n_eval=cfg.n_eval, n_kernel_fit=cfg.n_kernel_fit, hidden=cfg.hidden,
            input_stats=stats_in, checkpoints=at, **tr.infonce_options(proc))
        train, curve, enc = {"wall_time_s": fit.train.wall_time_s}, fit.curve, fit.method
    return {"setting": setting, "replicate": rep, "arm": arm, "steps": tcfg.steps,
            "train_s": train["wall_time_s"], "curve": curve, "directions": _directions(enc, seen)}


def main(argv=None) -> str:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--settings", nargs="+", default=["cs_stat", "cs_stat_causal"])
    ap.add_argument("--reps", nargs="+", type=int, default=[0, 1])
    ap.add_argument("--steps", type=int, default=Config().steps)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    cfg = Config(steps=args.steps, dependent_infonce_steps_factor=1.0)
    cells = [(cfg, s, r, a) for s in args.settings for r in args.reps for a in ARMS]
    t0 = time.perf_counter()
    rows = parallel_map(run_arm, cells, workers=args.workers)
    lines = [f"InfoNCE's content R^2 against its two ceilings, the headline's draws and scale "
             f"(encoder {cfg.hidden}, InfoNCE batch {cfg.infonce_batch_size}, lr {cfg.lr} "
             f"{cfg.lr_schedule}); wall {time.perf_counter() - t0:.0f} s on {args.workers} "
             f"workers", "",
             "| setting | rep | arm | steps | content kernel / linear R^2 at checkpoints | "
             "train s | Sigma_c eigenvalue : linear R^2 |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        cur = " ".join(f"{c['step']}:{c['content']['kernel']:.3f}/{c['content']['linear']:.3f}"
                       for c in r["curve"])
        lines.append(f"| {r['setting']} | {r['replicate']} | {r['arm']} | {r['steps']} | {cur} "
                     f"| {r['train_s']:.0f} | {r['directions']} |")
    lines += ["", "| setting | " + " | ".join(f"{a} mean" for a in ARMS) + " |",
              "|---|" + "---|" * len(ARMS)]
    for setting in args.settings:  # the final content kernel R^2, mean over the replicates
        means = [np.mean([r["curve"][-1]["content"]["kernel"] for r in rows
                          if r["setting"] == setting and r["arm"] == a]) for a in ARMS]
        lines.append(f"| {setting} | " + " | ".join(f"{m:.3f}" for m in means) + " |")
    out = "\n".join(lines)
    print(out)
    return out


if __name__ == "__main__":
    main()
