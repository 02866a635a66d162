"""Does VICReg keep a higher representation entropy during training than other SSL methods? C8.

Paper: Shwartz-Ziv et al., "An information-theoretic perspective on VICReg" (NeurIPS 2023),
Fig. 2 (ResNet-18 on CIFAR-10, 5 trials, mean +- standard error). Each method trains from the
same seeds (trial t: same data stream and initialisation for every method); at checkpoints the
embeddings of a fixed held-out image set are scored by three entropy estimators: LogDet
1/2 log det(I + C) (Zhouyin & Liu 2021), the Kolchinsky-Tracey pairwise-distance bounds on the
mixture of N(z_i, sigma^2 I) (KL upper, Bhattacharyya lower) and Kozachenko-Leonenko kNN.
VICReg is compared with each method by two-sided paired t-tests across trials (Holm-adjusted
over methods x estimators), at the final checkpoint and on the area under the curve / steps.

Run:  python -m studies.entropy_during_training [--quick] [--paper-scale --dataset cifar10:PATH]
Writes: figures/entropy_during_training.{png,pdf,json,md}

Protocol ``reconstructed`` (the paper's estimator, representation, normalisation and recipes
are unknown, dossier Sec. 5): the verdict is read on the projector output (the embedding the
VICReg loss and the paper's entropy argument act on), rescaled by one scalar per checkpoint so
the mean per-dimension variance is 1 ("isotropic": entropy is scale-dependent, this removes
only the overall scale); the backbone output, the unit-sphere footing (rows scaled to norm
sqrt(d)) and raw outputs are reported beside it. ER is the Euclidean ``er_gaussian`` with its
decoder/KDE width ``er_sigma``. Laptop scale: rendered ImageWorld pairs, ResNet-18 width 8 with
the ImageNet stem (8x8 maps after the stem: 3x cheaper than the CIFAR stem), 200 AdamW steps;
``--paper-scale``: width 64, CIFAR stem, VICReg augmentations, GPU.

ER's width: the default sigma = sqrt(0.1) is the twin of kappa = 10 for unit-sphere outputs; on
images the ResNet projector output starts ~100x smaller than unit scale and, in a 240-step
probe run (one seed), the encoder barely moved from its random initialisation (its isotropic
entropies stayed at or above the random encoder's; image_identifiability's er_gaussian R^2 is
that of the random encoder too). sigma = 1 (the unit scale VICReg's variance term targets)
trains; it is the default here and logged, and ``--er-sigma`` reruns the other.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np
import torch

from mitheory import info
from mitheory import train as tr
from mitheory.data import (CIFARDataset, ImageFolderDataset, TwoViewAugment,
                           parse_dataset_spec, shuffled_loader)
from mitheory.generative import ImageWorld
from mitheory.stats import even_checkpoints, holm_adjust, interval_means, paired_test
from mitheory.study import as_generator, claim_verdict, parallel_map, run_study, spawn, subplots

ESTIMATORS = ("logdet", "kl_upper", "bhattacharyya_lower", "knn")
FAMILIES = {"logdet": ("logdet",), "pairwise": ("kl_upper", "bhattacharyya_lower"),
            "knn": ("knn",)}  # a family says "higher" only if all its quantities do
FOOTINGS = tuple(f"{r}/{n}" for r in ("projector", "backbone")
                 for n in ("isotropic", "sphere", "raw"))


@dataclass(frozen=True)
class Config:
    methods: tuple[str, ...] = ("vicreg", "simclr", "byol", "barlow", "er_gaussian")  # registered
    reference: str = "vicreg"  # the method compared with every other one
    seed: int = 0  # root seed of every stream of the study
    n_trials: int = 5  # seeds per method (trial t shares data and init across methods)
    steps: int = 200  # optimiser steps per run
    n_checkpoints: int = 5  # evaluations along training (evenly spaced), plus step 0
    batch_size: int = 64  # view pairs per step
    lr: float = 2e-3  # peak AdamW learning rate (linear warmup over 10% of steps, then cosine)
    width: int = 8  # ResNet-18 base width (64 in the paper)
    stem: str = "imagenet"  # ResNet stem: imagenet (stride-4, cheap) or cifar (stride 1)
    projector: str = "64-64"  # projector widths after the backbone
    er_sigma: float = 1.0  # er_gaussian decoder/KDE std (its default sqrt(0.1) stays near init)
    dataset: str = "imageworld"  # imageworld, cifar10:PATH or imagefolder:PATH
    augment: str = ""  # two-view recipe (simclr/byol/vicreg; '' = ImageWorld pairs as rendered)
    n_eval: int = 1000  # fixed held-out images the entropies are computed on
    verdict_footing: str = "projector/isotropic"  # representation/normalisation of the verdict
    kernel_sigma: float = 0.5  # pairwise kernel std, as a fraction of sqrt(dim)
    knn_k: int = 3  # Kozachenko-Leonenko neighbour order
    alpha: float = 0.05  # level of the Holm-adjusted one-sided paired t-tests
    workers: int = 1  # processes for the (method, trial) runs (results do not depend on it)
    device: str = "auto"  # auto, cpu or cuda[:i]


QUICK = replace(Config(), methods=("vicreg", "simclr"), n_trials=2, steps=4, n_checkpoints=2,
                batch_size=16, width=4, projector="16-16", n_eval=120)
PAPER = replace(Config(), steps=20_000, batch_size=256, lr=1e-3, width=64, stem="cifar",
                projector="2048-2048", n_checkpoints=10, n_eval=5000, augment="vicreg",
                er_sigma=1.0)


def footings(z: np.ndarray) -> dict[str, np.ndarray]:
    """The three normalisations of embeddings (n, d): one scalar so the mean per-dimension
    variance is 1; rows on the sphere of radius sqrt(d); untouched."""
    zc = z - z.mean(axis=0)
    d, total = z.shape[1], float(np.mean(np.sum(zc * zc, axis=1)))
    norms = np.linalg.norm(z, axis=1, keepdims=True)
    if not total > 0 or not np.all(norms > 0):
        raise ValueError("embeddings collapsed to a point (zero variance or zero rows)")
    return {"isotropic": zc * np.sqrt(d / total), "sphere": z * np.sqrt(d) / norms, "raw": z}


def entropies(z: np.ndarray, cfg: Config) -> dict[str, float | None]:
    """The four entropy numbers (nats) of one footing; an estimator that cannot run on these
    outputs (e.g. kNN on duplicated points) gives None and its reason."""
    d = z.shape[1]
    sigma2 = (cfg.kernel_sigma * np.sqrt(d)) ** 2
    out: dict[str, float | None] = {}
    jobs = {"logdet": lambda: {"logdet": info.logdet_entropy(z, beta=1.0).value},
            "pairwise": lambda: {k: v.value for k, v in info.entropy_mixture_bounds(
                z, sigma2, methods=("kl_upper", "bhattacharyya_lower")).items()},
            "knn": lambda: {"knn": info.entropy_knn(z, k=cfg.knn_k).value}}
    for fam, job in jobs.items():
        try:
            out.update(job())
        except ValueError as exc:
            out.update({q: None for q in FAMILIES[fam]} | {f"{fam}_error": str(exc)})
    return out


def _data(cfg: Config):
    """(sampler, held-out images, two-view augment or None) for ``cfg.dataset``."""
    kind, path = parse_dataset_spec(cfg.dataset, ("imageworld", "cifar10:PATH",
                                                  "imagefolder:PATH"))
    if kind == "imageworld":
        world = ImageWorld(image_size=32, seed=(cfg.seed, 0))
        held_out = world.render(world.sample_factors(cfg.n_eval, seed=(cfg.seed, 1)))
        return world, held_out, None
    if not cfg.augment:
        raise ValueError("augment must name a two-view recipe for a dataset of images")
    if kind == "cifar10":
        train, test = CIFARDataset(path, train=True), CIFARDataset(path, train=False)
        idx = as_generator((cfg.seed, 1)).choice(len(test), cfg.n_eval, replace=False)
        held_out = test.data[np.sort(idx)]
    else:  # a fixed random subset held out of training
        full = ImageFolderDataset(path, size=32)
        perm = as_generator((cfg.seed, 1)).permutation(len(full))
        held_out = torch.stack([full[int(i)][0] for i in np.sort(perm[:cfg.n_eval])])
        train = torch.utils.data.Subset(full, perm[cfg.n_eval:].tolist())
    return (shuffled_loader(train, cfg.batch_size, cfg.seed), held_out.float() / 255.0,
            TwoViewAugment(cfg.augment, 32))


def train_cell(cfg: Config, name: str, trial: int) -> dict:
    """One (method, trial) run: entropies of the held-out set at each checkpoint."""
    sampler, held_out, augment = _data(cfg)
    seed = spawn((cfg.seed, 2), cfg.n_trials)[trial]  # same seed for every method: paired
    opts = {"sigma": cfg.er_sigma} if name.startswith("er_gaussian") else {}
    arch = {"width": cfg.width, "stem": cfg.stem, "projector": cfg.projector}

    def evaluate(step, method):
        row = {}
        for rep, feat in (("projector", "encoder"), ("backbone", "embed")):
            z = tr.embed_images(method, held_out, features=feat)
            try:
                row.update({f"{rep}/{k}": entropies(v, cfg) for k, v in footings(z).items()})
            except ValueError as exc:
                row.update({f"{rep}/{k}": {q: None for q in ESTIMATORS} | {"error": str(exc)}
                            for k in ("isotropic", "sphere", "raw")})
        return row

    init = tr.init_image_method_(tr.make_image_method(name, **arch, **opts), spawn(seed, 2)[0])
    start = {"step": 0, **evaluate(0, init.to(tr.resolve_device(cfg.device)))}
    tcfg = tr.ImageTrainConfig(steps=cfg.steps, batch_size=cfg.batch_size, lr=cfg.lr,
                               warmup_steps=cfg.steps // 10, device=cfg.device, log_every=5,
                               augment=(cfg.augment or None) if augment is None else None)
    res, history = tr.train_with_checkpoints(
        tr.make_image_method(name, **arch, **opts), sampler, tcfg, evaluate,
        at=even_checkpoints(cfg.steps, cfg.n_checkpoints), seed=seed, augment=augment)
    history.insert(0, start)
    last = history[-1][cfg.verdict_footing]
    print(f"{name} trial {trial}: {res.wall_time_s:.0f} s, final {cfg.verdict_footing} "
          + ", ".join(f"{e} {last[e]:.2f}" for e in ESTIMATORS if last[e] is not None),
          flush=True)
    return {"method": name, "trial": trial, "history": history, "train": res.to_dict()}


def curves(runs: list[dict], footing: str, method: str, est: str) -> np.ndarray:
    """(n_trials, n_checkpoints) entropies of one method under one footing (NaN: failed)."""
    rows = sorted((r for r in runs if r["method"] == method), key=lambda r: r["trial"])
    return np.array([[np.nan if h[footing][est] is None else h[footing][est]
                      for h in r["history"]] for r in rows], dtype=float)


def compare(runs: list[dict], cfg: Config, footing: str, steps: list[int]) -> dict:
    """Two-sided paired t-tests of the reference against each method, per estimator, at the
    final checkpoint and on the AUC / steps; Holm over the (method x estimator) family of each
    summary; the direction is the sign of the mean difference."""
    tests = []
    for other in (m for m in cfg.methods if m != cfg.reference):
        for est in ESTIMATORS:
            a, b = curves(runs, footing, cfg.reference, est), curves(runs, footing, other, est)
            for summary, fa, fb in (
                    ("final", a[:, -1], b[:, -1]),
                    ("auc", np.trapezoid(a, steps, axis=1) / steps[-1],
                     np.trapezoid(b, steps, axis=1) / steps[-1])):
                row = {"other": other, "estimator": est, "summary": summary}
                try:
                    row.update(paired_test(fa, fb).to_dict())
                except ValueError as exc:  # NaN (a failed estimator) or equal differences
                    row.update(error=str(exc), outcome="undetermined")
                tests.append(row)
    for summary in ("final", "auc"):
        fam = [t for t in tests if t["summary"] == summary and "error" not in t]
        for t, p in zip(fam, holm_adjust([t["p_value"] for t in fam]) if fam else []):
            t["p_holm"] = float(p)
            t["outcome"] = ("no difference" if p >= cfg.alpha else
                            "higher" if t["mean_difference"] > 0 else "lower")
    return {"tests": tests, **_decide(tests, cfg)}


def _decide(tests: list[dict], cfg: Config) -> dict:
    """Per opponent: the families (logdet, pairwise, kNN) with the reference significantly
    higher (lower) on both summaries; the claim needs a majority of families higher against
    every opponent, and is refuted by a majority lower against any."""
    by = {(t["other"], t["estimator"], t["summary"]): t["outcome"] for t in tests}
    per = {}
    for other in (m for m in cfg.methods if m != cfg.reference):
        fam = {f: ("higher" if all(by[(other, q, s)] == "higher" for q in qs
                                   for s in ("final", "auc")) else
                   "lower" if all(by[(other, q, s)] == "lower" for q in qs
                                  for s in ("final", "auc")) else "mixed or not significant")
               for f, qs in FAMILIES.items()}
        per[other] = {"families": fam,
                      "n_higher": sum(v == "higher" for v in fam.values()),
                      "n_lower": sum(v == "lower" for v in fam.values())}
    need = len(FAMILIES) // 2 + 1
    verdict = ("supported" if all(p["n_higher"] >= need for p in per.values()) else
               "not supported" if any(p["n_lower"] >= need for p in per.values())
               else "inconclusive")
    return {"per_opponent": per, "verdict": verdict, "majority": need}


def run(cfg: Config) -> dict:
    if cfg.reference not in cfg.methods or len(cfg.methods) < 2:
        raise ValueError(f"methods must hold reference={cfg.reference!r} and another method, "
                         f"got {cfg.methods}")
    if cfg.verdict_footing not in FOOTINGS:
        raise ValueError(f"verdict_footing must be one of {FOOTINGS}, got {cfg.verdict_footing!r}")
    cells = [(cfg, m, t) for m in cfg.methods for t in range(cfg.n_trials)]
    runs = parallel_map(train_cell, cells, workers=cfg.workers, seed=cfg.seed)
    steps = [h["step"] for h in runs[0]["history"]]
    summary = {f: {m: {e: _mean_se(curves(runs, f, m, e)) for e in ESTIMATORS}
                   for m in cfg.methods} for f in FOOTINGS}
    comparisons = {f: compare(runs, cfg, f, steps) for f in FOOTINGS}
    main = comparisons[cfg.verdict_footing]
    trend = {m: {e: tr.trend_status(s[e]["mean"][-2:], tol=0.02 * abs(s[e]["mean"][-1]))
                 for e in ESTIMATORS if None not in s[e]["mean"][-2:]}
             for m, s in summary[cfg.verdict_footing].items()}
    loss_trend = {m: _loss_trend([r for r in runs if r["method"] == m], steps) for m in cfg.methods}
    claim = claim_verdict(
        "C8", main["verdict"], protocol="reconstructed", n_seeds=cfg.n_trials,
        criterion=(f"{cfg.reference} vs each of {[m for m in cfg.methods if m != cfg.reference]}"
                   f" on {cfg.verdict_footing}: an estimator family (logdet; pairwise = KL upper "
                   f"and Bhattacharyya lower; kNN) says higher when two-sided paired t-tests "
                   f"across {cfg.n_trials} trials (Holm over methods x estimators, per summary) "
                   f"give p < {cfg.alpha} with a positive mean difference, at the final "
                   f"checkpoint and on the AUC / steps; supported when "
                   f">= {main['majority']} of 3 families say higher against every method; not "
                   f"supported when >= {main['majority']} say lower against any; inconclusive "
                   f"otherwise"),
        evidence={"per_opponent": main["per_opponent"],
                  "verdict_by_footing": {f: c["verdict"] for f, c in comparisons.items()},
                  "entropy_trend_last_two_checkpoints": trend,
                  "loss_trend_last_two_checkpoints": loss_trend, "steps": cfg.steps},
        notes="trend: plateaued when the last two checkpoints differ by <= 2% (entropy means) "
              "or the mean loss of the last two checkpoint intervals by <= 2%")
    return {"protocol": "reconstructed", "ingredients": _ingredients(cfg), "steps": steps,
            "runs": runs, "summary": summary, "comparisons": comparisons, "claims": [claim]}


def _mean_se(c: np.ndarray) -> dict:
    """Mean and standard error over trials of each checkpoint, on the trials where the
    estimator ran (None where none did); ``n_failed`` counts the missing values."""
    ok = np.isfinite(c)
    n = ok.sum(axis=0)
    mean = [float(c[ok[:, j], j].mean()) if n[j] else None for j in range(c.shape[1])]
    se = [float(c[ok[:, j], j].std(ddof=1) / np.sqrt(n[j])) if n[j] > 1 else None
          for j in range(c.shape[1])]
    return {"mean": mean, "se": se, "n_failed": int((~ok).sum())}


def _loss_trend(runs: list[dict], steps: list[int]) -> str:
    """trend_status of the mean logged loss over the last two checkpoint intervals."""
    loss = np.array([[v for _, v in r["train"]["losses"]] for r in runs]).mean(axis=0)
    w = interval_means([s for s, _ in runs[0]["train"]["losses"]], loss, steps[-3:])
    return tr.trend_status(w, tol=0.02 * abs(w[-1]))


def _ingredients(cfg: Config) -> dict:
    return {**asdict(cfg), "representations": {"projector": "encoder output (the loss input)",
                                               "backbone": "ResNet output before the projector"},
            "normalisations": {"isotropic": "centred, one scalar: mean per-dim variance 1",
                               "sphere": "rows scaled to norm sqrt(d)", "raw": "untouched"},
            "estimators": {"logdet": "0.5 logdet(I + C), C covariance, beta 1",
                           "kl_upper": "Kolchinsky-Tracey KL bound, N(z_i, s^2 I)",
                           "bhattacharyya_lower": "Kolchinsky-Tracey Bhattacharyya bound",
                           "knn": f"Kozachenko-Leonenko, k={cfg.knn_k}, Euclidean"},
            "kernel_std_rule": "s = kernel_sigma * sqrt(d)", "unit": "nats",
            "er_gaussian": f"sigma = {cfg.er_sigma} (decoder std and KDE width)",
            "step_0": "the random initialisation each run starts from (eval mode)",
            "test": "two-sided paired t (ttest_rel form), Holm per summary over methods x "
                    "estimators, direction from the mean difference"}


def table(results: dict) -> list[dict]:
    main = results["claims"][0]["evidence"]["per_opponent"]
    return [{"vs": o, **p["families"], "families higher": p["n_higher"]} for o, p in main.items()]


def plot(results: dict):
    cfg, steps = results["ingredients"], results["steps"]
    fig, axes = subplots(1, len(ESTIMATORS), axsize=(3.0, 2.4))
    for ax, est in zip(axes[0], ESTIMATORS):
        for m, s in results["summary"][cfg["verdict_footing"]].items():
            mean, se = (np.array(s[est][k], dtype=float) for k in ("mean", "se"))
            ax.errorbar(steps, mean, yerr=se, marker="o", ms=3, capsize=2, label=m)
        ax.set(xlabel="step", ylabel="entropy (nats)", title=f"{est} ({cfg['verdict_footing']})")
    axes[0][0].legend(fontsize=6)
    return fig


def main(argv=None):
    run_study("entropy_during_training", Config, run, plot, argv, quick=QUICK,
              presets={"paper_scale": PAPER}, description=__doc__,
              tables=lambda r: {"entropy_during_training": table(r)})


if __name__ == "__main__":
    main()
