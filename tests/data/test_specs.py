import pytest
import torch

from mitheory.data import parse_dataset_spec, shuffled_loader

KINDS = ("imageworld", "cifar10:PATH", "imagefolder:PATH")


def test_spec_splits_kind_and_path():
    assert parse_dataset_spec("imageworld", KINDS) == ("imageworld", "")
    assert parse_dataset_spec("cifar10:/a:b", KINDS) == ("cifar10", "/a:b")  # first colon only


@pytest.mark.parametrize("spec", ["mnist", "cifar10:", "imagefolder", "imageworld:/x"])
def test_bad_spec_names_the_argument_and_the_forms(spec):
    with pytest.raises(ValueError, match=r"dataset must be imageworld, cifar10:PATH or "
                                         r"imagefolder:PATH, got"):
        parse_dataset_spec(spec, KINDS)
    with pytest.raises(TypeError, match="source"):
        parse_dataset_spec(3, KINDS, name="source")


def test_shuffled_loader_is_a_seeded_permutation_without_the_short_batch():
    x = torch.arange(10)
    a = [b.tolist() for b in shuffled_loader(x, 3, seed=1)]
    assert a == [b.tolist() for b in shuffled_loader(x, 3, seed=1)]  # same seed, same batches
    assert len(a) == 3 and len(set(sum(a, []))) == 9  # 10 // 3 full batches, no repeats
    # the loader the image studies wrote by hand before (so their batches are unchanged)
    want = torch.utils.data.DataLoader(x, batch_size=3, shuffle=True, drop_last=True,
                                       generator=torch.Generator().manual_seed(1))
    assert a == [b.tolist() for b in want]
