"""Discrete ER / EntRec (Rodriguez-Galvez et al. 2023): entropy of the batch-mean cluster
assignment and the symmetric cross-entropy reconstruction (SwAV/DINO-style variable W in [K]).

Follows the ``support="discrete"`` branches of the released ``apple/ml-entropy-reconstruction``
(commit f523f11) ``entropy_reconstruction.py``, including its ``1e-7`` epsilons.
"""
from __future__ import annotations

from typing import Literal

import torch

from mitheory._validate import check_embeddings, check_option, check_pair, check_positive
from mitheory.objectives._distributed import gather_with_grad

DiscreteReduction = Literal["expectation", "average"]

# Rows must be probability vectors to this tolerance (float32 softmax sums to 1 within ~1e-6;
# 1e-4 leaves room for half precision yet catches logits passed by mistake).
ROW_SUM_ATOL = 1e-4
RELEASED_EPS = 1e-7


def _check_probability_rows(p: torch.Tensor, name: str) -> None:
    check_embeddings(p, name, min_samples=1)
    p = p.detach()
    if bool((p < 0).any()):
        raise ValueError(f"{name} must be non-negative probabilities, min is {float(p.min()):.3g}")
    dev = float((p.sum(dim=1) - 1).abs().max())
    if dev > ROW_SUM_ATOL:
        raise ValueError(
            f"{name} rows must sum to 1 (softmax outputs), max |row sum - 1| = {dev:.3g}"
        )


def entropy_discrete(
    probs: torch.Tensor,
    *,
    reduction: DiscreteReduction = "expectation",
    eps: float = RELEASED_EPS,
    gather: bool = False,
) -> torch.Tensor:
    r"""Entropy of the batch-averaged assignment :math:`\bar p = \frac1k\sum_i p_i` (nats).

    Parameters
    ----------
    probs : torch.Tensor, shape (n_samples, n_clusters)
        Rows are assignment distributions over ``n_clusters`` prototypes (softmax outputs).
    reduction : {"expectation", "average"}, default "expectation"
        The released code's two reductions (see Notes).
    eps : float, default 1e-7
        Added inside the log, as in the released code.
    gather : bool, default False
        Under ``torch.distributed``, average the assignment over the all-gathered batch
        (gradients through :func:`~mitheory.objectives.gather_with_grad`).

    Returns
    -------
    torch.Tensor, shape ()
        ``"expectation"``: a plug-in *estimate* of the marginal entropy :math:`H(W)` of the
        cluster variable, to be maximised. ``"average"``: the cross-entropy
        :math:`H(U, \bar p) = \log K + \mathrm{KL}(U \| \bar p)` of the uniform distribution
        relative to :math:`\bar p` (``eps`` aside), which is *not* an entropy estimate (see Notes).

    Notes
    -----
    Released code (``entropy(..., support="discrete")``):

    .. math::

        \hat H_{\rm expectation} = -\sum_{c=1}^K \bar p_c \log(\bar p_c + 10^{-7}),\qquad
        \hat H_{\rm average} = -\frac1K \sum_{c=1}^K \log(\bar p_c + 10^{-7}).

    The released docstring calls ``"average"`` "Joe's estimator"; in the discrete branch it is
    the formula above (a mean over clusters, not over samples), kept as released. Caution:
    ``"expectation"`` is *maximal* (:math:`\log K`) at the equipartition :math:`\bar p = U`,
    but ``"average"`` is *minimal* (:math:`\log K`) there and grows as clusters empty, up to
    about :math:`\frac{K-1}{K}\log 10^{7} \approx 16.1` nats at full collapse; maximising it
    as an entropy therefore favours collapse (tested). Use ``"expectation"`` for training.

    References
    ----------
    Rodriguez-Galvez, Blaas, Rodriguez, Golinski, Suau, Ramapuram, Busbridge, Zappella,
    "The role of entropy and reconstruction in multi-view self-supervised learning",
    ICML 2023, Sec. 4.1; code: github.com/apple/ml-entropy-reconstruction.

    Examples
    --------
    >>> import math, torch
    >>> p = torch.eye(4)  # four samples, each certain of a different cluster
    >>> abs(float(entropy_discrete(p)) - math.log(4)) < 1e-5
    True
    """
    _check_probability_rows(probs, "probs")
    check_option(reduction, "reduction", ("expectation", "average"))
    check_positive(eps, "eps", strict=False)
    if gather:
        probs = gather_with_grad(probs)
    p_bar = probs.mean(dim=0)  # (n_clusters,)
    if reduction == "expectation":
        return -(p_bar * torch.log(p_bar + eps)).sum()
    return -torch.log(p_bar + eps).mean()


def reconstruction_discrete(
    p_a: torch.Tensor, p_b: torch.Tensor, *, eps: float = RELEASED_EPS
) -> torch.Tensor:
    r"""Symmetric cross-entropy between two views' assignments (the discrete ER reconstruction).

    Parameters
    ----------
    p_a, p_b : torch.Tensor, shape (n_samples, n_clusters)
        Assignment distributions of the two views (rows sum to 1).
    eps : float, default 1e-7
        Added inside the logs, as released.

    Returns
    -------
    torch.Tensor, shape ()
        :math:`-\widehat{E}[\log q(w_b \mid w_a)]` symmetrised: an *estimate* of the negative
        reconstruction term of the ER bound (a loss, to be minimised). A per-sample mean, so
        under DDP no gather is needed.

    Notes
    -----
    .. math::

        \mathrm{rec} = \frac1k \sum_i \tfrac12\Big[-\sum_c p^a_{ic}\log(p^b_{ic}+10^{-7})
                        - \sum_c p^b_{ic}\log(p^a_{ic}+10^{-7})\Big]

    (released ``reconstruction(..., support="discrete")``).
    """
    _check_probability_rows(p_a, "p_a")
    _check_probability_rows(p_b, "p_b")
    check_pair(p_a, p_b, min_samples=1, names=("p_a", "p_b"))
    check_positive(eps, "eps", strict=False)
    rec_ab = -(p_a * torch.log(p_b + eps)).sum(dim=1)  # (n_samples,)
    rec_ba = -(p_b * torch.log(p_a + eps)).sum(dim=1)
    return (0.5 * (rec_ab + rec_ba)).mean()


def er_discrete_loss(
    p_a: torch.Tensor,
    p_b: torch.Tensor,
    *,
    entropy_weight: float = 1.0,
    reduction: DiscreteReduction = "expectation",
    eps: float = RELEASED_EPS,
    gather: bool = False,
) -> torch.Tensor:
    r"""Discrete ER loss: symmetric cross-entropy minus the batch-mean assignment entropy.

    Parameters
    ----------
    p_a, p_b : torch.Tensor, shape (n_samples, n_clusters)
        Assignment distributions of the two views.
    entropy_weight : float, default 1.0
        Weight of the entropy term (the paper's weighting is not in the released code).
    reduction, eps, gather
        As in :func:`entropy_discrete`.

    Returns
    -------
    torch.Tensor, shape ()
        :math:`\mathrm{rec}(p_a, p_b) - w\cdot\tfrac12[\hat H(p_a) + \hat H(p_b)]`: the negative
        of an *estimate* of the ER lower bound :math:`H(W) + E\log q(w_b|w_a)` on
        :math:`I(W_a; W_b)` when ``w = 1``.

    Notes
    -----
    ``reconstructed``: the released code gives the two terms only. The combination (equal
    weights, entropy averaged over both views, no stop-gradient) is this project's reading of
    the ER bound :math:`I(Z_1;Z_2) \ge H(Z_2) + E[\log q(z_2|z_1)]` symmetrised over views.
    """
    check_positive(entropy_weight, "entropy_weight", strict=False)
    rec = reconstruction_discrete(p_a, p_b, eps=eps)
    h = 0.5 * (
        entropy_discrete(p_a, reduction=reduction, eps=eps, gather=gather)
        + entropy_discrete(p_b, reduction=reduction, eps=eps, gather=gather)
    )
    return rec - entropy_weight * h
