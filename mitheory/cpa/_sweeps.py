"""Sweeps of the CPA measurements: Theorem 1's output law against Monte Carlo over noise
scales, and region statistics of random networks over widths and depths."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import nn

from mitheory._rng import spawn
from mitheory._types import Seed
from mitheory._validate import check_array, check_int, check_positive
from mitheory.cpa._counting import region_statistics, regions_in_slice
from mitheory.cpa._modules import cpa_mlp
from mitheory.cpa._output_law import output_law_check
from mitheory.cpa._trace import CPANetwork


def output_law_sweep(net: nn.Module | CPANetwork, prototypes: Any, noise_sds: Sequence[float], *,
                     n_samples: int = 2000, n_test: int = 1000, n_permutations: int = 200,
                     n_exit_samples: int = 2000, seed: Seed = None) -> list[dict[str, Any]]:
    r""":func:`output_law_check` at each isotropic noise scale :math:`\sigma`, one row each.

    Parameters
    ----------
    net, prototypes
        As in :func:`output_law_check`.
    noise_sds : sequence of float
        Noise standard deviations :math:`\sigma > 0`; the input noise covariance is
        :math:`\sigma^2 I`.
    n_samples, n_test, n_permutations, n_exit_samples
        As in :func:`output_law_check`.
    seed : int, Generator or None
        Scale ``i`` uses stream ``spawn(seed, len(noise_sds))[i]``.

    Returns
    -------
    list of dict
        Per scale: ``sigma``; ``tv_bound`` (exact upper bound on the TV distance between the
        output law and Theorem 1's mixture) and ``exit_mc`` (Monte Carlo region-exit
        probability, the mass the mixture gets wrong); ``mean_err_se`` (largest component-mean
        error in Monte Carlo SEs) and ``cov_rel_err``; ``p_whitened`` and ``z_whitened``
        (p-value and null z-score of the energy test of the whitened residuals), ``p_raw``
        (the test on raw outputs); ``h_gauss_mc_nats`` (Gaussian maximum-entropy estimate of
        the output entropy), ``h_lower_bhatt_nats`` / ``h_upper_kl_nats`` (the mixture's
        entropy bounds); the entropies are None where a component is degenerate.

    Raises
    ------
    ValueError
        If ``noise_sds`` is empty or holds a non-positive value, or as
        :func:`output_law_check`.
    """
    sds = [check_positive(s, "noise_sds") for s in noise_sds]
    if not sds:
        raise ValueError("noise_sds must hold at least one noise scale, got an empty sequence")
    rows = []
    for sd, ss in zip(sds, spawn(seed, len(sds))):
        c = output_law_check(net, prototypes, sd**2, n_samples=n_samples, n_test=n_test,
                             n_permutations=n_permutations, n_exit_samples=n_exit_samples,
                             seed=ss)
        t, h, g = c.test_whitened, c.entropy_bounds, c.entropy_gaussian_mc
        rows.append({"sigma": sd, "tv_bound": c.tv_bound, "exit_mc": c.exit_mc,
                     "mean_err_se": c.mean_z_max, "cov_rel_err": c.cov_rel_max,
                     "p_whitened": t.p_value, "z_whitened": (t.statistic - t.null_mean) / t.null_sd,
                     "p_raw": c.test_raw.p_value, "h_gauss_mc_nats": g and g.value,
                     "h_lower_bhatt_nats": h and h["bhattacharyya_lower"].value,
                     "h_upper_kl_nats": h and h["kl_upper"].value})
    return rows


def region_statistics_grid(prototypes: Any, *, dim_out: int, widths: Sequence[int],
                           depths: Sequence[int], resolution: int = 128,
                           seed: Seed = None) -> list[dict[str, Any]]:
    """How finely random CPA MLPs of each width and depth cut the space around prototypes.

    For each depth, then each width, a ``cpa_mlp([dim_in, width] * depth + [dim_out])``
    (``dim_in`` the prototypes' dimension) gets :func:`region_statistics` at the prototypes and
    :func:`regions_in_slice` on the plane through the first three prototypes (spanned by
    ``p1 - p0`` and ``p2 - p0``, centred at ``p0``).

    Parameters
    ----------
    prototypes : array, shape (N, dim_in), N >= 3
    dim_out : int
    widths, depths : sequence of int
        Hidden widths and numbers of hidden layers.
    resolution : int
        Grid points per side of the slice (its count is a lower bound).
    seed : int, Generator or None
        Width ``j`` uses stream ``spawn(seed, len(widths))[j]`` at every depth (so the
        networks of one width share their seed across depths).

    Returns
    -------
    list of dict
        Per (depth, width): ``depth``, ``width``, the :func:`region_statistics` fields and
        ``regions_in_slice`` (``SliceRegions.n_regions``).

    Raises
    ------
    ValueError
        If ``prototypes`` has fewer than 3 rows or is not finite, ``widths``/``depths`` is
        empty or holds a non-positive value, or ``dim_out``/``resolution`` is invalid.
    """
    protos = check_array(prototypes, "prototypes", ndim=2)
    if len(protos) < 3:
        raise ValueError(f"prototypes needs at least 3 rows (a plane), got shape {protos.shape}")
    dim_out = check_int(dim_out, "dim_out", minimum=1)
    for name, vals in (("widths", widths), ("depths", depths)):
        if len(vals) == 0:
            raise ValueError(f"{name} must hold at least one value, got an empty sequence")
        for v in vals:
            check_int(v, name, minimum=1)
    rows = []
    for depth in depths:
        for width, s in zip(widths, spawn(seed, len(widths))):
            net = cpa_mlp([protos.shape[1], *[width] * depth, dim_out], seed=s)
            plane = regions_in_slice(net, protos[0], protos[1] - protos[0],
                                     protos[2] - protos[0], resolution=resolution)
            rows.append({"depth": depth, "width": width, **region_statistics(net, protos),
                         "regions_in_slice": plane.n_regions})
    return rows
