"""Tiny ImageFolders of JPEGs for the paper_repro tests: a textured one (4 classes, 32 px) and
one from the image world (paper_repro.make_imagefolder)."""
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

N_CLASSES, N_TRAIN, N_VAL, SIZE = 4, 8, 4, 32


def write_imagefolder(root: Path, seed: int = 0) -> Path:
    """root/{train,val}/class_<c>/*.jpg: class c tints a random texture (learnable labels)."""
    rng = np.random.default_rng(seed)
    for split, n in (("train", N_TRAIN), ("val", N_VAL)):
        for c in range(N_CLASSES):
            d = root / split / f"class_{c}"
            d.mkdir(parents=True)
            for i in range(n):
                img = rng.integers(0, 256, (SIZE, SIZE, 3)).astype(np.float64)
                img[..., c % 3] = 0.3 * img[..., c % 3] + 170 + 20 * (c // 3)
                Image.fromarray(img.clip(0, 255).astype(np.uint8)).save(d / f"{i}.jpg",
                                                                        quality=90)
    return root


@pytest.fixture(scope="session")
def imagefolder(tmp_path_factory) -> Path:
    return write_imagefolder(tmp_path_factory.mktemp("imagefolder"))


@pytest.fixture(scope="session")
def tiny_folder(tmp_path_factory):
    """24 train / 6 val JPEGs of 48x64 px in 3 classes (seed 0), by paper_repro.make_imagefolder."""
    from paper_repro.make_imagefolder import write_imagefolder as write_world_folder

    root = tmp_path_factory.mktemp("worldfolder")
    write_world_folder(root, n_images=24, n_classes=3, n_val=6, size=(48, 64), seed=0)
    return root
