"""SimCLR's NT-Xent loss (Chen et al. 2020): 2N x 2N cosine logits, self-similarity masked."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from mitheory._validate import check_pair, check_positive
from mitheory.objectives._distributed import gather_with_grad, rank


def nt_xent_loss(
    z_a: torch.Tensor, z_b: torch.Tensor, *, tau: float = 0.5, gather: bool = False
) -> torch.Tensor:
    r"""NT-Xent (normalised temperature-scaled cross-entropy) loss of SimCLR.

    Parameters
    ----------
    z_a, z_b : torch.Tensor, shape (n_samples, dim_z)
        Projections of two views; row ``i`` of each is a positive pair. They are L2-normalised
        inside (as in SimCLR), so any non-zero rows are accepted.
    tau : float, default 0.5
        Temperature (SimCLR's CIFAR default 0.5; ImageNet runs use 0.1, Causal3DIdent 1.0).
    gather : bool, default False
        Under ``torch.distributed``, all-gather both views with :func:`gather_with_grad` so that
        every local anchor is contrasted with the global 2N - 1 other embeddings (SimCLR's
        cross-replica negatives); the loss is the mean over local anchors.

    Returns
    -------
    torch.Tensor, shape ()
        Mean over the 2n anchors of the cross-entropy below (a loss to minimise, nats).

    Notes
    -----
    With :math:`u = (\hat z_{a,1..N}, \hat z_{b,1..N})` the 2N normalised embeddings,
    :math:`s_{kl} = u_k^\top u_l / \tau` and :math:`p(k)` the index of ``k``'s other view,

    .. math::

        \mathcal{L} = \frac{1}{2N} \sum_{k=1}^{2N} \Big[-s_{k,p(k)}
        + \log \sum_{l \ne k} e^{s_{kl}}\Big],

    the paper's loss (Chen et al. 2020, Eq. 1 and Algorithm 1: :math:`\frac{1}{2N}` times the
    sum over both orderings of every pair). The released ``google-research/simclr`` code
    (``objective.py``, ``add_contrastive_loss``) returns ``reduce_mean(loss_a + loss_b)``,
    i.e. **twice** this value (a constant factor, absorbed in the learning rate), and masks the
    self-similarity by subtracting ``1e9`` where this excludes it exactly; both are pinned in
    ``tests/objectives/test_simclr.py``.

    References
    ----------
    Chen, Kornblith, Norouzi, Hinton 2020, "A Simple Framework for Contrastive Learning of
    Visual Representations", ICML, Eq. (1).

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> z = torch.randn(8, 4, generator=g)
    >>> float(nt_xent_loss(z, z)) < float(nt_xent_loss(z, torch.randn(8, 4, generator=g)))
    True
    """
    check_pair(z_a, z_b)
    tau = check_positive(tau, "tau")
    a = F.normalize(z_a, dim=1)  # (n, d)
    b = F.normalize(z_b, dim=1)
    all_a = gather_with_grad(a) if gather else a  # (N, d)
    all_b = gather_with_grad(b) if gather else b
    n, big_n = a.shape[0], all_a.shape[0]
    idx = torch.arange(n, device=a.device) + (rank() * n if gather else 0)  # global rows
    self_mask = F.one_hot(idx, big_n).bool()  # (n, N): k == l
    inf = float("inf")
    logits_a = torch.cat([(a @ all_a.T / tau).masked_fill(self_mask, -inf), a @ all_b.T / tau], 1)
    logits_b = torch.cat([b @ all_a.T / tau, (b @ all_b.T / tau).masked_fill(self_mask, -inf)], 1)
    logits = torch.cat([logits_a, logits_b], 0)  # (2n, 2N)
    target = torch.cat([idx + big_n, idx])  # a_i's positive is b_i (column N + i), and back
    return F.cross_entropy(logits, target)
