"""make_imagefolder writes the requested ImageFolder tree of readable, labelled JPEGs."""
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mitheory.data import ImageFolderDataset
from paper_repro.make_imagefolder import class_folder, main, write_imagefolder


def test_tree_counts_sizes_and_readable_jpegs(tiny_folder):
    train = ImageFolderDataset(tiny_folder / "train")
    val = ImageFolderDataset(tiny_folder / "val")
    assert train.classes == val.classes == [class_folder(k) for k in range(3)]
    assert len(train) == 24 and len(val) == 6
    assert np.bincount(train.targets).tolist() == [8, 8, 8]  # balanced: class = i mod 3
    for path, _ in train.samples[:5] + val.samples[:2]:
        with Image.open(path) as img:
            assert img.format == "JPEG" and img.size == (64, 48) and img.mode == "RGB"
    info = json.loads((tiny_folder / "imagefolder.json").read_text())
    assert info["n_train"] == 24 and info["n_val"] == 6 and info["size_hw"] == [48, 64]
    assert not list(tiny_folder.rglob("*.tmp"))  # every file was renamed into place


def test_same_seed_same_bytes_and_workers_do_not_matter(tmp_path):
    a = write_imagefolder(tmp_path / "a", n_images=6, n_classes=2, n_val=0, size=(16, 24),
                          seed=3)
    write_imagefolder(tmp_path / "b", n_images=6, n_classes=2, n_val=0, size=(16, 24), seed=3,
                      workers=2)
    fa = sorted((tmp_path / "a" / "train").rglob("*.JPEG"))
    fb = sorted((tmp_path / "b" / "train").rglob("*.JPEG"))
    assert [f.name for f in fa] == [f.name for f in fb] and len(fa) == 6
    assert all(x.read_bytes() == y.read_bytes() for x, y in zip(fa, fb))
    assert not (tmp_path / "a" / "val").exists() and a["n_val"] == 0


def test_files_are_the_saved_factors_rendered(tmp_path):
    """File i is ImageWorld's render of factors row i (class = label), upscaled and cropped."""
    from mitheory.generative import ImageWorld
    from paper_repro.make_imagefolder import RENDER_SIZE, _to_photo

    write_imagefolder(tmp_path, n_images=8, n_classes=4, n_val=0, size=(48, 64), grain=0.0)
    factors = np.load(tmp_path / "train_factors.npy")
    ds = ImageFolderDataset(tmp_path / "train")
    assert sorted(int(f) for f in factors[:, 0]) == sorted(ds.targets)
    world = ImageWorld(image_size=RENDER_SIZE, seed=0)  # independent hues: seed unused
    renders = (world.render(factors).permute(0, 2, 3, 1).numpy() * 255).round().astype(np.uint8)
    for path, label in ds.samples:
        i = int(path[-13:-5])  # ..._{i:08d}.JPEG
        assert int(factors[i, 0]) == label
        buf = io.BytesIO()  # the expected image through the same encoder: identical bytes
        _to_photo(renders[i], (48, 64), 0.0, None).save(buf, "JPEG", quality=90)
        assert buf.getvalue() == Path(path).read_bytes()


@pytest.mark.parametrize("kw, match", [
    (dict(n_classes=11), "n_classes"), (dict(n_images=2), "n_images"),
    (dict(n_val=1), "n_val"), (dict(quality=0), "quality"), (dict(grain=float("nan")), "grain"),
    (dict(size=(4, 64)), "size"), (dict(n_images=2.5), "n_images"),
])
def test_bad_arguments(tmp_path, kw, match):
    args = dict(n_images=6, n_classes=3, n_val=0, size=(16, 16)) | kw
    with pytest.raises((ValueError, TypeError), match=match):
        write_imagefolder(tmp_path, **args)
    assert not (tmp_path / "train").exists()  # nothing written before the checks


def test_refuses_to_overwrite_and_cli_errors(tiny_folder, capsys):
    with pytest.raises(FileExistsError, match="train"):
        write_imagefolder(tiny_folder, n_images=3, n_classes=3, n_val=0)
    with pytest.raises(SystemExit):
        main([str(tiny_folder / "x"), "--images", "5", "--classes", "3", "--size", "big"])
    assert "HEIGHTxWIDTH" in capsys.readouterr().err
