"""Outputs of a network around prototypes ``x*`` under Gaussian input noise: are they Gaussian,
and how often does the noise leave the activation region of ``x*``? (Theorem 1 of Shwartz-Ziv
et al. 2023: inside the region a CPA network is affine, so ``x* + eps`` maps to a Gaussian.)"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from mitheory._rng import as_generator, seed_tuple, spawn
from mitheory._validate import check_array, check_int, check_positive
from mitheory.cpa._boundary import exit_probability_mc
from mitheory.stats import normality_tests


def _scales(scales: Sequence[float], name: str) -> list[float]:
    out = [check_positive(s, name) for s in check_array(scales, name, ndim=1)]
    if not out:
        raise ValueError(f"{name} must hold at least one noise scale, got {scales!r}")
    return [float(s) for s in scales]


def noise_response(embed: Callable[[torch.Tensor], np.ndarray], net: Any,
                   prototypes: torch.Tensor, noise_scales: Sequence[float], *, n_noise: int,
                   n_exit: int, exit_scales: Sequence[float] = (),
                   tests: Sequence[str] = ("hz", "mardia", "dagostino"), alpha: float = 0.01,
                   test_dim: int | None = None, seed: int | tuple[int, ...] = 0,
                   exit_seed: int | tuple[int, ...] = 1
                   ) -> tuple[list[dict[str, Any]], dict[str, float]]:
    r"""Normality of ``embed(x* + s eps)`` per prototype, and the region-exit probability, per
    noise scale ``s`` (``eps ~ N(0, I)`` in pixel space, not clipped).

    Parameters
    ----------
    embed : callable images -> array (n, d)
        The representation tested (e.g. ``lambda x: embed_images(method, x)``, float32 forward).
    net : CPANetwork or torch.nn.Module
        The same network as a CPA network (e.g. ``trace_cpa(cpa_from_resnet(backbone))``): its
        activation regions give the exit probability (:func:`exit_probability_mc`).
    prototypes : tensor (n_prototypes, *image_shape)
        The clean inputs ``x*``.
    noise_scales : sequence of float
        Pixel-noise standard deviations ``s`` (> 0).
    n_noise : int
        Noisy copies per prototype and scale (the rows of each normality test).
    n_exit : int
        Noise draws per prototype and scale of the exit probability.
    exit_scales : sequence of float
        Further (smaller) noise sds at which only the exit probability is estimated
        (:func:`exit_probability_by_scale` with ``exit_seed``).
    tests : sequence of str
        :func:`mitheory.stats.normality_tests` methods.
    alpha : float
        Level of the tests.
    test_dim : int or None
        PCA dimension of each prototype's outputs before testing.
    seed : int or tuple of int
        Scale ``j`` draws its noise from ``spawn((*seed, j), 2)[0]`` (the same noise for every
        network given the same seed), its exit draws from the second child; the projection of
        prototype ``i`` uses ``(*seed, j, i)``.
    exit_seed : int or tuple of int
        Seed of the exit probabilities at ``exit_scales``.

    Returns
    -------
    rows : list of dict
        One row per scale: ``s``, ``noise_norm`` = ``s sqrt(D)`` (``D`` pixels per image),
        ``tests`` (per prototype, per test: ``p_value``, ``reject``, ``dim``, ``rank_input``),
        ``exit`` (per-prototype exit probability), ``pass_<test>`` (the fraction of prototypes
        not rejected). The first row adds ``float32_error_over_output_sd``: the largest
        difference between ``embed`` and ``net`` (float64) on 16 noisy copies of the first
        prototype, over the median output sd.
    exits : dict
        ``{str(s): mean exit probability over the prototypes}`` at ``exit_scales``.

    Raises
    ------
    ValueError
        A scale <= 0, ``n_noise`` or ``n_exit`` < 1, or bad test options (from the tests).
    TypeError
        If ``embed`` is not callable or ``seed`` is not an int or tuple of ints.
    """
    if not callable(embed):
        raise TypeError(f"embed must be a callable images -> array, got {embed!r}")
    scales = _scales(noise_scales, "noise_scales")
    check_int(n_noise, "n_noise", minimum=1)
    check_int(n_exit, "n_exit", minimum=1)
    base = seed_tuple(seed)
    exit_base = seed_tuple(exit_seed)
    if exit_scales:
        _scales(exit_scales, "exit_scales")
    if not isinstance(prototypes, torch.Tensor) or prototypes.ndim < 2 or len(prototypes) == 0:
        raise ValueError(f"prototypes must be a non-empty tensor (n, *image_shape), got "
                         f"{getattr(prototypes, 'shape', type(prototypes))}")
    rows = []
    for j, s in enumerate(scales):
        ss_noise, ss_exit = spawn((*base, j), 2)
        rng = as_generator(ss_noise)
        results = []
        for i, x in enumerate(prototypes):
            eps = rng.standard_normal((n_noise, *x.shape)).astype(np.float32)
            z = embed(x[None] + s * torch.from_numpy(eps))
            res = normality_tests(z, methods=tests, alpha=alpha, max_dim=test_dim,
                                  projection="pca", seed=(*base, j, i))
            results.append({m: {"p_value": r.p_value, "reject": r.reject, "dim": r.dim,
                                "rank_input": r.rank_input} for m, r in res.items()})
            if j == 0 and i == 0:  # float32 forward vs the float64 traced network, same inputs
                z64 = net(x[None].double() + s * torch.from_numpy(eps[:16]).double()).numpy()
                f32_error = float(np.max(np.abs(z[:16] - z64)) / np.median(z.std(0) + 1e-300))
        exit_mc = exit_probability_mc(net, prototypes, s**2, n_samples=n_exit, seed=ss_exit)
        rows.append({"s": s, "noise_norm": s * float(np.sqrt(prototypes[0].numel())),
                     "tests": results, "exit": exit_mc.estimate.tolist(),
                     **{f"pass_{m}": float(np.mean([not t[m]["reject"] for t in results]))
                        for m in tests}})
    rows[0]["float32_error_over_output_sd"] = f32_error
    exits = (exit_probability_by_scale(net, prototypes, exit_scales, n_samples=n_exit,
                                       seed=exit_base) if len(exit_scales) else {})
    return rows, exits


def exit_probability_by_scale(net: Any, prototypes: torch.Tensor, noise_scales: Sequence[float],
                              *, n_samples: int, seed: int | tuple[int, ...] = 0
                              ) -> dict[str, float]:
    """Mean over prototypes of the Monte Carlo region-exit probability at each noise sd ``s``.

    Scale ``k`` (covariance ``s^2 I``) draws with seed ``(*seed, k)``. Returns ``{str(s): mean
    estimate}`` in the order given (:func:`exit_probability_mc` per scale).

    Raises
    ------
    ValueError
        A scale <= 0 or an empty list of scales, ``n_samples`` < 1.
    """
    scales = _scales(noise_scales, "noise_scales")
    check_int(n_samples, "n_samples", minimum=1)
    base = seed_tuple(seed)
    return {str(s): exit_probability_mc(net, prototypes, s**2, n_samples=n_samples,
                                        seed=(*base, k)).estimate.mean()
            for k, s in enumerate(scales)}


def noise_response_curves(rows: Sequence[dict[str, Any]], test: str,
                          exits: dict[str, float] | None = None) -> dict[str, Any]:
    """The curves of one :func:`noise_response` result against the noise sd ``s``.

    Parameters
    ----------
    rows : sequence of dict
        The rows of :func:`noise_response` (one per scale).
    test : str
        The normality test whose p-values are returned.
    exits : dict, optional
        Its ``exits`` (``{str(s): mean exit probability}`` at the exit-only scales).

    Returns
    -------
    dict
        ``s`` (the scales of the rows), ``p_value`` (array ``(n_scales, n_prototypes)``),
        ``exit_s`` and ``exit``: the exit-only scales (in the order given) then the rows'
        scales, and the exit probability at each (the rows' means over the prototypes).

    Raises
    ------
    ValueError
        No rows, or a row without ``s``, ``exit`` or the p-values of ``test``.
    """
    if len(rows) == 0:
        raise ValueError("rows must hold at least one noise_response row")
    if any("s" not in r or "exit" not in r or any(test not in t for t in r.get("tests", [{}]))
           for r in rows):
        raise ValueError(f"rows must be noise_response rows with 's', 'exit' and the p-values "
                         f"of test {test!r}")
    extra = dict(exits or {})
    s = [r["s"] for r in rows]
    return {"s": s, "p_value": np.array([[t[test]["p_value"] for t in r["tests"]] for r in rows]),
            "exit_s": [*map(float, extra), *s],
            "exit": [*extra.values(), *(float(np.mean(r["exit"])) for r in rows)]}
