"""Figure style and the one helper every study uses to save its outputs (``save_study``).

Numbers are written before pictures: ``figures/<name>.json`` is the source of truth, and the
png/pdf and the md/csv tables are renderings of it. Every file is written atomically (to a
temporary file in the same folder, then ``os.replace``), so no half-written result is left.
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, is_dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

_PACKAGES = ("mitheory", "torch", "numpy", "scipy", "scikit-learn", "matplotlib", "seaborn",
             "pingouin")
_T0 = time.perf_counter()


def repo_root() -> Path:
    """The folder holding ``mitheory/`` (the repository when installed editable / run in place)."""
    return Path(__file__).resolve().parent.parent


def default_figures_dir() -> Path:
    """``<repo>/figures`` resolved from the package location, not the current directory.

    When the package is installed outside a checkout (no ``pyproject.toml`` beside it), falls back
    to ``./figures``.
    """
    root = repo_root()
    if (root / "pyproject.toml").exists():
        return root / "figures"
    return Path.cwd() / "figures"


def git_sha() -> str | None:
    """The checkout's HEAD SHA, suffixed ``-dirty`` when code (anything tracked outside
    ``figures/``, where the studies' own outputs live) has uncommitted changes."""
    root = repo_root()
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                             text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--",
                                ".", ":(exclude)figures"], cwd=root, capture_output=True,
                               text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return sha + ("-dirty" if dirty else "")


def package_versions() -> dict[str, str | None]:
    """Versions of the packages behind a result (``None`` where not installed)."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def to_jsonable(obj: Any) -> Any:
    """Recursively convert dataclasses, numpy scalars/arrays, tuples and paths to JSON types.

    Non-finite floats become ``None`` (JSON has no NaN) so the file stays standard JSON.
    """
    if is_dataclass(obj) and not isinstance(obj, type):
        if hasattr(obj, "to_dict"):
            return to_jsonable(obj.to_dict())
        return to_jsonable(asdict(obj))
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        return f if math.isfinite(f) else None
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "item") and callable(obj.item) and getattr(obj, "ndim", 1) == 0:
        return to_jsonable(obj.item())  # 0-d torch tensors
    return obj


def _default_file_mode() -> int:
    """``0o666`` minus the process umask: the mode ``open()`` would give a new file."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temporary file in the same folder + ``os.replace``).

    The file gets the mode a plain ``open()`` would give it (``0o666`` minus the umask), not
    the temporary file's private ``0o600``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fchmod(fh.fileno(), _default_file_mode())
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Text version of :func:`atomic_write_bytes` (UTF-8)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return "nan" if not math.isfinite(v) else f"{v:.4g}"
    return str(v)


def format_mean_sd(mean: float | None, sd: float | None, digits: int = 3) -> str:
    """``"m ± sd"`` for a table cell, each to ``digits`` decimals; ``""`` when the mean is None
    or NaN (a value not defined for that row).

    >>> format_mean_sd(0.91234, 0.0123), format_mean_sd(float("nan"), 0.0)
    ('0.912 ± 0.012', '')
    """
    if mean is None or mean != mean:
        return ""
    return f"{mean:.{digits}f} ± {sd:.{digits}f}"


def table_to_markdown(rows: Sequence[Mapping[str, Any]],
                      columns: Sequence[str] | None = None) -> str:
    """A GitHub markdown table from a list of row dicts (floats to 4 significant digits)."""
    if not rows:
        return "(no rows)\n"
    cols = list(columns or rows[0].keys())
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join(_fmt(r.get(c, "")) for c in cols) + " |")
    return "\n".join(lines) + "\n"


def table_to_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """CSV text from a list of row dicts."""
    if not rows:
        return ""
    cols = list(columns or rows[0].keys())
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({c: r.get(c, "") for c in cols})
    return buf.getvalue()


def set_style() -> None:
    """The one figure theme of the project (seaborn for theme and palette only)."""
    import seaborn as sns

    sns.set_theme(context="paper", style="whitegrid", palette="colorblind")


def subplots(nrows: int = 1, ncols: int = 1, *, axsize: tuple[float, float] = (3.2, 2.6),
             **kwargs: Any):
    """``plt.subplots`` with a fixed size per axis in inches (bmi ``subplots_from_axsize`` idea)."""
    import matplotlib.pyplot as plt

    set_style()
    fig, axes = plt.subplots(nrows, ncols, figsize=(axsize[0] * ncols + 0.6,
                                                   axsize[1] * nrows + 0.6),
                             squeeze=False, constrained_layout=True, **kwargs)
    return fig, axes


def budget_curves(ax: Any, rows: Sequence[Mapping[str, Any]], y: str, *, hue: str,
                  label: str | None = None, style: str | None = None,
                  legend: bool = True) -> None:
    """One training-budget curve per row (``row["curve"]["step"]`` against ``row["curve"][y]``)
    on a log-step axis, coloured by ``row[hue]`` and, with ``style``, dashed per ``row[style]``;
    the legend names both."""
    import seaborn as sns
    from matplotlib.lines import Line2D
    from matplotlib.ticker import ScalarFormatter

    hues = list(dict.fromkeys(r[hue] for r in rows))
    styles = list(dict.fromkeys(r[style] for r in rows)) if style else []
    colors = dict(zip(hues, sns.color_palette(n_colors=max(len(hues), 1))))
    dashes = ["-", "--", ":", "-.", (0, (3, 1, 1, 1)), (0, (5, 1))]
    for r in rows:
        c = r["curve"]
        ax.plot(c["step"], c[y], marker=".", color=colors[r[hue]], lw=1.2,
                ls=dashes[styles.index(r[style]) % len(dashes)] if style else "-")
    ax.set(xscale="log", xlabel="training steps", ylabel=label or y)
    ax.xaxis.set_major_formatter(ScalarFormatter())
    if legend:
        handles = [Line2D([], [], color=colors[h], label=h) for h in hues] + [
            Line2D([], [], color="k", ls=dashes[i % len(dashes)], label=v)
            for i, v in enumerate(styles)]
        ax.legend(handles=handles, fontsize="x-small", ncol=2)


def check_writable_dir(out_dir: str | Path | None) -> Path:
    """Create ``out_dir`` (default :func:`default_figures_dir`) and check a file can be written
    there; raise ``PermissionError``/``OSError`` with a clear message otherwise. Returns it."""
    out = Path(out_dir) if out_dir is not None else default_figures_dir()
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".write-check.", delete=True):
            pass
    except OSError as exc:
        raise type(exc)(f"output directory {str(out)!r} is not writable: {exc}") from None
    return out


def save_study(
    name: str,
    fig: Any,
    results: Mapping[str, Any],
    cfg: Any,
    *,
    out_dir: str | Path | None = None,
    tables: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    seed: int | None = None,
    argv: Sequence[str] | None = None,
    wall_time_s: float | None = None,
) -> dict[str, Path]:
    """Write a study's outputs: ``<name>.json`` first, then ``.png``/``.pdf`` and tables.

    Parameters
    ----------
    name : str
        Study name, e.g. ``"latent_identifiability"``; files are ``<out_dir>/<name>.<ext>``.
    fig : matplotlib Figure or None
        The figure (a view of ``results``); ``None`` writes numbers only.
    results : dict
        JSON-able numbers (numpy values are converted; NaN becomes null).
    cfg : dataclass or dict
        The configuration that produced the numbers.
    out_dir : path, optional
        Defaults to the repository's ``figures/`` (resolved from the package location).
    tables : dict of name -> list of row dicts, optional
        Each written as ``<name>.md`` and ``<name>.csv`` when ``name == study name`` or
        ``<study>_<table>.md/.csv`` otherwise.
    seed, argv, wall_time_s
        Recorded in the JSON ``meta`` block (argv defaults to ``sys.argv``, wall time to the
        time since the package was imported).

    Returns
    -------
    dict of extension -> written path.
    """
    out = Path(out_dir) if out_dir is not None else default_figures_dir()
    cfg_dict = to_jsonable(cfg if not is_dataclass(cfg) else asdict(cfg))
    if seed is None and isinstance(cfg_dict, dict):
        seed = cfg_dict.get("seed")
    meta = {
        "study": name,
        "config": cfg_dict,
        "seed": seed,
        "argv": list(sys.argv if argv is None else argv),
        "git_sha": git_sha(),
        "versions": package_versions(),
        "platform": platform.platform(),
        "wall_time_s": float(time.perf_counter() - _T0) if wall_time_s is None else wall_time_s,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    payload = {"meta": meta, **to_jsonable(dict(results))}
    written: dict[str, Path] = {}
    p = out / f"{name}.json"
    atomic_write_text(p, json.dumps(payload, indent=2, allow_nan=False) + "\n")
    written["json"] = p
    for tname, rows in (tables or {}).items():
        stem = name if tname == name else f"{name}_{tname}"
        rows = to_jsonable(list(rows))
        pm, pc = out / f"{stem}.md", out / f"{stem}.csv"
        atomic_write_text(pm, table_to_markdown(rows))
        atomic_write_text(pc, table_to_csv(rows))
        written[f"{tname}.md"], written[f"{tname}.csv"] = pm, pc
    if fig is not None:
        for ext in ("png", "pdf"):
            buf = io.BytesIO()
            fig.savefig(buf, format=ext, dpi=150 if ext == "png" else None,
                        metadata={"Creator": "mitheory"} if ext == "png" else None)
            pth = out / f"{name}.{ext}"
            atomic_write_bytes(pth, buf.getvalue())
            written[ext] = pth
    return written


def grouped_bars(ax: Any, rows: Sequence[Mapping[str, Any]], group: str,
                 values: Sequence[str] | Mapping[str, str], *, width: float = 0.8,
                 yerr: Mapping[str, Sequence[float]] | None = None) -> None:
    """One group of bars per row, at x tick ``row[group]``, one bar per value side by side.

    ``values`` names the row fields to draw (labelled by their names), or maps a legend label
    to a field. The bars of a group share ``width`` (the group's total width), centred on the
    tick; ``yerr`` maps a label to its error bars, one per row.
    """
    series = dict(values) if isinstance(values, Mapping) else {v: v for v in values}
    pos, w = np.arange(len(rows)), width / max(len(series), 1)
    for j, (label, key) in enumerate(series.items()):
        ax.bar(pos + (j - (len(series) - 1) / 2) * w, [r[key] for r in rows], w, label=label,
               yerr=(yerr or {}).get(label))
    ax.set(xticks=pos, xticklabels=[str(r[group]) for r in rows])


def dodged_errorbars(ax: Any, rows: Sequence[Mapping[str, Any]], x: str, y: str, yerr: str, *,
                     hue: str, dodge: float = 0.04, **kwargs: Any) -> None:
    """One ``y +- yerr`` line against ``x`` per value of ``row[hue]``, on a log x axis.

    The lines are dodged multiplicatively (line ``i`` of ``m`` at ``x (1 + dodge (i - m/2))``)
    so their error bars do not overlap; the x ticks are the distinct ``x`` values, labelled,
    without minor ticks. ``kwargs`` go to ``ax.errorbar``; each line is labelled by its hue.
    """
    groups: dict[Any, list[Mapping[str, Any]]] = {}
    for r in rows:
        groups.setdefault(r[hue], []).append(r)
    for i, (label, rs) in enumerate(groups.items()):
        xs = np.array([r[x] for r in rs]) * (1 + dodge * (i - len(groups) / 2))
        ax.errorbar(xs, [r[y] for r in rs], yerr=[r[yerr] for r in rs], label=label, **kwargs)
    ticks = sorted({r[x] for r in rows})
    ax.set_xscale("log")
    ax.set_xticks(ticks, [str(t) for t in ticks], minor=False)
    ax.minorticks_off()


def errorbar_rows(ax: Any, x: Sequence[float], rows: Sequence[Mapping[str, Any]],
                  keys: Mapping[str, str]) -> None:
    """Mean +- sd of summary rows against ``x``: one errorbar line per ``label -> key`` of
    ``keys``, from ``row[key]`` and ``row[key + "_sd"]`` (the columns of
    :func:`mitheory.study.summarise_groups`), with a legend."""
    for label, k in keys.items():
        ax.errorbar(x, [r[k] for r in rows], [r[k + "_sd"] for r in rows], marker="o",
                    capsize=3, label=label)
    ax.legend()


def lines_by(ax: Any, rows: Sequence[Mapping[str, Any]], hue: str, x: str | Any,
             y: str | Any, **kwargs: Any) -> None:
    """One line per value of ``row[hue]`` (groups in order of first appearance), labelled by
    it, with a legend. ``x`` and ``y`` are field names or functions of a row; ``kwargs`` go
    to ``ax.plot`` (e.g. ``marker="o"``)."""
    fx, fy, groups = _getter(x), _getter(y), {}
    for r in rows:
        groups.setdefault(r[hue], []).append(r)
    for value, sel in groups.items():
        ax.plot([fx(r) for r in sel], [fy(r) for r in sel], label=value, **kwargs)
    ax.legend()


def barh_rows(ax: Any, labels: Sequence[str], rows: Sequence[Mapping[str, Any]], key: str, *,
              notes: Sequence[str] | None = None, **kwargs: Any) -> None:
    """Horizontal bars of summary rows: ``row[key]`` with error ``row[key + "_sd"]`` (the columns
    of :func:`mitheory.study.summarise_groups`), one per label, each with its optional note
    written at the bar's start; ``kwargs`` go to ``ax.barh``."""
    ax.barh(list(labels), [r[key] for r in rows], xerr=[r[key + "_sd"] for r in rows], **kwargs)
    for i, note in enumerate(notes or ()):
        ax.text(0.02, i, note, va="center", fontsize=7)
    ax.tick_params(axis="y", labelsize=7)


def quantile_band(ax: Any, x: Sequence[float], samples: Any, *, q: tuple[float, float] = (0.25,
                  0.75), fmt: str = "o-", alpha: float = 0.2, **kw: Any) -> Any:
    """The median of ``samples`` (shape ``(len(x), n)``: ``n`` values per x) as a line, with the
    band between the quantiles ``q`` shaded in its colour. Returns the line."""
    s = np.asarray(samples, dtype=float)
    line, = ax.plot(x, np.median(s, 1), fmt, **kw)
    ax.fill_between(x, *np.quantile(s, q, 1), alpha=alpha, color=line.get_color())
    return line


def mean_se_panels(summaries: Mapping[str, Mapping[str, Mapping[str, Any]]], x: Sequence[float],
                   quantities: Sequence[str], *, xlabel: str, ylabel: str,
                   titles: Sequence[str] | None = None, axsize: tuple[float, float] = (3.0, 2.4),
                   **kwargs: Any) -> Any:
    """One panel per quantity, one ``mean +- se`` errorbar line against ``x`` per label of
    ``summaries`` (``{label: {quantity: {"mean": [...], "se": [...]}}}``, as
    :func:`mitheory.stats.checkpoint_mean_se` gives; ``None`` is drawn as a gap), legend in the
    first panel. ``kwargs`` go to ``ax.errorbar``. Returns the figure."""
    fig, axes = subplots(1, len(quantities), axsize=axsize)
    for j, (ax, q) in enumerate(zip(axes[0], quantities)):
        for label, s in summaries.items():
            mean, se = (np.array(s[q][k], dtype=float) for k in ("mean", "se"))
            ax.errorbar(x, mean, yerr=se, label=label, **kwargs)
        ax.set(xlabel=xlabel, ylabel=ylabel, title=titles[j] if titles else q)
    axes[0][0].legend(fontsize=6)
    return fig


def labelled_boxplot(ax: Any, groups: Mapping[str, Sequence[float]], *,
                     hlines: Sequence[float] = (), **set_kw: Any) -> dict[str, list]:
    """One box per group (whiskers, no fliers), ticked with the group's name, dashed grey
    reference lines at ``hlines``; ``set_kw`` go to ``ax.set`` (e.g. ``yscale="log"``).
    Returns the artists of ``ax.boxplot``."""
    boxes = ax.boxplot([list(v) for v in groups.values()], showfliers=False)
    ax.set_xticks(range(1, len(groups) + 1), list(groups))
    for y in hlines:
        ax.axhline(y, color="gray", lw=0.6, ls="--")
    ax.set(**set_kw)
    return boxes


def _getter(f: str | Any) -> Any:
    return f if callable(f) else (lambda r: r[f])


def scatter_by(ax: Any, rows: Sequence[Mapping[str, Any]], hue: str, x: str | Any,
               y: str | Any, *, s: str | Any | None = None, **kwargs: Any) -> None:
    """One scatter per value of ``row[hue]`` (groups in order of first appearance), labelled
    by it. ``x``, ``y`` and the marker size ``s`` are field names or functions of a row;
    ``kwargs`` go to ``ax.scatter`` (e.g. ``alpha=0.7``)."""
    fx, fy, groups = _getter(x), _getter(y), {}
    for r in rows:
        groups.setdefault(r[hue], []).append(r)
    for value, sel in groups.items():
        size = None if s is None else [_getter(s)(r) for r in sel]
        ax.scatter([fx(r) for r in sel], [fy(r) for r in sel], s=size, label=value, **kwargs)


def ci_bars(ax: Any, labels: Sequence[str], rows: Sequence[Mapping[str, Any]], *,
            key: str = "r", low: str = "ci_low", high: str = "ci_high", **kwargs: Any) -> None:
    """Bars of ``row[key]`` with asymmetric error bars down to ``row[low]`` and up to
    ``row[high]`` (a confidence interval; the defaults are the fields of
    :meth:`mitheory.stats.Correlation.to_dict`), one per label; ``kwargs`` go to ``ax.bar``."""
    v = [r[key] for r in rows]
    ax.bar(range(len(rows)), v, tick_label=list(labels), **kwargs,
           yerr=[[e - r[low] for e, r in zip(v, rows)], [r[high] - e for e, r in zip(v, rows)]])


def mean_lines(ax: Any, rows: Sequence[Mapping[str, Any]], x: str | Any,
               ys: Mapping[str, str | Any], fmt: str = "o-", **kwargs: Any) -> list:
    """For each ``label -> y`` of ``ys``, the mean of ``y`` over the rows sharing an ``x``
    against the sorted distinct ``x`` values, as one labelled line. ``x`` and each ``y`` are
    field names or functions of a row; ``kwargs`` go to ``ax.plot``. Returns the x values."""
    fx = _getter(x)
    xs = sorted({fx(r) for r in rows})
    for label, y in ys.items():
        fy = _getter(y)
        ax.plot(xs, [np.mean([fy(r) for r in rows if fx(r) == v]) for v in xs], fmt,
                label=label, **kwargs)
    return xs


def log_xticks(ax: Any, ticks: Sequence[float], **set_kw: Any) -> None:
    """A log x axis ticked and labelled at exactly ``ticks``, without minor ticks. ``set_kw``
    go to ``ax.set`` first (setting a scale later would restore the minor ticks)."""
    ax.set(**set_kw)
    ax.set_xscale("log")
    ax.set_xticks(list(ticks), [str(t) for t in ticks])
    ax.minorticks_off()


def identifiability_grid(rows: Sequence[Mapping[str, Any]], *, x: str = "setting",
                         hue: str = "objective", axsize: tuple[float, float] = (4.2, 2.4)
                         ) -> Any:
    """The identifiability figure of summary rows (:func:`mitheory.study.summarise_fits`): a
    3 x 2 grid, columns content and style; rows linear R^2 and kernel R^2 as bars per ``x`` and
    ``hue`` (style panels mark the R^2 of style from the true content, the part any content
    encoder also predicts), then the kernel R^2 budget curves (colour ``hue``, line style
    ``x``). Returns the figure."""
    import pandas as pd
    import seaborn as sns

    df = pd.DataFrame(rows)
    fig, axes = subplots(3, 2, axsize=axsize)
    for (i, kind), (j, key) in ((a, b) for a in enumerate(("linear", "kernel"))
                                for b in enumerate(("content", "style"))):
        ax, first = axes[i][j], (i, j) == (0, 1)  # one legend, on the first style panel
        sns.barplot(df, x=x, y=f"{key}_r2_{kind}", hue=hue, ax=ax, legend=first)
        if key == "style" and f"style_from_content_r2_{kind}" in df:
            sns.scatterplot(df, x=x, y=f"style_from_content_r2_{kind}", marker="_", s=300,
                            color="k", ax=ax, label="style from true content", legend=first)
        ax.set(ylim=(-0.1, 1.05), ylabel=f"{kind} R$^2$", xlabel="",
               title="content (all latents where no style)" if key == "content" else key)
        ax.tick_params(axis="x", rotation=30)
    for ax, key in zip(axes[2], ("content", "style")):
        budget_curves(ax, [r for r in rows if f"{key}_r2_kernel" in r["curve"]],
                      f"{key}_r2_kernel", hue=hue, style=x, label=f"{key} kernel R$^2$")
        ax.set(ylim=(-0.1, 1.05), title=f"{key} kernel R$^2$ along training")
    return fig
