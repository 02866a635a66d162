"""Small helpers shared by the ``mitheory.info`` modules: building ``InfoValue`` results in a unit.

Every public function computes in nats and converts once, here, through ``mitheory._types.convert``.
"""
from __future__ import annotations

from typing import Any

from mitheory._types import UNITS, InfoValue, Kind, Unit, convert
from mitheory._validate import check_option


def check_unit(unit: Any) -> Unit:
    """Raise unless ``unit`` is ``"nats"`` or ``"bits"``."""
    return check_option(unit, "unit", UNITS)


def info_value(
    value_nats: float,
    *,
    unit: Unit,
    kind: Kind,
    method: str,
    n_samples: int | None = None,
    details: dict[str, Any] | None = None,
    convert_keys: tuple[str, ...] = (),
) -> InfoValue:
    """An ``InfoValue`` in ``unit`` from a value in nats.

    ``convert_keys`` names entries of ``details`` that are information values in nats too
    (confidence limits, standard errors) and are converted along with ``value_nats``.
    """
    check_unit(unit)
    det = dict(details or {})
    for key in convert_keys:
        if det.get(key) is not None:
            det[key] = convert(det[key], unit)
    return InfoValue(
        value=convert(value_nats, unit),
        unit=unit,
        kind=kind,
        method=method,
        n_samples=n_samples,
        details=det,
    )
