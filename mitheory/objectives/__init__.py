"""SSL objectives as differentiable functions of torch embeddings ``(batch, dim)``.

Each loss lives in its own private module and is re-exported here. Batch-level terms accept
``gather=True`` to use the all-gathered batch under ``torch.distributed``
(:func:`gather_with_grad`); per-sample terms stay local means.
"""
from mitheory._special import log_bessel_iv, log_vmf_normalizer
from mitheory.objectives._barlow import barlow_twins_loss
from mitheory.objectives._byol import byol_loss, cosine_momentum, ema_update_
from mitheory.objectives._distributed import gather_with_grad, rank, world_size
from mitheory.objectives._er import entropy_vmf_kde, er_loss, reconstruction_vmf
from mitheory.objectives._er_gaussian import (
    DEFAULT_SIGMA,
    entropy_gaussian_kde,
    er_gaussian_loss,
    reconstruction_gaussian,
)
from mitheory.objectives._infonce import infonce_loss
from mitheory.objectives._simclr import nt_xent_loss
from mitheory.objectives._vicreg import (
    vicreg_covariance,
    vicreg_invariance,
    vicreg_loss,
    vicreg_variance,
)

# discrete ER, log-det / spectral / MINC, clustering and distillation relatives
from mitheory.objectives._corinfomax import CorInfoMaxCovariance, corinfomax_loss
from mitheory.objectives._dino import DINOCenter, dino_loss, teacher_temp_schedule
from mitheory.objectives._er_variants import er_byol_loss, er_dino_loss, er_simclr_loss
from mitheory.objectives._er_discrete import (
    entropy_discrete,
    er_discrete_loss,
    reconstruction_discrete,
)
from mitheory.objectives._mec import mec_lamda_inv, mec_lamda_inv_schedule, mec_loss
from mitheory.objectives._minc import (
    GHA,
    SecondMomentEMA,
    f_alpha,
    f_mi_alpha_loss,
    gha_step,
    minc_loss,
)
from mitheory.objectives._mmi import (
    logdet_exact,
    logdet_taylor,
    logdet_taylor_error_bound,
    mi_ggd_offset,
    mi_second_order,
    mmi_loss,
    taylor_rescaling,
)
from mitheory.objectives._spectral import clip_norm, spectral_contrastive_loss
from mitheory.objectives._swav import SwAVQueue, sinkhorn_knopp, swav_loss
from mitheory.objectives._vicreg_entropy import vicreg_entropy_loss
# how well the Taylor log det approximates the exact one
from mitheory.objectives._taylor_errors import (TAYLOR_RULES, logdet_taylor_error_checks,
                                               logdet_taylor_errors)

__all__ = [
    "barlow_twins_loss",
    "byol_loss",
    "cosine_momentum",
    "ema_update_",
    "entropy_gaussian_kde",
    "entropy_vmf_kde",
    "DEFAULT_SIGMA",
    "er_gaussian_loss",
    "er_loss",
    "gather_with_grad",
    "infonce_loss",
    "log_bessel_iv",
    "log_vmf_normalizer",
    "nt_xent_loss",
    "rank",
    "reconstruction_gaussian",
    "reconstruction_vmf",
    "vicreg_covariance",
    "vicreg_invariance",
    "vicreg_loss",
    "vicreg_variance",
    "world_size",
    # discrete ER, log-det / spectral / MINC, clustering and distillation relatives
    "CorInfoMaxCovariance",
    "DINOCenter",
    "GHA",
    "SecondMomentEMA",
    "SwAVQueue",
    "clip_norm",
    "corinfomax_loss",
    "dino_loss",
    "entropy_discrete",
    "er_byol_loss",
    "er_dino_loss",
    "er_simclr_loss",
    "er_discrete_loss",
    "f_alpha",
    "f_mi_alpha_loss",
    "gha_step",
    "logdet_exact",
    "logdet_taylor",
    "logdet_taylor_error_bound",
    "mec_lamda_inv",
    "mec_lamda_inv_schedule",
    "mec_loss",
    "mi_ggd_offset",
    "mi_second_order",
    "minc_loss",
    "mmi_loss",
    "reconstruction_discrete",
    "sinkhorn_knopp",
    "spectral_contrastive_loss",
    "swav_loss",
    "taylor_rescaling",
    "teacher_temp_schedule",
    "vicreg_entropy_loss",
    # how well the Taylor log det approximates the exact one
    "logdet_taylor_errors",
    "TAYLOR_RULES",
    "logdet_taylor_error_checks",
]
