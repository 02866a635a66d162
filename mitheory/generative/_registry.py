"""Named latent processes (the settings of the identifiability study) and their factory."""
from __future__ import annotations

from typing import Any

from mitheory._types import Seed
from mitheory.generative._content_style import ContentStyleProcess
from mitheory.generative._processes import BoxProcess, LatentProcess, SphereProcess

_REGISTRY: dict[str, tuple[type[LatentProcess], dict[str, Any]]] = {
    "sphere_vmf": (SphereProcess, {}),
    "box_normal": (BoxProcess, {"conditional": "normal"}),
    "box_laplace": (BoxProcess, {"conditional": "laplace"}),
    "cs_p1.0": (ContentStyleProcess, {"p_change": 1.0}),
    "cs_p0.75": (ContentStyleProcess, {"p_change": 0.75}),
    "cs_stat": (ContentStyleProcess, {"p_change": 0.75, "statistical_dependence": True}),
    "cs_stat_causal": (
        ContentStyleProcess,
        {"p_change": 0.75, "statistical_dependence": True, "causal_dependence": True},
    ),
}

#: Names accepted by :func:`make_process`.
PROCESS_NAMES: tuple[str, ...] = tuple(_REGISTRY)


def make_process(name: str, *, seed: Seed, **overrides: Any) -> LatentProcess:
    """Build a named latent process; ``overrides`` replace its constructor defaults.

    Parameters
    ----------
    name : str
        One of :data:`PROCESS_NAMES`: ``"sphere_vmf"`` (uniform sphere, vMF kappa = 10
        [UNVERIFIED]), ``"box_normal"`` / ``"box_laplace"`` (uniform [0, 1]^10, truncated
        conditional, scale 0.05), ``"cs_p1.0"`` / ``"cs_p0.75"`` (content/style, independent
        blocks), ``"cs_stat"`` (Wishart covariances), ``"cs_stat_causal"`` (plus c -> s);
        both at ``p_change = 0.75``, as the public code's one documented command
        (ssl_identifiability README: ``--style-change-prob 0.75 --statistical-dependence
        --content-dependent-style``, the dossier's checklist); the paper's table is
        unverified.
    seed : int, Generator, SeedSequence or None
        Process seed (fixes the mixing and every per-process random parameter).
    **overrides
        Constructor keywords, e.g. ``kappa=5.0``, ``dim=6``, ``n_iter_cond_thresh=1000``.

    Returns
    -------
    LatentProcess
        With ``name`` set to ``name``.

    Examples
    --------
    >>> make_process("cs_p0.75", seed=0, n_iter_cond_thresh=500).style_idx
    (5, 6, 7, 8, 9)
    """
    if name not in _REGISTRY:
        raise ValueError(f"name must be one of {PROCESS_NAMES}, got {name!r}")
    cls, defaults = _REGISTRY[name]
    process = cls(seed=seed, **{**defaults, **overrides})
    process.name = name
    return process
