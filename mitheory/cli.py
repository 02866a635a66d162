"""Command lines for studies: argparse generated from a frozen Config dataclass, and one ``main``.

Every study's ``main`` is ``run_study(...)``: parse flags (``--quick`` swaps in the QUICK config,
preset flags such as ``--paper-scale`` swap in theirs, explicit flags override either), seed the
entry point, time ``run``, save numbers then figure through ``save_study``, print the table.
"""
from __future__ import annotations

import argparse
import ast
import contextlib
import dataclasses
import inspect
import io
import sys
import textwrap
import tokenize
import time
import typing
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from mitheory._rng import seed_everything
from mitheory.grid import distributed_share, open_journal


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def field_help(config_cls: type) -> dict[str, str]:
    """The one-line help of each Config field: its ``# comment`` in the class source.

    The comment may sit on any line of the field's definition (a long default spans lines) and
    may continue on comment-only lines right after it. Fields without a comment are absent.
    """
    try:
        src = textwrap.dedent(inspect.getsource(config_cls))
    except (OSError, TypeError):  # defined in an interactive session: no source
        return {}
    lines = src.splitlines()
    comments = {tok.start[0]: tok.string.lstrip("#").strip()
                for tok in tokenize.generate_tokens(io.StringIO(src).readline)
                if tok.type == tokenize.COMMENT}  # line number -> comment text
    out: dict[str, str] = {}
    cls = ast.parse(src).body[0]
    for node in cls.body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        last = node.end_lineno
        while last < len(lines) and lines[last].lstrip().startswith("#"):
            last += 1  # comment-only continuation lines (1-based: lines[last] is line last+1)
        text = " ".join(comments[i] for i in range(node.lineno, last + 1) if i in comments)
        if text:
            out[node.target.id] = text
    return out


def _field_type(cls: type, f: dataclasses.Field) -> Any:
    hints = typing.get_type_hints(cls)
    return hints.get(f.name, str)


def build_parser(config_cls: type, *, description: str | None = None,
                 presets: Mapping[str, Any] | None = None) -> argparse.ArgumentParser:
    """An ``ArgumentParser`` with one flag per Config field plus ``--quick``/``--out``/presets.

    Field defaults are shown in ``--help``; flags default to ``None`` so that only what the user
    typed overrides the chosen preset.
    """
    p = argparse.ArgumentParser(description=description,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="tiny configuration used by the tests")
    for pname in (presets or {}):
        p.add_argument(_flag(pname), action="store_true", dest=f"preset_{pname}",
                       help=f"use the {pname.replace('_', ' ')} configuration")
    p.add_argument("--out", type=Path, default=None,
                   help="output folder (default: the repository's figures/)")
    p.add_argument("--no-save", action="store_true", help="compute and print, write nothing")
    p.add_argument("--resume", action="store_true",
                   help="reuse the finished cells journalled in <out>/<study>.cells.jsonl by an "
                        "interrupted run of the same configuration")
    p.add_argument("--threads", type=int, default=1,
                   help="torch and BLAS threads (default 1: fastest for the small models of the "
                        "laptop-scale defaults, and robust on a shared machine; raise it for "
                        "paper-scale runs)")
    defaults = config_cls()
    helps = field_help(config_cls)
    for f in dataclasses.fields(config_cls):
        typ = _field_type(config_cls, f)
        default = getattr(defaults, f.name)
        help_ = (helps[f.name] + " " if f.name in helps else "") + f"(default: {default!r})"
        help_ = help_.replace("%", "%%")  # argparse formats help strings with %
        origin = typing.get_origin(typ)
        if typ is bool:
            p.add_argument(_flag(f.name), action=argparse.BooleanOptionalAction, default=None,
                           help=help_)
        elif origin in (tuple, list):
            args = [a for a in typing.get_args(typ) if a is not Ellipsis]
            elem = args[0] if args else str
            p.add_argument(_flag(f.name), nargs="+", type=elem, default=None, help=help_)
        elif typ in (int, float, str):
            p.add_argument(_flag(f.name), type=typ, default=None, help=help_)
        else:  # Optional / Literal / unions: parse as str unless it is Optional[int/float]
            inner = [a for a in typing.get_args(typ) if a is not type(None)]
            conv = inner[0] if len(inner) == 1 and inner[0] in (int, float, str) else str
            p.add_argument(_flag(f.name), type=conv, default=None, help=help_)
    return p


def parse_config(config_cls: type, argv: Sequence[str] | None, *, quick: Any,
                 presets: Mapping[str, Any] | None = None,
                 description: str | None = None) -> tuple[Any, argparse.Namespace]:
    """Parse ``argv`` into a Config instance (and the raw namespace)."""
    parser = build_parser(config_cls, description=description, presets=presets)
    ns = parser.parse_args(list(argv) if argv is not None else None)
    chosen = [n for n in (presets or {}) if getattr(ns, f"preset_{n}")]
    if ns.quick and chosen:
        parser.error(f"--quick cannot be combined with --{chosen[0].replace('_', '-')}")
    if len(chosen) > 1:
        parser.error(f"choose at most one of {['--' + c.replace('_', '-') for c in chosen]}")
    cfg = quick if ns.quick else (presets[chosen[0]] if chosen else config_cls())
    overrides = {}
    for f in dataclasses.fields(config_cls):
        v = getattr(ns, f.name, None)
        if v is not None:
            overrides[f.name] = tuple(v) if isinstance(v, list) else v
    try:
        cfg = dataclasses.replace(cfg, **overrides)
    except (TypeError, ValueError) as exc:
        parser.error(str(exc))
    return cfg, ns


def run_study(
    name: str,
    config_cls: type,
    run: Callable[[Any], dict],
    plot: Callable[[dict], Any] | None,
    argv: Sequence[str] | None = None,
    *,
    quick: Any,
    presets: Mapping[str, Any] | None = None,
    description: str | None = None,
    tables: Callable[[dict], Mapping[str, Sequence[Mapping[str, Any]]]] | None = None,
) -> dict:
    """Parse, seed, run, save (numbers first, then figure) and print; returns the results."""
    from mitheory.plotting import check_writable_dir, save_study, table_to_markdown

    cfg, ns = parse_config(config_cls, argv, quick=quick, presets=presets,
                           description=description)
    seed = getattr(cfg, "seed", 0)
    seed_everything(int(seed))
    if ns.threads < 1:
        raise SystemExit(f"--threads must be >= 1, got {ns.threads}")
    if ns.resume and ns.no_save:
        raise SystemExit(f"{name}: --resume needs the output folder (drop --no-save)")
    journal: Any = contextlib.nullcontext()
    if not ns.no_save:  # fail before the (possibly long) run, not after it
        try:
            out = check_writable_dir(ns.out)
            journal = open_journal(out / f"{name}.cells.jsonl", dataclasses.asdict(cfg),
                                   resume=ns.resume)
        except OSError as exc:
            raise SystemExit(f"{name}: --out: {exc}") from None
        except ValueError as exc:  # --resume from a different configuration or a bad journal
            raise SystemExit(f"{name}: {exc}") from None
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(ns.threads)
    t0 = time.perf_counter()
    try:
        with threadpool_limits(ns.threads), journal:
            results = run(cfg)
    except ValueError as exc:
        if str(exc).startswith("resume:"):
            raise SystemExit(f"{name}: {exc}") from None
        raise
    wall = time.perf_counter() - t0
    if distributed_share()[0] != 0:  # under torchrun, rank 0 prints and saves the whole grid
        return results
    results = {**results, "wall_time_run_s": wall}
    tabs = tables(results) if tables else {}
    for tname, rows in tabs.items():
        print(f"\n{tname}:\n" + table_to_markdown(rows))
    for c in results.get("claims", []):
        print(f"[{c['claim']}] {c['verdict']}: {c['criterion']}"
              + (f" ({c['notes']})" if c.get("notes") else ""))
    print(f"{name}: run took {wall:.1f} s")
    if not ns.no_save:
        fig = None
        if plot is not None:
            import matplotlib

            if matplotlib.get_backend().lower() not in ("agg", "pdf", "svg"):
                matplotlib.use("Agg")
            fig = plot(results)
        written = save_study(name, fig, results, cfg, out_dir=ns.out, tables=tabs, seed=seed,
                             argv=sys.argv if argv is None else [name, *argv], wall_time_s=wall)
        if fig is not None:
            import matplotlib.pyplot as plt

            plt.close(fig)
        print("wrote " + ", ".join(str(p) for p in written.values()))
    return results
