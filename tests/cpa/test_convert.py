"""cpa_from_resnet: a torchvision-layout ResNet copied into traceable CPA modules."""
import pytest
import torch

from mitheory.cpa import NotCPAError, cpa_from_resnet, region_affine_map, trace_cpa
from mitheory.models import ResNet


def _trained_stats(net, seed=0):
    """Non-trivial running statistics (one train-mode pass), then eval mode."""
    g = torch.Generator().manual_seed(seed)
    net.train()
    with torch.no_grad():
        net(torch.rand(16, 3, 16, 16, generator=g))
    return net.eval()


@pytest.mark.parametrize("depth, stem", [("resnet18", "cifar"), ("resnet34", "imagenet")])
def test_converted_resnet_computes_the_same_function(depth, stem):
    torch.manual_seed(0)
    net = _trained_stats(ResNet(depth, stem=stem, width=2))
    seq = cpa_from_resnet(net)
    x = torch.rand(4, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ref = net(x)
        # the same float32 ops in the same order: bit-identical
        torch.testing.assert_close(seq(x), ref, rtol=0, atol=0)
    out64 = trace_cpa(seq)(x.double())
    # float64 trace vs float32 module: float32 round-off over ~20 layers, |ref| ~ 1
    torch.testing.assert_close(out64.float(), ref, rtol=1e-4, atol=1e-5)
    assert not any(m.training for m in seq.modules())
    # the copy is a snapshot: changing the source does not change it
    with torch.no_grad():
        net.conv1.weight.add_(1.0)
        torch.testing.assert_close(seq(x), ref, rtol=0, atol=0)


def test_region_map_of_converted_resnet_matches_autograd():
    torch.manual_seed(2)
    seq = cpa_from_resnet(_trained_stats(ResNet("resnet18", stem="cifar", width=2)))
    x = torch.rand(1, 3, 8, 8, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    rm = region_affine_map(seq, x)
    jac = torch.autograd.functional.jacobian(lambda t: trace_cpa(seq)(t[None])[0], x[0])
    a = torch.as_tensor(rm.A[0]).reshape(jac.shape[0], -1)  # (dim_out, dim_in)
    # float64 propagation vs float64 autograd through the same ops
    torch.testing.assert_close(a, jac.reshape(jac.shape[0], -1), rtol=1e-9, atol=1e-12)


def test_unsupported_networks_raise():
    with pytest.raises(NotCPAError, match="bottleneck"):
        cpa_from_resnet(ResNet("resnet50", stem="cifar", width=2))
    with pytest.raises(NotCPAError, match="classifier fc"):
        cpa_from_resnet(ResNet("resnet18", num_classes=10, width=2))
    with pytest.raises(NotCPAError, match="missing"):
        cpa_from_resnet(torch.nn.Linear(3, 2))
    with pytest.raises(TypeError, match="net"):
        cpa_from_resnet("resnet18")
