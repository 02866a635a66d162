"""Entropy + reconstruction methods (ER / EntRec): ER, ER-SimCLR and ER-BYOL on the sphere.

vMF reconstruction of one view from the other minus a vMF-KDE entropy of the embeddings
(Rodriguez-Galvez et al. 2023). The SimCLR and BYOL versions are ``reconstructed`` (the papers'
exact weights and placements are not published; see the objectives' docstrings).
"""
from __future__ import annotations

from typing import Any

from torch import nn

from mitheory import objectives as obj
from mitheory.train._distillation import BYOL
from mitheory.train._method import register_method, register_objective


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
        z_a, z_b = self.encoder(x_a), self.encoder(x_b)
        t_a, t_b = self.target_embed(x_a, x_b)
        return obj.er_byol_loss(self.predictor(z_a), self.predictor(z_b), t_a, t_b,
                                online_a=z_a, online_b=z_b, **self.loss_kw)


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
