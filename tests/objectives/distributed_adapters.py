"""Picklable ``(z_a, z_b, *, gather) -> loss`` adapters for the 2-process gradient test.

Losses that take other inputs (probabilities, teacher outputs, state objects) are wrapped here so
that ``test_distributed.py`` can check them with ``distributed_check``. Stateful pieces are built
fresh inside each call and updated with the batch first, so the check also covers the
all-reduce inside their ``update()`` (a rank-local update would change the loss value).
"""
import torch

from mitheory.objectives._corinfomax import CorInfoMaxCovariance, corinfomax_loss
from mitheory.objectives._dino import DINOCenter, dino_loss
from mitheory.objectives._er_discrete import er_discrete_loss
from mitheory.objectives._er_gaussian import er_gaussian_loss
from mitheory.objectives._er_variants import er_byol_loss, er_dino_loss
from mitheory.objectives._mec import mec_loss
from mitheory.objectives._minc import SecondMomentEMA, minc_loss


def er_discrete_softmax(z_a, z_b, *, gather, reduction="expectation"):
    p_a, p_b = torch.softmax(z_a / 0.5, dim=1), torch.softmax(z_b / 0.5, dim=1)
    return er_discrete_loss(p_a, p_b, reduction=reduction, gather=gather)


def er_discrete_softmax_average(z_a, z_b, *, gather):
    return er_discrete_softmax(z_a, z_b, gather=gather, reduction="average")


def dino_with_center(z_a, z_b, *, gather):  # noqa: ARG001 - DINO's center always all-reduces
    center = DINOCenter(z_a.shape[1]).to(z_a.dtype)
    teacher = [z_b.detach(), z_a.detach()]
    center.update(teacher)
    center.update(teacher)
    return dino_loss([z_a, z_b], teacher, center.center, teacher_temp=0.5)


def minc_with_ema(z_a, z_b, *, gather):  # noqa: ARG001 - the moment update always all-reduces
    ema = SecondMomentEMA(z_a.shape[1], decay=0.8).to(z_a.dtype)
    ema.update(z_b)
    ema.update(0.5 * z_b)
    return minc_loss(z_a, z_b, ema.moment) + minc_loss(z_b, z_a, ema.moment, decorrelation="gha")


def corinfomax_with_update(z_a, z_b, *, gather):
    state = CorInfoMaxCovariance(z_a.shape[1], lambda_r=0.3, lambda_mu=0.3)
    state.update(z_a, z_b, gather=gather)
    return corinfomax_loss(z_a, z_b, state, sim_weight=2.0, gather=gather)


def mec_online_teacher(z_a, z_b, *, gather):
    return mec_loss(z_a, z_b, z_a + 0.1, z_b - 0.1, gather=gather)


def er_byol_online_targets(z_a, z_b, *, gather):
    return er_byol_loss(z_a, z_b, z_b + 0.2, z_a - 0.2, online_a=2 * z_a, online_b=2 * z_b,
                        kappa=2.0, gather=gather)


def er_dino_no_center(z_a, z_b, *, gather):
    return er_dino_loss([z_a, z_b], [z_b, z_a], student_temp=0.5, teacher_temp=0.3,
                        gather=gather)


def er_gaussian_log_sigma(z_a, z_b, *, gather):
    """Learned-sigma path: a log_sigma tensor for the reconstruction, a separate KDE bandwidth."""
    log_sigma = torch.tensor(-0.4, dtype=z_a.dtype)
    return er_gaussian_loss(z_a, z_b, log_sigma=log_sigma, kde_sigma=0.5, entropy_weight=0.8,
                            gather=gather)
