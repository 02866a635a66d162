"""ImageFolder, CIFAR-pickle and array datasets on tiny fixtures written into tmp_path."""
import pickle

import numpy as np
import pytest
import torch
from PIL import Image

from mitheory.data import ArrayDataset, CIFARDataset, ImageFolderDataset


def _write_tree(root, *, corrupt=False):
    rng = np.random.default_rng(0)
    for cls, ext in (("cat", "jpg"), ("ant", "png")):
        (root / cls).mkdir(parents=True)
        for i in range(3):
            arr = rng.integers(0, 256, size=(40 + 8 * i, 56, 3), dtype=np.uint8)
            Image.fromarray(arr).save(root / cls / f"{i}.{ext}")
    (root / "cat" / "notes.txt").write_text("not an image")
    if corrupt:
        data = (root / "cat" / "0.jpg").read_bytes()
        (root / "cat" / "9.jpg").write_bytes(data[: len(data) // 3])  # truncated JPEG
        (root / "ant" / "9.png").write_bytes(b"garbage, not a PNG")


def test_image_folder_labels_and_shapes(tmp_path):
    _write_tree(tmp_path)
    ds = ImageFolderDataset(tmp_path)
    assert ds.classes == ["ant", "cat"] and len(ds) == 6 and ds.n_skipped == 0
    x, y = ds[0]
    assert x.dtype == torch.uint8 and x.shape == (3, 40, 56) and y == 0
    png = np.asarray(Image.open(tmp_path / "ant" / "0.png"))
    assert np.array_equal(x.permute(1, 2, 0).numpy(), png)  # lossless PNG: exact pixels
    assert ds.targets == [0, 0, 0, 1, 1, 1]


def test_image_folder_resize_in_workers(tmp_path):
    _write_tree(tmp_path)
    ds = ImageFolderDataset(tmp_path, size=16)
    loader = torch.utils.data.DataLoader(ds, batch_size=6, num_workers=1)
    x, y = next(iter(loader))
    assert x.shape == (6, 3, 16, 16) and x.dtype == torch.uint8 and y.tolist() == [0, 0, 0, 1, 1, 1]


def test_image_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing_dir"):
        ImageFolderDataset(tmp_path / "missing_dir")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="empty"):
        ImageFolderDataset(tmp_path)


def test_image_folder_corrupt_raise_or_skip(tmp_path):
    _write_tree(tmp_path, corrupt=True)
    ds = ImageFolderDataset(tmp_path)
    bad = [i for i, (p, _) in enumerate(ds.samples) if p.endswith("9.png")][0]
    with pytest.raises(OSError, match="9.png"):
        ds[bad]
    with pytest.warns(UserWarning, match="skipped 2 corrupt"):
        ds = ImageFolderDataset(tmp_path, skip_corrupt=True)
    assert ds.n_skipped == 2 and len(ds) == 6
    assert sorted(p.rsplit("/", 1)[-1] for p in ds.skipped) == ["9.jpg", "9.png"]


def _write_pickle(path, obj):
    with open(path, "wb") as fh:
        pickle.dump(obj, fh)


def test_cifar10_layout(tmp_path):
    rng = np.random.default_rng(1)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        _write_pickle(tmp_path / name, {b"data": rng.integers(0, 256, (4, 3072), dtype=np.uint8),
                                        b"labels": list(rng.integers(0, 10, 4))})
    _write_pickle(tmp_path / "batches.meta", {b"label_names": [b"plane"] + [b"x"] * 9})
    train, test = CIFARDataset(tmp_path), CIFARDataset(tmp_path, train=False)
    assert len(train) == 20 and len(test) == 4 and train.variant == "cifar10"
    assert train.classes[0] == "plane"
    with open(tmp_path / "test_batch", "rb") as fh:
        raw = pickle.load(fh, encoding="bytes")
    x, y = test[1]
    assert x.shape == (3, 32, 32) and x.dtype == torch.uint8 and y == raw[b"labels"][1]
    assert torch.equal(x[1].flatten(), torch.from_numpy(raw[b"data"][1, 1024:2048]))  # green plane


def test_cifar100_and_bad_layouts(tmp_path):
    rng = np.random.default_rng(2)
    d = {"data": rng.integers(0, 256, (3, 3072), dtype=np.uint8), "fine_labels": [5, 99, 0],
         "coarse_labels": [1, 19, 0]}
    _write_pickle(tmp_path / "train", d)
    assert CIFARDataset(tmp_path).targets.tolist() == [5, 99, 0]
    assert CIFARDataset(tmp_path, label="coarse").targets.tolist() == [1, 19, 0]
    with pytest.raises(FileNotFoundError, match="test"):
        CIFARDataset(tmp_path, train=False)
    _write_pickle(tmp_path / "test", {"data": d["data"], "labels": [0, 1, 2]})
    with pytest.raises(ValueError, match="fine_labels"):
        CIFARDataset(tmp_path, train=False)
    (tmp_path / "test").write_bytes(b"\x80\x04truncated")
    with pytest.raises(ValueError, match="not a readable pickle"):
        CIFARDataset(tmp_path, train=False)
    (tmp_path / "other").mkdir()
    with pytest.raises(FileNotFoundError, match="neither"):
        CIFARDataset(tmp_path / "other")


def test_array_dataset():
    imgs = np.arange(2 * 4 * 5 * 3, dtype=np.uint8).reshape(2, 4, 5, 3)
    ds = ArrayDataset(imgs, [3, 7])
    x, y = ds[1]
    assert (x.shape == (3, 4, 5) and y == 7
            and torch.equal(x, torch.from_numpy(imgs[1]).permute(2, 0, 1)))
    assert ArrayDataset(torch.zeros(2, 3, 4, 4), layout="NCHW")[0][1] == -1
    with pytest.raises(ValueError, match="labels"):
        ArrayDataset(imgs, [1, 2, 3])
    with pytest.raises(ValueError, match="layout"):
        ArrayDataset(imgs, layout="HWC")
