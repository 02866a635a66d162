"""Distillation with a target network: BYOL and MINC (an online encoder against an EMA target)."""
from __future__ import annotations

import torch
from torch import nn

from mitheory import objectives as obj
from mitheory._validate import check_int, check_option, check_probability
from mitheory.models import make_predictor
from mitheory.train._method import EMATarget, register_method


class BYOL(EMATarget):
    """BYOL: online encoder + predictor regress the EMA target's embedding (symmetrised)."""

    name = "byol"

    def __init__(self, encoder: nn.Module, dim_out: int, *, base_momentum: float = 0.99,
                 predictor_hidden: int = 128) -> None:
        super().__init__(encoder, base_momentum=base_momentum)
        self.predictor = make_predictor(check_int(dim_out, "dim_out", minimum=1),
                                        check_int(predictor_hidden, "predictor_hidden", minimum=1))
        self._make_target()

    def loss(self, x_a, x_b, x_neg=None):
        z_a, z_b = self.encode_pair(x_a, x_b)
        t_a, t_b = self.target_embed(x_a, x_b)
        return 0.5 * (obj.byol_loss(self.predictor(z_a), t_b)
                      + obj.byol_loss(self.predictor(z_b), t_a))


class MINC(EMATarget):
    """MINC (reconstruction): online encoder against an EMA target and an EMA second moment.

    Each step the target embeddings of both views update ``self.moment``
    (:class:`~mitheory.objectives.SecondMomentEMA`, decay ``moment_decay``: the auxiliary EMA
    coefficient; 0 = this batch only), then the loss is the view-symmetrised
    :func:`~mitheory.objectives.minc_loss` with ``decorrelation="gha"`` (lower-triangular
    moment, Sanger's GHA) or ``"full"``. The target follows the online encoder with BYOL's
    cosine schedule from ``base_momentum``. ``reconstructed`` (dossier mmi_minc.md sections 2.4
    and 5).
    """

    name = "minc"

    def __init__(self, encoder: nn.Module, dim_out: int, *, decorrelation: str = "gha",
                 moment_decay: float = 0.8, base_momentum: float = 0.99) -> None:
        super().__init__(encoder, base_momentum=base_momentum)
        self.decorrelation = check_option(decorrelation, "decorrelation", ("full", "gha"))
        self.moment = obj.SecondMomentEMA(check_int(dim_out, "dim_out", minimum=1),
                                          decay=check_probability(moment_decay, "moment_decay"))
        self._make_target()

    def loss(self, x_a, x_b, x_neg=None):
        z_a, z_b = self.encode_pair(x_a, x_b)
        t_a, t_b = self.target_embed(x_a, x_b)
        self.moment.update(torch.cat([t_a, t_b]))  # (2n, dim_z): both views' marginal
        c = self.moment.moment
        return 0.5 * (obj.minc_loss(z_a, t_b, c, decorrelation=self.decorrelation)
                      + obj.minc_loss(z_b, t_a, c, decorrelation=self.decorrelation))


register_method("byol", lambda enc, d, **kw: BYOL(enc, d, **kw), concept="distillation",
                objective="byol_loss", ema_target=True, output_normalised=True,
                scale_invariant=True,
                summary="BYOL: predictor regresses the EMA target (cosine momentum schedule)")
register_method("minc", lambda enc, d, **kw: MINC(enc, d, **kw), concept="distillation",
                objective="minc_loss", ema_target=True,
                summary="MINC: EMA target + EMA second moment, GHA or full decorrelation")
