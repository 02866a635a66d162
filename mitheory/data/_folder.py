"""An ImageFolder tree (``root/<class>/<image>``) decoded with Pillow into uint8 CHW tensors.

Decoding happens in ``__getitem__``, i.e. inside DataLoader worker processes; JPEGs that are
downscaled use Pillow's ``Image.draft`` (DCT-domain scaling by 1/2, 1/4 or 1/8).
"""
from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from mitheory._validate import check_int

IMAGE_EXTENSIONS: tuple[str, ...] = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".ppm", ".tif",
                                     ".tiff")


def _load_rgb(path: str, size: int | None) -> Image.Image:
    """Decode ``path`` to RGB; with ``size``, shorter side resized to ``size`` and
    centre-cropped."""
    try:
        with Image.open(path) as img:
            if size is not None:
                # draft keeps both sides >= size, so the resize below only ever shrinks a little
                img.draft("RGB", (size, size))
            img = img.convert("RGB")  # forces the full decode: truncated data raises here
    except (OSError, SyntaxError, ValueError) as exc:  # Pillow's errors for bad image data
        raise OSError(f"cannot decode image file {path!r}: {exc}") from exc
    if size is not None:
        w, h = img.size
        s = size / min(w, h)
        nw, nh = max(size, round(w * s)), max(size, round(h * s))
        img = img.resize((nw, nh), Image.BILINEAR, reducing_gap=None)
        left, top = (nw - size) // 2, (nh - size) // 2
        img = img.crop((left, top, left + size, top + size))
    return img


def pil_to_tensor(img: Image.Image) -> torch.Tensor:
    """An RGB PIL image -> uint8 tensor (3, H, W) (a copy, safe to batch)."""
    return torch.from_numpy(np.array(img, dtype=np.uint8, copy=True)).permute(2, 0, 1).contiguous()


class ImageFolderDataset(torch.utils.data.Dataset):
    """Images in ``root/<class_name>/*.<ext>``; the label is the index of the sorted class name.

    Parameters
    ----------
    root : str or path
        Folder with one sub-folder per class.
    size : int or None
        If given, every image is resized (shorter side to ``size``, bilinear, after JPEG draft
        downscaling) and centre-cropped to ``size x size``, so a DataLoader can batch them;
        ``None`` keeps the original size.
    extensions : sequence of str
        Lower-case file suffixes that count as images (others are ignored).
    skip_corrupt : bool
        ``False`` (default): a file that cannot be decoded raises ``OSError`` naming it when
        it is read. ``True``: every file is decoded once here, the bad ones are dropped, their
        count is in ``n_skipped`` (paths in ``skipped``) and a ``UserWarning`` says so.
    transform : callable or None
        Applied to the uint8 (3, H, W) tensor.

    Attributes
    ----------
    classes : list of str
        Sorted class folder names; ``class_to_idx`` maps them to labels.
    samples : list of (str, int)
        Image path and label, sorted by class then file name.

    Raises
    ------
    FileNotFoundError
        If ``root`` does not exist or is not a folder.
    ValueError
        If ``root`` has no class folders, or a class folder has no image file.
    """

    def __init__(
        self,
        root: str | os.PathLike,
        *,
        size: int | None = None,
        extensions: Sequence[str] = IMAGE_EXTENSIONS,
        skip_corrupt: bool = False,
        transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"root {str(self.root)!r} does not exist or is not a folder")
        self.size = None if size is None else check_int(size, "size", minimum=1)
        exts = tuple(e.lower() for e in extensions)
        self.classes = sorted(d.name for d in self.root.iterdir() if d.is_dir())
        if not self.classes:
            raise ValueError(f"root {str(self.root)!r} has no class sub-folders")
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}
        self.samples: list[tuple[str, int]] = []
        for c in self.classes:
            files = sorted(p for p in (self.root / c).iterdir()
                           if p.is_file() and p.suffix.lower() in exts)
            if not files:
                raise ValueError(f"class folder {str(self.root / c)!r} has no image file "
                                 f"with an extension in {exts}")
            self.samples.extend((str(p), self.class_to_idx[c]) for p in files)
        self.transform = transform
        self.skipped: list[str] = []
        if skip_corrupt:
            good = []
            for path, label in self.samples:
                try:
                    _load_rgb(path, self.size)
                    good.append((path, label))
                except OSError:
                    self.skipped.append(path)
            self.samples = good
            if self.skipped:
                warnings.warn(f"skipped {len(self.skipped)} corrupt image file(s) under "
                              f"{str(self.root)!r}, e.g. {self.skipped[0]!r}", stacklevel=2)
        self.n_skipped = len(self.skipped)

    @property
    def targets(self) -> list[int]:
        """The label of every sample, in order."""
        return [label for _, label in self.samples]

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        path, label = self.samples[index]
        x = pil_to_tensor(_load_rgb(path, self.size))  # (3, H, W) uint8
        if self.transform is not None:
            x = self.transform(x)
        return x, label
