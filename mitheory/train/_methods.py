"""SSL methods for the small-scale studies: an encoder plus one objective of ``mitheory.objectives``.

A method owns its modules (encoder, predictor, EMA target) and exposes
``loss(x_a, x_b, x_neg) -> Tensor``, ``after_step(step, total_steps)`` (EMA updates) and
``embed(x)`` (the representation that is evaluated). Losses are never redefined here: each
method calls the one implementation in ``mitheory.objectives``.
"""
from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from mitheory import objectives as obj
from mitheory._validate import check_option
from mitheory.train._encoders import make_mlp_encoder

METHODS: tuple[str, ...] = ("infonce", "simclr", "er", "vicreg", "byol", "barlow")
# objectives whose loss only sees the direction of the embedding (defined on the sphere)
SPHERICAL: frozenset[str] = frozenset({"simclr", "er", "byol"})


class SSLMethod(nn.Module):
    """Base class: an encoder and an objective."""

    name = "base"
    needs_negatives = False

    def __init__(self, encoder: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The representation h(x) that identifiability metrics are computed on."""
        return self.encoder(x)

    def loss(self, x_a: torch.Tensor, x_b: torch.Tensor,
             x_neg: torch.Tensor | None = None) -> torch.Tensor:
        raise NotImplementedError

    def after_step(self, step: int, total_steps: int) -> None:
        """Hook called after each optimiser step (EMA targets update here)."""


class InfoNCE(SSLMethod):
    """InfoNCE in Zimmermann et al.'s forms: dot product on the sphere or squared-L2 energies.

    Negatives are fresh independent marginal samples ``x_neg`` (von Kuegelgen), and the positive
    is part of the denominator (cl-ica ``SimCLRLoss`` / ``LpSimCLRLoss``).
    """

    name = "infonce"
    needs_negatives = True

    def __init__(self, encoder: nn.Module, *, tau: float = 1.0, similarity: str = "l2sq",
                 denominator: str = "logsumexp") -> None:
        super().__init__(encoder)
        self.tau, self.similarity, self.denominator = tau, similarity, denominator

    def loss(self, x_a, x_b, x_neg=None):
        z_neg = self.encoder(x_neg) if x_neg is not None else None
        return obj.infonce_loss(self.encoder(x_a), self.encoder(x_b), z_neg, tau=self.tau,
                                similarity=self.similarity, denominator=self.denominator)


class SimCLR(SSLMethod):
    """SimCLR NT-Xent on the 2N x 2N batch (cosine similarity, temperature ``tau``)."""

    name = "simclr"

    def __init__(self, encoder: nn.Module, *, tau: float = 0.5) -> None:
        super().__init__(encoder)
        self.tau = tau

    def loss(self, x_a, x_b, x_neg=None):
        return obj.nt_xent_loss(self.encoder(x_a), self.encoder(x_b), tau=self.tau)


class ER(SSLMethod):
    """Entropy + reconstruction (ER / EntRec): vMF reconstruction minus vMF-KDE entropy.

    The encoder must end on the unit sphere (``make_method`` adds the normalisation).
    """

    name = "er"

    def __init__(self, encoder: nn.Module, *, kappa: float = 10.0, reduction: str = "plugin",
                 entropy_weight: float = 1.0) -> None:
        super().__init__(encoder)
        self.kappa, self.reduction, self.entropy_weight = kappa, reduction, entropy_weight

    def loss(self, x_a, x_b, x_neg=None):
        return obj.er_loss(self.encoder(x_a), self.encoder(x_b), kappa=self.kappa,
                           reduction=self.reduction, entropy_weight=self.entropy_weight)


class VICReg(SSLMethod):
    """VICReg (official-code averaging convention by default; see ``vicreg_loss``)."""

    name = "vicreg"

    def __init__(self, encoder: nn.Module, **loss_kw: Any) -> None:
        super().__init__(encoder)
        self.loss_kw = loss_kw

    def loss(self, x_a, x_b, x_neg=None):
        return obj.vicreg_loss(self.encoder(x_a), self.encoder(x_b), **self.loss_kw)


class BarlowTwins(SSLMethod):
    """Barlow Twins (official code: batch-standardised cross-correlation)."""

    name = "barlow"

    def __init__(self, encoder: nn.Module, *, lambda_offdiag: float = 0.0051) -> None:
        super().__init__(encoder)
        self.lambda_offdiag = lambda_offdiag

    def loss(self, x_a, x_b, x_neg=None):
        return obj.barlow_twins_loss(self.encoder(x_a), self.encoder(x_b),
                                     lambda_offdiag=self.lambda_offdiag)


class BYOL(SSLMethod):
    """BYOL: online encoder + predictor regress the EMA target's embedding (symmetrised).

    The target network is a frozen copy updated by ``ema_update_`` with BYOL's cosine momentum
    schedule from ``base_momentum`` to 1.
    """

    name = "byol"

    def __init__(self, encoder: nn.Module, dim_out: int, *, base_momentum: float = 0.99,
                 predictor_hidden: int = 128) -> None:
        super().__init__(encoder)
        self.predictor = obj.make_predictor(dim_out, predictor_hidden)
        self.target = copy.deepcopy(encoder)
        for p in self.target.parameters():
            p.requires_grad_(False)
        self.base_momentum = base_momentum

    def loss(self, x_a, x_b, x_neg=None):
        z_a, z_b = self.encoder(x_a), self.encoder(x_b)
        with torch.no_grad():
            t_a, t_b = self.target(x_a), self.target(x_b)
        return 0.5 * (obj.byol_loss(self.predictor(z_a), t_b)
                      + obj.byol_loss(self.predictor(z_b), t_a))

    def after_step(self, step: int, total_steps: int) -> None:
        m = obj.cosine_momentum(self.base_momentum, step, total_steps)
        obj.ema_update_(self.target, self.encoder, m)


_FACTORIES: dict[str, Callable[..., SSLMethod]] = {}
_SPHERE_OUTPUT: dict[str, Callable[[dict], bool]] = {}


def register_method(name: str, factory: Callable[..., SSLMethod], *,
                    sphere_output: bool | Callable[[dict], bool] = False) -> None:
    """Register ``factory(encoder, dim_out, **kw) -> SSLMethod`` under ``name``.

    ``sphere_output`` says whether the encoder should end on the unit sphere (a bool, or a
    function of the method's keyword options).
    """
    if name in _FACTORIES:
        raise ValueError(f"method {name!r} is already registered")
    _FACTORIES[name] = factory
    _SPHERE_OUTPUT[name] = sphere_output if callable(sphere_output) else (lambda kw, b=sphere_output: b)


def method_names() -> tuple[str, ...]:
    """All registered method names."""
    return tuple(_FACTORIES)


register_method("infonce", lambda enc, d, **kw: InfoNCE(enc, **kw),
                sphere_output=lambda kw: kw.get("similarity") == "dot")
register_method("simclr", lambda enc, d, **kw: SimCLR(enc, **kw))
register_method("er", lambda enc, d, **kw: ER(enc, **kw), sphere_output=True)
register_method("vicreg", lambda enc, d, **kw: VICReg(enc, **kw))
register_method("barlow", lambda enc, d, **kw: BarlowTwins(enc, **kw))
register_method("byol", lambda enc, d, **kw: BYOL(enc, d, **kw))


def make_method(
    name: str,
    *,
    dim_in: int,
    dim_out: int,
    hidden: tuple[int, ...] = (128, 128, 128),
    **kw: Any,
) -> SSLMethod:
    """Build a registered method by name with a fresh MLP encoder.

    Parameters
    ----------
    name : str
        One of ``method_names()`` (built in: "infonce", "simclr", "er", "vicreg", "barlow",
        "byol"; more are added with ``register_method``).
    dim_in, dim_out : int
        Observation and representation dimensions.
    hidden : tuple of int
        Encoder hidden widths (``paper_hidden(dim_in)`` for the papers' encoder).
    **kw
        Objective options (e.g. ``tau``, ``similarity``, ``kappa``, ``base_momentum``).
        ``InfoNCE`` with ``similarity="dot"`` and ``ER`` get a unit-sphere output layer.
    """
    check_option(name, "name", method_names())
    enc = make_mlp_encoder(dim_in, dim_out, hidden=hidden,
                           output="sphere" if _SPHERE_OUTPUT[name](kw) else "none")
    return _FACTORIES[name](enc, dim_out, **kw)
