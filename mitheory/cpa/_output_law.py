"""The output law of a CPA network under Gaussian input noise around prototypes (Theorem 1).

Prediction (Shwartz-Ziv et al. 2023, Theorem 1; dossier vicreg_infotheory.md Sec. 2.2):
``p(z) ~ sum_n w_n N(z; A_n x*_n + b_n, A_n S A_n^T)``, exact while the noise around each
prototype stays inside the prototype's activation region; compared here with Monte Carlo samples
of ``f(x*_n + eps)``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from mitheory._rng import as_generator, spawn
from mitheory._types import InfoValue, Seed, Unit
from mitheory._validate import check_array, check_int, check_labels
from mitheory.cpa._boundary import exit_probability_bounds, exit_probability_mc, noise_factor
from mitheory.cpa._discrepancy import TwoSampleTest, two_sample_test
from mitheory.cpa._regions import region_affine_map
from mitheory.cpa._trace import CPANetwork, as_device, prepare, trace_cpa
from mitheory.info import entropy_gaussian, entropy_mixture_bounds


@dataclass(frozen=True)
class OutputMixture:
    """Theorem 1's Gaussian mixture for the network output, one component per prototype.

    Attributes
    ----------
    means : ndarray (N, dim_out)
        ``A_n x*_n + b_n = f(x*_n)``.
    covs : ndarray (N, dim_out, dim_out)
        ``A_n S A_n^T``.
    weights : ndarray (N,)
    A : ndarray (N, dim_out, dim_in)
    exit_union_bound, exit_max_term : ndarray (N,)
        Bounds on the probability that the noise around prototype ``n`` leaves its region,
        the only source of error of the prediction.
    noise_chol : ndarray (dim_in, dim_in)
        ``L`` with ``L L^T = S``, the input noise covariance.
    """

    means: np.ndarray
    covs: np.ndarray
    weights: np.ndarray
    A: np.ndarray
    exit_union_bound: np.ndarray
    exit_max_term: np.ndarray
    noise_chol: np.ndarray

    def mean(self) -> np.ndarray:
        """Mixture mean ``sum_n w_n mu_n`` (dim_out,)."""
        return self.weights @ self.means

    def covariance(self) -> np.ndarray:
        """Mixture covariance ``sum_n w_n (C_n + mu_n mu_n^T) - m m^T`` (dim_out, dim_out)."""
        m = self.mean()
        second = np.einsum("n,nij->ij", self.weights, self.covs) + np.einsum(
            "n,ni,nj->ij", self.weights, self.means, self.means)
        return second - np.outer(m, m)

    def sample(self, labels: np.ndarray, *, seed: Seed = None) -> np.ndarray:
        """One draw from component ``labels[i]`` for each ``i`` (n, dim_out) (PSD-safe: via A)."""
        labels = check_labels(labels, "labels", n_classes=len(self.means))
        rng = as_generator(seed)
        # C_n = A_n S A_n^T may be singular; sample as A_n L z with L L^T = S instead
        z = rng.standard_normal((len(labels), self.A.shape[2]))
        return self.means[labels] + np.einsum("nod,nd->no", self.A[labels],
                                              z @ self.noise_chol.T)


def _weights(weights: Any, n: int) -> np.ndarray:
    if weights is None:
        return np.full(n, 1.0 / n)
    w = check_array(weights, "weights", ndim=1)
    if w.shape != (n,) or np.any(w < 0) or not np.isclose(w.sum(), 1.0, rtol=0, atol=1e-10):
        raise ValueError(f"weights must be {n} non-negative numbers summing to 1, got shape "
                         f"{w.shape}, sum {w.sum():.6g}")
    return w


def output_mixture(net: nn.Module | CPANetwork, prototypes: Any, noise_cov: Any, *,
                   weights: Any = None, device: str | torch.device | None = None
                   ) -> OutputMixture:
    """Theorem 1's predicted law of ``f(x)``, ``x = x*_n + eps``, ``eps ~ N(0, S)``, ``n ~ w``.

    Parameters
    ----------
    net : torch.nn.Module or CPANetwork
    prototypes : array, shape (N, *in_shape)
        The centres ``x*_n``.
    noise_cov : float, array (dim_in,) or array (dim_in, dim_in)
        Input noise covariance ``S`` (isotropic variance, diagonal, or full).
    weights : array (N,), optional
        Mixture weights ``p(n)``; uniform by default.
    device : str or torch.device, optional

    Returns
    -------
    OutputMixture
        The prediction is exact when each component's noise stays in its region; the exit
        probability bounds carried along say how far from that each component is.

    Notes
    -----
    .. math:: p(z) \\approx \\sum_n p(n)\\, N\\big(z;\\, A_{\\omega(x^*_n)} x^*_n +
              b_{\\omega(x^*_n)},\\; A_{\\omega(x^*_n)} S A_{\\omega(x^*_n)}^\\top\\big)

    (Theorem 1 of Shwartz-Ziv et al. 2023 as given in the dossier, Sec. 2.2; its exact statement
    is unverified). The error in total variation is at most :math:`\\sum_n p(n)\\,
    P(\\text{exit}_n)`, since on the event "no exit" the output equals the affine image.
    """
    cnet, xt = prepare(net, prototypes, "prototypes", device)
    w = _weights(weights, len(xt))
    lt = noise_factor(noise_cov, int(np.prod(xt.shape[1:]))).T
    rm = region_affine_map(cnet, xt)
    ex = exit_probability_bounds(cnet, xt, noise_cov)
    cov = np.einsum("nod,de,npe->nop", rm.A, lt.T @ lt, rm.A)  # A S A^T
    means = np.einsum("nod,nd->no", rm.A, xt.reshape(len(xt), -1).cpu().numpy()) + rm.b
    return OutputMixture(means=means, covs=cov, weights=w, A=rm.A,
                         exit_union_bound=ex.union_bound, exit_max_term=ex.max_term,
                         noise_chol=lt.T)


def sample_output_law(net: nn.Module | CPANetwork, prototypes: Any, noise_cov: Any, *,
                      n_samples: int, weights: Any = None,
                      device: str | torch.device | None = None, seed: Seed = None
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Monte Carlo draws of ``f(x*_n + eps)``, ``n ~ weights``, ``eps ~ N(0, S)``, in float64.

    Returns
    -------
    z : ndarray (n_samples, dim_out)
    labels : ndarray (n_samples,) int
        The prototype behind each draw (use it to draw the paired prediction,
        ``OutputMixture.sample(labels)``).
    """
    n_samples = check_int(n_samples, "n_samples", minimum=1)
    cnet, xt = prepare(net, prototypes, "prototypes", device)
    dev = cnet.device
    w = _weights(weights, len(xt))
    d = int(np.prod(xt.shape[1:]))
    lt = noise_factor(noise_cov, d).T
    rng = as_generator(seed)
    labels = rng.choice(len(xt), size=n_samples, p=w)
    eps = torch.as_tensor(rng.standard_normal((n_samples, d)) @ lt, device=dev)
    with torch.no_grad():
        z = cnet(xt[torch.as_tensor(labels, device=dev)] + eps.reshape(n_samples, *xt.shape[1:]))
    return z.reshape(n_samples, -1).cpu().numpy(), labels


def component_moment_errors(mixture: OutputMixture, z: Any, labels: Any) -> dict[str, np.ndarray]:
    """Per-component discrepancy between predicted and Monte Carlo mean and covariance.

    Parameters
    ----------
    mixture : OutputMixture
    z : array (n, dim_out)
        Monte Carlo outputs (``sample_output_law``).
    labels : array (n,) int
        Their components.

    Returns
    -------
    dict
        ``"mean_z"`` (N,): largest |sample mean - predicted mean| over coordinates, in units of
        its Monte Carlo standard error ``sqrt(C_ii / n_n)`` (about |N(0,1)| when the prediction
        holds); ``"cov_rel"`` (N,): ``||C_hat - C||_F / ||C||_F``; ``"n"`` (N,) draws per
        component.

    Raises
    ------
    TypeError
        If ``mixture`` is not an :class:`OutputMixture`.
    ValueError
        If ``z`` is empty or not finite, or ``labels`` are not integers in
        ``[0, n_components)``, one per row of ``z``.
    """
    if not isinstance(mixture, OutputMixture):
        raise TypeError(f"mixture must be an OutputMixture, got {type(mixture).__name__}")
    z = check_array(z, "z", ndim=2)
    if len(z) == 0:
        raise ValueError(f"z is empty (shape {z.shape})")
    n_comp = len(mixture.means)
    labels = check_labels(labels, "labels", n=len(z), n_classes=n_comp)
    mean_z, cov_rel, counts = (np.full(n_comp, np.nan) for _ in range(3))
    for k in range(n_comp):
        zk = z[labels == k]
        counts[k] = len(zk)
        if len(zk) < 2:
            continue
        sd = np.sqrt(np.clip(np.diag(mixture.covs[k]), 1e-300, None) / len(zk))
        mean_z[k] = np.max(np.abs(zk.mean(0) - mixture.means[k]) / sd)
        c_hat = np.cov(zk, rowvar=False).reshape(z.shape[1], z.shape[1])
        cov_rel[k] = np.linalg.norm(c_hat - mixture.covs[k]) / np.linalg.norm(mixture.covs[k])
    return {"mean_z": mean_z, "cov_rel": cov_rel, "n": counts}


def output_entropy_bounds(mixture: OutputMixture, *, methods: tuple[str, ...] | None = None,
                          unit: Unit = "nats") -> dict[str, InfoValue]:
    """Entropy bounds of Theorem 1's predicted output mixture (``mitheory.info`` bounds).

    Returns ``entropy_mixture_bounds(mixture.means, mixture.covs, mixture.weights, ...)``: lower
    and upper bounds on the entropy of the *predicted* mixture, which is the entropy of the true
    output law only in the regime where the noise stays inside the regions (then the error is
    controlled by the exit probabilities). Raises ``ValueError`` for a degenerate component.
    """
    if not isinstance(mixture, OutputMixture):
        raise TypeError(f"mixture must be an OutputMixture, got {type(mixture).__name__}")
    kwargs = {} if methods is None else {"methods": methods}
    return entropy_mixture_bounds(mixture.means, mixture.covs, mixture.weights, unit=unit,
                                  **kwargs)


def _whitened_residuals(mix: OutputMixture, z: np.ndarray, labels: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Residuals ``Lambda^{-1/2} U^T (z - mu_n)`` in each component's eigenbasis, and the
    support mask (N, k).

    On the support of ``C_n = U Lambda U^T`` (eigenvalues above 1e-10 of the largest, far above
    float64 round-off of ``A S A^T``) the residual is N(0, 1) per coordinate under the
    prediction; on its null space (dead units make ``A_n`` rank-deficient) the prediction puts
    no mass, so the residual there is divided by the largest sd and is 0 up to round-off
    unless the noise left the region.
    """
    lam, u = np.linalg.eigh(mix.covs)  # (N, k), (N, k, k), ascending
    support = lam > 1e-10 * lam[:, -1:]
    scale = np.sqrt(np.where(support, lam, lam[:, -1:]))
    coords = np.einsum("nkj,nk->nj", u[labels], z - mix.means[labels])
    return coords / scale[labels], support.astype(np.float64)


@dataclass(frozen=True)
class OutputLawCheck:
    """Theorem 1's mixture against Monte Carlo outputs at one noise covariance.

    Attributes
    ----------
    tv_bound : float
        ``sum_n w_n min(1, union bound_n)``: an exact upper bound on the total-variation distance
        between the true output law and the predicted mixture.
    exit_mc : float
        Monte Carlo estimate of ``sum_n w_n P(exit_n)``, the probability mass the prediction
        gets wrong (the TV bound's target).
    mean_z_max, cov_rel_max : float
        Largest per-component mean error (in Monte Carlo standard errors) and relative
        covariance error (``component_moment_errors``).
    test_whitened : TwoSampleTest
        Permutation test of the whitened residuals ``Lambda_n^{-1/2} U_n^T (z - mu_n)``
        (``C_n = U_n Lambda_n U_n^T``, ``n`` the draw's prototype) against their law under the
        prediction (standard normal on each component's support, drawn with independent
        labels): sensitive to each component's shape at every noise scale.
    test_raw : TwoSampleTest
        Permutation test of "Monte Carlo law == predicted mixture" on the raw outputs
        (independent component labels on each side, so the permutation test is exact). At
        small noise it is dominated by the spread between components and has little power.
    mc_covariance : ndarray (dim_out, dim_out)
        Sample covariance of the Monte Carlo outputs.
    entropy_bounds : dict of str to InfoValue, or None
        ``output_entropy_bounds`` of the predicted mixture (Bhattacharyya lower, KL upper);
        None when a component is degenerate (rank-deficient ``A_n``: the entropy is -inf).
    entropy_gaussian_mc : InfoValue or None
        ``entropy_gaussian(mc_covariance)``: an estimate of the maximum-entropy (Gaussian)
        upper bound on the entropy of the true output law (None when degenerate).
    """

    tv_bound: float
    exit_mc: float
    mean_z_max: float
    cov_rel_max: float
    test_whitened: TwoSampleTest
    test_raw: TwoSampleTest
    mc_covariance: np.ndarray
    entropy_bounds: dict[str, InfoValue] | None
    entropy_gaussian_mc: InfoValue | None


def output_law_check(net: nn.Module | CPANetwork, prototypes: Any, noise_cov: Any, *,
                     n_samples: int = 2000, n_test: int = 1000,
                     statistic: Literal["energy", "mmd"] = "energy",
                     n_permutations: int = 200, n_exit_samples: int = 2000,
                     weights: Any = None, device: str | torch.device | None = None,
                     seed: Seed = None) -> OutputLawCheck:
    """Compare Theorem 1's predicted mixture with Monte Carlo draws of ``f(x*_n + eps)``.

    Parameters
    ----------
    net, prototypes, noise_cov, weights, device
        As in ``output_mixture``.
    n_samples : int
        Monte Carlo outputs for the moment comparison.
    n_test : int
        Draws per side in the two-sample test (<= n_samples); the mixture side uses its own
        component labels so both samples are i.i.d. and the permutation test is exact.
    statistic : {"energy", "mmd"}
    n_permutations : int
    n_exit_samples : int
        Noise draws per prototype for the Monte Carlo exit probability.
    seed : int, Generator or None

    Returns
    -------
    OutputLawCheck
    """
    n_test = check_int(n_test, "n_test", minimum=2)
    if n_test > n_samples:
        raise ValueError(f"n_test={n_test} must be <= n_samples={n_samples}")
    check_int(n_exit_samples, "n_exit_samples", minimum=1)
    ss_law, ss_mix, ss_lab, ss_perm, ss_exit, ss_ref, ss_perm2 = spawn(seed, 7)
    cnet = trace_cpa(net, device=as_device(device, net))
    mix = output_mixture(cnet, prototypes, noise_cov, weights=weights)
    z, labels = sample_output_law(cnet, prototypes, noise_cov, n_samples=n_samples,
                                  weights=weights, seed=ss_law)
    err = component_moment_errors(mix, z, labels)
    resid, support = _whitened_residuals(mix, z[:n_test], labels[:n_test])
    ref_labels = as_generator(ss_lab).choice(len(mix.weights), size=n_test, p=mix.weights)
    ref = as_generator(ss_ref).standard_normal(resid.shape) * support[ref_labels]
    test_w = two_sample_test(resid, ref, statistic=statistic, n_permutations=n_permutations,
                             seed=ss_perm2)
    test = two_sample_test(z[:n_test], mix.sample(ref_labels, seed=ss_mix), statistic=statistic,
                           n_permutations=n_permutations, seed=ss_perm)
    ex = exit_probability_mc(cnet, prototypes, noise_cov, n_samples=n_exit_samples,
                             seed=ss_exit)
    mc_cov = np.cov(z, rowvar=False).reshape(z.shape[1], z.shape[1])
    degenerate = not support.all()
    bounds = None if degenerate else output_entropy_bounds(
        mix, methods=("bhattacharyya_lower", "kl_upper"))
    return OutputLawCheck(
        tv_bound=float(mix.weights @ np.minimum(1.0, mix.exit_union_bound)),
        exit_mc=float(mix.weights @ ex.estimate), mean_z_max=float(np.nanmax(err["mean_z"])),
        cov_rel_max=float(np.nanmax(err["cov_rel"])), test_whitened=test_w, test_raw=test,
        mc_covariance=mc_cov, entropy_bounds=bounds,
        entropy_gaussian_mc=None if degenerate else entropy_gaussian(mc_cov))
