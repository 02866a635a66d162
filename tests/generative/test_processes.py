"""Latent processes: sphere/vMF, box, content/style; the registry; seeds; known truth."""
import json

import numpy as np
import pytest
import torch

from mitheory.generative import (
    PROCESS_NAMES,
    BoxProcess,
    ContentStyleProcess,
    SphereProcess,
    ViewBatch,
    make_process,
    vmf_mean_resultant_length,
)

FAST = {"n_iter_cond_thresh": 300}  # small condition-number pool: tests do not need 25000


@pytest.fixture(scope="module", params=PROCESS_NAMES)
def process(request):
    return make_process(request.param, seed=0, **FAST)


def test_registry_names_exact():
    assert PROCESS_NAMES == ("sphere_vmf", "box_normal", "box_laplace", "cs_p1.0", "cs_p0.75",
                             "cs_stat", "cs_stat_causal")
    with pytest.raises(ValueError, match="cs_stat_causal"):
        make_process("nope", seed=0)


def test_pairs_shapes_dtypes_and_mixing(process):
    n = 64
    batch = process.sample_pairs(n, seed=1)
    assert isinstance(batch, ViewBatch) and len(batch) == n
    for t in (batch.x, batch.x_tilde, batch.z, batch.z_tilde):
        assert t.dtype == torch.float32 and t.shape == (n, process.dim_z)
    assert process.dim_x == process.dim_z
    # x = g(z): float32 mixing of float64 latents, compared in float32 (round-off ~1e-6)
    torch.testing.assert_close(batch.x, process.mix(batch.z), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(process.mixing.inverse(batch.x_tilde), batch.z_tilde,
                               rtol=1e-4, atol=1e-4)
    # content coordinates of the views: identical for content/style, close for sphere/box
    assert set(process.content_idx) | set(process.style_idx) == set(range(process.dim_z))
    json.dumps(process.describe())


def test_same_seed_same_process_and_samples(process):
    twin = make_process(process.name, seed=0, **FAST)
    for la, lb in zip(process.mixing.layers, twin.mixing.layers):
        assert torch.equal(la.weight, lb.weight)
    assert process.describe() == twin.describe()
    a, b = process.sample_pairs(32, seed=3), twin.sample_pairs(32, seed=3)
    for f in ("x", "x_tilde", "z", "z_tilde"):
        assert torch.equal(getattr(a, f), getattr(b, f))
    assert not torch.equal(a.z, process.sample_pairs(32, seed=4).z)
    other = make_process(process.name, seed=1, **FAST)
    assert not torch.equal(process.mixing.layers[0].weight, other.mixing.layers[0].weight)


def test_latents_streams(process):
    z = process.sample_latents(40, seed=5)
    np.testing.assert_allclose(z, process.sample_pairs(40, seed=5).z.numpy(), rtol=1e-6)
    x_neg, z_neg = process.sample_negatives(40, seed=5)
    assert x_neg.shape == z_neg.shape == (40, process.dim_z)
    assert not np.allclose(z_neg.numpy(), z)  # negatives use their own stream


def test_sphere_conditional_is_vmf():
    p = SphereProcess(dim=5, kappa=20.0, seed=0, **FAST)
    b = p.sample_pairs(20000, seed=1)
    z, zt = b.z.double(), b.z_tilde.double()
    # float32 storage of unit vectors: norm error ~1e-7
    torch.testing.assert_close(z.norm(dim=1), torch.ones(20000, dtype=torch.float64), atol=1e-6,
                               rtol=0)
    w = (z * zt).sum(1)
    # mean cosine = A_d(kappa); 5 standard errors
    assert abs(w.mean().item() - vmf_mean_resultant_length(5, 20.0)) < 5 * w.std().item() / 141
    assert p.content_idx == tuple(range(5)) and p.style_idx == ()
    assert p.describe()["kappa_status"] == "UNVERIFIED"


@pytest.mark.parametrize("conditional", ["normal", "laplace"])
def test_box_process_bounds_and_scale(conditional):
    p = BoxProcess(dim=4, conditional=conditional, scale=0.05, seed=0, **FAST)
    b = p.sample_pairs(5000, seed=1)
    for t in (b.z, b.z_tilde):
        assert t.min() >= 0 and t.max() <= 1
    d = (b.z_tilde - b.z).double()
    # away from the walls (z in [0.3, 0.7], > 6 scales), the law is the untruncated one:
    # Normal std 0.05, Laplace mean |d| = b = 0.05; 5 standard errors
    inner = ((b.z > 0.3) & (b.z < 0.7))
    stat = d[inner].abs() if conditional == "laplace" else d[inner] ** 2
    target = 0.05 if conditional == "laplace" else 0.05**2
    assert abs(stat.mean().item() - target) < 5 * stat.std().item() / np.sqrt(stat.numel())


@pytest.mark.parametrize("p_change", [1.0, 0.75, 0.0])
def test_content_kept_style_changed_with_probability(p_change):
    p = ContentStyleProcess(p_change=p_change, seed=0, **FAST)
    b = p.sample_pairs(4000, seed=1)
    c = list(p.content_idx)
    s = list(p.style_idx)
    assert torch.equal(b.z[:, c], b.z_tilde[:, c])
    frac = (b.z[:, s] != b.z_tilde[:, s]).double().mean().item()
    # binomial proportion over 20000 coordinates; 5 standard errors (+1e-12 for p in {0, 1})
    assert abs(frac - p_change) <= 5 * np.sqrt(p_change * (1 - p_change) / 20000) + 1e-12


def _emp_cov_check(z, mean, cov):
    """Each entry of the sample mean / covariance within 5 standard errors of the truth."""
    n = len(z)
    sd = np.sqrt(np.diag(cov))
    np.testing.assert_array_less(np.abs(z.mean(0) - mean), 5 * sd / np.sqrt(n))
    # Gaussian: var(S_ij) = (s_ii s_jj + s_ij^2) / n
    se_cov = np.sqrt((np.outer(sd**2, sd**2) + cov**2) / n)
    np.testing.assert_array_less(np.abs(np.cov(z.T) - cov), 5 * se_cov)


def test_parameters_drawn_once_per_process():
    # ssl_identifiability#1: Sigma, B, a were redrawn per batch. Here two separate large draws
    # must both match the ONE theoretical mean/covariance of the process.
    p = make_process("cs_stat_causal", seed=3, p_change=1.0, **FAST)
    mean, cov = p.latent_mean(), p.latent_covariance()
    assert np.abs(p.a_vector).max() > 0 and not np.allclose(p.sigma_c, np.eye(5))
    for seed in (10, 11):
        _emp_cov_check(p.sample_latents(20000, seed=seed), mean, cov)
    _emp_cov_check(p.sample_negatives(20000, seed=12)[1].double().numpy(), mean, cov)
    # style perturbation: Cov(s~ - s) = p_change Sigma_a (p_change = 1 here), mean 0
    b = p.sample_pairs(20000, seed=13)
    d = (b.z_tilde - b.z)[:, 5:].double().numpy()
    _emp_cov_check(d, np.zeros(5), p.sigma_a)


def test_style_invariance_ratios_match_sampled_covariances():
    import scipy.linalg

    p = make_process("cs_stat_causal", seed=3, **FAST)  # p_change = 0.75
    assert p.p_change == 0.75
    b = p.sample_pairs(100_000, seed=5)
    z, zt = b.z.double().numpy(), b.z_tilde.double().numpy()
    c, s = z[:, :5], z[:, 5:]
    design = np.c_[c, np.ones(len(c))]
    resid = s - design @ np.linalg.lstsq(design, s, rcond=None)[0]  # s given c: Gaussian, linear
    moved = zt[:, 5:] - s
    emp = scipy.linalg.eigh(np.cov(resid.T), moved.T @ moved / len(moved), eigvals_only=True)
    # each ratio is a ratio of two variance estimates, each with relative se sqrt(2 / n) ~ 0.45%
    # at n = 1e5: 5 % is over 7 standard errors of the ratio
    np.testing.assert_allclose(p.style_invariance_ratios(), emp, rtol=0.05)
    indep = make_process("cs_p0.75", seed=0, **FAST).style_invariance_ratios()
    np.testing.assert_allclose(indep, np.full(5, 1 / 0.75))  # Sigma_a = I: p^2 + p - p^2 = p
    assert np.isinf(make_process("cs_p1.0", seed=0, p_change=0.0, **FAST)
                    .style_invariance_ratios()).all()


def test_style_invariance_directions_are_the_generalised_eigenvectors():
    p = make_process("cs_stat", seed=4, **FAST)
    ratios, u = p.style_invariance_directions()
    np.testing.assert_array_equal(ratios, p.style_invariance_ratios())
    b = p.sample_pairs(100_000, seed=6)
    s0 = b.z.double().numpy()[:, 5:] - p.a_vector  # independent of content here (no B c)
    moved = (b.z_tilde - b.z).double().numpy()[:, 5:]
    # along u_j: var(s0 u_j) / var(moved u_j) is ratio j; u_j' M u_j = 1 makes var(moved u_j) 1.
    # Each variance has relative se sqrt(2 / n) ~ 0.45 % at n = 1e5: 5 % is over 7 se
    np.testing.assert_allclose((moved @ u).var(0), np.ones(5), rtol=0.05)
    np.testing.assert_allclose((s0 @ u).var(0) / (moved @ u).var(0), ratios, rtol=0.05)
    ratios0, u0 = make_process("cs_p1.0", seed=0, p_change=0.0, **FAST) \
        .style_invariance_directions()
    assert np.isinf(ratios0).all() and np.array_equal(u0, np.eye(5))


def test_content_style_independent_defaults_are_identity():
    p = make_process("cs_p1.0", seed=0, **FAST)
    np.testing.assert_array_equal(p.latent_covariance(), np.eye(10))
    np.testing.assert_array_equal(p.latent_mean(), np.zeros(10))
    assert p.mixing.cond_threshold > 0 and p.describe()["p_change"] == 1.0
    assert make_process("cs_p0.75", seed=0, **FAST).p_change == 0.75


def test_default_mixing_filter():
    # the real defaults once: 25000-matrix pool; ratio 0.0 (sphere) and 0.001 (content/style)
    sph = SphereProcess(seed=0)
    cs = ContentStyleProcess(seed=0)
    assert max(sph.mixing.cond_numbers) <= sph.mixing.cond_threshold
    assert max(cs.mixing.cond_numbers) <= cs.mixing.cond_threshold
    assert sph.mixing.cond_threshold < cs.mixing.cond_threshold  # pool minimum < 0.1 % quantile


def test_bad_input():
    with pytest.raises(ValueError, match="kappa"):
        SphereProcess(kappa=0.0, seed=0, **FAST)
    with pytest.raises(ValueError, match="dim"):
        SphereProcess(dim=1, seed=0, **FAST)
    with pytest.raises(ValueError, match="conditional"):
        BoxProcess(conditional="uniform", seed=0, **FAST)
    with pytest.raises(ValueError, match="p_change"):
        ContentStyleProcess(p_change=1.5, seed=0, **FAST)
    with pytest.raises(ValueError, match="p_change"):
        make_process("cs_p1.0", seed=0, p_change=-0.1, **FAST)
    with pytest.raises(ValueError, match="n must be"):
        make_process("box_normal", seed=0, **FAST).sample_pairs(0, seed=0)


def test_device_argument_and_to_cpu():
    p = make_process("box_laplace", seed=0, **FAST).to("cpu")
    b = p.sample_pairs(8, seed=0, device="cpu")
    assert b.to("cpu").x.device.type == "cpu"
    x_neg, _ = p.sample_negatives(8, seed=0, device=torch.device("cpu"))
    assert x_neg.device.type == "cpu"
    assert "ssl_identifiability" in make_process("cs_stat", seed=0, **FAST).describe()["reference"]


# ---- ground truth: latent_mutual_information ----------------------------------------------------

@pytest.mark.parametrize("dim,kappa", [(10, 10.0), (2, 0.5), (3, 5.0), (64, 200.0)])
def test_sphere_latent_mi_equals_the_uniform_vmf_task(dim, kappa):
    from mitheory.info.tasks import UniformVMF

    p = SphereProcess(dim, kappa=kappa, seed=0, **FAST)
    got, want = p.latent_mutual_information(), UniformVMF(dim, kappa).mutual_information()
    assert got.kind == "exact" and got.unit == "nats"
    assert got.value == want.value  # the same _special formula: bit for bit
    assert p.latent_mutual_information(unit="bits").value == want.to("bits").value


def test_sphere_latent_mi_d3_closed_form():
    # d = 3: C_3 = k / (4 pi sinh k), A_3 = coth k - 1/k; I = log 4 pi + log C_3 + k A_3
    k = 5.0
    want = np.log(k) - np.log(np.sinh(k)) + k * (1 / np.tanh(k) - 1 / k)
    got = SphereProcess(3, kappa=k, seed=0, **FAST).latent_mutual_information().value
    assert got == pytest.approx(want, rel=1e-12)  # float64 evaluation of terms of size ~5


def test_latent_mi_of_every_registered_process():
    for name in PROCESS_NAMES:
        p = make_process(name, seed=0, **FAST)
        if name.startswith("cs"):  # content shared exactly: degenerate conditional
            mi = p.latent_mutual_information(unit="bits")
            assert mi.value == np.inf and mi.kind == "exact" and mi.unit == "bits"
        elif name.startswith("box"):
            with pytest.raises(ValueError, match="no closed form"):
                p.latent_mutual_information()
        else:
            assert np.isfinite(p.latent_mutual_information().value) and name == "sphere_vmf"
        with pytest.raises(ValueError, match="unit"):
            p.latent_mutual_information(unit="bans")
