"""CPA building blocks: Abs, BasicBlock, factories."""
import pytest
import torch

from mitheory.cpa import Abs, BasicBlock, cpa_cnn, cpa_mlp, cpa_resnet


def test_abs_module():
    x = torch.tensor([-2.0, 0.0, 3.0])
    torch.testing.assert_close(Abs()(x), torch.tensor([2.0, 0.0, 3.0]), rtol=0, atol=0)


@pytest.mark.parametrize("c_in, c_out, stride", [(3, 3, 1), (3, 5, 2)])
def test_basic_block_is_residual(c_in, c_out, stride):
    blk = BasicBlock(c_in, c_out, stride).eval()
    x = torch.randn(2, c_in, 6, 6, generator=torch.Generator().manual_seed(0))
    expected = torch.relu(blk.body(x) + blk.shortcut(x))
    torch.testing.assert_close(blk(x), expected, rtol=0, atol=0)
    assert blk(x).shape == (2, c_out, 6 // stride, 6 // stride)
    assert isinstance(blk.shortcut, torch.nn.Identity) == (c_in == c_out and stride == 1)


def test_factories_are_seeded_and_shaped():
    a, b = cpa_mlp([4, 8, 2], seed=3), cpa_mlp([4, 8, 2], seed=3)
    torch.testing.assert_close(a[0].weight, b[0].weight, rtol=0, atol=0)
    assert not torch.equal(a[0].weight, cpa_mlp([4, 8, 2], seed=4)[0].weight)
    assert cpa_cnn((1, 8, 8), seed=0)(torch.zeros(2, 1, 8, 8)).shape == (2, 4)
    assert cpa_resnet((3, 8, 8), seed=0)(torch.zeros(2, 3, 8, 8)).shape == (2, 4)
    assert not any(m.training for m in cpa_resnet((3, 8, 8), seed=0).modules())


def test_factory_bad_arguments():
    with pytest.raises(ValueError, match="dims"):
        cpa_mlp([4])
    with pytest.raises(ValueError, match="activation"):
        cpa_mlp([4, 2], activation="gelu")
    with pytest.raises(ValueError, match="divisible"):
        cpa_cnn((1, 6, 6), channels=(2, 2, 2))
