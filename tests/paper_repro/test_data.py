"""The loaders: shapes, per-rank disjoint shards, seed reproducibility, exact resume, the eval
centre crop by hand, and errors naming the bad file."""
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from mitheory.data import ImageFolderDataset
from paper_repro.data import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    make_eval_loader,
    make_train_loader,
    shard_indices,
    synthetic_loader,
)

MEAN = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
STD = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)


def _train(root, **kw):
    args = dict(batch_size=4, image_size=32, workers=0, seed=0) | kw
    return make_train_loader(root, **args)


def _batches(loader):
    return [tuple(t.clone() for t in b) for b in loader]


def _equal(a, b):
    return len(a) == len(b) and all(torch.equal(x, y) for p, q in zip(a, b) for x, y in zip(p, q))


def test_shapes_dtypes_and_normalisation(tiny_folder):
    loader = _train(tiny_folder)
    assert len(loader) == 6  # 24 images / batch 4
    x1, x2, labels = next(iter(loader))
    for x in (x1, x2):
        assert x.shape == (4, 3, 32, 32) and x.dtype == torch.float32
        pixels = x * STD + MEAN  # undo the normalisation: back in [0, 1]
        assert float(pixels.min()) >= -1e-5 and float(pixels.max()) <= 1 + 1e-5  # float32
    assert labels.dtype == torch.int64 and labels.shape == (4,)
    assert not torch.equal(x1, x2)  # two different crops


def test_shards_are_disjoint_and_cover_the_epoch(tiny_folder):
    samples = ImageFolderDataset(tiny_folder / "train").samples
    shards = [shard_indices(24, epoch=3, seed=0, rank=r, world_size=2) for r in range(2)]
    assert sorted(np.concatenate(shards).tolist()) == list(range(24))  # each sample once
    assert not np.array_equal(shards[0], shard_indices(24, epoch=4, seed=0, rank=0,
                                                       world_size=2))  # reshuffled by epoch
    for r in range(2):
        loader = _train(tiny_folder, rank=r, world_size=2)
        loader.set_epoch(3)
        assert len(loader) == 3  # 12 per rank / batch 4
        labels = torch.cat([b[2] for b in loader]).tolist()
        assert labels == [samples[i][1] for i in shards[r]]  # the loader reads its shard
    odd = [shard_indices(25, epoch=0, seed=0, rank=r, world_size=2) for r in range(2)]
    assert len(odd[0]) == len(odd[1]) == 12 and not set(odd[0]) & set(odd[1])  # 1 skipped


def test_same_seed_same_batches_other_seed_or_epoch_differs(tiny_folder):
    a, b = _batches(_train(tiny_folder)), _batches(_train(tiny_folder))
    assert _equal(a, b)
    assert not torch.equal(a[0][0], _batches(_train(tiny_folder, seed=1))[0][0])
    other = _train(tiny_folder)
    other.set_epoch(1)
    assert not torch.equal(a[0][0], next(iter(other))[0])


def test_resume_reproduces_the_remaining_batches(tiny_folder):
    full = _train(tiny_folder)
    full.set_epoch(2)
    want = _batches(full)
    part = _train(tiny_folder)
    part.set_epoch(2)
    for k, _ in enumerate(part):
        if k == 1:
            break  # the run dies while holding batch 1 (2 batches consumed)
    state = part.state_dict()
    assert state == {"epoch": 2, "batch": 2, "seed": 0}
    resumed = _train(tiny_folder, workers=2)  # worker processes do not change the numbers
    resumed.load_state_dict(state)
    resumed.set_epoch(2)  # the usual loop calls it again: the resume point is kept
    assert _equal(_batches(resumed), want[2:])
    assert resumed.state_dict()["batch"] == len(resumed)
    assert _equal(_batches(resumed), want)  # the next iteration replays the whole epoch


def test_synthetic_loader_interface():
    s = synthetic_loader(batch_size=3, image_size=8, seed=1, num_classes=5, n_batches=4)
    x1, x2, labels = next(iter(s))
    assert x1.shape == x2.shape == (3, 3, 8, 8) and x1.dtype == torch.float32
    assert labels.dtype == torch.int64 and int(labels.max()) < 5 and len(s) == 4
    want = _batches(s)
    s.load_state_dict({"epoch": 0, "batch": 3, "seed": 1})
    assert _equal(_batches(s), want[3:])


def test_eval_centre_crop_by_hand(tiny_folder):
    # 48x64 files, image_size 42: resize target round(42 * 256 / 224) = 48 = the short side,
    # so no resize; CenterCrop offsets top = round((48 - 42) / 2) = 3, left = round(11) = 11
    loader = make_eval_loader(tiny_folder, batch_size=4, image_size=42, train=False, workers=0,
                              decoder="pillow")
    samples = ImageFolderDataset(tiny_folder / "val").samples
    x, labels = next(iter(loader))
    assert x.shape == (4, 3, 42, 42) and labels.tolist() == [s[1] for s in samples[:4]]
    for j in range(4):
        full = np.asarray(Image.open(samples[j][0]).convert("RGB"))  # (48, 64, 3)
        crop = torch.from_numpy(full[3:45, 11:53].copy()).permute(2, 0, 1).float() / 255
        assert torch.allclose(x[j] * STD[0] + MEAN[0], crop, atol=1e-6)  # float32 rounding
    assert len(loader) == 2  # 6 val images, last batch partial
    small = make_eval_loader(tiny_folder, batch_size=6, image_size=16, train=False, workers=0)
    assert next(iter(small))[0].shape == (6, 3, 16, 16)  # resized short side 18, then cropped
    ranks = [make_eval_loader(tiny_folder, batch_size=2, image_size=16, train=False,
                              workers=0, rank=r, world_size=4) for r in range(4)]
    assert sum(len(torch.cat([b[1] for b in r])) for r in ranks) == 6  # every val image once


def test_eval_train_loader_is_random_and_reproducible(tiny_folder):
    def make():
        return make_eval_loader(tiny_folder, batch_size=8, image_size=24, train=True,
                                workers=0, seed=4)
    a, b = next(iter(make())), next(iter(make()))
    assert a[0].shape == (8, 3, 24, 24) and torch.equal(a[0], b[0])


def test_unaugmented_train_split_is_the_val_transform_in_shuffled_order(tiny_folder, tmp_path):
    # a root whose val/ is the train/ folder: its (by-hand-tested) val transform in file order
    # is the reference for the un-augmented train split, which is shuffled by shard_indices
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "train").symlink_to(tiny_folder / "train")
    (mirror / "val").symlink_to(tiny_folder / "train")
    ref_x, ref_y = (torch.cat(t) for t in zip(*make_eval_loader(
        mirror, batch_size=5, image_size=24, train=False, workers=0)))
    bank = make_eval_loader(tiny_folder, batch_size=5, image_size=24, train=True, augment=False,
                            workers=0, seed=3)
    for epoch in (0, 1):
        bank.set_epoch(epoch)
        x, y = (torch.cat(t) for t in zip(*bank))
        order = shard_indices(len(ref_x), epoch=epoch, seed=3, rank=0, world_size=1)
        assert torch.equal(x, ref_x[order]) and torch.equal(y, ref_y[order])  # exact: same ops
    with pytest.raises(TypeError, match="augment"):
        make_eval_loader(tiny_folder, batch_size=5, train=True, augment="no", workers=0)


def test_corrupt_and_empty_files_raise_naming_the_file(tiny_folder, tmp_path):
    root = tmp_path / "bad"
    shutil.copytree(tiny_folder / "train", root / "train")
    first = sorted((root / "train").rglob("*.JPEG"))[0]
    first.write_bytes(first.read_bytes()[:300])  # truncated
    loader = make_eval_loader(root, batch_size=24, image_size=16, train=True, workers=0)
    with pytest.raises(ValueError, match=first.name):
        next(iter(loader))
    first.write_bytes(b"")
    with pytest.raises(ValueError, match=f"{first.name}.*empty"):
        next(iter(loader))


@pytest.mark.parametrize("kw, err, match", [
    (dict(rank=2, world_size=2), ValueError, "rank"),
    (dict(recipe="moco"), ValueError, "recipe"),
    (dict(decoder="nvjpeg"), ValueError, "backend"),
    (dict(batch_size=0), ValueError, "batch_size"),
    (dict(batch_size=25), ValueError, "batch"),
    (dict(device="gpu0"), ValueError, "device"),
])
def test_bad_arguments(tiny_folder, kw, err, match):
    with pytest.raises(err, match=match):
        _train(tiny_folder, **kw)


def test_bad_root_and_state(tiny_folder, tmp_path):
    with pytest.raises(FileNotFoundError, match="train"):
        _train(tmp_path)
    loader = _train(tiny_folder)
    with pytest.raises(ValueError, match="seed"):
        loader.load_state_dict({"epoch": 0, "batch": 1, "seed": 7})
    with pytest.raises(ValueError, match="batch"):
        loader.load_state_dict({"epoch": 0, "batch": 7, "seed": 0})
    with pytest.raises(ValueError, match="keys"):
        loader.load_state_dict({"epoch": 0})


def test_crops_depend_on_sample_not_on_rank(tiny_folder):
    """The CPU crops of a sample come from (seed, epoch, index): the same at any world_size."""
    one = _train(tiny_folder)
    one.set_epoch(1)
    v1_all = torch.cat([b[0] for b in one.cpu_batches()])  # uint8 crops, shard order
    order = shard_indices(24, epoch=1, seed=0, rank=0, world_size=1)
    by_index = {int(i): v1_all[j] for j, i in enumerate(order)}
    two = _train(tiny_folder, rank=1, world_size=2)
    two.set_epoch(1)
    v1_rank1 = torch.cat([b[0] for b in two.cpu_batches()])
    assert v1_rank1.dtype == torch.uint8 and v1_rank1.shape == (12, 3, 32, 32)
    shard = shard_indices(24, epoch=1, seed=0, rank=1, world_size=2)
    assert all(torch.equal(v1_rank1[j], by_index[int(i)]) for j, i in enumerate(shard))
    assert two.state_dict()["batch"] == 0  # cpu_batches leaves the resume state alone


def test_uint8_resize_matches_pillow_bilinear():
    from paper_repro.data import _resize_u8

    rng = np.random.default_rng(0)
    small = rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)
    img = Image.fromarray(small).resize((160, 120), Image.BICUBIC)  # a smooth 120x160 image
    x = torch.from_numpy(np.array(img)).permute(2, 0, 1)[None]
    for hw in ((45, 37), (200, 150)):  # shrink (anti-aliased) and enlarge
        got = _resize_u8(x, hw).permute(1, 2, 0).numpy().astype(int)
        want = np.asarray(img.resize(hw[::-1], Image.BILINEAR, reducing_gap=None), dtype=int)
        diff = np.abs(got - want)
        # torch's uint8 anti-aliased kernel reimplements Pillow's; they differ only in the
        # fixed-point rounding: a grey level on a few pixels
        assert diff.mean() < 0.1 and diff.max() <= 2
