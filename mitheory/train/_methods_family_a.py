"""SSL methods for the issue-5 studies: VICReg with entropy estimators, ER-SimCLR and ER-BYOL.

Registered with :func:`register_method` on import (``mitheory.train`` imports this module):
``"vicreg_logdet"``, ``"vicreg_kl"``, ``"vicreg_bhattacharyya"``
(:func:`~mitheory.objectives.vicreg_entropy_loss`), ``"er_simclr"``
(:func:`~mitheory.objectives.er_simclr_loss`) and ``"er_byol"``
(:func:`~mitheory.objectives.er_byol_loss` with an EMA target as in :class:`BYOL`). As in
``_methods.py``, no loss is redefined here: each method calls its objective. All ``reconstructed``
(the papers' exact weights and placements are not published; see the objectives' docstrings).
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from mitheory import objectives as obj
from mitheory._validate import check_option
from mitheory.train._methods import BYOL, SSLMethod, register_method

VICREG_ESTIMATORS: tuple[str, ...] = ("logdet", "kl", "bhattacharyya")


class VICRegEntropy(SSLMethod):
    """VICReg invariance minus an entropy estimate of each branch (LogDet or pairwise KL / BD).

    ``loss_kw`` go to :func:`~mitheory.objectives.vicreg_entropy_loss` (``sim_weight``,
    ``entropy_weight``, ``var_weight``, ``beta``, ``sigma``, ``convention``).
    """

    def __init__(self, encoder: nn.Module, *, estimator: str = "logdet", **loss_kw: Any) -> None:
        super().__init__(encoder)
        self.estimator = check_option(estimator, "estimator", VICREG_ESTIMATORS)
        self.name = f"vicreg_{estimator}"
        self.loss_kw = loss_kw

    def loss(self, x_a, x_b, x_neg=None):
        return obj.vicreg_entropy_loss(self.encoder(x_a), self.encoder(x_b),
                                       estimator=self.estimator, **self.loss_kw)


class ERSimCLR(SSLMethod):
    """ER-SimCLR: vMF reconstruction of the positive minus the KDE entropy of all 2N embeddings."""

    name = "er_simclr"

    def __init__(self, encoder: nn.Module, **loss_kw: Any) -> None:
        super().__init__(encoder)
        self.loss_kw = loss_kw  # kappa, entropy_weight, reduction

    def loss(self, x_a, x_b, x_neg=None):
        return obj.er_simclr_loss(self.encoder(x_a), self.encoder(x_b), **self.loss_kw)


class ERBYOL(BYOL):
    """ER-BYOL: BYOL's online encoder + predictor and EMA target (cosine schedule from
    ``base_momentum`` to 1, inherited from :class:`BYOL`), with the loss
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
        with torch.no_grad():
            t_a, t_b = self.target(x_a), self.target(x_b)
        return obj.er_byol_loss(self.predictor(z_a), self.predictor(z_b), t_a, t_b,
                                online_a=z_a, online_b=z_b, **self.loss_kw)


for _est in VICREG_ESTIMATORS:
    register_method(f"vicreg_{_est}",
                    lambda enc, d, _e=_est, **kw: VICRegEntropy(enc, estimator=_e, **kw))
register_method("er_simclr", lambda enc, d, **kw: ERSimCLR(enc, **kw), sphere_output=True)
register_method("er_byol", lambda enc, d, **kw: ERBYOL(enc, d, **kw))
