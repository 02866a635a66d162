"""gather_with_grad: DDP-averaged gradients with gather=True equal the full-batch gradient."""
from functools import partial

import pytest
import torch

import distributed_adapters as adapt
from distributed_check import distributed_results, single_process_results
from mitheory.objectives import (
    barlow_twins_loss,
    er_gaussian_loss,
    er_loss,
    gather_with_grad,
    infonce_loss,
    nt_xent_loss,
    rank,
    vicreg_loss,
    world_size,
)
from mitheory.objectives import (
    er_simclr_loss,
    f_mi_alpha_loss,
    mi_second_order,
    mmi_loss,
    spectral_contrastive_loss,
    swav_loss,
    vicreg_entropy_loss,
)

def infonce_shared_negatives(z_a, z_b, *, gather):
    """InfoNCE with z_neg = reversed z_b: gathered local reversals are a permutation of the
    global reversal, and the denominator is permutation invariant, so it must match."""
    return infonce_loss(z_a, z_b, z_b.flip(0), similarity="l2sq", gather=gather)


# Losses checked in one spawn (2 gloo processes). Another helper appends its losses here.
LOSSES = {
    "infonce_dot": partial(infonce_loss, tau=0.5),
    "infonce_l2sq_logmeanexp": partial(infonce_loss, similarity="l2sq",
                                       denominator="logmeanexp"),
    "infonce_shared_neg": infonce_shared_negatives,
    "nt_xent": partial(nt_xent_loss, tau=0.5),
    "vicreg_official": partial(vicreg_loss, convention="official"),
    "vicreg_paper": partial(vicreg_loss, convention="paper"),
    "barlow_twins": partial(barlow_twins_loss, lambda_offdiag=0.1),
    "er_plugin": partial(er_loss, kappa=2.0),
    "er_joe_loo_asym": partial(er_loss, kappa=2.0, reduction="joe", leave_one_out=True,
                               symmetric=False),
    "er_gaussian_plugin": partial(er_gaussian_loss, sigma=0.7),
    "er_gaussian_joe_loo_asym": partial(er_gaussian_loss, sigma=0.7, reduction="joe",
                                        leave_one_out=True, symmetric=False),
    "er_gaussian_log_sigma_kde_sigma": adapt.er_gaussian_log_sigma,
    # batch-level terms (covariances, all pairs, batch-mean assignment, Sinkhorn, EMA
    # statistics); the 8-row batch needs eps > 0 for the 8x8 joint covariance of MMI
    "spectral_mu1": partial(spectral_contrastive_loss, mu=1.0),
    "f_mi_alpha_half_exp": partial(f_mi_alpha_loss, alpha=0.5, ratio="exp"),
    "mmi_exact": partial(mmi_loss, method="exact", eps=0.1),
    "mmi_taylor_trace": partial(mmi_loss, method="taylor", beta="trace", eps=0.1),
    "mi_ggd_taylor_frob": partial(mi_second_order, method="taylor", beta="frobenius", order=6,
                                  shape=0.5, eps=0.1),
    "er_discrete": adapt.er_discrete_softmax,
    "er_discrete_average": adapt.er_discrete_softmax_average,
    "swav": partial(swav_loss, temperature=0.5),
    "dino_center": adapt.dino_with_center,
    "minc_ema": adapt.minc_with_ema,
    "corinfomax": adapt.corinfomax_with_update,
    "mec": adapt.mec_online_teacher,
    "er_simclr": partial(er_simclr_loss, kappa=2.0),
    "er_byol": adapt.er_byol_online_targets,
    "er_dino": adapt.er_dino_no_center,
    "vicreg_logdet": partial(vicreg_entropy_loss, estimator="logdet", beta=2.0, var_weight=1.0),
    "vicreg_kl": partial(vicreg_entropy_loss, estimator="kl", sigma=0.5),
    "vicreg_bhattacharyya": partial(vicreg_entropy_loss, estimator="bhattacharyya", sigma=0.5),
}


@pytest.fixture(scope="module")
def results():
    return distributed_results(LOSSES), single_process_results(LOSSES)


@pytest.mark.parametrize("name", list(LOSSES))
def test_gather_matches_single_process(results, name):
    dist_res, single = results
    # float64 end to end; only summation order differs between the two computations
    torch.testing.assert_close(dist_res[name][0], single[name][0], rtol=1e-6, atol=1e-9)
    torch.testing.assert_close(dist_res[name][1], single[name][1], rtol=1e-6, atol=1e-9)


def test_gradient_is_not_trivially_zero(results):
    _, single = results
    for name, (_, grad) in single.items():
        assert float(grad.abs().max()) > 1e-6, name


def test_identity_without_process_group():
    t = torch.randn(3, 2)
    assert gather_with_grad(t) is t
    assert world_size() == 1 and rank() == 0
