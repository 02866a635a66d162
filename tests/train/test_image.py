"""Every registered method trains on rendered images; checkpoints resume; the kNN monitor and the
linear probe on frozen features."""
import numpy as np
import pytest
import torch
from torch import nn

from mitheory import train as tr
from mitheory.data import ArrayDataset, TwoViewAugment
from mitheory.generative import ImageWorld
from mitheory.models import SphereNorm

TINY = {"width": 4, "projector": "16-8"}  # ResNet-18 at base width 4: backbone features 32
CFG = tr.ImageTrainConfig(steps=2, batch_size=20,  # mmi needs batch > 2 x 8 dims
                           device="cpu", log_every=1, progress=False)


def _world(seed=0):
    return ImageWorld(image_size=32, seed=seed)


def _losses(name, seed=0, **kw):
    m = tr.make_image_method(name, **TINY)
    return m, [v for _, v in tr.train_images(m, _world(), CFG, seed=seed, **kw).losses]


@pytest.mark.parametrize("name", tr.method_names())
def test_every_method_trains_and_is_deterministic(name):
    m, a = _losses(name)
    assert len(a) == 2 and all(np.isfinite(a))
    _, b = _losses(name)
    assert a == b  # same seed: same initialisation, images and augmentations (CPU)
    x = _world().render(_world().sample_factors(5, seed=1))
    assert tr.embed_images(m, x).shape == (5, 32)  # the backbone output, not the projector's 8
    assert tr.embed_images(m, x, features="encoder").shape == (5, 8)
    sphere = isinstance(m.encoder.head[-1], SphereNorm)
    assert sphere == tr.method_spec(name).flag("sphere_output")


def test_no_projector_and_seed_changes_numbers():
    m = tr.make_image_method("vicreg", width=4, projector=None)
    assert len(m.encoder.head) == 0
    _, a = _losses("simclr", seed=0)
    _, b = _losses("simclr", seed=1)
    assert a != b


class _Interrupted(ImageWorld):
    """An ImageWorld whose ``calls``-th ``sample_pairs`` raises (a run killed part-way)."""

    def __init__(self, calls, **kw):
        super().__init__(**kw)
        self.calls = calls

    def sample_pairs(self, n, *, seed):
        self.calls -= 1
        if self.calls == 0:
            raise KeyboardInterrupt
        return super().sample_pairs(n, seed=seed)


@pytest.mark.parametrize("name", ["byol", "infonce"])  # EMA target + momentum; negatives
def test_checkpoint_resume_reproduces_the_uninterrupted_run(name, tmp_path):
    cfg = tr.ImageTrainConfig(steps=4, batch_size=8, device="cpu", log_every=1, progress=False,
                              optimizer="lars", lr=0.05, warmup_steps=1, augment="simclr",
                              checkpoint_every=2)
    full = tr.train_images(tr.make_image_method(name, **TINY), _world(), cfg, seed=3)
    ck = tmp_path / "run" / "ck.pt"
    with pytest.raises(KeyboardInterrupt):  # killed while drawing the batch of step 2
        tr.train_images(tr.make_image_method(name, **TINY), _Interrupted(3, seed=0), cfg,
                        seed=3, checkpoint=ck)
    assert tr.load_checkpoint(ck)["step"] == 2
    assert not [p for p in ck.parent.iterdir() if p.name != "ck.pt"]  # no temp file left
    resumed = tr.train_images(tr.make_image_method(name, **TINY), _world(), cfg, seed=3,
                              checkpoint=ck)
    assert resumed.losses == full.losses  # bit-exact on CPU: same states, same arithmetic
    assert tr.load_checkpoint(ck)["step"] == 4


def test_loader_with_two_view_augment():
    imgs = torch.rand(12, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    loader = torch.utils.data.DataLoader(ArrayDataset(imgs, np.arange(12) % 3, layout="NCHW"),
                                         batch_size=6, shuffle=False)
    cfg = tr.ImageTrainConfig(steps=3, device="cpu", log_every=1, progress=False)
    aug = TwoViewAugment("byol", size=16)
    res = tr.train_images(tr.make_image_method("infonce", **TINY), loader, cfg, seed=0,
                          augment=aug)
    assert len(res.losses) == 3 and all(np.isfinite(v) for _, v in res.losses)
    with pytest.raises(ValueError, match="augment"):
        tr.train_images(tr.make_image_method("vicreg", **TINY), loader, cfg, seed=0)


class _NaNMethod(tr.SSLMethod):
    def loss(self, x_a, x_b, x_neg=None):
        return self.encoder(x_a).sum() * float("nan")


def test_non_finite_loss_names_the_step():
    m = _NaNMethod(nn.Sequential(nn.Conv2d(3, 2, 3), nn.Flatten()))
    with pytest.raises(FloatingPointError, match="at step 0"):
        tr.train_images(m, _world(), CFG, seed=0)


def test_knn_separable_set_is_classified_perfectly():
    rng = np.random.default_rng(0)
    centres = np.eye(3)[:, :3] * 5.0
    y = np.repeat(np.arange(3), 20)
    x = centres[y] + 0.1 * rng.standard_normal((60, 3))
    pred, _ = tr.knn_predict(x[::2], y[::2], x[1::2], k=200, temperature=0.1)  # k capped at 30
    assert np.array_equal(pred, y[1::2])


def test_knn_k_and_temperature_by_hand():
    # the test point (1, 0): one class-1 neighbour at cosine 1, two class-0 at cosine 0.6.
    # k = 3 scores: class 1 exp(1/T), class 0 2 exp(0.6/T); class 1 wins iff T < 0.4 / ln 2
    train = np.array([[1.0, 0.0], [0.6, 0.8], [0.6, -0.8]])
    y, test = np.array([1, 0, 0]), np.array([[2.0, 0.0]])  # unnormalised: cosine is used
    pred, scores = tr.knn_predict(train, y, test, k=3, temperature=0.1)
    assert pred[0] == 1
    # float64 exponentials: 1e-12 relative
    assert scores[0] == pytest.approx([2 * np.exp(6.0), np.exp(10.0)], rel=1e-12)
    assert tr.knn_predict(train, y, test, k=3, temperature=1.0)[0][0] == 0  # count wins
    assert tr.knn_predict(train, y, test, k=1, temperature=1.0)[0][0] == 1  # nearest only
    # k beyond the training size: every sample votes (the same as k = 3)
    assert tr.knn_predict(train, y, test, k=200, temperature=1.0)[1] == pytest.approx(
        tr.knn_predict(train, y, test, k=3, temperature=1.0)[1], rel=1e-12)
    with pytest.raises(ValueError, match="temperature"):
        tr.knn_predict(train, y, test, temperature=0.0)


def test_knn_monitor_and_linear_probe_on_frozen_features():
    # an encoder that keeps the mean colour: images of three pure colours are separable
    m = tr.SSLMethod(nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(3, 3)))
    y = np.tile(np.arange(3), 10)
    imgs = torch.eye(3)[y][:, :, None, None].expand(-1, -1, 4, 4) + 0.01 * torch.rand(30, 3, 4, 4)
    with torch.no_grad():
        m.encoder[2].weight.copy_(torch.eye(3))
        m.encoder[2].bias.zero_()
    knn = tr.knn_monitor(m, imgs[:15], y[:15], imgs[15:], y[15:])
    assert knn["accuracy"] == 1.0 and knn["k"] == 15
    probe = tr.linear_probe(m, imgs[:15], y[:15], imgs[15:], y[15:])
    assert probe["accuracy"] == 1.0 and probe["chance"] == pytest.approx(5 / 15)


def test_initialisation_depends_on_the_seed_only():
    a, b = (tr.init_image_method_(tr.make_image_method(n, **TINY), 5) for n in ("simclr", "byol"))
    sa, sb = a.encoder.state_dict(), b.encoder.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)  # same backbone and projector weights
    t = b.method.target.state_dict()
    assert all(torch.equal(t[k], sb[k]) for k in t)  # the EMA target starts as the encoder


def test_factor_targets_put_circular_factors_on_the_circle():
    w = _world()
    t = tr.factor_targets(w, w.sample_factors(50, seed=0))
    assert set(t) == set(w.factor_names[1:])
    for name in tr.CIRCULAR_FACTORS:
        # cos^2 + sin^2 = 1 in float64
        assert t[name].shape == (50, 2) and np.allclose((t[name] ** 2).sum(1), 1.0, atol=1e-12)
    assert t["scale"].shape == (50, 1)
    assert tr.trend_status([0.5, 0.505]) == "plateaued"
    assert tr.trend_status([0.5, 0.6]) == "still rising"
    assert tr.trend_status([0.6, 0.5]) == "still falling"
