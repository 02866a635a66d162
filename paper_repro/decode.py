"""JPEG decoding backends (Pillow, simplejpeg over libjpeg-turbo) with optional reduced-size
(DCT-domain scaled) decoding, the step that bounds an ImageNet loader's images/s per CPU core.

Both backends are libjpeg-turbo underneath (Pillow's wheels bundle it: ``PIL.features``
``libjpeg_turbo``); simplejpeg skips Pillow's image object and file parser and writes straight
into a numpy array. PyTurboJPEG needs the system's ``libturbojpeg`` (the TurboJPEG API), which
this machine does not have (only ``libjpeg62-turbo``, the libjpeg API), so it is not offered.
``benchmarks/bench_jpeg.py`` measures both; ``results_jpeg.txt`` holds the numbers behind
``"auto"``'s preference order.
"""
from __future__ import annotations

import io
import math
from typing import Literal

import numpy as np
from PIL import Image

try:  # optional at import time so that a missing wheel degrades to Pillow, never crashes
    import simplejpeg
except ImportError:  # pragma: no cover - simplejpeg is a declared dependency
    simplejpeg = None

Backend = Literal["auto", "pillow", "simplejpeg"]
# "auto" tries these in order: simplejpeg decoded 500x375 q90 JPEGs faster than Pillow in
# benchmarks/results_jpeg.txt (same libjpeg-turbo IDCT, less per-image overhead).
PREFERENCE: tuple[str, ...] = ("simplejpeg", "pillow")
# Pillow's errors for bad image data (truncated, not an image, bad marker)
_PIL_ERRORS = (OSError, SyntaxError, ValueError, Image.DecompressionBombError)


def available_backends() -> tuple[str, ...]:
    """The decoders importable here, in ``"auto"``'s preference order."""
    return tuple(b for b in PREFERENCE if b == "pillow" or simplejpeg is not None)


def resolve_backend(backend: str) -> str:
    """The concrete backend ``backend`` names (``"auto"``: the first available in
    ``PREFERENCE``); raises ``ValueError`` for an unknown or unavailable one."""
    avail = available_backends()
    if backend == "auto":
        return avail[0]
    if backend not in PREFERENCE:
        raise ValueError(f"backend must be one of {('auto',) + PREFERENCE}, got {backend!r}")
    if backend not in avail:
        raise ValueError(f"backend {backend!r} is not installed here (available: {avail})")
    return backend


def _check_data(data, name: str) -> bytes | memoryview:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"{name} must be bytes, got {type(data).__name__}")
    if len(data) == 0:
        raise ValueError(f"{name} is empty (0 bytes): not a JPEG")
    return data


def _check_min_size(min_size) -> tuple[int, int] | None:
    if min_size is None:
        return None
    if isinstance(min_size, (int, np.integer)) and not isinstance(min_size, bool):
        min_size = (int(min_size), int(min_size))
    try:
        mh, mw = (int(v) for v in min_size)
    except (TypeError, ValueError):
        raise TypeError(f"min_size must be None, an int or (min_height, min_width), "
                        f"got {min_size!r}") from None
    if mh < 1 or mw < 1:
        raise ValueError(f"min_size must be positive, got {min_size!r}")
    return mh, mw


def jpeg_size(data: bytes, *, name: str = "data") -> tuple[int, int]:
    """``(height, width)`` from the image header, without decoding the pixels.

    Raises ``ValueError`` naming ``name`` if the bytes are empty or not a readable image.
    """
    data = _check_data(data, name)
    try:
        with Image.open(io.BytesIO(data)) as img:
            w, h = img.size
    except _PIL_ERRORS as exc:
        raise ValueError(f"{name}: cannot read the image header: {exc}") from exc
    return h, w


def _decode_pillow(data, min_size: tuple[int, int] | None) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as img:
        if min_size is not None and img.format == "JPEG":
            # draft: libjpeg's DCT scaling by 1/2, 1/4 or 1/8, both sides kept >= min_size
            img.draft("RGB", (min_size[1], min_size[0]))
        img = img.convert("RGB")  # forces the full decode: truncated data raises here
    return np.array(img)  # writable (np.asarray of a PIL image is read-only)


def _decode_simplejpeg(data, min_size: tuple[int, int] | None) -> np.ndarray:
    mh, mw = min_size if min_size is not None else (0, 0)
    # default IDCT (islow) and fancy upsampling, as Pillow; strict: recoverable errors raise;
    # min_height/min_width: libjpeg-turbo's scaling factors M/8 (M = 1..8), sides kept >= min
    return simplejpeg.decode_jpeg(data, colorspace="RGB", min_height=mh, min_width=mw,
                                  strict=True)


def decode_jpeg(data: bytes, *, backend: Backend = "auto",
                min_size: int | tuple[int, int] | None = None,
                name: str = "data") -> np.ndarray:
    """Decode a JPEG (or, with Pillow, any image Pillow reads) to an RGB uint8 array.

    Parameters
    ----------
    data : bytes
        The encoded file.
    backend : {"auto", "pillow", "simplejpeg"}
        ``"auto"`` uses the first of ``PREFERENCE`` that is installed and falls back to Pillow
        for a file simplejpeg refuses (CMYK JPEGs, which libjpeg-turbo cannot convert to RGB,
        or a PNG with a .JPEG name, both present in ImageNet's train set); data that neither
        decodes raises.
    min_size : int, (min_height, min_width) or None
        Reduced-size decode: the decoder scales in the DCT domain to the smallest of its
        scaling factors (Pillow ``draft``: 1/2, 1/4, 1/8; simplejpeg: M/8) that keeps both
        sides >= ``min_size``. It skips most of the IDCT and colour-conversion work, so it is
        several times faster when the target is much smaller than the file, and it changes the
        pixels: the result is the full decode box-filtered (anti-aliased) by the scale, not
        identical to a full decode followed by any particular resize, and the two backends may
        pick different factors (simplejpeg has 3/8, 5/8, ...). ``None`` decodes at full size.
    name : str
        How error messages name the data (e.g. the file path).

    Returns
    -------
    np.ndarray, shape (H, W, 3), uint8

    Raises
    ------
    TypeError
        If ``data`` is not bytes-like or ``min_size`` is malformed.
    ValueError
        If ``data`` is empty or corrupt (message names ``name``), or ``backend`` is unknown or
        not installed.
    """
    data = _check_data(data, name)
    ms = _check_min_size(min_size)
    chosen = resolve_backend(backend)
    if chosen == "simplejpeg":
        try:
            return _decode_simplejpeg(data, ms)
        except ValueError as exc:
            if backend != "auto":
                raise ValueError(f"{name}: simplejpeg cannot decode it: {exc}") from exc
    try:
        return _decode_pillow(data, ms)
    except _PIL_ERRORS as exc:
        raise ValueError(f"{name}: cannot decode the image: {exc}") from exc


def reduced_min_size(height: int, width: int, smallest_side: float,
                     target: int) -> tuple[int, int] | None:
    """The ``min_size`` for :func:`decode_jpeg` that keeps a crop's ``smallest_side`` (in
    full-resolution pixels) at >= ``target`` pixels after decoding; ``None`` when no reduction
    is possible (the crop is already at most ``2 target`` pixels, below any factor's reach)."""
    if smallest_side < 2 * target:  # the coarsest useful factor 1/2 would undershoot
        return None
    s = target / smallest_side  # needed scale; decoders pick a factor >= it
    return math.ceil(height * s), math.ceil(width * s)
