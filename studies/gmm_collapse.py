"""C10: learning a GMM with fixed inputs does not collapse; with trainable inputs the inputs
collapse and the entropy drops (Fig. 4, reconstructed).

Paper: Shwartz-Ziv et al. 2023 (paper 004), Fig. 4 (dossier vicreg_infotheory.md Sec. 7:
setup, number of centres and the "entropy of the centres" are unknown). The SSL reading: the
conditional (invariance / likelihood) term alone rewards moving representations onto the
centres, so without an entropy term the representation collapses.

Reconstructed protocol (assumed, not the paper's): n points x_i in R^2 from a 4-component
Gaussian mixture (the data, entropy H_data bounded by mitheory.info); a GMM with K centres
mu_k (initialised on random data points), uniform weights and one shared isotropic variance
s^2 (learned; shared, so the classical single-point singularity cannot occur) is fit by Adam on
the mean log-likelihood (1/n) sum_i log (1/K) sum_k N(x_i; mu_k, s^2 I), either with the x_i
fixed (the data) or with the x_i trainable too (initialised at the data). Tracked: the entropy
of the learned mixture ("entropy of the centres": Bhattacharyya lower / KL upper bounds of
sum_k N(mu_k, s^2 I) / K), the spread of the inputs (RMS distance to their nearest centre),
s, and the spread of the centres. Collapse: the learned entropy's upper bound ends >= 2 nats
below the data's lower bound. Adam runs at a constant learning rate, so once s is smaller than
its step the trainable-input curves saw-tooth (overshoot and recover); the trend is the result.

Run:  python -m studies.gmm_collapse [--quick] [--seed 0]
Writes: figures/gmm_collapse.png, .pdf, .json, .md, .csv
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from mitheory.info import entropy_mixture_bounds, isotropic_mixture_log_density_torch
from mitheory.study import (Threshold, as_generator, group_rows, run_study, spawn, subplots,
                            threshold_verdict, torch_generator)
from mitheory.train import minimise

SETTINGS = ("fixed_inputs", "trainable_inputs")
DATA_CENTRES = ((-1.5, -1.5), (-1.5, 1.5), (1.5, -1.5), (1.5, 1.5))
COLLAPSE_NATS = 2.0  # a run collapses when H_data's lower bound - its H's upper bound >= this
C10_RULES = (
    Threshold("smallest entropy drop of a trainable-input run (nats)", (">=", COLLAPSE_NATS),
              ("<", COLLAPSE_NATS), key="min_trainable_inputs_drop_nats"),
    Threshold("largest entropy drop of a fixed-input run (nats)", ("<", COLLAPSE_NATS),
              (">=", COLLAPSE_NATS), key="max_fixed_inputs_drop_nats"))


@dataclass(frozen=True)
class Config:
    n_points: int = 512  # data points x_i in R^2
    n_centres: int = 8  # GMM components K (the data has 4)
    cluster_sd: float = 0.3  # sd of each of the data's 4 clusters
    n_steps: int = 3000  # Adam steps of each fit
    lr: float = 0.02  # Adam learning rate (constant)
    record_every: int = 50  # steps between recorded trajectory points
    n_seeds: int = 3  # replicates: one data set and one initialisation each
    seed: int = 0  # root seed of every stream of the study


QUICK = replace(Config(), n_points=128, n_steps=300, record_every=50, n_seeds=1)


def entropy_bounds(means: np.ndarray, var: float) -> tuple[float, float]:
    """(Bhattacharyya lower, KL upper) bounds on H(sum_k N(mu_k, var I) / K), nats."""
    b = entropy_mixture_bounds(means, var, methods=("bhattacharyya_lower", "kl_upper"))
    return b["bhattacharyya_lower"].value, b["kl_upper"].value


def fit(x0: torch.Tensor, mu0: torch.Tensor, trainable: bool, cfg: Config) -> list[dict]:
    """Adam on the mean GMM log-likelihood; the trajectory of entropy bounds and spreads."""
    x, mu = x0.clone().requires_grad_(trainable), mu0.clone().requires_grad_(True)
    log_s = torch.log(x0.std()).clone().requires_grad_(True)  # start broad: the data's sd

    def nll() -> torch.Tensor:  # -(1/n) sum_i log (1/K) sum_k N(x_i; mu_k, s^2 I)
        return -isotropic_mixture_log_density_torch(x, mu, torch.exp(2 * log_s)).mean()

    def record(step: int, value: torch.Tensor) -> dict:  # value: nll() at this step
        v, d2 = float(torch.exp(2 * log_s).detach()), torch.cdist(x, mu).detach() ** 2
        lo, hi = entropy_bounds(mu.detach().numpy(), v)
        return {"step": step, "loglik_nats": -float(value), "s": v**0.5, "h_lower_nats": lo,
                "h_upper_nats": hi, "input_rms_to_centre": float(d2.min(1).values.mean().sqrt()),
                "centre_spread": float(mu.detach().std(0).norm())}

    return minimise(nll, [mu, log_s, *([x] if trainable else [])], steps=cfg.n_steps, lr=cfg.lr,
                    record=record, record_every=cfg.record_every)


def run(cfg: Config) -> dict:
    centres = np.array(DATA_CENTRES)
    h_data = entropy_bounds(centres, cfg.cluster_sd**2)
    runs = []
    for rep, ss in enumerate(spawn(spawn(cfg.seed, 2)[1], cfg.n_seeds)):  # root's 2nd child
        g = as_generator(ss)
        x0 = torch.as_tensor(centres[g.integers(0, 4, cfg.n_points)]
                             + cfg.cluster_sd * g.standard_normal((cfg.n_points, 2)))
        # the centres' data points and their jitter each draw from a generator seeded by ss
        perm = torch.randperm(cfg.n_points, generator=torch_generator(ss))[: cfg.n_centres]
        mu0 = x0[perm] + 0.01 * torch.randn(cfg.n_centres, 2, dtype=torch.float64,
                                            generator=torch_generator(ss))
        runs += [{"setting": s, "seed": rep, "trajectory": fit(x0, mu0, s == SETTINGS[1], cfg)}
                 for s in SETTINGS]
    final = {s: [r["trajectory"][-1] for r in rs] for (s,), rs in
             group_rows(runs, "setting").items()}
    drops = {s: [h_data[0] - f["h_upper_nats"] for f in final[s]] for s in SETTINGS}
    summary = [{"setting": s, "seed": i, "h_lower_final_nats": f["h_lower_nats"],
                "h_upper_final_nats": f["h_upper_nats"], "s_final": f["s"],
                "input_rms_to_centre": f["input_rms_to_centre"],
                "centre_spread": f["centre_spread"], "collapsed": d >= COLLAPSE_NATS}
               for s in SETTINGS for i, (f, d) in enumerate(zip(final[s], drops[s]))]
    keep = ("h_lower_nats", "h_upper_nats", "s", "input_rms_to_centre")
    evidence = {"h_data_bounds_nats": h_data,
                **{f"{s}_final": [{k: f[k] for k in keep} for f in final[s]] for s in SETTINGS}}
    values = {C10_RULES[0].name: min(drops["trainable_inputs"]),
              C10_RULES[1].name: max(drops["fixed_inputs"])}
    claim = threshold_verdict(
        "C10", values, C10_RULES, evidence=evidence, protocol="reconstructed",
        n_seeds=cfg.n_seeds, subject="entropy drop = Bhattacharyya lower bound on H(data) - KL "
        "upper bound on H(learned GMM) at the last step")
    return {"protocol": "reconstructed", "h_data_bounds_nats": h_data, "runs": runs,
            "summary": summary, "claims": [claim]}


def plot(results: dict):
    fig, ax = subplots(1, 4, axsize=(2.8, 2.4))
    colors = {"fixed_inputs": "C0", "trainable_inputs": "C3"}
    for r in results["runs"]:
        t, c = r["trajectory"], colors[r["setting"]]
        steps, label = [p["step"] for p in t], r["setting"] if r["seed"] == 0 else None
        ax[0, 0].fill_between(steps, [p["h_lower_nats"] for p in t],
                              [p["h_upper_nats"] for p in t], color=c, alpha=0.3, label=label)
        for a, key in zip(ax[0, 1:], ("input_rms_to_centre", "s", "centre_spread")):
            (a.plot if key == "centre_spread" else a.semilogy)(
                steps, [p[key] for p in t], color=c, label=label)
    for h in results["h_data_bounds_nats"]:
        ax[0, 0].axhline(h, color="k", ls=":", lw=0.8)
    ax[0, 0].set(xlabel="step", ylabel="entropy of learned GMM (nats)",
                 title="bounds; dotted: data")
    ax[0, 1].set(xlabel="step", ylabel="RMS input-to-centre distance")
    ax[0, 2].set(xlabel="step", ylabel="component sd s")
    ax[0, 3].set(xlabel="step", ylabel="spread of centres ||sd(mu)||", ylim=(0, None))
    for a in ax.ravel():
        a.legend(fontsize=7)
    return fig


def main(argv: list[str] | None = None) -> dict:
    return run_study("gmm_collapse", Config, run, plot, argv, quick=QUICK, description=__doc__,
                     tables=lambda r: {"gmm_collapse": r["summary"]})


if __name__ == "__main__":
    main()
