"""C9: the optimum of the entropy / VICReg objective is a diagonal covariance (Fig. 3,
reconstructed). Paper: Shwartz-Ziv et al. 2023 (paper 004), Fig. 3 "distance from a diagonal
matrix vs perturbation scale" (dossier vicreg_infotheory.md Sec. 6; protocol unknown).

Argument (Hadamard's inequality). With R = D^{-1/2} S D^{-1/2}, D = diag(S): det S = det D det R
and, by AM-GM on the eigenvalues of the unit-diagonal R, det R <= (tr R / d)^d = 1, with equality
iff R = I. So at fixed variances the Gaussian entropy 1/2 log det(2 pi e S) is maximal exactly at
the diagonal S, and the gap -1/2 log det R >= 0 (the total correlation) vanishes only there.
VICReg fixes the scale with its variance hinge v and penalises c(Z) = (1/d) sum_{i!=j} C_ij^2,
zero iff C is diagonal (the second-order term of the gap). A rotation-invariant objective (of
the spectrum only) has a whole orbit U L U^T of optima: the "spectrum" negative control.

Reconstructed protocol (assumed, not the paper's): z = W x, x ~ N(0, I_d), from W0 = I + t G
(G Gaussian / sqrt(d)) for perturbation scales t, minimise (a) "entropy": -1/2 log det R(W W^T)
(population covariance), (b) "vicreg": var_weight v(Z) + c(Z) on a fixed sample Z = X W^T
(mitheory.objectives, no invariance term: one view), (c) "spectrum": mean_k (l_k(W W^T) - k)^2;
(a), (c) by L-BFGS, (b) by Adam. Distance to the nearest diagonal matrix, diag(S) in Frobenius
norm: ||S - diag S||_F / ||S||_F of the covariance the objective sees.

Run:  python -m studies.diagonal_optimum [--quick] [--seed 0]
Writes: figures/diagonal_optimum.png, .pdf, .json, .md, .csv
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from mitheory.info import total_correlation_gaussian_torch as total_correlation
from mitheory.objectives import vicreg_covariance, vicreg_variance
from mitheory.stats import off_diagonal_ratio
from mitheory.study import (Threshold, group_rows, named_seed, run_study, spawn, subplots,
                            threshold_verdict, torch_generator)
from mitheory.train import minimise

OBJECTIVES = ("entropy", "vicreg", "spectrum")
RULED = ("entropy", "vicreg")  # the claim's objectives; "spectrum" is the control
C9_RULES = tuple(Threshold(f"max final ||S - diag S||_F / ||S||_F of the {o} objective",
                           ("<", 0.01), (">=", 0.01), key=f"max_final_distance_{o}")
                 for o in RULED)


@dataclass(frozen=True)
class Config:
    dim: int = 8  # dimension d of x and of z = W x
    n_samples: int = 1024  # fixed sample X the VICReg objective sees
    scales: tuple[float, ...] = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)  # perturbations t of W0
    n_seeds: int = 5  # draws of G per perturbation scale
    n_steps: int = 2000  # Adam steps (VICReg: its hinge is not smooth)
    lr: float = 1e-2  # Adam learning rate
    lbfgs_iters: int = 200  # L-BFGS iterations for the smooth objectives
    var_weight: float = 25.0  # VICReg variance weight (vicreg_loss's default, paper and code)
    seed: int = 0  # root seed of every stream of the study


QUICK = replace(Config(), dim=4, n_samples=256, scales=(0.1, 1.0), n_seeds=2, n_steps=500,
                lbfgs_iters=100)


def loss_and_cov(name: str, w: torch.Tensor, x: torch.Tensor, cfg: Config):
    """Objective summed over the maps w (B, d, d) of independent runs; the covariances it sees."""
    if name == "vicreg":  # variance + covariance terms on the fixed sample (one view)
        zs = [x @ wi.T for wi in w]
        loss = sum(cfg.var_weight * vicreg_variance(z) + vicreg_covariance(z) for z in zs)
        return loss, torch.stack([torch.cov(z.T) for z in zs])
    cov = w @ w.transpose(1, 2)
    if name == "entropy":  # the Hadamard gap -1/2 log det R: -H(S) at fixed variances
        return total_correlation(cov).sum(), cov
    target = torch.arange(1, w.shape[1] + 1, dtype=w.dtype)  # distinct: rotation-invariant
    return ((torch.linalg.eigvalsh(cov) - target) ** 2).mean(1).sum(), cov


def optimise(name: str, w0: torch.Tensor, x: torch.Tensor, cfg: Config) -> torch.Tensor:
    """Minimise the summed (separable) objective: L-BFGS with a strong-Wolfe line search for the
    smooth ones (Adam stalls when W0 is nearly singular), Adam for VICReg's hinge."""
    w = w0.clone().requires_grad_(True)

    def loss() -> torch.Tensor:
        return loss_and_cov(name, w, x, cfg)[0]

    if name == "vicreg":
        minimise(loss, [w], steps=cfg.n_steps, lr=cfg.lr)
    else:
        minimise(loss, [w], steps=cfg.lbfgs_iters, lr=1, optimiser="lbfgs")
    return w.detach()


def run(cfg: Config) -> dict:
    ss_x = spawn(cfg.seed, 2)[0]  # x: first of two root streams (the inits seed by scale, below)
    x = torch.randn(cfg.n_samples, cfg.dim, generator=torch_generator(ss_x), dtype=torch.float64)
    runs = [(t, rep, ss) for t in cfg.scales  # seeded by the scale: a subset draws the same
            for rep, ss in enumerate(spawn(named_seed(cfg.seed, "init", f"{t:g}"), cfg.n_seeds))]
    tg = torch.stack([t * torch.randn(cfg.dim, cfg.dim, generator=torch_generator(ss),
                                      dtype=torch.float64) for t, _, ss in runs])
    w0 = torch.eye(cfg.dim, dtype=torch.float64) + tg / cfg.dim**0.5  # (B, d, d)
    rows = []
    for name in OBJECTIVES:
        cov0 = loss_and_cov(name, w0, x, cfg)[1]
        cov = loss_and_cov(name, optimise(name, w0, x, cfg), x, cfg)[1]
        d0, d1, g0, g1 = (*map(off_diagonal_ratio, (cov0, cov)),
                          *map(total_correlation, (cov0, cov)))
        rows += [{"objective": name, "scale": t, "seed": rep, "dist_init": float(d0[i]),
                  "dist_final": float(d1[i]), "gap_init_nats": float(g0[i]),
                  "gap_final_nats": float(g1[i])} for i, (t, rep, _) in enumerate(runs)]
    summary = [{"objective": o, "scale": s,
                **{f"{k}_median": float(np.median([r[k] for r in rs]))
                   for k in ("dist_init", "dist_final", "gap_final_nats")},
                "dist_final_max": max(r["dist_final"] for r in rs)}
               for (o, s), rs in group_rows(rows, "objective", "scale").items()]
    worst = {o: max(r["dist_final"] for r in rs) for (o,), rs in
             group_rows(rows, "objective").items()}
    claim = threshold_verdict(
        "C9", {r.name: worst[o] for r, o in zip(C9_RULES, RULED)}, C9_RULES,
        subject="after optimisation, for every perturbation scale and seed",
        evidence={"max_final_distance": worst,
                  "max_initial_distance": max(r["dist_init"] for r in rows)},
        protocol="reconstructed", n_seeds=cfg.n_seeds)
    return {"protocol": "reconstructed", "runs": rows, "summary": summary, "claims": [claim]}


def plot(results: dict):
    fig, ax = subplots(1, 2, axsize=(3.4, 2.7))
    floor = 1e-17  # below float64 round-off of a relative norm: drawn at the floor
    for (o,), rows in group_rows(results["summary"], "objective").items():
        s = [r["scale"] for r in rows]
        line, = ax[0, 0].loglog(s, [max(r["dist_final_median"], floor) for r in rows], "o-",
                                label=f"{o} (median)")
        ax[0, 0].loglog(s, [max(r["dist_final_max"], floor) for r in rows], "x",
                        color=line.get_color())
        ax[0, 1].loglog(s, [max(r["gap_final_nats_median"], 1e-16) for r in rows], "o-", label=o)
        if o == "entropy":
            ax[0, 0].loglog(s, [r["dist_init_median"] for r in rows], "k:", label="initial")
    ax[0, 0].set(xlabel="perturbation scale t", ylabel="||S - diag S||_F / ||S||_F (x: max)",
                 title="distance to diagonal (reconstructed Fig. 3)", ylim=(floor / 2, 2))
    ax[0, 1].set(xlabel="perturbation scale t", ylabel="Hadamard gap, nats (0 at 1e-16)")
    for a in ax.ravel():
        a.legend(fontsize=7)
    return fig


def main(argv: list[str] | None = None) -> dict:
    return run_study("diagonal_optimum", Config, run, plot, argv, quick=QUICK,
                     description=__doc__, tables=lambda r: {"diagonal_optimum": r["summary"]})


if __name__ == "__main__":
    main()
