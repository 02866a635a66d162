"""The image world: determinism, factor control, ranges, shapes, view pairs and dependence."""
import numpy as np
import pytest
import torch

from mitheory.generative import FACTOR_NAMES, SHAPE_NAMES, ImageWorld


@pytest.fixture(scope="module")
def world():
    return ImageWorld(seed=0)


def test_same_seed_same_pixels(world):
    a = world.render(world.sample_factors(16, seed=3))
    b = ImageWorld(seed=0).render(ImageWorld(seed=0).sample_factors(16, seed=3))
    assert torch.equal(a, b)
    c = world.render(world.sample_factors(16, seed=4))
    assert not torch.equal(a, c)


@pytest.mark.parametrize("size", [32, 64])
def test_shapes_and_ranges(size):
    w = ImageWorld(image_size=size, seed=1)
    f = w.sample_factors(500, seed=0)
    x = w.render(f)
    assert x.shape == (500, 3, size, size) and x.dtype == torch.float32
    assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0
    assert set(f[:, 0].long().unique().tolist()) == set(range(len(SHAPE_NAMES)))
    for j, name in enumerate(FACTOR_NAMES[1:], start=1):
        lo, hi = w.factor_ranges[name]
        assert float(f[:, j].min()) >= lo and float(f[:, j].max()) <= hi


def test_background_hue_changes_only_background(world):
    f = world.sample_factors(32, seed=5)
    g = f.clone()
    g[:, FACTOR_NAMES.index("background_hue")] = torch.remainder(g[:, 6] + 0.5, 1.0)
    (xa, ma), xb = world.render(f, return_mask=True), world.render(g)
    diff = (xa - xb).abs().amax(1, keepdim=True)  # (n, 1, H, W)
    inside, outside = ma == 1.0, ma == 0.0
    assert float(diff[inside].max()) == 0.0  # fully covered pixels show only the object
    assert float(diff[outside].min()) > 0.05  # every pure-background pixel moved


def test_class_changes_the_mask(world):
    f = world.sample_factors(len(SHAPE_NAMES), seed=6)
    f[:, 0] = torch.arange(len(SHAPE_NAMES), dtype=torch.float32)
    f[:, 1:4] = torch.tensor([0.0, 0.0, 0.6])  # centred and large: shapes well resolved
    f[:, 4] = 0.0
    _, m = world.render(f, return_mask=True)
    flat = (m[:, 0] > 0.5).flatten(1).float()
    # every pair of classes differs on at least 10 of the 1024 pixels
    dist = torch.cdist(flat, flat, p=1)
    off = dist[~torch.eye(len(SHAPE_NAMES), dtype=torch.bool)]
    assert float(off.min()) >= 10


def test_pairs_share_content_and_change_style():
    w = ImageWorld(p_change=1.0, seed=2)
    vb = w.sample_pairs(200, seed=0)
    assert vb.x.shape == vb.x_tilde.shape == (200, 3, 32, 32)
    assert torch.equal(vb.z[:, list(w.content_idx)], vb.z_tilde[:, list(w.content_idx)])
    assert bool((vb.z[:, list(w.style_idx)] != vb.z_tilde[:, list(w.style_idx)]).all())
    assert torch.equal(vb.x, w.render(vb.z))
    w0 = ImageWorld(p_change=0.0, seed=2)
    vb0 = w0.sample_pairs(10, seed=0)
    assert torch.equal(vb0.x, vb0.x_tilde)


def test_configurable_content():
    w = ImageWorld(content=("class", "background_hue"), seed=0)
    assert w.content_idx == (0, 6) and w.style_idx == (1, 2, 3, 4, 5, 7)
    vb = w.sample_pairs(50, seed=1)
    assert torch.equal(vb.z[:, [0, 6]], vb.z_tilde[:, [0, 6]])


def test_statistical_dependence_copula():
    w = ImageWorld(statistical_dependence=True, p_change=0.5, seed=3)
    assert 0.5 <= w.hue_rho <= 0.9
    vb = w.sample_pairs(8000, seed=0)
    for z in (vb.z, vb.z_tilde):
        r = np.corrcoef(z[:, 5].numpy(), z[:, 6].numpy())[0, 1]
        # Pearson r of two Phi-transformed normals = (6/pi) asin(rho/2); 0.045 ~ 4 sd at n=8000
        assert abs(r - 6 / np.pi * np.arcsin(w.hue_rho / 2)) < 0.045
    f0 = ImageWorld(seed=3).sample_factors(20000, seed=0).numpy()
    # independent hues: sd of r is 1/sqrt(20000) = 0.007; 0.03 is > 4 sd
    assert abs(np.corrcoef(f0[:, 5], f0[:, 6])[0, 1]) < 0.03


def test_causal_dependence_drawn_once_and_shared():
    w = ImageWorld(causal_dependence=True, p_change=1.0, seed=4)
    assert np.array_equal(w.hue_offset, ImageWorld(causal_dependence=True, seed=4).hue_offset)
    vb = w.sample_pairs(5000, seed=0)
    for f in (vb.z, vb.z_tilde):  # both views carry the same content-driven shift m(c)
        f = f.double().numpy()
        m = w.hue_offset[f[:, 0].astype(int)] + np.stack(
            [f[:, 1], f[:, 2], f[:, 3] - 0.475], 1) @ w.hue_slope
        resid = np.remainder(f[:, 5] - m + 0.5, 1.0) - 0.5  # circular offset from m(c)
        assert np.abs(resid).max() <= 0.25 + 1e-6  # float32 factors: 1e-6 rounding slack
    f0 = ImageWorld(seed=4).sample_factors(5000, seed=0).double().numpy()
    m0 = w.hue_offset[f0[:, 0].astype(int)] + np.stack(
        [f0[:, 1], f0[:, 2], f0[:, 3] - 0.475], 1) @ w.hue_slope
    # without the edge the hue ignores m(c): about half the offsets exceed 0.25 (binomial sd 0.007)
    assert abs(np.mean(np.abs(np.remainder(f0[:, 5] - m0 + 0.5, 1.0) - 0.5) > 0.25) - 0.5) < 0.04


def test_bad_input_errors(world):
    with pytest.raises(ValueError, match="image_size"):
        ImageWorld(image_size=48, seed=0)
    with pytest.raises(ValueError, match="content"):
        ImageWorld(content=("colour",), seed=0)
    with pytest.raises(TypeError, match="content"):
        ImageWorld(content="class", seed=0)
    with pytest.raises(ValueError, match="factors"):
        world.render(torch.zeros(3, 7))
    bad = world.sample_factors(2, seed=0)
    bad[0, 0] = 11
    with pytest.raises(ValueError, match="class ids"):
        world.render(bad)
    with pytest.raises(ValueError, match="p_change"):
        ImageWorld(p_change=1.5, seed=0)
