"""The public harness every study is written with, so a study reads in one screen.

A study is a frozen ``Config``, ``run(cfg) -> dict`` (numbers only), ``plot(results)`` and
``main(argv)`` = :func:`run_study`. This module gathers what they share: seed streams
(:func:`spawn`, :func:`int_seed`, :func:`as_generator`; :func:`named_seed` keys a cell's streams
by its names), grids run in worker processes (:func:`parallel_map`), grouping of result rows
(:func:`group_rows`, :func:`mean_sd`), claim verdicts whose criterion text is written from the
thresholds that decide them (:class:`Threshold`, :func:`threshold_verdict`), the rules
``Threshold`` cannot express (:func:`decide`, :func:`agreement`, :func:`best_of_sweep`), the
mean +- sd of groups of rows (:func:`summarise_groups`) and the figure helpers. The training
cell (``fit_and_evaluate``, ``embed_pairs``, ``probe_accuracy``) lives in :mod:`mitheory.train`.
"""
from __future__ import annotations

import contextlib
import operator
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from functools import lru_cache
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from mitheory._rng import as_generator, int_seed, named_seed, spawn, torch_generator
from mitheory.claims import claim_verdict
from mitheory.cli import run_study
from mitheory.generative import make_process
from mitheory.grid import parallel_map
from mitheory.plotting import subplots
from mitheory.stats import plateau_status

__all__ = [
    "Threshold", "agreement", "as_generator", "best_of_sweep", "claim_verdict", "decide",
    "group_rows", "int_seed", "mean_sd", "parallel_map", "run_study", "spawn", "subplots",
    "summarise_groups", "named_seed", "threshold_verdict",
    "changes_from_baseline", "torch_seeded",
    "torch_generator", "cached_process", "sweep_verdict", "every_verdict",
    "IDENTIFIABILITY_FIELDS", "summarise_fits", "check_choices", "identifiability_table",
    "share_style_baseline",
]
Verdict = Literal["supported", "not supported", "inconclusive"]

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}


def group_rows(rows: Iterable[Mapping[str, Any]], *keys: str) -> dict[tuple, list[Mapping]]:
    """Rows grouped by the values of ``keys``, groups in order of first appearance.

    >>> group_rows([{"a": 1, "v": 2}, {"a": 0, "v": 3}, {"a": 1, "v": 4}], "a")
    {(1,): [{'a': 1, 'v': 2}, {'a': 1, 'v': 4}], (0,): [{'a': 0, 'v': 3}]}
    """
    if not keys:
        raise ValueError("keys must name at least one field")
    out: dict[tuple[Hashable, ...], list[Mapping[str, Any]]] = {}
    for r in rows:
        missing = [k for k in keys if k not in r]
        if missing:
            raise ValueError(f"row has no field(s) {missing}: {dict(r)!r}")
        out.setdefault(tuple(r[k] for k in keys), []).append(r)
    return out


def mean_sd(values: Iterable[float]) -> tuple[float, float]:
    """Mean and population standard deviation (``np.std``, ddof=0); ``(nan, nan)`` if empty."""
    v = [float(x) for x in values]
    return (float(np.mean(v)), float(np.std(v))) if v else (float("nan"), float("nan"))


def summarise_groups(rows: Iterable[Mapping[str, Any]], keys: Sequence[str],
                     values: Sequence[str] | Mapping[str, Callable[[Mapping], Any]], *,
                     count: str | None = None) -> list[dict[str, Any]]:
    """One row per group of ``keys`` (:func:`group_rows`): the keys, then each value's
    :func:`mean_sd` as ``name`` and ``name + "_sd"``.

    ``values`` names row fields, or maps an output name to a getter of the row; a getter that
    returns ``None`` leaves that row out of that value's mean (a value not defined for it).
    ``count`` names a field that receives the group's size.

    >>> summarise_groups([{"a": 1, "v": 2.0}, {"a": 1, "v": 4.0}], ["a"], ["v"], count="n")
    [{'a': 1, 'n': 2, 'v': 3.0, 'v_sd': 1.0}]
    """
    get = (dict(values) if isinstance(values, Mapping)
           else {v: (lambda r, v=v: r[v]) for v in values})
    out = []
    for group_key, sel in group_rows(rows, *keys).items():
        row: dict[str, Any] = dict(zip(keys, group_key))
        if count is not None:
            row[count] = len(sel)
        for name, g in get.items():
            row[name], row[name + "_sd"] = mean_sd(
                x for x in (g(r) for r in sel) if x is not None)
        out.append(row)
    return out


def decide(supported: bool, refuted: bool) -> Verdict:
    """The verdict of a rule given as two conditions: ``supported`` wins, else ``refuted`` gives
    ``"not supported"``, else ``"inconclusive"`` (a rule with no refuting side passes
    ``refuted=False``)."""
    return "supported" if supported else "not supported" if refuted else "inconclusive"


def agreement(values: Iterable[float], tol: float | Iterable[float] = 0.0) -> Verdict:
    """All must agree: ``supported`` when every value is > its tolerance, ``not supported`` when
    every value is < minus its tolerance, ``inconclusive`` otherwise (or when empty).

    ``tol`` is one tolerance for all values or one per value (in the same order).

    >>> agreement([0.3, 0.1], tol=0.05), agreement([0.3, -0.1]), agreement([-1.0, -2.0])
    ('supported', 'inconclusive', 'not supported')
    """
    v = [float(x) for x in values]
    t = [float(tol)] * len(v) if np.isscalar(tol) else [float(x) for x in tol]
    if len(t) != len(v):
        raise ValueError(f"tol has {len(t)} entries for {len(v)} values")
    if any(not np.isfinite(x) for x in (*v, *t)):
        raise ValueError(f"values and tol must be finite, got {v} and {t}")
    if not v:
        return "inconclusive"
    return decide(all(x > e for x, e in zip(v, t)), all(x < -e for x, e in zip(v, t)))


def best_of_sweep(rows: Sequence[Mapping[str, Any]], key: str, *, sd_key: str | None = None,
                  min_margin: float = 0.0) -> dict[str, Any]:
    """The best row of a sweep by ``key`` (largest first) and whether it wins by a margin.

    The margin is best minus runner-up; it is *called* when it exceeds ``max(sd, min_margin)``,
    where ``sd`` is the larger ``sd_key`` of the two rows (0 without ``sd_key``). With one row
    the margin and sd are NaN and nothing is called.

    Returns ``{"best": row, "margin": float, "sd": float, "called": bool}``.
    """
    if not rows:
        raise ValueError("rows must hold at least one row of the sweep")
    o = sorted(rows, key=lambda r: -r[key])
    if len(o) < 2:
        return {"best": o[0], "margin": float("nan"), "sd": float("nan"), "called": False}
    margin = o[0][key] - o[1][key]
    sd = max(o[0][sd_key], o[1][sd_key]) if sd_key else 0.0
    return {"best": o[0], "margin": margin, "sd": sd, "called": bool(margin > max(sd, min_margin))}


@dataclass(frozen=True)
class Threshold:
    """One quantity of a verdict and the two thresholds that decide it.

    ``supported=(">=", 0.95)`` means the quantity supports the claim when it is >= 0.95;
    ``refuted=("<", 0.8)`` means it refutes the claim when it is < 0.8; in between, it is
    inconclusive. ``quantity`` is the words the criterion text uses for it, ``key`` the name
    of its value in ``threshold_verdict``'s ``values`` and in the evidence (default: the words).
    """

    quantity: str
    supported: tuple[str, float]
    refuted: tuple[str, float]
    key: str | None = None

    @property
    def name(self) -> str:
        return self.key or self.quantity

    def __post_init__(self) -> None:
        for name in ("supported", "refuted"):
            op, val = getattr(self, name)
            if op not in _OPS:
                raise ValueError(f"{name} operator must be one of {sorted(_OPS)}, got {op!r}")
            if not np.isfinite(val):
                raise ValueError(f"{name} threshold must be finite, got {val!r}")

    def decide(self, value: float) -> Literal["supported", "not supported", "inconclusive"]:
        """The verdict this quantity alone gives (``ValueError`` on a NaN value)."""
        if not np.isfinite(value):
            raise ValueError(f"value of {self.quantity!r} must be finite, got {value!r}")
        if _OPS[self.supported[0]](value, self.supported[1]):
            return "supported"
        if _OPS[self.refuted[0]](value, self.refuted[1]):
            return "not supported"
        return "inconclusive"

    def text(self, which: str) -> str:
        op, val = getattr(self, which)
        return f"{self.quantity} {op} {val:g}"


def threshold_verdict(
    claim: str, values: Mapping[str, float], rules: Sequence[Threshold], *, subject: str,
    evidence: Mapping[str, Any] | None = None, protocol: str = "toolkit",
    n_seeds: int | None = None, notes: str = "",
    curves: Mapping[str, tuple[Sequence[int], Sequence[float]]] | None = None,
) -> dict[str, Any]:
    """A claim record (``claim_verdict``) decided by thresholds, with its criterion written out.

    The claim is ``supported`` when every rule's quantity meets its ``supported`` threshold,
    ``not supported`` when any meets its ``refuted`` threshold, and ``inconclusive`` otherwise.
    ``values`` maps each rule's ``name`` (its ``key``, else its words) to its measured number;
    they are put into the evidence. The criterion text is generated from the rules, so the
    thresholds are written once.

    ``curves`` maps a rule's name to its budget curve ``(steps, values)`` (the quantity at
    checkpoints along training, the last at the end): each gets the plateau rule
    (:func:`mitheory.stats.plateau_status`), stored as ``evidence["plateau"][name]`` and stated
    at the head of ``notes`` ("... plateaued at 3000 steps" or "... still rising at 3000
    steps"), so a verdict says whether its number had converged.

    Raises
    ------
    ValueError
        If ``rules`` is empty, a rule's quantity has no value, or a value is not finite.
    """
    if not rules:
        raise ValueError("rules must hold at least one Threshold")
    missing = [r.name for r in rules if r.name not in values]
    if missing:
        raise ValueError(f"values has no entry for {missing}")
    decided = [r.decide(float(values[r.name])) for r in rules]
    verdict = ("supported" if all(d == "supported" for d in decided) else
               "not supported" if "not supported" in decided else "inconclusive")
    criterion = (f"{subject}: supported when " + " and ".join(r.text("supported") for r in rules)
                 + "; not supported when " + " or ".join(r.text("refuted") for r in rules)
                 + "; inconclusive otherwise")
    ev = {**{r.name: float(values[r.name]) for r in rules}, **(evidence or {})}
    if curves:
        unknown = sorted(set(curves) - {r.name for r in rules})
        if unknown:
            raise ValueError(f"curves names no rule: {unknown}")
        status = {name: plateau_status(*curve) for name, curve in curves.items()}
        ev["plateau"] = {name: st["text"] for name, st in status.items()}
        head = "; ".join(f"{name} {st['text']}" for name, st in status.items())
        notes = head + (f". {notes}" if notes else "")
    return claim_verdict(claim, verdict, evidence=ev, criterion=criterion, protocol=protocol,
                         n_seeds=n_seeds, notes=notes)


def changes_from_baseline(rows: Iterable[Mapping[str, Any]], key: str, baseline: Hashable,
                          values: Sequence[str], *, carry: Sequence[str] = ()
                          ) -> list[dict[str, Any]]:
    """Per group of ``key``, each value's mean and its paired change against the baseline group.

    The i-th row of every group is paired with the i-th row of the group ``key == baseline``
    (e.g. replicate i of a condition against replicate i of the control). Each output row holds
    ``key``, the ``carry`` fields of the group's first row, then for each value ``v``: ``v``
    (the group mean), ``v + "_change_mean"`` and ``v + "_change_maxabs"`` (mean and largest
    absolute paired difference). Groups come in order of first appearance (:func:`group_rows`).

    Raises
    ------
    ValueError
        If no row has ``key == baseline``, or a group's size differs from the baseline's.

    Examples
    --------
    >>> rows = [{"c": "ctl", "v": 1.0}, {"c": "ctl", "v": 2.0}, {"c": "x", "v": 1.5},
    ...         {"c": "x", "v": 1.0}]
    >>> changes_from_baseline(rows, "c", "ctl", ["v"])[1]
    {'c': 'x', 'v': 1.25, 'v_change_mean': -0.25, 'v_change_maxabs': 1.0}
    """
    groups = group_rows(rows, key)
    if (baseline,) not in groups:
        raise ValueError(f"no row has {key} == {baseline!r}; groups are {list(groups)}")
    base, out = groups[(baseline,)], []
    for (group,), sel in groups.items():
        if len(sel) != len(base):
            raise ValueError(f"group {key} == {group!r} has {len(sel)} rows, the baseline "
                             f"{baseline!r} has {len(base)}: rows cannot be paired")
        row = {key: group, **{c: sel[0][c] for c in carry}}
        for v in values:
            d = [s[v] - b[v] for s, b in zip(sel, base)]
            row.update({v: float(np.mean([s[v] for s in sel])),
                        f"{v}_change_mean": float(np.mean(d)),
                        f"{v}_change_maxabs": float(np.max(np.abs(d)))})
        out.append(row)
    return out


@contextlib.contextmanager
def torch_seeded(seed: int) -> Iterator[None]:
    """Run the block with torch's global RNG seeded by ``seed``, in a fork of its state.

    For code whose torch draws come from the global RNG (a layer's default initialisation):
    seeded as ``run_study`` seeds it, so ``run(cfg)`` alone gives the same numbers, and the
    caller's global RNG state is restored afterwards.
    """
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


@lru_cache(maxsize=32)
def cached_process(name: str, seed: int | tuple[int, ...], **options: Any) -> Any:
    """``generative.make_process(name, seed=int_seed(seed), **options)``, built once per
    ``(name, seed, options)`` in each (worker) process: building one draws its mixing network
    until it is well conditioned, which takes up to a second. ``options`` must be hashable.

    The process object is shared by every caller, so draw from it only with explicit seeds.
    """
    return make_process(name, seed=int_seed(seed), **options)


def sweep_verdict(claim: str, rows: Sequence[Mapping[str, Any]], key: str, target: str, *,
                  label: str = "label", sd_key: str | None = None, min_margin: float = 0.0,
                  subject: str, digits: int = 4, **record: Any) -> dict[str, Any]:
    """A claim that the best row of a sweep is ``target``, with its criterion written out.

    The best row and its margin over the runner-up come from :func:`best_of_sweep` (``key``,
    ``sd_key``, ``min_margin``). ``supported`` when the row whose ``label`` field is ``target``
    is best and the margin is called; ``not supported`` when another row is best by a called
    margin (also when no row is ``target``); ``inconclusive`` otherwise. The evidence holds
    every row's ``key`` (rounded to ``digits``) by label, the best label, the margin and the
    seed sd; ``record`` goes to ``claim_verdict`` (``protocol``, ``n_seeds``, ``notes``).
    """
    b = best_of_sweep(rows, key, sd_key=sd_key, min_margin=min_margin)
    best = b["best"][label] == target
    evidence = {key: {r[label]: round(r[key], digits) for r in rows}, "best": b["best"][label],
                "margin": b["margin"], "seed_sd": b["sd"]}
    criterion = (f"{subject}: supported if the best is {target} and beats the runner-up by more "
                 f"than max(seed sd, {min_margin:g}); not supported if another value does; else "
                 "inconclusive")
    return claim_verdict(claim, decide(b["called"] and best, b["called"] and not best),
                         evidence=evidence, criterion=criterion, **record)


def every_verdict(claim: str, values: Mapping[Any, float], supported: tuple[str, float],
                  refuted: tuple[str, float], *, quantity: str, over: str,
                  evidence: Mapping[str, Any] | None = None, **record: Any) -> dict[str, Any]:
    """A claim decided at every point of a sweep, with its criterion written out.

    ``supported`` when every value meets ``supported`` (an operator and a threshold, as in
    :class:`Threshold`), ``not supported`` when every value meets ``refuted``, ``inconclusive``
    otherwise (or when ``values`` is empty; a NaN meets neither). ``evidence`` is the claim's
    evidence; ``record`` goes to ``claim_verdict`` (``protocol``, ``n_seeds``, ``notes``).
    """
    rule = Threshold(quantity, supported, refuted)  # validates the operators and thresholds
    v = [float(x) for x in values.values()]
    hit = {side: bool(v) and all(_OPS[op](x, t) for x in v)
           for side, (op, t) in (("supported", supported), ("refuted", refuted))}
    criterion = (f"{rule.text('supported')} at every {over}: supported; "
                 f"{refuted[0]} {refuted[1]:g} at every one: not supported; else inconclusive")
    return claim_verdict(claim, decide(hit["supported"], hit["refuted"]),
                         evidence=dict(evidence or {}), criterion=criterion, **record)


IDENTIFIABILITY_FIELDS = {f"{b}_r2_{k}": (lambda r, b=b, k=k: r[b][k] if b in r else None)
                          for b in ("content", "style", "style_from_content")
                          for k in ("linear", "kernel")}


def summarise_fits(runs: Sequence[Mapping[str, Any]], keys: Sequence[str] = ("setting",
                                                                             "objective"),
                   *, plateau_of: str = "content_r2_kernel") -> list[dict[str, Any]]:
    """One row per group of ``keys`` of identifiability runs (rows holding a
    ``fit_and_evaluate`` evaluation, ``"mcc"`` and its budget ``"curve"``).

    Each row: the keys; mean and sd over the group (:func:`summarise_groups`) of every
    :data:`IDENTIFIABILITY_FIELDS` R^2 (``content``, ``style``, ``style_from_content`` x
    ``linear``, ``kernel``; left out where a block is absent) and the mean ``mcc``; ``curve``,
    the mean budget curve (``train.mean_budget_curve``); and ``plateau``, the plateau rule's
    text (:func:`mitheory.stats.plateau_status`) on the curve's ``plateau_of``.
    """
    from mitheory.train import mean_budget_curve

    rows = summarise_groups(runs, keys, {**IDENTIFIABILITY_FIELDS, "mcc": lambda r: r["mcc"]})
    for row, group in zip(rows, group_rows(runs, *keys).values()):
        del row["mcc_sd"]
        row["curve"] = mean_budget_curve([r["curve"] for r in group])
        row["plateau"] = plateau_status(row["curve"]["step"], row["curve"][plateau_of])["text"]
    return rows


def share_style_baseline(runs: Sequence[dict[str, Any]],
                         keys: Sequence[str] = ("setting", "replicate")) -> None:
    """Give every run with a ``"style"`` block the ``"style_from_content"`` R^2 of its group.

    That R^2 (style predicted from the true content) depends on the process alone, not on the
    objective, so one run per group of ``keys`` computes it (``style_baseline=True``) and the
    others take it, in place. Raises ``ValueError`` for a group with style but no baseline.
    """
    for key, group in group_rows(runs, *keys).items():
        base = [r["style_from_content"] for r in group if "style_from_content" in r]
        needs = [r for r in group if "style" in r and "style_from_content" not in r]
        if needs and not base:
            raise ValueError(f"runs of {dict(zip(keys, key))} have a style block but none has "
                             "'style_from_content'")
        for r in needs:
            r["style_from_content"] = base[0]


def check_choices(cfg: Any, **choices: Iterable[str]) -> None:
    """Fail before any work when a Config field names an unknown option: each keyword is a
    field of ``cfg`` holding a sequence of names, its value the allowed names.

    >>> from types import SimpleNamespace
    >>> check_choices(SimpleNamespace(settings=("a",)), settings=("a", "b"))
    """
    for field, names in choices.items():
        allowed = list(names)
        unknown = [v for v in getattr(cfg, field) if v not in allowed]
        if unknown:
            raise ValueError(f"{field}: unknown {unknown}; choose from {allowed}")


def identifiability_table(summary: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Table rows of :func:`summarise_fits` rows: setting, objective, mean +- sd over seeds of
    each R^2 (blank where a block is not defined), MCC and the content kernel R^2's plateau."""
    from mitheory.plotting import format_mean_sd

    cols = {"content R2 lin": "content_r2_linear", "content R2 ker": "content_r2_kernel",
            "style R2 lin": "style_r2_linear", "style R2 ker": "style_r2_kernel",
            "style-from-true-content R2 ker": "style_from_content_r2_kernel"}
    return [{"setting": r["setting"], "objective": r["objective"],
             **{c: format_mean_sd(r[k], r[k + "_sd"]) for c, k in cols.items()},
             "MCC": f"{r['mcc']:.3f}", "content R2 ker budget": r["plateau"]} for r in summary]
