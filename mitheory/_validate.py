"""Input validation: every user-facing check and its message, written once.

Each check raises ``ValueError``/``TypeError`` naming the argument and the offending value.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike


def check_array(
    x: ArrayLike,
    name: str = "x",
    *,
    ndim: int | Iterable[int] | None = None,
    dtype: Any = np.float64,
    allow_nonfinite: bool = False,
) -> np.ndarray:
    """Convert to a numpy array, check its dimensionality and that every value is finite."""
    try:
        arr = np.asarray(x, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be convertible to a numeric array: {exc}") from None
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            raise ValueError(f"{name} must have ndim in {allowed}, got shape {arr.shape}")
    if not allow_nonfinite and arr.size and not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} contains {bad} NaN or infinite value(s)")
    return arr


def check_samples(
    x: ArrayLike, name: str = "x", *, min_samples: int = 1, dtype: Any = np.float64
) -> np.ndarray:
    """Return ``x`` as a finite 2-D array ``(n_samples, dim)``; 1-D input becomes one column."""
    arr = check_array(x, name, ndim=(1, 2), dtype=dtype)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.shape[0] < min_samples:
        raise ValueError(
            f"{name} needs at least {min_samples} samples, got {arr.shape[0]} (shape {arr.shape})"
        )
    if arr.shape[1] == 0:
        raise ValueError(f"{name} has zero columns (shape {arr.shape})")
    return arr


def check_same_length(a: np.ndarray, b: np.ndarray, name_a: str = "x", name_b: str = "y") -> None:
    """Raise if two sample arrays have a different number of rows."""
    if len(a) != len(b):
        raise ValueError(
            f"{name_a} and {name_b} must have the same number of samples, got {len(a)} and {len(b)}"
        )


def check_nonconstant(x: np.ndarray, name: str = "x") -> None:
    """Raise if any column of a 2-D array has zero variance."""
    sd = np.std(x, axis=0)
    zero = np.flatnonzero(sd == 0)
    if zero.size:
        raise ValueError(f"{name} has zero-variance column(s) {zero.tolist()}")


def check_covariance(cov: ArrayLike, name: str = "cov", *, dim: int | None = None) -> np.ndarray:
    """Return ``cov`` as a symmetric positive-definite float64 matrix, or raise."""
    c = check_array(cov, name, ndim=2)
    if c.shape[0] != c.shape[1]:
        raise ValueError(f"{name} must be square, got shape {c.shape}")
    if dim is not None and c.shape[0] != dim:
        raise ValueError(f"{name} must be {dim}x{dim}, got shape {c.shape}")
    scale = max(1.0, float(np.max(np.abs(c))))
    if not np.allclose(c, c.T, atol=1e-10 * scale, rtol=0):
        raise ValueError(f"{name} must be symmetric "
                         f"(max |C - C^T| = {np.max(np.abs(c - c.T)):.3g})")
    try:
        np.linalg.cholesky(c)
    except np.linalg.LinAlgError:
        eig = np.linalg.eigvalsh((c + c.T) / 2)
        raise ValueError(
            f"{name} is not positive definite (smallest eigenvalue {eig[0]:.3g})"
        ) from None
    return c


def check_positive(value: float, name: str, *, strict: bool = True) -> float:
    """Raise unless ``value`` is a finite number > 0 (or >= 0 with ``strict=False``)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, got {value!r}") from None
    if not np.isfinite(v) or (v <= 0 if strict else v < 0):
        raise ValueError(f"{name} must be {'>' if strict else '>='} 0 and finite, got {value!r}")
    return v


def check_finite_number(value: Any, name: str) -> float:
    """Raise unless ``value`` is a finite real number; return it as a float."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, got {value!r}") from None
    if not np.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return v


def check_int(value: Any, name: str, *, minimum: int | None = None) -> int:
    """Raise unless ``value`` is an integer (not bool) >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_probability(value: float, name: str) -> float:
    """Raise unless ``0 <= value <= 1``."""
    v = float(value)
    if not (0.0 <= v <= 1.0):
        raise ValueError(f"{name} must be in [0, 1], got {value!r}")
    return v


def check_option(value: Any, name: str, options: Iterable[Any]) -> Any:
    """Raise unless ``value`` is one of ``options`` (unknown options fail immediately)."""
    opts = tuple(options)
    if value not in opts:
        raise ValueError(f"{name} must be one of {opts}, got {value!r}")
    return value


def check_finite_tensor(t: Any, name: str) -> None:
    """Raise if a torch tensor holds NaN/inf (used on loss values and embeddings).

    A finite sum proves every entry finite (NaN and inf propagate through a sum, and
    inf + -inf is NaN), and costs one reduction and one scalar read instead of
    ``isfinite(t).all()``'s boolean tensor (about 4 vs 25 us per call on a training batch,
    ``benchmarks/bench_train``); only a non-finite sum (which overflow can also give) is
    checked entry by entry.
    """
    import torch

    if t.is_complex() or not math.isfinite(t.detach().sum().item()):
        if not bool(torch.isfinite(t).all()):
            raise ValueError(f"{name} is not finite (contains NaN or inf)")


def check_embeddings(
    z: Any, name: str = "z", *, min_samples: int = 2, dim: int | None = None
) -> None:
    """Check a torch embedding batch: 2-D ``(batch, dim)``, enough rows, ``dim`` columns, finite."""
    import torch

    if not isinstance(z, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(z).__name__}")
    if z.ndim != 2:
        raise ValueError(f"{name} must have shape (batch, dim), got {tuple(z.shape)}")
    if z.shape[0] < min_samples:
        raise ValueError(f"{name} needs at least {min_samples} rows, got shape {tuple(z.shape)}")
    if dim is not None and z.shape[1] != dim:
        raise ValueError(f"{name} must have {dim} columns, got shape {tuple(z.shape)}")
    check_finite_tensor(z, name)


def check_labels(
    labels: Any, name: str = "labels", *, n: int | None = None, n_classes: int | None = None
) -> np.ndarray:
    """Return ``labels`` as a 1-D int64 array of non-negative integers (``< n_classes`` if given).

    NaN, fractional or negative values raise instead of being cast; ``n`` is the required length.
    """
    try:
        raw = np.asarray(labels)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be convertible to an integer array: {exc}") from None
    if raw.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {raw.shape}")
    if raw.dtype.kind == "b" or raw.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold integer class labels, got dtype {raw.dtype}")
    if raw.dtype.kind == "f":
        if not np.all(np.isfinite(raw)):
            raise ValueError(f"{name} contains NaN or infinite value(s)")
        if np.any(raw != np.round(raw)):
            raise ValueError(f"{name} must hold integer class labels, got non-integer values")
    out = raw.astype(np.int64)
    if out.size and out.min() < 0:
        raise ValueError(f"{name} must be non-negative, got minimum {out.min()}")
    if n_classes is not None and out.size and out.max() >= n_classes:
        raise ValueError(f"{name} must be < {n_classes} (the number of classes), got {out.max()}")
    if n is not None and len(out) != n:
        raise ValueError(f"{name} must have {n} entries (one per sample), got {len(out)}")
    return out


def check_device(device: Any, name: str = "device") -> Any:
    """Return ``torch.device(device)`` (``None`` passes through), raising ``ValueError`` for an
    unparsable device string instead of torch's ``RuntimeError``."""
    if device is None:
        return None
    import torch

    try:
        return torch.device(device)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a torch device such as 'cpu' or 'cuda', "
                         f"got {device!r} ({exc})") from None


def check_positive_definite(mat: Any, name: str = "mat") -> None:
    """Raise unless the symmetric part of the square matrix ``mat`` (numpy array or torch
    tensor, assumed finite) has only positive eigenvalues."""
    if hasattr(mat, "detach"):
        mat = mat.detach().cpu().double().numpy()
    m = np.asarray(mat, dtype=np.float64)
    eig = np.linalg.eigvalsh((m + m.T) / 2)
    if not eig[0] > 0:
        raise ValueError(f"{name} is not positive definite (smallest eigenvalue {eig[0]:.3g})")


def check_module(obj: Any, name: str) -> None:
    """Raise ``TypeError`` unless ``obj`` is a ``torch.nn.Module``."""
    from torch import nn

    if not isinstance(obj, nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module, got {type(obj).__name__}")


def check_unit_norm(z: Any, name: str, *, atol: float, hint: str = "") -> None:
    """Raise unless every row of ``z`` (numpy array or torch tensor) has L2 norm within ``atol``
    of 1.

    ``hint`` is appended to the message (e.g. how to normalise, or which option needs it).
    """
    if hasattr(z, "detach"):  # torch tensor: no graph, no host copy of the whole batch
        import torch

        dev = float((torch.linalg.vector_norm(z.detach(), dim=1) - 1.0).abs().max())
    else:
        dev = float(np.max(np.abs(np.linalg.norm(np.asarray(z), axis=1) - 1.0)))
    if not dev <= atol:
        raise ValueError(f"{name} rows must be unit norm, i.e. lie on the unit sphere "
                         f"(max | ||z_i|| - 1 | = {dev:.3g} > {atol:g}){hint}")


def check_pair(
    z_a: Any, z_b: Any, *, min_samples: int = 2, names: tuple[str, str] = ("z_a", "z_b")
) -> None:
    """Check two views' embeddings have the same shape (and are valid); ``names`` are the
    caller's parameter names, used in the messages."""
    name_a, name_b = names
    check_embeddings(z_a, name_a, min_samples=min_samples)
    check_embeddings(z_b, name_b, min_samples=min_samples)
    if z_a.shape != z_b.shape:
        raise ValueError(f"{name_a} and {name_b} must have the same shape, "
                         f"got {tuple(z_a.shape)} and {tuple(z_b.shape)}")



def check_factors(f: Any, name: str, *, n_factors: int, n_classes: int) -> Any:
    """Return image-world factors as a float torch tensor (n, n_factors), or raise.

    Column 0 must hold integer class ids in ``0 .. n_classes - 1``; every value must be finite.
    """
    import torch

    t = f if isinstance(f, torch.Tensor) else torch.as_tensor(np.asarray(f, dtype=np.float32))
    if t.ndim != 2 or t.shape[1] != n_factors:
        raise ValueError(f"{name} must have shape (n, {n_factors}), got {tuple(t.shape)}")
    if not t.is_floating_point():
        t = t.float()
    check_finite_tensor(t, name)
    cls = t[:, 0]
    bad = (cls != cls.round()) | (cls < 0) | (cls > n_classes - 1)
    if bool(bad.any()):
        raise ValueError(f"{name}[:, 0] must hold class ids in 0..{n_classes - 1}, got "
                         f"{cls[bad][:5].tolist()}")
    return t


def check_image_batch(x: Any, name: str = "images", *, channels: int | None = 3) -> None:
    """Raise unless ``x`` is a floating torch tensor of shape (batch, channels, H, W)."""
    import torch

    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.ndim != 4 or (channels is not None and x.shape[1] != channels):
        want = f"(batch, {channels}, H, W)" if channels is not None else "(batch, C, H, W)"
        raise ValueError(f"{name} must have shape {want}, got {tuple(x.shape)}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be floating point in [0, 1], got dtype {x.dtype}")


def check_range(value: Any, name: str, *, low: float = -np.inf, high: float = np.inf) -> tuple:
    """Return ``value`` as a (lo, hi) float pair with ``low <= lo <= hi <= high``, or raise."""
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a pair (low, high) of numbers, got {value!r}") from None
    if not (low <= lo <= hi <= high):
        raise ValueError(f"{name} must satisfy {low} <= low <= high <= {high}, got {value!r}")
    return lo, hi


def check_process(process: Any, name: str = "process") -> Any:
    """Raise ``TypeError`` unless ``process`` samples views
    (``sample_pairs``/``sample_negatives``)."""
    if not all(callable(getattr(process, m, None)) for m in ("sample_pairs", "sample_negatives")):
        raise TypeError(f"{name} must be a latent process with sample_pairs and "
                        f"sample_negatives (see mitheory.generative), got {type(process).__name__}")
    return process


def check_method(method: Any, name: str = "method", *, needs_loss: bool = True) -> Any:
    """Raise ``TypeError`` unless ``method`` is an SSL method: a module with ``embed`` (and
    ``loss`` when it is to be trained)."""
    from torch import nn

    if not (isinstance(method, nn.Module) and callable(getattr(method, "embed", None))
            and (not needs_loss or callable(getattr(method, "loss", None)))):
        raise TypeError(f"{name} must be an SSLMethod (see mitheory.train.make_method), got "
                        f"{type(method).__name__}")
    return method
