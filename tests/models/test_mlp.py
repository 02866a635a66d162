"""The cl-ica MLP encoder and the seeded initialiser."""
import pytest
import torch

from mitheory.models import init_linear_, make_mlp_encoder, paper_hidden


def test_encoder_shapes_and_sphere_output():
    enc = make_mlp_encoder(10, 6, hidden=(8, 8), output="sphere")
    h = enc(torch.randn(5, 10))
    assert h.shape == (5, 6)
    # sphere output: unit norm up to float32 rounding
    assert torch.allclose(h.norm(dim=1), torch.ones(5), atol=1e-6)
    assert paper_hidden(10) == (100, 500, 500, 500, 500, 100)  # cl-ica get_mlp widths
    with pytest.raises(ValueError, match="output must be one of"):
        make_mlp_encoder(10, 6, output="ball")


def test_init_linear_is_a_function_of_the_seed_only():
    nets = []
    for global_seed in (0, 1):
        torch.manual_seed(global_seed)  # different global state: no effect on the result
        nets.append(init_linear_(make_mlp_encoder(5, 3, hidden=(7,)), seed=11))
    for p, q in zip(nets[0].parameters(), nets[1].parameters()):
        assert torch.equal(p, q)
    w = nets[0][0].weight
    assert float(w.detach().abs().max()) <= 1 / 5 ** 0.5  # U(-1/sqrt(fan_in), 1/sqrt(fan_in))


def test_standardised_input_is_an_affine_map_before_the_same_network():
    from mitheory.models import Standardise

    mean, std = torch.tensor([1.0, -2.0, 0.5]), torch.tensor([0.1, 2.0, 1.0])
    plain = init_linear_(make_mlp_encoder(3, 2, hidden=(5,)), seed=3)
    stand = init_linear_(make_mlp_encoder(3, 2, hidden=(5,), input_stats=(mean, std)), seed=3)
    x = torch.randn(7, 3)
    # same Linear draws (Standardise has none), so stand(x) = plain((x - mean) / std) exactly
    assert torch.equal(stand(x), plain((x - mean) / std))
    assert [k for k, _ in stand.named_buffers()] == ["0.mean", "0.std"]  # saved, not trained
    assert all(p.requires_grad for p in stand.parameters())
    with pytest.raises(ValueError, match="std must be > 0"):
        Standardise(mean, torch.tensor([1.0, 0.0, 1.0]))
    with pytest.raises(ValueError, match="input_stats must have dim_in=4"):
        make_mlp_encoder(4, 2, input_stats=(mean, std))


def test_whitened_input_is_an_affine_map_before_the_same_network():
    from mitheory.models import Whiten

    mean = torch.tensor([1.0, -2.0, 0.5])
    mat = torch.tensor([[2.0, 0.5, 0.0], [0.5, 1.0, 0.0], [0.0, 0.0, 3.0]])
    plain = init_linear_(make_mlp_encoder(3, 2, hidden=(5,)), seed=3)
    white = init_linear_(make_mlp_encoder(3, 2, hidden=(5,), input_stats=(mean, mat)), seed=3)
    x = torch.randn(7, 3)
    assert isinstance(white[0], Whiten) and torch.equal(white(x), plain((x - mean) @ mat))
    assert [k for k, _ in white.named_buffers()] == ["0.mean", "0.matrix"]
    with pytest.raises(ValueError, match="invertible"):
        Whiten(mean, torch.tensor([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]))
    with pytest.raises(ValueError, match="matrix must be a finite"):
        Whiten(mean, torch.eye(2))
