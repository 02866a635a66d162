"""Identifiability evaluation of a trained method on its latent process (von Kuegelgen section 3.2).

Fresh marginal samples are embedded; linear and RBF-kernel-ridge R^2 are fitted on one split and
scored on another, for the content block, the style block and (when the process has no style
block) all latents, plus MCC against all latents.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from mitheory._rng import spawn
from mitheory._types import Seed
from mitheory._validate import check_int
from mitheory.stats import mcc, r2_identifiability_blocks
from mitheory.train._loop import embed_samples


def evaluate_identifiability(
    method: Any, process: Any, *, n_fit: int = 4096, n_eval: int = 4096,
    n_kernel_fit: int = 1500, seed: Seed = 0, kernel: bool = True,
    style_baseline: bool = True,
) -> dict[str, Any]:
    """R^2 (linear, kernel) of content / style / all latents from h(x), and MCC.

    Returns a dict with keys ``content``, ``style`` (absent when the process has no style block),
    ``all`` (each ``{"linear": r2, "kernel": r2}``), ``mcc`` and, for processes with a style
    block, ``style_from_content``: the R^2 of predicting style from the *true* content, the part
    of style any content-identifying encoder must also predict (claim C3's "beyond what content
    predicts of it"). It depends on the process only, so ``style_baseline=False`` skips it when
    a caller evaluates several methods on one process. Kernel R^2 uses the first
    ``n_kernel_fit`` fit samples (KRR is O(n^3)).
    """
    check_int(n_fit, "n_fit", minimum=2)
    check_int(n_eval, "n_eval", minimum=2)
    if kernel:
        check_int(n_kernel_fit, "n_kernel_fit", minimum=6)  # 2 per fold of the 3-fold search
        if n_kernel_fit > n_fit:
            raise ValueError(f"n_kernel_fit must be <= n_fit={n_fit} (the kernel fit uses the "
                             f"first n_kernel_fit fit samples), got {n_kernel_fit}")
    ss_fit, ss_ev, ss_k = spawn(seed, 3)
    h_fit, z_fit = embed_samples(method, process, n_fit, seed=ss_fit)
    h_ev, z_ev = embed_samples(method, process, n_eval, seed=ss_ev)
    n_k = n_kernel_fit if kernel else 0
    c, s = list(process.content_idx), list(process.style_idx)
    out: dict[str, Any] = {"n_fit": n_fit, "n_eval": n_eval, "n_kernel_fit": n_k}

    methods = ("linear", "kernel") if kernel else ("linear",)

    def r2(hf, he, blocks):  # block -> (z_fit, z_eval); kernel fits use the first n_k rows
        out_b = {k: {} for k in blocks}
        for m in methods:
            n = n_k if m == "kernel" else len(hf)
            res = r2_identifiability_blocks(
                hf[:n], he, {k: (zf[:n], ze) for k, (zf, ze) in blocks.items()}, method=m,
                seed=ss_k if m == "kernel" else None)
            for k in blocks:
                out_b[k][m] = float(res[k]["r2"])
        return out_b

    blocks = {"all": (z_fit, z_ev)}
    if s:
        blocks.update(content=(z_fit[:, c], z_ev[:, c]), style=(z_fit[:, s], z_ev[:, s]))
    out.update(r2(h_fit, h_ev, blocks))
    out["mcc"] = float(mcc(h_ev, z_ev))
    if not s:
        out["content"] = out["all"]
    elif style_baseline:
        out["style_from_content"] = r2(z_fit[:, c], z_ev[:, c],
                                       {"sfc": (z_fit[:, s], z_ev[:, s])})["sfc"]
    finite = all(np.isfinite(v) for k in ("all", "content") for v in out[k].values())
    if not finite:
        raise FloatingPointError("identifiability R^2 is not finite (degenerate representation?)")
    return out
