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

from mitheory._rng import spawn, torch_generator
from mitheory.claims import claim_verdict
from mitheory.cli import run_study
from mitheory.info import entropy_mixture_bounds
from mitheory.plotting import subplots

SETTINGS = ("fixed_inputs", "trainable_inputs")


@dataclass(frozen=True)
class Config:
    n_points: int = 512
    n_centres: int = 8
    cluster_sd: float = 0.3
    n_steps: int = 3000
    lr: float = 0.02
    record_every: int = 50
    n_seeds: int = 3
    seed: int = 0


QUICK = replace(Config(), n_points=128, n_steps=300, record_every=50, n_seeds=1)


def entropy_bounds(means: np.ndarray, var: float) -> tuple[float, float]:
    """(Bhattacharyya lower, KL upper) bounds on H(sum_k N(mu_k, var I) / K), nats."""
    b = entropy_mixture_bounds(means, var, methods=("bhattacharyya_lower", "kl_upper"))
    return b["bhattacharyya_lower"].value, b["kl_upper"].value


def fit(x0: torch.Tensor, mu0: torch.Tensor, trainable: bool, cfg: Config) -> list[dict]:
    """Adam on the mean GMM log-likelihood; the trajectory of entropy bounds and spreads."""
    x = x0.clone().requires_grad_(trainable)
    mu = mu0.clone().requires_grad_(True)
    log_s = torch.log(x0.std()).clone().requires_grad_(True)  # start broad: the data's sd
    opt = torch.optim.Adam([mu, log_s, *([x] if trainable else [])], lr=cfg.lr)
    traj = []
    for step in range(cfg.n_steps + 1):
        var = torch.exp(2 * log_s)
        d2 = torch.cdist(x, mu) ** 2  # (n, K)
        loglik = (torch.logsumexp(-d2 / (2 * var), 1) - np.log(len(mu))
                  - x.shape[1] / 2 * torch.log(2 * np.pi * var)).mean()
        if step % cfg.record_every == 0:
            v, dd = float(var.detach()), d2.detach()
            lo, hi = entropy_bounds(mu.detach().numpy(), v)
            traj.append({"step": step, "loglik": float(loglik.detach()), "s": v**0.5,
                         "h_lower": lo, "h_upper": hi,
                         "input_rms_to_centre": float(dd.min(1).values.mean().sqrt()),
                         "centre_spread": float(mu.detach().std(0).norm())})
        if step < cfg.n_steps:
            opt.zero_grad()
            (-loglik).backward()
            opt.step()
    return traj


def run(cfg: Config) -> dict:
    _, ss_runs = spawn(cfg.seed, 2)  # stream 0 is unused (kept so ss_runs is unchanged)
    truth = np.array([[-1.5, -1.5], [-1.5, 1.5], [1.5, -1.5], [1.5, 1.5]])
    h_data = entropy_bounds(truth, cfg.cluster_sd**2)
    runs = []
    for rep, ss in enumerate(spawn(ss_runs, cfg.n_seeds)):
        g = np.random.default_rng(ss)
        x = truth[g.integers(0, 4, cfg.n_points)] + cfg.cluster_sd * g.standard_normal(
            (cfg.n_points, 2))
        x0 = torch.as_tensor(x)
        perm = torch.randperm(cfg.n_points, generator=torch_generator(ss))[: cfg.n_centres]
        mu0 = x0[perm] + 0.01 * torch.randn(cfg.n_centres, 2, generator=torch_generator(ss),
                                            dtype=torch.float64)
        for setting in SETTINGS:
            traj = fit(x0, mu0, setting == "trainable_inputs", cfg)
            runs.append({"setting": setting, "seed": rep, "trajectory": traj})
    final = {s: [r["trajectory"][-1] for r in runs if r["setting"] == s] for s in SETTINGS}
    collapsed = {s: [f["h_upper"] <= h_data[0] - 2.0 for f in final[s]] for s in SETTINGS}
    ok = not any(collapsed["fixed_inputs"]) and all(collapsed["trainable_inputs"])
    evidence = {"h_data_bounds_nats": h_data,
                **{f"{s}_final": [{k: f[k] for k in ("h_lower", "h_upper", "s",
                                                     "input_rms_to_centre")} for f in final[s]]
                   for s in SETTINGS}}
    crit = ("collapse = the KL upper bound on the learned mixture's entropy ends >= 2 nats below "
            "the Bhattacharyya lower bound on the data's entropy; supported if no fixed-input "
            "run collapses and every trainable-input run does")
    summary = [{"setting": s, "seed": i, "h_lower_final": f["h_lower"],
                "h_upper_final": f["h_upper"], "s_final": f["s"],
                "input_rms_to_centre": f["input_rms_to_centre"],
                "centre_spread": f["centre_spread"], "collapsed": c}
               for s in SETTINGS for i, (f, c) in enumerate(zip(final[s], collapsed[s]))]
    return {"protocol": "reconstructed", "h_data_bounds_nats": h_data, "runs": runs,
            "summary": summary,
            "claims": [claim_verdict("C10", "supported" if ok else "not supported",
                                     evidence=evidence, criterion=crit,
                                     protocol="reconstructed", n_seeds=cfg.n_seeds)]}


def plot(results: dict):
    fig, ax = subplots(1, 4, axsize=(2.8, 2.4))
    colors = {"fixed_inputs": "C0", "trainable_inputs": "C3"}
    for r in results["runs"]:
        t = r["trajectory"]
        steps, c = [p["step"] for p in t], colors[r["setting"]]
        label = r["setting"] if r["seed"] == 0 else None
        ax[0, 0].fill_between(steps, [p["h_lower"] for p in t], [p["h_upper"] for p in t],
                              color=c, alpha=0.3, label=label)
        ax[0, 1].semilogy(steps, [p["input_rms_to_centre"] for p in t], color=c, label=label)
        ax[0, 2].semilogy(steps, [p["s"] for p in t], color=c, label=label)
        ax[0, 3].plot(steps, [p["centre_spread"] for p in t], color=c, label=label)
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


def main(argv: list[str] | None = None) -> None:
    # entry point: tiny tensors run ~10x faster on one thread than two on a busy 2-core CPU
    torch.set_num_threads(1)
    run_study("gmm_collapse", Config, run, plot, argv, quick=QUICK, description=__doc__,
              tables=lambda r: {"gmm_collapse": r["summary"]})


if __name__ == "__main__":
    main()
