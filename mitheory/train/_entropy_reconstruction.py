"""Entropy + reconstruction methods (ER / EntRec) on the sphere and in Euclidean space.

vMF reconstruction of one view from the other minus a vMF-KDE entropy of the embeddings
(Rodriguez-Galvez et al. 2023: ``er``, ``er_simclr``, ``er_byol``), and its Euclidean instance
with a Gaussian decoder and a Gaussian-KDE entropy (``er_gaussian``). The paper's bound
H(Z) + E log q(z2 | z1) holds for any density family; the released code has only the sphere, so
the Euclidean form and the SimCLR / BYOL versions are ``reconstructed``.
:func:`er_in_geometry` is the rule the studies share: ER is trained in the latent's geometry.
"""
from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from mitheory import objectives as obj
from mitheory.train._distillation import BYOL
from mitheory._validate import check_process
from mitheory.generative import SphereProcess
from mitheory.train._method import SSLMethod, register_method, register_objective


class ERGaussian(SSLMethod):
    """Euclidean ER: Gaussian reconstruction log N(z_b; z_a, sigma^2 I) minus a Gaussian-KDE
    entropy (:func:`~mitheory.objectives.er_gaussian_loss`).

    ``sigma`` fixed (default ``sqrt(0.1)``, the Gaussian twin of the released kappa = 10: the
    ``reconstructed`` reading of the paper, whose code fixes kappa), or ``learn_sigma=True``: the
    method owns a trainable ``log_sigma`` (initialised at ``sigma``) fitted by the
    reconstruction term, while the KDE bandwidth stays at ``sigma`` (a shared learned bandwidth
    would also be pushed up by the entropy term; an extension, not the paper's).
    """

    name = "er_gaussian"

    def __init__(self, encoder: nn.Module, *, sigma: float | None = None,
                 learn_sigma: bool = False, **loss_kw: Any) -> None:
        super().__init__(encoder)
        self.sigma = obj.DEFAULT_SIGMA if sigma is None else sigma
        self.learn_sigma = bool(learn_sigma)
        if self.learn_sigma:
            if not (isinstance(self.sigma, (int, float)) and self.sigma > 0):
                raise ValueError(f"sigma must be a positive number, got {sigma!r}")
            self.log_sigma = nn.Parameter(torch.tensor([math.log(self.sigma)]))
        self.loss_kw = loss_kw  # reduction, entropy_weight, leave_one_out, symmetric

    def loss(self, x_a, x_b, x_neg=None):
        z_a, z_b = self.encode_pair(x_a, x_b)
        if self.learn_sigma:
            return obj.er_gaussian_loss(z_a, z_b, log_sigma=self.log_sigma,
                                        kde_sigma=self.sigma, gather=self.gather,
                                        **self.loss_kw)
        return obj.er_gaussian_loss(z_a, z_b, sigma=self.sigma, gather=self.gather,
                                    **self.loss_kw)


def er_in_geometry(process: Any) -> str:
    """The ER method in the latent's geometry: ``"er"`` (vMF, unit-sphere output) when the latent
    lives on a sphere, ``"er_gaussian"`` (Euclidean) otherwise (box, content/style)."""
    check_process(process)
    return "er" if isinstance(process, SphereProcess) else "er_gaussian"


class ERBYOL(BYOL):
    """ER-BYOL: BYOL's online encoder, predictor and EMA target, with
    :func:`~mitheory.objectives.er_byol_loss`: vMF reconstruction of the target from the
    prediction, minus the KDE entropy of the online embeddings.
    """

    name = "er_byol"

    def __init__(self, encoder: nn.Module, dim_out: int, *, base_momentum: float = 0.99,
                 predictor_hidden: int = 128, **loss_kw: Any) -> None:
        super().__init__(encoder, dim_out, base_momentum=base_momentum,
                         predictor_hidden=predictor_hidden)
        self.loss_kw = loss_kw  # kappa, entropy_weight, reduction

    def loss(self, x_a, x_b, x_neg=None):
        z_a, z_b = self.encode_pair(x_a, x_b)
        t_a, t_b = self.target_embed(x_a, x_b)
        return obj.er_byol_loss(self.predictor(z_a), self.predictor(z_b), t_a, t_b,
                                online_a=z_a, online_b=z_b, gather=self.gather,
                                **self.loss_kw)


register_objective("er", obj.er_loss, concept="entropy_reconstruction", sphere_output=True,
                   output_normalised=True, scale_invariant=True,
                   summary="ER: vMF reconstruction minus vMF-KDE entropy (unit-sphere output)")
register_objective("er_simclr", obj.er_simclr_loss, concept="entropy_reconstruction",
                   sphere_output=True, output_normalised=True, scale_invariant=True,
                   summary="ER-SimCLR: vMF reconstruction minus KDE entropy of all 2N "
                           "embeddings")
register_method("er_byol", lambda enc, d, **kw: ERBYOL(enc, d, **kw),
                concept="entropy_reconstruction", objective="er_byol_loss", ema_target=True,
                output_normalised=True, scale_invariant=True,
                summary="ER-BYOL: BYOL's predictor and EMA target, vMF reconstruction + KDE "
                        "entropy")
register_method("er_gaussian", lambda enc, d, **kw: ERGaussian(enc, **kw),
                concept="entropy_reconstruction", objective="er_gaussian_loss",
                summary="Euclidean ER: Gaussian reconstruction minus Gaussian-KDE entropy")
