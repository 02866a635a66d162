"""CorInfoMax (Ozsoy, Hamdan, Arik, Yuret, Erdogan, NeurIPS 2022): MSE attraction plus the
log det of EMA ("forgetting factor") covariance estimates, as in ``serdarozsoy/corinfomax-ssl``
``cifars-tiny/loss.py`` (commit bd3f9eb).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mitheory._validate import check_int, check_pair, check_positive, check_probability
from mitheory.objectives._distributed import gather_with_grad
from mitheory.objectives._mmi import logdet_exact


class CorInfoMaxCovariance(nn.Module):
    r"""Per-view EMA mean and covariance, and the CorInfoMax log-det ("big-bang") term.

    Parameters
    ----------
    dim : int
        Embedding dimension :math:`D`.
    lambda_r, lambda_mu : float, default 0.01
        Forgetting factors: the weight of the *old* estimate,
        :math:`R \leftarrow \lambda_R R + (1-\lambda_R)\hat R_{\rm batch}` (official
        ``la_R``/``la_mu``, default and README value 0.01; 0.1 for Tiny-ImageNet / IN-1k).
    r_init : float, default 1.0
        Initial covariance :math:`r_{\rm init} I` (official ``R_ini``).
    r_eps : float, default 1e-6
        Ridge :math:`\epsilon I` inside the log det (official ``R_eps_weight`` default 1e-6;
        the README commands pass 1e-8).

    Attributes
    ----------
    r_a, r_b : torch.Tensor, shape (dim, dim), float64
    mu_a, mu_b : torch.Tensor, shape (dim,), float64
        The committed estimates (float64, as the official buffers).

    Notes
    -----
    The official ``forward`` computes the new estimates with gradient, uses them in the loss
    and stores them detached. Here :meth:`logdet_loss` computes them without storing, and
    :meth:`update` (called after the loss, with the same batch) stores them.
    """

    def __init__(
        self,
        dim: int,
        *,
        lambda_r: float = 0.01,
        lambda_mu: float = 0.01,
        r_init: float = 1.0,
        r_eps: float = 1e-6,
    ) -> None:
        super().__init__()
        self.dim = check_int(dim, "dim", minimum=1)
        self.lambda_r = check_probability(lambda_r, "lambda_r")
        self.lambda_mu = check_probability(lambda_mu, "lambda_mu")
        self.r_eps = check_positive(r_eps, "r_eps", strict=False)
        r0 = check_positive(r_init, "r_init") * torch.eye(self.dim, dtype=torch.float64)
        for v in ("a", "b"):
            self.register_buffer(f"r_{v}", r0.clone())
            self.register_buffer(f"mu_{v}", torch.zeros(self.dim, dtype=torch.float64))

    def _new_estimates(self, z: torch.Tensor, view: str) -> tuple[torch.Tensor, torch.Tensor]:
        mu_old, r_old = getattr(self, f"mu_{view}"), getattr(self, f"r_{view}")
        mu = self.lambda_mu * mu_old + (1 - self.lambda_mu) * z.mean(dim=0)  # float64
        zc = z - mu
        r = self.lambda_r * r_old + (1 - self.lambda_r) * (zc.T @ zc) / z.shape[0]
        return mu, r

    def _check(self, z_a: torch.Tensor, z_b: torch.Tensor) -> None:
        check_pair(z_a, z_b, min_samples=1)
        if z_a.shape[1] != self.dim:
            raise ValueError(f"z_a and z_b must have {self.dim} columns, got {z_a.shape[1]}")

    def logdet_loss(
        self, z_a: torch.Tensor, z_b: torch.Tensor, *, gather: bool = False
    ) -> torch.Tensor:
        r""":math:`-\frac1D[\log\det(R_a + \epsilon I) + \log\det(R_b + \epsilon I)]` with the
        updated (not yet stored) estimates; differentiable, in ``z_a.dtype``.

        ``gather=True`` uses the all-gathered batch under ``torch.distributed`` (the official
        CIFAR code is single-process).
        """
        self._check(z_a, z_b)
        if gather:
            z_a, z_b = gather_with_grad(z_a), gather_with_grad(z_b)
        eye = self.r_eps * torch.eye(self.dim, dtype=torch.float64, device=z_a.device)
        total = 0.0
        for z, v in ((z_a, "a"), (z_b, "b")):
            _, r = self._new_estimates(z, v)
            total = total + logdet_exact(r + eye)
        return (-total / self.dim).to(z_a.dtype)

    @torch.no_grad()
    def update(
        self, z_a: torch.Tensor, z_b: torch.Tensor, *, gather: bool = False
    ) -> "CorInfoMaxCovariance":
        """Store the updated estimates from this batch (call after :meth:`logdet_loss`)."""
        self._check(z_a, z_b)
        if gather:
            z_a, z_b = gather_with_grad(z_a), gather_with_grad(z_b)
        for z, v in ((z_a, "a"), (z_b, "b")):
            mu, r = self._new_estimates(z.detach(), v)
            getattr(self, f"mu_{v}").copy_(mu)
            getattr(self, f"r_{v}").copy_(r)
        return self


def corinfomax_loss(
    z_a: torch.Tensor,
    z_b: torch.Tensor,
    state: CorInfoMaxCovariance,
    *,
    sim_weight: float = 500.0,
    cov_weight: float = 1.0,
    gather: bool = False,
) -> torch.Tensor:
    r"""CorInfoMax loss: weighted MSE between the views plus the negative log-det term.

    Parameters
    ----------
    z_a, z_b : torch.Tensor, shape (n_samples, dim)
        Projector outputs (optionally L2-normalised by the caller, official ``--normalize_on``).
    state : CorInfoMaxCovariance
        EMA estimates; not modified here (call ``state.update(z_a, z_b)`` afterwards).
    sim_weight : float, default 500.0
        :math:`\alpha` (official argparse default 500; README: 250 for CIFAR-10, 1000 for
        CIFAR-100, 500 for Tiny-ImageNet / ImageNet-100, 2000 for ImageNet-1k).
    cov_weight : float, default 1.0
    gather : bool, default False
        All-gathered batch for the covariance term; the MSE stays a local mean.

    Returns
    -------
    torch.Tensor, shape ()
        :math:`\alpha\,\mathrm{mean}((z_a - z_b)^2) - \frac1D\sum_{v}\log\det(R_v+\epsilon I)`:
        minus a (scaled, EMA-smoothed) log-det *estimate* of the correlative MI
        :math:`\tfrac12\log\det R_{z} - \tfrac12\log\det R_{e}` with the error covariance
        replaced by the MSE (Ozsoy et al. 2022, Sec. 3).

    Raises
    ------
    TypeError
        If ``state`` is not a :class:`CorInfoMaxCovariance`.
    ValueError
        If ``z_a``/``z_b`` are not finite batches of one shape.

    Notes
    -----
    ``F.mse_loss`` averages over :math:`N D` entries, as in the official code (the paper's
    Euclidean distance is per sample; the factor is absorbed in :math:`\alpha`).
    """
    check_pair(z_a, z_b, min_samples=1)
    if not isinstance(state, CorInfoMaxCovariance):
        raise TypeError(f"state must be a CorInfoMaxCovariance, got {type(state).__name__}")
    check_positive(sim_weight, "sim_weight", strict=False)
    check_positive(cov_weight, "cov_weight", strict=False)
    sim = F.mse_loss(z_a, z_b)
    return sim_weight * sim + cov_weight * state.logdet_loss(z_a, z_b, gather=gather)
