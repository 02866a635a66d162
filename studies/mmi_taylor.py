"""MI is invariant under invertible maps, so I(Z;Z') follows from second-order statistics; the
Taylor log-det MMI loss with a rescaling beta trains well. Claim C13. Paper: Chang et al. 2024
(MMI), Theorem 1 and Figs. 3-4.

Run:  python -m studies.mmi_taylor [--quick] [--seed 0] [--steps N]
Writes: figures/mmi_taylor.{png,pdf,json,md,csv}

(a) |Taylor - exact| log det vs order and beta on covariances of briefly trained encoders (one
view and the joint of both views), with ``logdet_taylor_error_bound``; (b) MMI training vs beta
and order (Fig. 3-4 analogue, ``reconstructed``: the paper's beta rule, order, normalisation and
setup are unknown, dossier mmi_minc.md 1.4); (c) I(Z;Z') by KSG, the Gaussian plug-in and the
LogDet estimator before / after invertible maps of one view of a Gaussian pair.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from mitheory import generative, info, objectives as obj, stats, train as tr
from mitheory.info import tasks
from mitheory.study import Threshold, as_generator, claim_verdict, decide, group_rows, int_seed
from mitheory.study import run_study, spawn, subplots, threshold_verdict

RULES = ("trace", "frobenius", "spectral")
ESTIMATORS = ("gaussian", "logdet", "ksg")
MIX = np.array([[2.0, 1.0], [0.5, -1.5]])  # an invertible linear map (det -3.5)
MAPS = {"identity": lambda y: y, "linear": lambda y: y @ MIX.T, "exp": np.exp, "cube": tasks.cube}
LIN_TOL, KSG_TOL, TAYLOR_OK, TAYLOR_BAD = 1e-10, 0.1, 0.05, 0.1  # nats, nats, R^2, R^2


@dataclass(frozen=True)
class Config:
    seed: int = 0  # root seed of every stream of the study
    process: str = "cs_p1.0"  # latent process of parts (a) and (b)
    steps: int = 500  # MMI training steps of part (b)
    batch_size: int = 256  # positive pairs per step
    lr: float = 1e-3  # Adam learning rate
    hidden: tuple[int, ...] = (64, 64)  # encoder hidden widths
    pre_steps: int = 200  # training steps of the two encoders whose covariances part (a) uses
    n_cov: int = 4000  # pairs the covariances of part (a) are estimated from
    max_order: int = 8  # highest Taylor order of part (a)
    fixed_betas: tuple[float, ...] = (0.5, 1.0, 2.0)  # fixed rescalings next to the three rules
    train_runs: tuple[str, ...] = (  # part (b) MMI losses: exact or taylor<order>_<beta>
        "exact", "taylor4_trace", "taylor4_frobenius", "taylor4_spectral", "taylor2_frobenius",
        "taylor8_frobenius", "taylor4_1.0")
    n_eval: int = 2000  # samples of the R^2 fits, their scoring and the MI of part (b)
    n_mi: int = 2000  # samples of each Gaussian pair of part (c)
    n_mi_reps: int = 5  # replicates of part (c)
    rho: float = 0.8  # correlation of each coordinate pair of part (c)


QUICK = replace(Config(), steps=20, batch_size=64, pre_steps=5, n_cov=500, max_order=4,
                train_runs=("exact", "taylor4_frobenius"), n_eval=300, n_mi=400, n_mi_reps=2)
GAUSS_RULE = Threshold("max |change| of the Gaussian plug-in MI under the exp and cube maps",
                       ("<=", 0.1), (">", 0.1), key="max_abs_gaussian_change_nonlinear_nats")


def _mmi_kw(run: str) -> dict:
    if run == "exact":
        return {"logdet": "exact"}
    order, beta = run[len("taylor"):].split("_")
    return {"order": int(order), "beta": beta if beta in RULES else float(beta)}


def approx_error(cfg: Config, proc) -> list[dict]:
    rows, ss, orders = [], spawn((cfg.seed, 1), 4), range(1, cfg.max_order + 1)
    for i, (name, kw) in enumerate((("vicreg", {}), ("mmi", {"logdet": "exact"}))):
        m = tr.make_method(name, dim_in=proc.dim_x, dim_out=8, hidden=cfg.hidden, **kw)
        tr.train(m, proc, tr.TrainConfig(steps=cfg.pre_steps, batch_size=cfg.batch_size,
                                         device="cpu", progress=False), seed=ss[i])
        h = np.hstack(tr.embed_pairs(m, proc, cfg.n_cov, seed=ss[2 + i]))
        joint = torch.from_numpy(np.cov(h, rowvar=False))
        for mat_name, mat in ((f"{name} view", joint[:8, :8]), (f"{name} joint", joint)):
            exact, eig = float(obj.logdet_exact(mat)), torch.linalg.eigvalsh(mat)
            for beta in (*RULES, *cfg.fixed_betas):
                b = obj.taylor_rescaling(mat, beta=beta)
                rows.append({"matrix": mat_name, "beta": str(beta), "beta_value": b,
                             "eig_min": float(eig[0]), "eig_max": float(eig[-1]),
                             "radius": float(max(abs(b * eig[0] - 1), abs(b * eig[-1] - 1))),
                             "abs_error": [abs(float(obj.logdet_taylor(mat, order=k, beta=beta))
                                               - exact) for k in orders],
                             "bound": [obj.logdet_taylor_error_bound(mat, order=k, beta=beta)
                                       for k in orders]})
    return rows


def train_curves(cfg: Config, proc) -> list[dict]:
    rows = []
    for i, run in enumerate(cfg.train_runs):
        ss_t, ss_e, ss_p = spawn((cfg.seed, 2, i), 3)
        tcfg = tr.TrainConfig(steps=cfg.steps, batch_size=cfg.batch_size, lr=cfg.lr,
                              device="cpu", progress=False, log_every=10)
        row = {"run": run}
        try:
            fit = tr.fit_and_evaluate(
                "mmi", proc, tcfg, seed_train=ss_t, seed_eval=ss_e, dim_out=len(proc.content_idx),
                hidden=cfg.hidden, n_fit=cfg.n_eval, n_eval=cfg.n_eval,
                n_kernel_fit=min(cfg.n_eval, 1000),
                **_mmi_kw(run))
            za, zb = tr.embed_pairs(fit.method, proc, cfg.n_eval, seed=ss_p)
            row.update(loss_curve=fit.train.losses, content_r2_linear=fit.r2()["linear"],
                       effective_rank=stats.effective_rank(za),
                       content_r2_kernel=fit.r2()["kernel"],
                       mi_gaussian_nats=info.mi_gaussian_plugin(za, zb).value, failed=None)
        except (FloatingPointError, ValueError) as exc:  # diverged Taylor loss / singular cov
            row.update(failed=str(exc)[:200])
        print(row["run"], {k: v for k, v in row.items() if k not in ("loss_curve", "run")})
        rows.append(row)
    return rows


def invariance(cfg: Config) -> list[dict]:
    # drawn by hand, not by CorrelatedGaussian.sample (one (n, 4) draw: another sample stream)
    truth = tasks.CorrelatedGaussian.from_correlations([cfg.rho] * 2).mutual_information().value
    rows = []
    for rep, ss in enumerate(spawn((cfg.seed, 3), cfg.n_mi_reps)):
        rng = as_generator(ss)
        za = rng.standard_normal((cfg.n_mi, 2))
        zb = cfg.rho * za + np.sqrt(1 - cfg.rho**2) * rng.standard_normal((cfg.n_mi, 2))
        for map_name, y in ((name, f(zb)) for name, f in MAPS.items()):
            rows.append({"rep": rep, "map": map_name, "true_mi_nats": truth,
                         "gaussian": info.mi_gaussian_plugin(za, y).value,
                         "logdet": info.mi_logdet(za, y).value,
                         "ksg": info.mi_ksg(za, y, k=3, seed=int_seed(ss)).value})
    return rows


def _inv_summary(rows) -> list[dict]:
    groups, out = group_rows(rows, "map"), []
    for (mp,), sel in groups.items():  # change of each replicate against its identity row
        row = {"map": mp, "true_mi_nats": sel[0]["true_mi_nats"]}
        for est in ESTIMATORS:
            d = [s[est] - b[est] for s, b in zip(sel, groups[("identity",)])]
            row.update({est: float(np.mean([s[est] for s in sel])),
                        f"{est}_change_mean": float(np.mean(d)),
                        f"{est}_change_maxabs": float(np.max(np.abs(d)))})
        out.append(row)
    return out


def run(cfg: Config) -> dict:
    proc = generative.make_process(cfg.process, seed=int_seed((cfg.seed, 0)))
    res = {"protocol": "reconstructed", "approx": approx_error(cfg, proc),
           "training": train_curves(cfg, proc), "invariance": invariance(cfg)}
    res["invariance_summary"] = _inv_summary(res["invariance"])
    return {**res, "claims": verdicts(res, cfg)}


def verdicts(res: dict, cfg: Config) -> list[dict]:
    inv = {r["map"]: r for r in res["invariance_summary"]}
    lin_exact = inv["linear"]["gaussian_change_maxabs"] < LIN_TOL
    ksg_ok = all(abs(inv[m]["ksg_change_mean"]) < KSG_TOL for m in ("linear", "exp", "cube"))
    ev_inv = {m: {k: v for k, v in r.items() if "change" in k} for m, r in inv.items()}
    out = [claim_verdict(  # a KSG change may be estimator noise: inconclusive, never refuting
        "C13", decide(lin_exact and ksg_ok, not lin_exact), evidence=ev_inv, protocol="toolkit",
        n_seeds=cfg.n_mi_reps,
        notes="part: MI invariant under invertible maps",
        criterion=f"second-order MI changes < {LIN_TOL:g} under an invertible linear map and KSG "
        f"changes < {KSG_TOL:g} nats (mean over reps) under linear, exp and cube maps of one view")]
    out.append(threshold_verdict(
        "C13", {GAUSS_RULE.name: max(abs(inv[m]["gaussian_change_mean"]) for m in ("exp", "cube"))},
        [GAUSS_RULE], evidence=ev_inv, protocol="toolkit", n_seeds=cfg.n_mi_reps,
        subject="raw variables, monotone marginal maps that keep the MI (Theorem 1 needs the map "
        "that makes the pair Gaussian, which the loss does not apply)", notes="part: I(Z;Z') "
        "follows from second-order statistics of the (non-Gaussian) variables themselves"))
    conv = [r for r in res["approx"] if np.isfinite(r["bound"][-1])]
    bound_ok = all(e <= b * (1 + 1e-6) + 1e-9 for r in conv
                   for e, b in zip(r["abs_error"], r["bound"]))
    dec = all(np.all(np.diff(r["abs_error"]) <= 1e-9) for r in conv if r["radius"] < 0.999)
    ok = [r for r in res["training"] if r["run"] != "exact" and r["failed"] is None]
    ex = {r["run"]: r for r in res["training"]}.get("exact", {}).get("content_r2_kernel", np.nan)
    best = max((r["content_r2_kernel"] for r in ok), default=np.nan)
    out.append(claim_verdict(
        "C13", decide(bound_ok and dec and best >= ex - TAYLOR_OK, not best >= ex - TAYLOR_BAD),
        protocol="reconstructed", n_seeds=1, notes="part: Taylor log-det MMI trains well",
        evidence={"bound_holds": bound_ok, "error_decreasing_in_order_when_convergent": dec,
                  "exact_content_r2_kernel": ex, "best_taylor_content_r2_kernel": best,
                  "runs": {r["run"]: {k: r.get(k) for k in ("content_r2_kernel", "effective_rank",
                           "mi_gaussian_nats", "failed")} for r in res["training"]}},
        criterion="error bound holds and the error falls with the order inside the convergence "
        f"region, and the best Taylor-loss run reaches a content kernel R^2 within {TAYLOR_OK:g} "
        f"of the exact log-det loss: supported; more than {TAYLOR_BAD:g} below: not supported; "
        "else inconclusive"))
    return out


def plot(results: dict):
    fig, axes = subplots(1, 4, axsize=(3.3, 2.6))
    axes = np.ravel(axes)
    for ax, mat in zip(axes[:2], ("mmi joint", "vicreg joint")):
        for i, r in enumerate(r for r in results["approx"] if r["matrix"] == mat):
            k = np.arange(1, len(r["abs_error"]) + 1)
            ax.semilogy(k, np.maximum(r["abs_error"], 1e-16), marker="o", ms=3, color=f"C{i}",
                        label=f"{r['beta']} (rho={r['radius']:.2f})")
            ax.semilogy(k, np.where(np.isfinite(r["bound"]), r["bound"], np.nan), ls="--",
                        color=f"C{i}")
        ax.set(title=f"Taylor log det error: {mat} cov", xlabel="order", ylabel="|error| (nats)")
        ax.legend(fontsize=6, title="beta (spectral radius)", title_fontsize=6)
    for r in (r for r in results["training"] if r.get("loss_curve")):
        lab = f"{r['run']} R2={r['content_r2_kernel']:.2f}" if r["failed"] is None else r["run"]
        axes[2].plot(*np.array(r["loss_curve"]).T, label=lab)
    axes[2].set(title="MMI training (loss)", xlabel="step", ylabel="loss", yscale="symlog")
    s, x = results["invariance_summary"], np.arange(len(results["invariance_summary"]))
    for j, est in enumerate(ESTIMATORS):
        axes[3].bar(x + (j - 1) * 0.27, [r[est] for r in s], 0.27, label=est)
    axes[3].axhline(s[0]["true_mi_nats"], color="k", ls=":", label="true MI")
    axes[3].set(xticks=x, xticklabels=[r["map"] for r in s], ylabel="I(Z;Z') (nats)",
                title="MI after an invertible map of Z'")
    for ax in axes[2:]:
        ax.legend(fontsize=6)
    return fig


def main(argv: list[str] | None = None) -> dict:
    return run_study("mmi_taylor", Config, run, plot, argv, quick=QUICK, description=__doc__,
                     tables=lambda r: {"mmi_taylor": r["invariance_summary"], "training": [
                         {k: v for k, v in t.items() if k != "loss_curve"} for t in r["training"]]})


if __name__ == "__main__":
    main()
