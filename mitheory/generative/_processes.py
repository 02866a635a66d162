"""Latent processes with known truth: marginal p(z), positive-pair conditional p(z~|z), mixing g.

Sphere/vMF and box processes of Zimmermann et al. (2021) and the content/style process of
von Kuegelgen et al. (2021), Sec. 3.1 / ``ssl_identifiability`` ``main_mlp.py``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from mitheory._rng import as_generator, spawn
from mitheory._types import Seed
from mitheory._validate import (check_device, check_embeddings, check_int, check_option,
                                check_positive)
from mitheory.generative._box import (
    BOX_CONDITIONALS,
    BoxConditional,
    sample_truncated_conditional,
    sample_uniform_box,
)
from mitheory.generative._mixing import MixingMLP, make_mixing_mlp
from mitheory.generative._vmf import sample_uniform_sphere, sample_vmf

# Child indices of a sampling seed's SeedSequence (child i is the same whatever n is spawned).
_STREAM_MARGINAL, _STREAM_CONDITIONAL, _STREAM_NEGATIVE = 0, 1, 2


@dataclass
class ViewBatch:
    """A batch of positive pairs: observations ``x, x_tilde = g(z), g(z_tilde)``, each (n, dim).

    All four are float32 tensors; ``z`` and ``z_tilde`` are the true latents.
    """

    x: torch.Tensor
    x_tilde: torch.Tensor
    z: torch.Tensor
    z_tilde: torch.Tensor

    def to(self, device: str | torch.device) -> ViewBatch:
        """The same batch on ``device``."""
        return ViewBatch(*(t.to(device) for t in (self.x, self.x_tilde, self.z, self.z_tilde)))

    def __len__(self) -> int:
        return int(self.x.shape[0])


class LatentProcess:
    """Base class: subclasses set the attributes below and implement the two ``_sample`` hooks.

    Attributes
    ----------
    name : str
    dim_z, dim_x : int
        Latent and observation dimensions (equal: the mixing is square).
    content_idx, style_idx : tuple of int
        Latent coordinates kept (content) and changed (style) between the two views.
    mixing : MixingMLP
        The frozen invertible map g.

    Notes
    -----
    A sampling ``seed`` is split into named SeedSequence children: 0 the marginal, 1 the
    conditional, 2 the negatives. So ``sample_latents(n, seed=s)`` equals
    ``sample_pairs(n, seed=s).z``, while ``sample_negatives(n, seed=s)`` is independent of
    both even with the same ``s``.
    """

    name: str = "latent_process"
    reference: str = ""
    dim_z: int
    dim_x: int
    content_idx: tuple[int, ...]
    style_idx: tuple[int, ...]
    mixing: MixingMLP

    # ---- hooks ----
    def _sample_marginal(self, n: int, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def _sample_conditional(self, z: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def _params(self) -> dict[str, Any]:
        return {}

    def _init_layout(
        self, dim_z: int, n_content: int, ss_mixing: np.random.SeedSequence,
        n_layers: int, cond_thresh_ratio: float, n_iter_cond_thresh: int,
    ) -> None:
        """Set dimensions, the content/style split (content first) and draw the mixing."""
        self.dim_z = self.dim_x = dim_z
        self.content_idx = tuple(range(n_content))
        self.style_idx = tuple(range(n_content, dim_z))
        self.mixing = make_mixing_mlp(
            dim_z, n_layers=n_layers, cond_thresh_ratio=cond_thresh_ratio,
            n_iter_cond_thresh=n_iter_cond_thresh, seed=ss_mixing,
        )

    # ---- public API ----
    def sample_latents(self, n: int, *, seed: Seed) -> np.ndarray:
        """``n`` latents from the marginal p(z), float64 array of shape (n, dim_z)."""
        n = check_int(n, "n", minimum=1)
        return self._sample_marginal(n, as_generator(spawn(seed, 3)[_STREAM_MARGINAL]))

    def to(self, device: str | torch.device) -> LatentProcess:
        """Move the mixing to ``device`` (in place; latents are still drawn by numpy on CPU)."""
        self.mixing.to(device)
        return self

    def mix(
        self, z: np.ndarray | torch.Tensor, *, device: str | torch.device | None = None
    ) -> torch.Tensor:
        """x = g(z) as a float32 tensor on ``device`` (default: where the mixing lives)."""
        device = check_device(device)
        w = self.mixing.layers[0].weight
        zt = torch.as_tensor(np.asarray(z) if not torch.is_tensor(z) else z)
        check_embeddings(zt, "z", min_samples=1, dim=self.dim_z)
        with torch.no_grad():
            x = self.mixing(zt.to(device=w.device, dtype=w.dtype))
        return x.to(device=device or w.device, dtype=torch.float32)

    def sample_pairs(
        self, n: int, *, seed: Seed, device: str | torch.device | None = None
    ) -> ViewBatch:
        """``n`` positive pairs: z ~ p(z), z_tilde ~ p(z_tilde | z), mixed through g."""
        n = check_int(n, "n", minimum=1)
        device = check_device(device)
        ss = spawn(seed, 3)
        z = self._sample_marginal(n, as_generator(ss[_STREAM_MARGINAL]))
        z_tilde = self._sample_conditional(z, as_generator(ss[_STREAM_CONDITIONAL]))
        dev = device or self.mixing.layers[0].weight.device
        return ViewBatch(
            x=self.mix(z, device=dev),
            x_tilde=self.mix(z_tilde, device=dev),
            z=torch.as_tensor(z, dtype=torch.float32, device=dev),
            z_tilde=torch.as_tensor(z_tilde, dtype=torch.float32, device=dev),
        )

    def sample_negatives(
        self, n: int, *, seed: Seed, device: str | torch.device | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` fresh independent marginal samples ``(x_neg, z_neg)`` (von Kuegelgen's z3)."""
        n = check_int(n, "n", minimum=1)
        device = check_device(device)
        z = self._sample_marginal(n, as_generator(spawn(seed, 3)[_STREAM_NEGATIVE]))
        dev = device or self.mixing.layers[0].weight.device
        return self.mix(z, device=dev), torch.as_tensor(z, dtype=torch.float32, device=dev)

    def describe(self) -> dict[str, Any]:
        """JSON-able description: name, dimensions, content/style split, parameters, mixing."""
        return {
            "name": self.name,
            "class": type(self).__name__,
            "reference": self.reference,
            "dim_z": self.dim_z,
            "dim_x": self.dim_x,
            "content_idx": list(self.content_idx),
            "style_idx": list(self.style_idx),
            **self._params(),
            "mixing": {
                "n_layers": len(self.mixing.layers),
                "negative_slope": self.mixing.negative_slope,
                "cond_threshold": self.mixing.cond_threshold,
                "cond_numbers": list(self.mixing.cond_numbers),
            },
        }

    def __repr__(self) -> str:
        scalars = {k: v for k, v in self._params().items() if not isinstance(v, list)}
        return f"{type(self).__name__}({scalars})"


class SphereProcess(LatentProcess):
    """Uniform latents on S^{dim-1} with a vMF(z, kappa) positive-pair conditional (Zimmermann).

    Parameters
    ----------
    dim : int
        Latent dimension (>= 2); z lies on the unit sphere in R^dim.
    kappa : float
        vMF concentration of z_tilde around z. **[UNVERIFIED]**: the kappa values of Zimmermann
        et al. (2021), Table 1, could not be read; 10.0 is cl-ica's 3DIdent kappa = 1/sigma
        (sigma = 0.1), reused here as a default. Set it explicitly in studies.
    seed : int, Generator, SeedSequence or None
        Process seed: draws the mixing (named stream ``mixing``).
    mixing_layers, cond_thresh_ratio, n_iter_cond_thresh
        Passed to :func:`make_mixing_mlp` (cl-ica ``main_mlp.py``: 3, 0.0, 25000).

    Notes
    -----
    All coordinates are content (the whole latent is shared up to vMF noise), so
    ``content_idx = range(dim)`` and ``style_idx = ()``.
    """

    reference = "Zimmermann et al. 2021, cl-ica main_mlp.py --space-type sphere --c-p 0"

    def __init__(
        self,
        dim: int = 10,
        *,
        kappa: float = 10.0,
        seed: Seed,
        mixing_layers: int = 3,
        cond_thresh_ratio: float = 0.0,
        n_iter_cond_thresh: int = 25000,
    ) -> None:
        dim = check_int(dim, "dim", minimum=2)
        self.kappa = check_positive(kappa, "kappa")
        self.name = "sphere_vmf"
        (ss_mixing,) = spawn(seed, 1)
        self._init_layout(dim, dim, ss_mixing, mixing_layers, cond_thresh_ratio,
                          n_iter_cond_thresh)

    def _sample_marginal(self, n, rng):
        return sample_uniform_sphere(n, self.dim_z, seed=rng)

    def _sample_conditional(self, z, rng):
        return sample_vmf(z, self.kappa, seed=rng)

    def _params(self):
        return {"dim": self.dim_z, "kappa": self.kappa, "kappa_status": "UNVERIFIED"}


class BoxProcess(LatentProcess):
    """Uniform latents on [0, 1]^dim with a truncated Normal/Laplace conditional (cl-ica box).

    Parameters
    ----------
    dim : int
        Latent dimension (>= 2).
    conditional : {"normal", "laplace"}
        Law of z_tilde around z, truncated to the box (cl-ica ``--c-p 2`` / ``--c-p 1``).
    scale : float
        Normal std or Laplace scale b (cl-ica ``--c-param``, default 0.05).
    seed : int, Generator, SeedSequence or None
        Process seed (mixing stream).
    mixing_layers, cond_thresh_ratio, n_iter_cond_thresh
        Passed to :func:`make_mixing_mlp`.
    """

    reference = "Zimmermann et al. 2021, cl-ica main_mlp.py --space-type box"

    def __init__(
        self,
        dim: int = 10,
        *,
        conditional: BoxConditional = "normal",
        scale: float = 0.05,
        seed: Seed,
        mixing_layers: int = 3,
        cond_thresh_ratio: float = 0.0,
        n_iter_cond_thresh: int = 25000,
    ) -> None:
        dim = check_int(dim, "dim", minimum=2)
        self.conditional = check_option(conditional, "conditional", BOX_CONDITIONALS)
        self.scale = check_positive(scale, "scale")
        self.name = f"box_{self.conditional}"
        (ss_mixing,) = spawn(seed, 1)
        self._init_layout(dim, dim, ss_mixing, mixing_layers, cond_thresh_ratio,
                          n_iter_cond_thresh)

    def _sample_marginal(self, n, rng):
        return sample_uniform_box(n, self.dim_z, seed=rng)

    def _sample_conditional(self, z, rng):
        return sample_truncated_conditional(z, self.scale, conditional=self.conditional, seed=rng)

    def _params(self):
        return {"dim": self.dim_z, "conditional": self.conditional, "scale": self.scale,
                "box": [0.0, 1.0]}
