"""The method registry: every registered method is built, wired to its objective, deterministic
per seed, and its record's properties (sphere output, scale invariance, negatives, EMA target)
hold for the method it builds."""
import copy

import numpy as np
import pytest
import torch

from mitheory import generative, objectives as obj, train as tr

NAMES = tr.method_names()


def _x(seed, n=64, d=6):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed))


def _target(m, *xs):
    with torch.no_grad():
        return [m.target(x) for x in xs]


def _byol(m, a, b, n):
    za, zb = m.encoder(a), m.encoder(b)
    ta, tb = _target(m, a, b)
    return 0.5 * (obj.byol_loss(m.predictor(za), tb) + obj.byol_loss(m.predictor(zb), ta))


def _er_byol(m, a, b, n):
    za, zb = m.encoder(a), m.encoder(b)
    ta, tb = _target(m, a, b)
    return obj.er_byol_loss(m.predictor(za), m.predictor(zb), ta, tb, online_a=za, online_b=zb,
                            kappa=4.0)


def _minc(m, a, b, n):  # after one loss call the moment holds that call's target moment
    ta, tb = _target(m, a, b)
    za, zb = m.encoder(a), m.encoder(b)
    c = m.moment.moment
    return 0.5 * (obj.minc_loss(za, tb, c, decorrelation="full")
                  + obj.minc_loss(zb, ta, c, decorrelation="full"))


def _pair(fn, **kw):
    return lambda m, a, b, n: fn(m.encoder(a), m.encoder(b), **kw)


# name -> (non-default options, the loss recomputed by hand from the method's own modules).
# A wiring check: it catches options that do not reach the objective, and objectives swapped.
WIRING = {
    "infonce": ({"tau": 0.3, "similarity": "l2sq"},
                lambda m, a, b, n: obj.infonce_loss(m.encoder(a), m.encoder(b), m.encoder(n),
                                                    tau=0.3, similarity="l2sq")),
    "simclr": ({"tau": 0.2}, _pair(obj.nt_xent_loss, tau=0.2)),
    "spectral": ({"mu": 2.0}, _pair(obj.spectral_contrastive_loss, mu=2.0)),
    "fmi_alpha": ({"alpha": 1.5}, _pair(obj.f_mi_alpha_loss, alpha=1.5, ratio="exp")),
    "er": ({"kappa": 4.0}, _pair(obj.er_loss, kappa=4.0)),
    "er_simclr": ({"kappa": 4.0}, _pair(obj.er_simclr_loss, kappa=4.0)),
    "er_byol": ({"kappa": 4.0}, _er_byol),
    "er_gaussian": ({"sigma": 0.5, "reduction": "joe"},
                    _pair(obj.er_gaussian_loss, sigma=0.5, reduction="joe")),
    "vicreg": ({"cov_weight": 2.0}, _pair(obj.vicreg_loss, cov_weight=2.0)),
    "barlow": ({"lambda_offdiag": 0.01}, _pair(obj.barlow_twins_loss, lambda_offdiag=0.01)),
    "vicreg_logdet": ({"beta": 0.5}, _pair(obj.vicreg_entropy_loss, estimator="logdet", beta=0.5)),
    "vicreg_kl": ({"sigma": 0.7}, _pair(obj.vicreg_entropy_loss, estimator="kl", sigma=0.7)),
    "vicreg_bhattacharyya": ({"sigma": 0.7}, _pair(obj.vicreg_entropy_loss,
                                                   estimator="bhattacharyya", sigma=0.7)),
    "mmi": ({"order": 3, "beta": "frobenius"},
            _pair(obj.mmi_loss, method="taylor", order=3, beta="frobenius")),
    "byol": ({"base_momentum": 0.9}, _byol),
    "minc": ({"decorrelation": "full", "moment_decay": 0.0}, _minc),
}


def test_wiring_table_covers_the_registry():
    assert set(WIRING) == set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_loss_is_its_objective_on_the_methods_embeddings(name):
    kw, want_fn = WIRING[name]
    m = tr.make_method(name, dim_in=6, dim_out=4, hidden=(8,), **kw)
    spec = tr.method_spec(name)
    assert m.name == name and isinstance(m, tr.SSLMethod)
    xa, xb, xn = _x(0), _x(1), _x(2)
    with torch.no_grad():
        got = m.loss(xa, xb, xn if spec.needs_negatives else None)
        want = want_fn(m, xa, xb, xn)
    # same modules, same float32 inputs, same function: equal up to float32 rounding
    torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_record_matches_the_built_method(name):
    spec = tr.method_spec(name)
    kw = WIRING[name][0]
    m = tr.make_method(name, dim_in=6, dim_out=4, hidden=(8,), **kw)
    assert spec.needs_negatives == m.needs_negatives
    assert spec.ema_target == isinstance(m, tr.EMATarget)
    assert spec.concept in tr.CONCEPTS
    with torch.no_grad():
        norms = m.encoder(_x(3)).norm(dim=1)
    on_sphere = bool(torch.allclose(norms, torch.ones_like(norms), atol=1e-6))  # float32
    assert on_sphere == spec.flag("sphere_output", kw)
    if spec.flag("sphere_output", kw):
        assert spec.flag("output_normalised", kw)


def _scaled(m, c):
    """A copy whose encoder (and target) output is multiplied by ``c`` before any sphere map."""
    m2 = copy.deepcopy(m)
    for net in [m2.encoder] + ([m2.target] if isinstance(m2, tr.EMATarget) else []):
        last = [mod for mod in net.modules() if isinstance(mod, torch.nn.Linear)][-1]
        with torch.no_grad():
            last.weight.mul_(c)
            last.bias.mul_(c)
    return m2


# options whose flag differs from the wiring options' one
SCALE_CASES = [(n, WIRING[n][0]) for n in NAMES] + [
    ("mmi", {"beta": 1.0}), ("mmi", {"logdet": "exact"}), ("infonce", {"similarity": "dot"}),
    ("er_gaussian", {"learn_sigma": True})]


@pytest.mark.parametrize("name,kw", SCALE_CASES)
def test_scale_invariance_flag_is_true_of_the_loss(name, kw):
    spec = tr.method_spec(name)
    torch.manual_seed(0)  # make_method's default init draws from the global RNG
    # BYOL-type predictors hold a BatchNorm: the loss is taken in training mode, as in train
    m = tr.make_method(name, dim_in=6, dim_out=4, hidden=(8,), **kw)
    xa, xb, xn = _x(0), _x(1), _x(2)
    neg = xn if spec.needs_negatives else None
    with torch.no_grad():
        base = float(copy.deepcopy(m).loss(xa, xb, neg))
        scaled = float(_scaled(m, 3.0).loss(xa, xb, neg))
    rel = abs(scaled - base) / max(abs(base), 1e-12)
    if spec.flag("scale_invariant", kw):
        # float32 rounding, and Barlow Twins' eps = 1e-5 added to unit-order variances
        assert rel < 1e-4, (base, scaled)
    else:  # a loss that depends on the scale changes by far more than rounding at c = 3
        assert rel > 1e-3, (base, scaled)


@pytest.mark.parametrize("name", NAMES)
def test_training_is_deterministic_per_seed(name):
    proc = generative.make_process("cs_p1.0", seed=0)
    cfg = tr.TrainConfig(steps=4, batch_size=32, device="cpu", log_every=1, progress=False)
    runs = []
    for _ in range(2):
        torch.manual_seed(len(runs))  # global RNG differs between runs: train must not use it
        m = tr.make_method(name, dim_in=proc.dim_x, dim_out=5, hidden=(16,))
        losses = tr.train(m, proc, cfg, seed=3).losses
        runs.append((losses, [p.detach().clone() for p in m.parameters()]))
    assert runs[0][0] == runs[1][0]
    for p, q in zip(runs[0][1], runs[1][1]):
        assert torch.equal(p, q)
    assert all(np.isfinite(v) for _, v in runs[0][0])


@pytest.mark.parametrize("name", [n for n in NAMES if tr.method_spec(n).ema_target])
def test_ema_target_follows_the_cosine_schedule(name):
    m = tr.make_method(name, dim_in=4, dim_out=3, hidden=(5,), base_momentum=0.9)
    with torch.no_grad():
        for p in m.encoder.parameters():
            p.add_(1.0)
    before = [p.clone() for p in m.target.parameters()]
    m.after_step(3, 10)
    mom = 1 - 0.1 * (np.cos(np.pi * 3 / 10) + 1) / 2  # BYOL: 1 - (1 - base)(cos(pi k/K) + 1)/2
    for t, b, o in zip(m.target.parameters(), before, m.encoder.parameters()):
        # xi <- tau xi + (1 - tau) theta, in float32
        torch.testing.assert_close(t, mom * b + (1 - mom) * o)
    assert all(not p.requires_grad for p in m.target.parameters())


def test_unknown_names_and_options_fail_at_build_time():
    with pytest.raises(ValueError, match="name must be one of"):
        tr.make_method("moco", dim_in=4, dim_out=2)
    with pytest.raises(TypeError, match="unknown option.*'temperature'"):
        tr.make_method("simclr", dim_in=4, dim_out=2, temperature=0.1)
    with pytest.raises(ValueError, match="ratio"):
        tr.make_method("fmi_alpha", dim_in=4, dim_out=2, ratio="cubic")
    with pytest.raises(ValueError, match="decorrelation"):
        tr.make_method("minc", dim_in=4, dim_out=2, decorrelation="lower")
    with pytest.raises(ValueError, match="logdet"):
        tr.make_method("mmi", dim_in=4, dim_out=2, logdet="cholesky")
    with pytest.raises(ValueError, match="already registered"):
        tr.register_objective("simclr", obj.nt_xent_loss, concept="contrastive", summary="")
    with pytest.raises(ValueError, match="concept"):
        tr.register_objective("simclr_bis", obj.nt_xent_loss, concept="generative", summary="")


def test_make_method_doc_lists_every_registered_method():
    doc = tr.make_method.__doc__
    for name in NAMES:
        spec = tr.method_spec(name)
        assert f"{name} " in doc and spec.objective in doc and spec.summary in doc


def test_representation_dim_adds_one_for_directions_off_the_sphere():
    cs = generative.make_process("cs_p1.0", seed=0)
    sph = generative.make_process("sphere_vmf", seed=0)
    assert tr.representation_dim("vicreg", cs) == len(cs.content_idx)
    assert tr.representation_dim("simclr", cs) == len(cs.content_idx) + 1
    assert tr.representation_dim("er", sph) == len(sph.content_idx)
    assert tr.representation_dim("infonce", cs, similarity="dot") == len(cs.content_idx) + 1


@pytest.mark.parametrize("decorrelation", ["full", "gha"])
def test_minc_loss_equals_objective_with_updated_moment(decorrelation):
    m = tr.make_method("minc", dim_in=6, dim_out=3, hidden=(8,), decorrelation=decorrelation,
                       moment_decay=0.5)
    xa, xb = _x(0), _x(1)
    m.loss(_x(2), _x(3))  # first batch fills the moment EMA
    prev = m.moment.moment.clone()
    with torch.no_grad():
        got = m.loss(xa, xb)
        ta, tb = m.target(xa), m.target(xb)
        t = torch.cat([ta, tb])
        c = 0.5 * prev + 0.5 * t.T @ t / t.shape[0]  # EMA update by hand, decay 0.5
        za, zb = m.encoder(xa), m.encoder(xb)
        want = 0.5 * (obj.minc_loss(za, tb, c, decorrelation=decorrelation)
                      + obj.minc_loss(zb, ta, c, decorrelation=decorrelation))
    torch.testing.assert_close(m.moment.moment, c, rtol=1e-6, atol=1e-7)  # float32 rounding
    assert float(got) == pytest.approx(float(want), rel=1e-6, abs=1e-7)




def test_er_in_the_latents_geometry_and_learned_sigma():
    assert tr.er_in_geometry(generative.make_process("sphere_vmf", seed=0)) == "er"
    for name in ("box_normal", "cs_p0.75"):
        assert tr.er_in_geometry(generative.make_process(name, seed=0)) == "er_gaussian"
    m = tr.make_method("er_gaussian", dim_in=6, dim_out=3, hidden=(8,), sigma=0.4,
                       learn_sigma=True)
    xa, xb = _x(0), _x(1)
    loss = m.loss(xa, xb)
    loss.backward()
    assert m.log_sigma.grad is not None and float(m.log_sigma.grad.abs()) > 0
    with torch.no_grad():  # learned sigma at its start value, KDE bandwidth fixed at sigma
        want = obj.er_gaussian_loss(m.encoder(xa), m.encoder(xb), sigma=0.4, kde_sigma=0.4)
    torch.testing.assert_close(loss.detach(), want, rtol=1e-6, atol=1e-6)  # float32 rounding
    with pytest.raises(ValueError, match="sigma"):
        tr.make_method("er_gaussian", dim_in=6, dim_out=3, sigma=-1.0, learn_sigma=True)
