"""In-memory image arrays (numpy or torch) as a torch Dataset of CHW tensors."""
from __future__ import annotations

from typing import Any, Literal

import numpy as np
import torch

from mitheory._validate import check_option


class ArrayDataset(torch.utils.data.Dataset):
    """Images held in memory, with optional labels.

    Parameters
    ----------
    images : array_like or torch.Tensor, shape (N, H, W, C), (N, C, H, W) or (N, H, W)
        uint8 (0..255) or float (0..1) pixels; kept in their dtype. (N, H, W) is one channel.
    labels : array_like or None, shape (N,)
        Integer labels; ``None`` gives label -1 for every image.
    layout : {"NHWC", "NCHW"}
        Axis order of 4-D ``images`` (numpy/Pillow arrays are NHWC, torch batches NCHW).

    Raises
    ------
    ValueError
        If ``images`` is not 3-D or 4-D, or ``labels`` does not have N entries.
    """

    def __init__(self, images: Any, labels: Any = None, *,
                 layout: Literal["NHWC", "NCHW"] = "NHWC") -> None:
        check_option(layout, "layout", ("NHWC", "NCHW"))
        x = images if isinstance(images, torch.Tensor) else torch.from_numpy(np.asarray(images))
        if x.ndim == 3:
            x = x[:, None]
        elif x.ndim == 4:
            x = x.permute(0, 3, 1, 2) if layout == "NHWC" else x
        else:
            raise ValueError(f"images must have 3 or 4 dimensions, got shape {tuple(x.shape)}")
        self.data = x.contiguous()  # (N, C, H, W)
        n = self.data.shape[0]
        if labels is None:
            self.targets = torch.full((n,), -1, dtype=torch.int64)
        else:
            self.targets = torch.as_tensor(np.asarray(labels), dtype=torch.int64)
            if self.targets.shape != (n,):
                raise ValueError(f"labels must have shape ({n},), got {tuple(self.targets.shape)}")

    def __len__(self) -> int:
        return int(self.data.shape[0])

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.data[index], int(self.targets[index])
