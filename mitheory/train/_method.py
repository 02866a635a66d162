"""SSL methods and their registry: an encoder plus one objective of ``mitheory.objectives``.

A method owns its modules (encoder, predictor, EMA target) and exposes
``loss(x_a, x_b, x_neg) -> Tensor``, ``after_step(step, total_steps)`` (EMA updates) and
``embed(x)`` (the representation that is evaluated). Losses are never redefined here: each
method calls the one implementation in ``mitheory.objectives``. Every method is registered once,
with a :class:`MethodSpec` record of its properties; ``make_method`` reads only that record.
"""
from __future__ import annotations

import copy
import inspect
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from torch import nn

from mitheory import objectives as obj
from mitheory._validate import (check_finite_tensor, check_module, check_option,
                                check_probability)
from mitheory.models import make_mlp_encoder

Concept = Literal["contrastive", "entropy_reconstruction", "decorrelation", "distillation"]
CONCEPTS: tuple[str, ...] = ("contrastive", "entropy_reconstruction", "decorrelation",
                             "distillation")
KwFlag = bool | Callable[[Mapping[str, Any]], bool]


class SSLMethod(nn.Module):
    """Base class: an encoder and an objective."""

    name = "base"
    needs_negatives = False
    # under torch.distributed, batch-level loss terms use the all-gathered batch (the
    # objectives' ``gather=True``); set by a multi-process trainer such as paper_repro.pretrain
    gather = False

    def __init__(self, encoder: nn.Module) -> None:
        check_module(encoder, "encoder")
        super().__init__()
        self.encoder = encoder

    def encode(self, x: torch.Tensor, name: str = "x") -> torch.Tensor:
        """``encoder(x)``, with ``x`` checked first (a tensor of finite values, at least two
        rows) and a shape the encoder cannot take reported as a ``ValueError`` naming ``name``."""
        check_finite_tensor(x, name)
        if x.ndim < 2 or x.shape[0] < 2:
            raise ValueError(f"{name} must be a batch of at least 2 inputs (n, ...), got shape "
                             f"{tuple(x.shape)}")
        try:
            return self.encoder(x)
        except RuntimeError as exc:  # e.g. a feature size the first layer does not take
            raise ValueError(f"{name} of shape {tuple(x.shape)} does not fit the encoder: "
                             f"{exc}") from exc

    def encode_pair(self, x_a: torch.Tensor,
                    x_b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The embeddings of the two views (same shape required)."""
        if isinstance(x_a, torch.Tensor) and isinstance(x_b, torch.Tensor) \
                and x_a.shape != x_b.shape:
            raise ValueError(f"x_a and x_b must have the same shape, got {tuple(x_a.shape)} and "
                             f"{tuple(x_b.shape)}")
        return self.encode(x_a, "x_a"), self.encode(x_b, "x_b")

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The representation h(x) that identifiability metrics are computed on."""
        return self.encoder(x)

    def loss(self, x_a: torch.Tensor, x_b: torch.Tensor,
             x_neg: torch.Tensor | None = None) -> torch.Tensor:
        """The objective on a batch of positive pairs (and negatives, if the method needs them)."""
        raise NotImplementedError

    def loss_and_terms(self, x_a: torch.Tensor, x_b: torch.Tensor, x_neg: torch.Tensor | None = None
                       ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The loss and its unweighted terms by name (empty when the objective has none)."""
        return self.loss(x_a, x_b, x_neg), {}

    def after_step(self, step: int, total_steps: int) -> None:
        """Hook called after each optimiser step (EMA targets update here)."""


class ObjectiveMethod(SSLMethod):
    """A stateless method: ``objective(encoder(x_a), encoder(x_b), **options)``.

    The options are checked against the objective's keyword-only parameters when the method is
    built, so a misspelt option fails at once (``TypeError`` naming it), not at the first step.
    """

    def __init__(self, encoder: nn.Module, name: str, objective: Callable[..., torch.Tensor],
                 **options: Any) -> None:
        super().__init__(encoder)
        keywords = {p.name for p in inspect.signature(objective).parameters.values()
                    if p.kind is inspect.Parameter.KEYWORD_ONLY}
        allowed = keywords - {"gather", "return_terms"}
        self._takes_gather, self._takes_terms = "gather" in keywords, "return_terms" in keywords
        unknown = sorted(set(options) - allowed)
        if unknown:
            raise TypeError(f"method {name!r} got unknown option(s) {unknown}; "
                            f"{objective.__name__} takes {sorted(allowed)}")
        hints = typing.get_type_hints(objective)
        for key, value in options.items():  # Literal options: unknown strings fail here
            if typing.get_origin(hints.get(key)) is Literal and isinstance(value, str):
                check_option(value, key, typing.get_args(hints[key]))
        self.name, self.objective, self.options = name, objective, options

    def _call(self, x_a, x_b, **extra):
        if self.gather and self._takes_gather:
            extra["gather"] = True
        return self.objective(*self.encode_pair(x_a, x_b), **self.options, **extra)

    def loss(self, x_a, x_b, x_neg=None):
        return self._call(x_a, x_b)

    def loss_and_terms(self, x_a, x_b, x_neg=None):
        if not self._takes_terms:
            return self.loss(x_a, x_b, x_neg), {}
        return self._call(x_a, x_b, return_terms=True)


class EMATarget(SSLMethod):
    """An online encoder and a frozen EMA copy of it (the target network of BYOL and MINC).

    The target follows the online encoder with BYOL's cosine momentum schedule, from
    ``base_momentum`` at step 0 to 1 at the last step (:func:`~mitheory.objectives.cosine_momentum`,
    :func:`~mitheory.objectives.ema_update_`); ``base_momentum = 0`` makes the target the online
    encoder, detached. ``train`` copies the online weights into the target before step 0.
    """

    def __init__(self, encoder: nn.Module, *, base_momentum: float = 0.99) -> None:
        super().__init__(encoder)
        self.base_momentum = check_probability(base_momentum, "base_momentum")

    def _make_target(self) -> None:
        # called by subclasses after their own modules, so parameter order (and with it the
        # seeded initialisation) is encoder, heads, target
        self.target = copy.deepcopy(self.encoder)
        for p in self.target.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def target_embed(self, *xs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The target network's embeddings of each input (no gradient)."""
        return tuple(self.target(x) for x in xs)

    def after_step(self, step: int, total_steps: int) -> None:
        m = obj.cosine_momentum(self.base_momentum, step, total_steps)
        obj.ema_update_(self.target, self.encoder, m)


@dataclass(frozen=True)
class MethodSpec:
    """What the registry knows of a method.

    Attributes
    ----------
    name : str
    factory : callable
        ``factory(encoder, dim_out, **options) -> SSLMethod``.
    concept : {"contrastive", "entropy_reconstruction", "decorrelation", "distillation"}
    objective : str
        The ``mitheory.objectives`` function the loss calls.
    sphere_output : bool or callable of the options
        ``make_method`` ends the encoder with a unit-sphere normalisation.
    output_normalised : bool or callable of the options
        The loss sees only the direction of each embedding (the encoder ends on the sphere or
        the loss normalises each embedding): a representation of an n-dimensional Euclidean
        latent then needs n + 1 output dimensions.
    scale_invariant : bool or callable of the options
        The loss is unchanged when every embedding is multiplied by one positive constant
        (tested over the registry).
    needs_negatives : bool
        ``train`` passes fresh marginal samples ``x_neg`` to ``loss``.
    ema_target : bool
        The method has an EMA target network (:class:`EMATarget`).
    summary : str
        One line for ``make_method``'s docstring.
    """

    name: str
    factory: Callable[..., SSLMethod]
    concept: str
    objective: str
    sphere_output: KwFlag = False
    output_normalised: KwFlag = False
    scale_invariant: KwFlag = False
    needs_negatives: bool = False
    ema_target: bool = False
    summary: str = ""
    defaults: Mapping[str, Any] = field(default_factory=dict)

    def flag(self, prop: str, options: Mapping[str, Any] | None = None) -> bool:
        """The value of a property (``sphere_output``, ...) for these method options."""
        v = getattr(self, prop)
        return bool(v({**self.defaults, **(options or {})}) if callable(v) else v)


_REGISTRY: dict[str, MethodSpec] = {}


def register_method(name: str, factory: Callable[..., SSLMethod], *, concept: str,
                    objective: str, summary: str, **properties: Any) -> MethodSpec:
    """Register ``factory(encoder, dim_out, **options) -> SSLMethod`` under ``name``.

    ``properties`` are the remaining :class:`MethodSpec` fields (``sphere_output``,
    ``output_normalised``, ``scale_invariant``, ``needs_negatives``, ``ema_target``,
    ``defaults``). Returns the record.

    Raises
    ------
    ValueError
        If ``name`` is taken or ``concept`` is unknown.
    """
    if name in _REGISTRY:
        raise ValueError(f"method {name!r} is already registered")
    check_option(concept, "concept", CONCEPTS)
    spec = MethodSpec(name=name, factory=factory, concept=concept, objective=objective,
                      summary=summary, **properties)
    _REGISTRY[name] = spec
    make_method.__doc__ = _MAKE_METHOD_DOC.format(table=registry_table())
    return spec


def register_objective(name: str, objective: Callable[..., torch.Tensor], *, concept: str,
                       summary: str, defaults: Mapping[str, Any] | None = None,
                       **properties: Any) -> MethodSpec:
    """Register a stateless :class:`ObjectiveMethod` over ``objective`` with default options."""
    dflt = dict(defaults or {})

    def factory(encoder: nn.Module, dim_out: int, **options: Any) -> SSLMethod:
        return ObjectiveMethod(encoder, name, objective, **{**dflt, **options})

    return register_method(name, factory, concept=concept, objective=objective.__name__,
                           summary=summary, defaults=dflt, **properties)


def method_names() -> tuple[str, ...]:
    """All registered method names, in registration order."""
    return tuple(_REGISTRY)


def method_spec(name: str) -> MethodSpec:
    """The registry record of ``name`` (``ValueError`` naming the known methods otherwise)."""
    check_option(name, "name", method_names())
    return _REGISTRY[name]


def registry_table() -> str:
    """The registry as an aligned text table (one line per method), as in ``make_method``'s doc."""
    rows = [("name", "concept", "objective", "sphere out", "negatives", "EMA target", "summary")]
    for s in _REGISTRY.values():
        sph = "options" if callable(s.sphere_output) else ("yes" if s.sphere_output else "no")
        rows.append((s.name, s.concept, s.objective, sph, "yes" if s.needs_negatives else "no",
                     "yes" if s.ema_target else "no", s.summary))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join("        " + "  ".join(c.ljust(w) for c, w in zip(r[:-1], widths))
                     + "  " + r[-1] for r in rows)


def make_method(
    name: str,
    *,
    dim_in: int,
    dim_out: int,
    hidden: tuple[int, ...] = (128, 128, 128),
    input_stats: tuple[torch.Tensor, torch.Tensor] | None = None,
    **options: Any,
) -> SSLMethod:
    # the docstring is generated from the registry (see _MAKE_METHOD_DOC)
    spec = method_spec(name)
    enc = make_mlp_encoder(dim_in, dim_out, hidden=hidden, input_stats=input_stats,
                           output="sphere" if spec.flag("sphere_output", options) else "none")
    return spec.factory(enc, dim_out, **options)


_MAKE_METHOD_DOC = """Build a registered method by name with a fresh MLP encoder.

    Parameters
    ----------
    name : str
        One of ``method_names()``. Registered methods (``method_spec(name)`` has the record):

{table}

    dim_in, dim_out : int
        Observation and representation dimensions.
    hidden : tuple of int
        Encoder hidden widths (``paper_hidden(dim_in)`` for the papers' encoder).
    input_stats : (mean, std) or (mean, matrix), optional
        The encoder standardises or whitens its input with them first (``input_statistics``).
    **options
        Objective options (e.g. ``tau``, ``similarity``, ``kappa``, ``base_momentum``); the
        encoder ends on the unit sphere when the record's ``sphere_output`` says so for them.

    Returns
    -------
    SSLMethod
        Untrained; ``train`` initialises it from its seed.

    Raises
    ------
    ValueError
        If ``name`` is not registered.
    TypeError
        If an option is not one the method's objective takes.
    """
make_method.__doc__ = _MAKE_METHOD_DOC.format(table="")
