"""Claim verdicts: the per-claim record every study writes into its JSON.

A verdict names a claim ID of ``papers/README.md`` (C1..C14), says ``supported``,
``not supported`` or ``inconclusive``, and carries the numbers, sample sizes and seeds behind it.
"""
from __future__ import annotations

from typing import Any, Literal

Verdict = Literal["supported", "not supported", "inconclusive"]
VERDICTS: tuple[str, ...] = ("supported", "not supported", "inconclusive")
CLAIM_IDS: tuple[str, ...] = tuple(f"C{i}" for i in range(1, 15))


def claim_verdict(
    claim: str,
    verdict: Verdict,
    *,
    evidence: dict[str, Any],
    criterion: str,
    protocol: Literal["paper", "reconstructed", "toolkit"] = "toolkit",
    n_seeds: int | None = None,
    notes: str = "",
) -> dict[str, Any]:
    """Build one claim record for a study's JSON.

    Parameters
    ----------
    claim : str
        Claim ID, ``"C1"`` .. ``"C14"``.
    verdict : {"supported", "not supported", "inconclusive"}
    evidence : dict
        The measured numbers the verdict rests on.
    criterion : str
        The rule, stated in words with its thresholds, that turned evidence into the verdict.
    protocol : {"paper", "reconstructed", "toolkit"}
        ``"paper"`` when the paper's protocol is followed as published, ``"reconstructed"`` when
        parts of it are unknown and were filled in (see the study docstring), ``"toolkit"`` for a
        check designed here (e.g. on a simulated process).
    """
    if claim not in CLAIM_IDS:
        raise ValueError(f"claim must be one of {CLAIM_IDS}, got {claim!r}")
    if verdict not in VERDICTS:
        raise ValueError(f"verdict must be one of {VERDICTS}, got {verdict!r}")
    if protocol not in ("paper", "reconstructed", "toolkit"):
        raise ValueError("protocol must be 'paper', 'reconstructed' or 'toolkit', "
                         f"got {protocol!r}")
    return {
        "claim": claim,
        "verdict": verdict,
        "criterion": criterion,
        "protocol": protocol,
        "n_seeds": n_seeds,
        "evidence": evidence,
        "notes": notes,
    }
