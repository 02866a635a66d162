"""ResNets: torchvision's parameter counts, stems, feature mode, zero-init, channels_last; heads."""
import pytest
import torch

from mitheory.models import ResNet, make_predictor, make_projector, resnet18, resnet50


def _n_params(m):
    return sum(p.numel() for p in m.parameters())


@pytest.mark.parametrize("depth,count", [("resnet18", 11_689_512), ("resnet34", 21_797_672),
                                         ("resnet50", 25_557_032)])
def test_parameter_counts_match_torchvision(depth, count):
    # torchvision's published counts (models docs, weights tables) with a 1000-way fc
    assert _n_params(ResNet(depth, num_classes=1000)) == count


def test_stems_and_feature_mode():
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        m = resnet18(stem="cifar").eval()
        assert m(x).shape == (2, 512) and m.feature_dim == 512
        assert m.layer4(m.layer3(m.layer2(m.layer1(m.conv1(x))))).shape[-1] == 4  # 32 / 8
        im = resnet18(num_classes=10).eval()
        assert im(x).shape == (2, 10)
        assert im.layer1(im.maxpool(im.conv1(x))).shape[-1] == 8  # 32 / 4 after stem


def test_zero_init_residual_makes_blocks_identity_plus_relu():
    m = resnet18(stem="cifar", zero_init_residual=True).eval()
    assert all(float(b.bn2.weight.detach().abs().max()) == 0 for layer in (m.layer1, m.layer2)
               for b in layer)
    h = torch.relu(torch.randn(2, 64, 8, 8))
    with torch.no_grad():
        assert torch.equal(m.layer1[1](h), h)  # relu(0 + h) = h for h >= 0


def test_channels_last_same_output():
    torch.manual_seed(0)
    m = resnet18(stem="cifar").eval()
    x = torch.rand(2, 3, 16, 16)
    with torch.no_grad():
        ref = m(x)
        m = m.to(memory_format=torch.channels_last)
        out = m(x.to(memory_format=torch.channels_last))
    assert torch.allclose(ref, out, atol=1e-5)  # float32 reordering of conv sums


def test_heads():
    p = make_projector("64-64-32", in_dim=16)
    assert [type(m).__name__ for m in p] == ["Linear", "BatchNorm1d", "ReLU", "Linear",
                                             "BatchNorm1d", "ReLU", "Linear"]
    assert p[-1].bias is None and p(torch.rand(4, 16)).shape == (4, 32)
    q = make_predictor(32, 64)
    assert q(torch.rand(4, 32)).shape == (4, 32) and q[-1].bias is not None
    with pytest.raises(ValueError, match="spec"):
        make_projector("64-x", in_dim=16)
    with pytest.raises(ValueError, match="depth"):
        ResNet("resnet101")


def test_width_scales_every_stage():
    m = resnet18(stem="cifar", width=16)
    assert m.feature_dim == 128 and m.conv1.out_channels == 16
    assert m.layer4[0].conv1.out_channels == 128
    assert m(torch.rand(2, 3, 16, 16)).shape == (2, 128)
    assert resnet50(width=8).feature_dim == 8 * 8 * 4  # 8 width times the Bottleneck's 4
    with pytest.raises(ValueError, match="width"):
        resnet18(width=0)
