"""SSL objectives as differentiable functions of torch embeddings ``(batch, dim)``.

Each loss lives in its own private module and is re-exported here. Batch-level terms accept
``gather=True`` to use the all-gathered batch under ``torch.distributed``
(:func:`gather_with_grad`); per-sample terms stay local means.
"""
from mitheory.objectives._barlow import barlow_twins_loss
from mitheory.objectives._byol import byol_loss, cosine_momentum, ema_update_, make_predictor
from mitheory.objectives._distributed import gather_with_grad, rank, world_size
from mitheory.objectives._er import entropy_vmf_kde, er_loss, reconstruction_vmf
from mitheory.objectives._infonce import infonce_loss
from mitheory.objectives._simclr import nt_xent_loss
from mitheory.objectives._vicreg import (
    vicreg_covariance,
    vicreg_invariance,
    vicreg_loss,
    vicreg_variance,
)
from mitheory.objectives._vmf import log_bessel_iv, log_vmf_normalizer

__all__ = [
    "barlow_twins_loss",
    "byol_loss",
    "cosine_momentum",
    "ema_update_",
    "entropy_vmf_kde",
    "er_loss",
    "gather_with_grad",
    "infonce_loss",
    "log_bessel_iv",
    "log_vmf_normalizer",
    "make_predictor",
    "nt_xent_loss",
    "rank",
    "reconstruction_vmf",
    "vicreg_covariance",
    "vicreg_invariance",
    "vicreg_loss",
    "vicreg_variance",
    "world_size",
]
