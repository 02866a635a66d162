"""Shared types of mitheory: seeds, units, kinds of information values, and ``InfoValue``.

This module imports nothing from ``mitheory`` (bmi's ``interface.py`` idea).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Union

import numpy as np

Seed = Union[int, tuple[int, ...], np.random.Generator, np.random.SeedSequence, None]
Unit = Literal["nats", "bits"]
Kind = Literal["exact", "estimate", "lower_bound", "upper_bound"]

UNITS: tuple[str, ...] = ("nats", "bits")
KINDS: tuple[str, ...] = ("exact", "estimate", "lower_bound", "upper_bound")

_LN2 = math.log(2.0)


def convert(value: float, to: Unit, *, frm: Unit = "nats") -> float:
    """Convert an information value between nats and bits (1 bit = ln 2 nats).

    Parameters
    ----------
    value : float
        The value in unit ``frm``.
    to, frm : {"nats", "bits"}
        Target and source units.

    Examples
    --------
    >>> round(convert(math.log(2.0), "bits"), 12)
    1.0
    """
    for name, u in (("to", to), ("frm", frm)):
        if u not in UNITS:
            raise ValueError(f"{name} must be one of {UNITS}, got {u!r}")
    if to == frm:
        return float(value)
    return float(value) / _LN2 if to == "bits" else float(value) * _LN2


@dataclass(frozen=True)
class InfoValue:
    """An information quantity that says what it is.

    Attributes
    ----------
    value : float
        The number, in ``unit``.
    unit : {"nats", "bits"}
    kind : {"exact", "estimate", "lower_bound", "upper_bound"}
        Whether ``value`` is a closed-form value, a statistical estimate, or a bound.
    method : str
        Which formula or estimator produced it (e.g. ``"ksg1"``, ``"gaussian_closed_form"``).
    n_samples : int or None
        Sample size behind an estimate; ``None`` for closed forms.
    details : dict
        Anything else worth keeping (confidence interval, k, standard error, ...).
    """

    value: float
    unit: Unit = "nats"
    kind: Kind = "estimate"
    method: str = ""
    n_samples: int | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"unit must be one of {UNITS}, got {self.unit!r}")
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        object.__setattr__(self, "value", float(self.value))

    def __float__(self) -> float:
        return self.value

    def to(self, unit: Unit) -> "InfoValue":
        """The same quantity in another unit (details carrying values are not converted)."""
        return replace(self, value=convert(self.value, unit, frm=self.unit), unit=unit)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict of all fields."""
        return {
            "value": self.value,
            "unit": self.unit,
            "kind": self.kind,
            "method": self.method,
            "n_samples": self.n_samples,
            "details": self.details,
        }
