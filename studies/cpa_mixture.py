"""C6: a CPA network maps Gaussian noise around prototypes to a Gaussian mixture (Theorem 1),
exactly while the noise stays inside each prototype's activation region.

Paper: Shwartz-Ziv et al. 2022/2023 (papers 001, 004), Theorem 1 as in dossier
vicreg_infotheory.md Sec. 2.2 (exact statement unverified). For a random and a trained ReLU MLP,
the mixture sum_n w_n N(A_n x*_n + b_n, s^2 A_n A_n^T) is compared with Monte Carlo draws of
f(x*_n + s eps) as s grows (mitheory.cpa.output_law_check: TV bound, exit probability, moment
errors, energy test on whitened residuals, entropy bounds). Region statistics over widths and
depths (regions crossed between prototypes; regions met by the plane through three prototypes,
a grid lower bound; boundary distances) say why it breaks: the failing noise scale tracks the
distance to the region boundaries, which shrinks as the network widens/deepens.
Protocol: toolkit check (the paper shows no such sweep).

Run:  python -m studies.cpa_mixture [--quick] [--seed 0]
Writes: figures/cpa_mixture.png, .pdf, .json, .md, .csv
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from mitheory.cpa import (cpa_mlp, fit_prototype_classifier, output_law_sweep,
                          region_statistics, region_statistics_grid)
from mitheory.study import (as_generator, claim_verdict, decide, group_rows, run_study, spawn,
                            subplots, torch_seeded)

EXACT_TV = 1e-3  # noise scales whose TV bound is below this are the exact regime
ALPHA = 0.01  # test level (Bonferroni-divided over the exact-regime scales)
EXIT = 0.01  # a rejection where the exit probability is below this counts against C6
MEAN_SE = 4.5  # largest component-mean error, in Monte Carlo SEs, that still agrees
CRITERION = (f"per network: at every noise scale where the exact TV bound sum_n w_n min(1, "
             f"union_n) < {EXACT_TV:g}, the whitened-residual energy test does not reject (p >= "
             f"{ALPHA:g} / #scales) and every component mean is within {MEAN_SE:g} Monte Carlo "
             f"SEs; and no rejection (p < {ALPHA:g}) occurs where the Monte Carlo exit "
             f"probability is below {EXIT:g}; inconclusive if a network has no such scale")


@dataclass(frozen=True)
class Config:
    dim_in: int = 8  # input dimension of the network
    dim_out: int = 3  # output dimension of the network
    width: int = 64  # hidden width of the two studied networks
    depth: int = 2  # hidden layers of the two studied networks
    n_prototypes: int = 8  # prototypes x*_n: the mixture's components
    log10_sigmas: tuple[float, ...] = tuple(np.arange(-6.0, 0.01, 0.5).round(1))  # log10 noise sds
    n_samples: int = 5000  # Monte Carlo outputs per noise scale
    n_test: int = 2000  # draws per side of the permutation test
    n_permutations: int = 200  # permutations of the energy test
    n_exit_samples: int = 2000  # noise draws per prototype for the exit probability
    train_steps: int = 400  # Adam steps of the trained network's classifier
    region_widths: tuple[int, ...] = (16, 64, 256)  # widths of the region-statistics networks
    region_depths: tuple[int, ...] = (1, 2, 4)  # depths of the region-statistics networks
    slice_resolution: int = 200  # grid per side of the 2-D slice (count is a lower bound)
    seed: int = 0  # root seed of every stream of the study


QUICK = replace(Config(), width=16, log10_sigmas=(-5.0, -2.0, 0.0), n_samples=300, n_test=200,
                n_permutations=50, n_exit_samples=200, train_steps=30, region_widths=(8, 32),
                region_depths=(1, 2), slice_resolution=32)


def network_evidence(rows: list[dict]) -> dict:
    """What C6 reads from one network's sweep."""
    exact = [r for r in rows if r["tv_bound"] < EXACT_TV]
    alpha = ALPHA / max(1, len(exact))  # Bonferroni over the exact-regime scales
    hit = [r for r in rows if r["p_whitened"] < ALPHA][:1]
    return {"n_scales_exact_regime": len(exact),
            "exact_regime_agrees": all(r["p_whitened"] >= alpha and r["mean_err_se"] < MEAN_SE
                                       for r in exact),
            "rejections_with_exit_below_1pct": [r["sigma"] for r in rows if r["p_whitened"]
                                                < ALPHA and r["exit_mc"] < EXIT],
            "first_detected_sigma": hit[0]["sigma"] if hit else None,
            "exit_mc_at_first_detection": hit[0]["exit_mc"] if hit else None}


def run(cfg: Config) -> dict:
    # torch's default layer inits (the head; cpa_mlp before its re-draw) use the global RNG
    with torch_seeded(cfg.seed):
        ss_proto, ss_net, ss_train, ss_check, ss_reg = spawn(cfg.seed, 5)
        protos = as_generator(ss_proto).standard_normal((cfg.n_prototypes, cfg.dim_in))
        dims = [cfg.dim_in, *[cfg.width] * cfg.depth, cfg.dim_out]
        nets = {"random": cpa_mlp(dims, seed=ss_net), "trained": cpa_mlp(dims, seed=ss_net)}
        fit_prototype_classifier(nets["trained"], torch.nn.Linear(cfg.dim_out, len(protos)),
                                 protos, steps=cfg.train_steps, seed=ss_train)
        sds = [10.0**lg for lg in cfg.log10_sigmas]  # Theorem 1's mixture vs Monte Carlo
        sweeps = {name: [{"network": name, **r} for r in output_law_sweep(
            net, protos, sds, n_samples=cfg.n_samples, n_test=cfg.n_test, seed=ss,
            n_permutations=cfg.n_permutations, n_exit_samples=cfg.n_exit_samples)]
            for (name, net), ss in zip(nets.items(), spawn(ss_check, len(nets)))}
        evidence = {name: {**network_evidence(sweeps[name]), **region_statistics(net, protos)}
                    for name, net in nets.items()}
        regions = region_statistics_grid(protos, dim_out=cfg.dim_out, widths=cfg.region_widths,
                                         depths=cfg.region_depths,
                                         resolution=cfg.slice_resolution, seed=ss_reg)
    agree = [e["exact_regime_agrees"] and not e["rejections_with_exit_below_1pct"]
             for e in evidence.values()]
    exact = all(e["n_scales_exact_regime"] for e in evidence.values())
    verdict = decide(exact and all(agree), exact and not all(agree))
    return {"protocol": "toolkit", "sweeps": sweeps, "regions": regions,
            "claims": [claim_verdict("C6", verdict, evidence=evidence, criterion=CRITERION,
                                     protocol="toolkit", n_seeds=1)]}


def plot(results: dict):
    fig, ax = subplots(2, 3, axsize=(3.4, 2.6))
    for name, rows in results["sweeps"].items():
        s, ls = [r["sigma"] for r in rows], "-" if name == "random" else "--"
        col = {k: np.array([r[k] for r in rows], dtype=float) for k in rows[0] if k != "network"}
        ax[0, 0].loglog(s, np.maximum(col["exit_mc"], 1e-5), "o" + ls, label=f"{name}: MC")
        ax[0, 0].loglog(s, np.maximum(col["tv_bound"], 1e-5), "k" + ls, lw=0.8,
                        label=f"{name}: TV bound")
        ax[0, 1].semilogx(s, col["z_whitened"], "o" + ls, label=name)
        ax[0, 2].loglog(s, col["mean_err_se"], "o" + ls, label=name)
        for key, mk in (("lower_bhatt", "v"), ("upper_kl", "^"), ("gauss_mc", "x")):
            ax[1, 0].semilogx(s, col[f"h_{key}_nats"], mk + ls, ms=4, label=f"{name}: {key}")
    ax[0, 1].axhline(2.33, color="grey", ls=":", label="p = 0.01")
    ax[0, 2].axhline(MEAN_SE, color="grey", ls=":")
    for (depth,), rr in group_rows(results["regions"], "depth").items():
        w = [r["width"] for r in rr]
        line, = ax[1, 1].loglog(w, [r["regions_per_segment_mean"] for r in rr], "o-",
                                label=f"depth {depth}: segment")
        ax[1, 1].loglog(w, [r["regions_in_slice"] for r in rr], "s--", color=line.get_color(),
                        label=f"depth {depth}: 2-D slice")
        ax[1, 2].loglog(w, [r["boundary_distance_median"] for r in rr], "o-",
                        label=f"depth {depth}")
    labels = ("region-exit probability (0 at 1e-5)", "energy statistic (null z)",
              "max |mean error| (MC SEs)", "entropy (nats)", "regions (segment mean; slice)",
              "median boundary distance")
    for i, (a, y) in enumerate(zip(ax.ravel(), labels)):
        a.set(xlabel="width" if i > 3 else "noise sd", ylabel=y)
        a.legend(fontsize=5)
        if i > 3:
            a.set_xticks(w, [str(v) for v in w], minor=False)
            a.minorticks_off()
    ax[0, 0].set(ylim=(5e-6, 2))
    ax[0, 1].set(title="whitened residuals vs prediction")
    return fig


def main(argv: list[str] | None = None) -> dict:
    return run_study("cpa_mixture", Config, run, plot, argv, quick=QUICK, description=__doc__,
                     tables=lambda r: {"cpa_mixture": [x for v in r["sweeps"].values() for x in v],
                                       "regions": r["regions"]})


if __name__ == "__main__":
    main()
