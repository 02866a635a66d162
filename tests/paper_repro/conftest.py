"""A tiny generated ImageFolder shared by the paper_repro data tests."""
import pytest

from paper_repro.make_imagefolder import write_imagefolder


@pytest.fixture(scope="session")
def tiny_folder(tmp_path_factory):
    """24 train / 6 val JPEGs of 48x64 px in 3 classes (seed 0)."""
    root = tmp_path_factory.mktemp("imagefolder")
    write_imagefolder(root, n_images=24, n_classes=3, n_val=6, size=(48, 64), seed=0)
    return root
