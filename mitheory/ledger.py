"""The claims ledger: every study's claim verdicts gathered into one table per claim C1..C14.

Reads the ``<name>.json`` files :func:`mitheory.plotting.save_study` writes (their ``claims``
list of :func:`mitheory.claims.claim_verdict` records and their ``meta`` provenance block),
checks for each study whether its module or anything it imports inside the repository changed
since the git SHA the numbers were computed at, and renders the ledger as markdown and as a
self-contained HTML page (figures embedded as base64, no scripts, no external resources).

The pieces: :func:`read_studies`, :func:`module_dependencies`, :func:`staleness`,
:func:`build_ledger`, :func:`render_markdown`, :func:`render_summary`, :func:`render_html`,
:func:`update_readme` and :func:`write_ledger`, which runs them all and writes atomically.
"""
from __future__ import annotations

import ast
import base64
import html
import json
import math
import re
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from mitheory.claims import CLAIM_IDS
from mitheory.plotting import atomic_write_text, default_figures_dir, repo_root

__all__ = [
    "CLAIM_LABELS", "README_END", "README_START", "SCALE_KEYS", "build_ledger",
    "evidence_numbers", "module_dependencies", "plateau_info", "read_studies", "render_html",
    "render_markdown", "render_summary", "scale_summary", "staleness", "update_readme",
    "write_ledger",
]

# One-line labels of the claims; the full texts and their papers are the "Claims ledger" table
# of ../shared/papers/README.md (seen from the repository root).
CLAIM_LABELS: dict[str, str] = {
    "C1": "SSL maximises the ER lower bound on I(Z1;Z2); it holds and tightens as q improves",
    "C2": "Optimising ER recovers the true latents up to an orthogonal map (sphere/vMF)",
    "C3": "... and isolates content from style (style not recoverable beyond content)",
    "C4": "ER is more robust to batch size and small EMA than SimCLR/BYOL",
    "C5": "EntRec reaches 69.7% ImageNet linear top-1 after 400 epochs",
    "C6": "A CPA network maps Gaussian noise around prototypes to an affine Gaussian mixture",
    "C7": "SSL outputs are closer to Gaussian for small input noise (Fig. 1)",
    "C8": "VICReg keeps a higher representation entropy during training (Fig. 2)",
    "C9": "The optimum of the entropy/VICReg objective is a diagonal covariance (Fig. 3)",
    "C10": "A GMM with fixed inputs does not collapse; trainable inputs collapse (Fig. 4)",
    "C11": "The SSL generalization bound predicts the generalization gap (r = 0.96, Fig. 5)",
    "C12": "Better entropy estimators in place of VICReg's terms improve linear accuracy",
    "C13": "MI invariance + Gaussian assumption: Taylor log-det MMI loss trains well",
    "C14": "MINC avoids collapse (GHA), best at alpha 2 / EMA 0.8, beats spectral contrastive",
}

# Config fields that say how large a study ran (training length, samples, batch); the seeds
# behind a verdict come from the claim record's own ``n_seeds``.
SCALE_KEYS: tuple[str, ...] = (
    "steps", "n_steps", "train_steps", "samples_seen", "checkpoints", "batch_size",
    "batch_sizes", "n_samples", "n_points", "sizes", "n_repeats", "n_fit", "n_eval")

README_START = "<!-- ledger:start -->"
README_END = "<!-- ledger:end -->"
_PART_KEYS = ("part", "setting", "sweep", "objective", "task", "process")
_PLATEAU_WORDS = ("plateau", "trend", "still rising", "still falling")
_MAX_STR = 40  # evidence strings longer than this are descriptions, not key numbers
_MAX_LISTED = 3  # changed files named in a stale reason; the full list is in ``changed``
_MAX_DICT = 4  # evidence dicts with more entries than this are tables, not key numbers


# ---------------------------------------------------------------------------------------------
# reading

def read_studies(figures_dir: str | Path) -> list[dict[str, Any]]:
    """Every study JSON of ``figures_dir``, sorted by file name.

    Parameters
    ----------
    figures_dir : path
        Folder holding the ``<name>.json`` files written by ``save_study``.

    Returns
    -------
    list of dict
        Per study: ``name``, ``path`` (the JSON), ``png`` (path or ``None``), ``meta`` (the
        provenance block) and ``claims`` (the list of claim records, possibly empty).

    Raises
    ------
    ValueError
        When ``figures_dir`` is not an existing folder, or a JSON file is not valid JSON or not
        a study's JSON (no ``meta`` block, malformed ``claims``); the message names the file.
    """
    folder = Path(figures_dir)
    if not folder.is_dir():
        raise ValueError(f"figures_dir {str(folder)!r} is not an existing directory")
    studies = []
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"figures_dir: {str(path)!r} is not valid JSON: {exc}") from None
        if not isinstance(data, dict) or not isinstance(data.get("meta"), dict):
            raise ValueError(  # noqa: TRY004 (a file's content is wrong, not an argument's type)
                f"figures_dir: {str(path)!r} is not a study JSON (no 'meta' block)")
        results = data.get("results") if isinstance(data.get("results"), dict) else {}
        claims = data.get("claims", results.get("claims", []))
        if not isinstance(claims, list) or not all(
                isinstance(c, dict) and c.get("claim") in CLAIM_IDS for c in claims):
            raise ValueError(f"figures_dir: {str(path)!r} has a malformed 'claims' list "
                             f"(each entry a claim_verdict record with a claim ID in C1..C14)")
        png = path.with_suffix(".png")
        studies.append({"name": str(data["meta"].get("study") or path.stem), "path": path,
                        "png": png if png.is_file() else None, "meta": data["meta"],
                        "claims": claims})
    return studies


# ---------------------------------------------------------------------------------------------
# staleness

def _module_file(root: Path, module: str) -> Path | None:
    base = root.joinpath(*module.split("."))
    for cand in (base.with_suffix(".py"), base / "__init__.py"):
        if cand.is_file():
            return cand
    return None


def _module_name(root: Path, path: Path) -> tuple[str, bool]:
    """Dotted name of ``path`` under ``root`` and whether it is a package ``__init__``."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    is_pkg = parts[-1] == "__init__"
    return ".".join(parts[:-1] if is_pkg else parts), is_pkg


def _imported_modules(root: Path, path: Path) -> set[str]:
    """Dotted names a file may import (with their parent packages); external ones included."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    name, is_pkg = _module_name(root, path)
    package = name.split(".") if is_pkg else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                keep = len(package) - (node.level - 1)
                base = ".".join(package[:max(keep, 0)] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            if base:
                found.add(base)
            found.update(f"{base}.{a.name}".lstrip(".") for a in node.names)
    out = set()
    for mod in found:  # importing a.b.c runs a/__init__ and a/b/__init__ too
        bits = mod.split(".")
        out.update(".".join(bits[:i]) for i in range(1, len(bits) + 1))
    return out


def module_dependencies(module_file: str | Path, root: str | Path) -> list[str]:
    """The repository files a module depends on: itself and what it imports, transitively.

    Imports are found by an AST scan (module-level and inside functions, absolute and
    relative); only modules that resolve to a file under ``root`` are followed, and importing
    ``a.b.c`` counts ``a/__init__.py`` and ``a/b/__init__.py`` as well (so do the packages
    holding ``module_file`` itself).

    Parameters
    ----------
    module_file : path
        The module, e.g. ``<root>/studies/mmi_taylor.py``.
    root : path
        The repository root; module names are resolved relative to it.

    Returns
    -------
    list of str
        Paths relative to ``root`` (POSIX form), sorted.
    """
    root_p = Path(root).resolve()
    start = Path(module_file).resolve()
    if not start.is_file():
        raise ValueError(f"module_file {str(module_file)!r} is not a file")
    if root_p not in start.parents:
        raise ValueError(f"module_file {str(module_file)!r} is not under root {str(root)!r}")
    seen: set[Path] = set()
    todo = [start]  # and the packages above it, which run when it is imported
    todo += [d / "__init__.py" for d in start.parents
             if root_p in d.parents and (d / "__init__.py").is_file()]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for mod in _imported_modules(root_p, path):
            dep = _module_file(root_p, mod)
            if dep is not None and dep.resolve() not in seen:
                todo.append(dep.resolve())
    return sorted(p.relative_to(root_p).as_posix() for p in seen)


def _git(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                          timeout=30, check=False)


def _listed(names: Sequence[str], files: Sequence[str]) -> str:
    """``names`` for a reason line: study modules first, at most 3 names, then a count."""
    first = sorted(names, key=lambda n: (not n.startswith("studies/"), n))
    shown = ", ".join(first[:_MAX_LISTED])
    more = f" (+{len(first) - _MAX_LISTED} more)" if len(first) > _MAX_LISTED else ""
    return f"{len(first)} of {len(files)} files: {shown}{more}"


def staleness(sha: str | None, files: Sequence[str], root: str | Path) -> dict[str, Any]:
    """Whether numbers computed at ``sha`` may be out of date for ``files``.

    Stale when the SHA is missing, marked ``-dirty`` (the checkout had uncommitted changes, so
    the code behind the numbers is unknown), unknown to the repository's git, when any of
    ``files`` differs between ``sha`` and ``HEAD``, or has uncommitted changes now.

    Parameters
    ----------
    sha : str or None
        The ``git_sha`` of the study's ``meta`` block.
    files : sequence of str
        Paths relative to ``root`` (from :func:`module_dependencies`).
    root : path
        The git repository.

    Returns
    -------
    dict
        ``stale`` (bool), ``reason`` (str, empty when fresh) and ``changed`` (the files found
        changed, possibly empty).
    """
    root_p = Path(root)
    files = list(files)
    if not sha:
        return {"stale": True, "reason": "no git SHA recorded", "changed": []}
    if sha.endswith("-dirty"):
        return {"stale": True, "changed": [],
                "reason": "computed from a checkout with uncommitted changes (-dirty SHA)"}
    if _git(root_p, "rev-parse", "--git-dir").returncode != 0:
        return {"stale": True, "reason": f"{str(root_p)!r} is not a git repository",
                "changed": []}
    if _git(root_p, "cat-file", "-e", f"{sha}^{{commit}}").returncode != 0:
        return {"stale": True, "reason": f"SHA {sha[:10]} is unknown to this repository",
                "changed": []}
    diff = _git(root_p, "diff", "--name-only", sha, "HEAD", "--", *files)
    changed = sorted(set(diff.stdout.split()))
    status = _git(root_p, "status", "--porcelain", "--", *files)
    dirty = sorted({line[3:].strip() for line in status.stdout.splitlines() if line.strip()})
    reasons = []
    if changed:
        reasons.append(f"{_listed(changed, files)} changed since {sha[:10]}")
    if dirty:
        reasons.append(f"uncommitted changes to {_listed(dirty, files)}")
    return {"stale": bool(reasons), "reason": "; ".join(reasons),
            "changed": sorted(set(changed) | set(dirty))}


# ---------------------------------------------------------------------------------------------
# formatting of one record

def _num(v: Any) -> str:
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float):
        return f"{v:.3g}" if math.isfinite(v) else "nan"
    if v is None:
        return "null"
    return str(v)


def _is_scalar(v: Any) -> bool:
    return v is None or isinstance(v, (bool, int, float)) or (
        isinstance(v, str) and len(v) <= _MAX_STR)


def _is_plateau_key(key: str) -> bool:
    return any(w in key.lower() for w in ("plateau", "trend"))


def evidence_numbers(evidence: Mapping[str, Any]) -> str:
    """The scalar entries of a claim's evidence, compactly: ``key=value, ...``.

    Numbers get 3 significant digits; a small dict of scalars is shown as ``key={a=1, b=2}``;
    lists, long strings, larger or nested dicts and the plateau/trend entries (see
    :func:`plateau_info`) are left out.
    """
    if not isinstance(evidence, Mapping):
        raise TypeError(f"evidence must be a mapping, got {type(evidence).__name__}")
    out = []
    for key, v in evidence.items():
        if _is_plateau_key(key) or key in _PART_KEYS:
            continue
        if _is_scalar(v):
            out.append(f"{key}={_num(v)}")
        elif (isinstance(v, Mapping) and 0 < len(v) <= _MAX_DICT
              and all(_is_scalar(x) for x in v.values())):
            out.append(f"{key}={{" + ", ".join(f"{k}={_num(x)}" for k, x in v.items()) + "}")
    return ", ".join(out)


def plateau_info(record: Mapping[str, Any]) -> str:
    """Plateau/trend information of a claim record: evidence keys holding "plateau"/"trend",
    else notes that speak of a plateau or of a quantity still rising/falling; ``""`` if none."""
    ev = record.get("evidence") or {}
    out = []
    for key, v in ev.items():
        if not _is_plateau_key(key):
            continue
        if isinstance(v, Mapping):
            out.append(", ".join(f"{k}: {_num(x)}" for k, x in v.items()))
        else:
            out.append(f"{key}={_num(v)}")
    notes = str(record.get("notes") or "")
    if not out and any(w in notes.lower() for w in _PLATEAU_WORDS):
        out.append(notes)
    return "; ".join(out)


def scale_summary(config: Mapping[str, Any], n_seeds: int | None = None) -> str:
    """The scale a study ran at: the :data:`SCALE_KEYS` entries of its config and the seeds."""
    out = []
    for key in SCALE_KEYS:
        v = (config or {}).get(key)
        if v is None:
            continue
        if isinstance(v, list):
            v = "[" + ",".join(_num(x) for x in v) + "]" if len(v) <= 8 else f"{len(v)} values"
        out.append(f"{key}={_num(v)}")
    seeds = n_seeds if n_seeds is not None else (config or {}).get("n_seeds")
    if seeds is not None:
        out.append(f"seeds={seeds}")
    return ", ".join(out)


def _part(record: Mapping[str, Any], index: int, n_in_study: int) -> str:
    notes = str(record.get("notes") or "")
    m = re.match(r"\s*part:\s*([^\n]+)", notes)
    if m:
        return m.group(1).strip()
    ev = record.get("evidence") or {}
    for key in _PART_KEYS:
        if isinstance(ev.get(key), str):
            return f"{key}={ev[key]}"
    if n_in_study > 1:
        head = str(record.get("criterion") or "").split(":", 1)[0]
        return head if 0 < len(head) <= _MAX_STR else f"record {index + 1}"
    return ""


# ---------------------------------------------------------------------------------------------
# assembling

def build_ledger(studies: Iterable[Mapping[str, Any]], root: str | Path | None = None,
                 ) -> list[dict[str, Any]]:
    """One row per claim C1..C14 with every study record that reports it.

    Parameters
    ----------
    studies : iterable of dict
        As returned by :func:`read_studies`.
    root : path, optional
        The repository holding ``studies/<name>.py`` (default: this checkout).

    Returns
    -------
    list of dict
        Per claim: ``claim``, ``label``, ``status`` (the common verdict, ``"conflicting"`` when
        the entries disagree, ``"no study yet"`` when there are none) and ``entries``: per
        record the study, part, verdict, criterion, numbers, plateau, scale, protocol,
        git SHA, ``stale`` and ``stale_reason``, notes.
    """
    root_p = Path(root) if root is not None else repo_root()
    by_claim: dict[str, list[dict[str, Any]]] = {c: [] for c in CLAIM_IDS}
    for st in studies:
        meta = st["meta"]
        fresh = _study_staleness(st["name"], meta.get("git_sha"), root_p)
        counts: dict[str, int] = {}
        for rec in st["claims"]:
            counts[rec["claim"]] = counts.get(rec["claim"], 0) + 1
        seen: dict[str, int] = {}
        for rec in st["claims"]:
            cid = rec["claim"]
            idx = seen.get(cid, 0)
            seen[cid] = idx + 1
            by_claim[cid].append({
                "study": st["name"], "part": _part(rec, idx, counts[cid]),
                "verdict": rec.get("verdict"), "criterion": rec.get("criterion") or "",
                "numbers": evidence_numbers(rec.get("evidence") or {}),
                "plateau": plateau_info(rec),
                "scale": scale_summary(meta.get("config") or {}, rec.get("n_seeds")),
                "protocol": rec.get("protocol"), "git_sha": meta.get("git_sha"),
                "stale": fresh["stale"], "stale_reason": fresh["reason"],
                "notes": rec.get("notes") or ""})
    rows = []
    for cid in CLAIM_IDS:
        entries = by_claim[cid]
        verdicts = {e["verdict"] for e in entries}
        status = ("no study yet" if not entries else "conflicting" if len(verdicts) > 1
                  else next(iter(verdicts)))
        rows.append({"claim": cid, "label": CLAIM_LABELS[cid], "status": status,
                     "entries": entries})
    return rows


def _study_staleness(name: str, sha: str | None, root: Path) -> dict[str, Any]:
    module = root / "studies" / f"{name}.py"
    if not module.is_file():
        return {"stale": True, "reason": f"study module studies/{name}.py not found",
                "changed": []}
    return staleness(sha, module_dependencies(module, root), root)


# ---------------------------------------------------------------------------------------------
# rendering

_MD_COLUMNS = ("id", "claim", "status", "study (part)", "verdict", "protocol", "git SHA",
               "freshness", "scale", "key numbers", "plateau", "criterion")


def _md_cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _short_sha(sha: str | None) -> str:
    if not sha:
        return "unknown"
    return sha[:10] + ("-dirty" if sha.endswith("-dirty") else "")


def _entry_fields(e: Mapping[str, Any]) -> dict[str, str]:
    return {
        "study (part)": e["study"] + (f" ({e['part']})" if e["part"] else ""),
        "verdict": str(e["verdict"]), "protocol": str(e["protocol"]),
        "git SHA": _short_sha(e["git_sha"]),
        "freshness": f"stale: {e['stale_reason']}" if e["stale"] else "fresh",
        "scale": e["scale"], "key numbers": e["numbers"], "plateau": e["plateau"],
        "criterion": e["criterion"]}


def _status_md(status: str) -> str:
    return f"**{status}**" if status in ("conflicting", "no study yet") else status


def render_markdown(rows: Sequence[Mapping[str, Any]], *, head_sha: str | None = None) -> str:
    """The full ledger as markdown: one table row per claim; where several study records
    report a claim, each cell lists them in the same order, numbered ``[1]``, ``[2]``, ..."""
    lines = ["# Claims ledger", "",
             "Generated by `python -m studies.ledger` from `figures/*.json`"
             + (f" at {_short_sha(head_sha)}" if head_sha else "") + ". A study is **stale** "
             "when its module, or a repository module it imports, changed since the SHA its "
             "numbers were computed at. Verdicts refer to the scale the study ran at.", "",
             "| " + " | ".join(_MD_COLUMNS) + " |", "|" + "---|" * len(_MD_COLUMNS)]
    for r in rows:
        cells = {"id": r["claim"], "claim": r["label"], "status": _status_md(r["status"])}
        entries = [_entry_fields(e) for e in r["entries"]]
        for col in _MD_COLUMNS[3:]:
            vals = [_md_cell(f[col]) or "-" for f in entries]
            if len(vals) > 1:
                vals = [f"[{i + 1}] {v}" for i, v in enumerate(vals)]
            cells[col] = "<br>".join(vals)
        lines.append("| " + " | ".join(_md_cell(cells[c]) if c in ("id", "claim") else
                                        cells[c] for c in _MD_COLUMNS) + " |")
    return "\n".join(lines) + "\n"


def render_summary(rows: Sequence[Mapping[str, Any]]) -> str:
    """A compact markdown table (one row per claim: status and each record's verdict,
    protocol and freshness) for the README; criteria and numbers are in ``figures/ledger.md``."""
    lines = ["| id | claim | status | verdicts (study, part: verdict; protocol; freshness) |",
             "|---|---|---|---|"]
    for r in rows:
        parts = []
        for e in r["entries"]:
            where = e["study"] + (f", {e['part']}" if e["part"] else "")
            parts.append(f"{where}: {e['verdict']}; {e['protocol']}; "
                         + ("**stale**" if e["stale"] else "fresh"))
        lines.append(f"| {r['claim']} | {_md_cell(r['label'])} | {_status_md(r['status'])} | "
                     + ("<br>".join(_md_cell(p) for p in parts) or "-") + " |")
    return "\n".join(lines) + "\n"


_CSS = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; width: 100%; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 4px 6px; vertical-align: top; text-align: left; }
th { background: #f0f0f0; }
table.entries { font-size: 1em; }
.supported { color: #1a7f37; font-weight: bold; }
.not-supported { color: #b42318; font-weight: bold; }
.inconclusive { color: #9a6700; font-weight: bold; }
.conflicting, .missing { background: #fff3cd; font-weight: bold; }
.stale { color: #b42318; }
.fresh { color: #1a7f37; }
.crit { color: #555; }
img { max-width: 100%; border: 1px solid #ddd; }
code { font-size: 0.9em; }
"""


def _cls(verdict: str) -> str:
    return {"supported": "supported", "not supported": "not-supported",
            "inconclusive": "inconclusive", "conflicting": "conflicting",
            "no study yet": "missing"}.get(verdict, "")


def render_html(rows: Sequence[Mapping[str, Any]], studies: Sequence[Mapping[str, Any]], *,
                head_sha: str | None = None) -> str:
    """The ledger as one self-contained HTML page: the claim table, then per study its
    provenance and its PNG figure embedded as ``data:image/png;base64``. No scripts, no
    external resources."""
    esc = html.escape
    out = ["<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
           "<title>mitheory claims ledger</title>", f"<style>{_CSS}</style></head><body>",
           "<h1>Claims ledger</h1>",
           "<p>Generated by <code>python -m studies.ledger</code> from <code>figures/*.json"
           "</code>" + (f" at <code>{esc(_short_sha(head_sha))}</code>" if head_sha else "")
           + ". A study is <span class=\"stale\">stale</span> when its module, or a repository "
           "module it imports, changed since the SHA its numbers were computed at. Verdicts "
           "refer to the scale the study ran at.</p>",
           "<table><tr><th>id</th><th>claim</th><th>status</th><th>records</th></tr>"]
    cols = _MD_COLUMNS[3:]
    for r in rows:
        out.append(f"<tr><td>{esc(r['claim'])}</td><td>{esc(r['label'])}</td>"
                   f"<td class=\"{_cls(r['status'])}\">{esc(r['status'])}</td><td>")
        if r["entries"]:
            out.append("<table class=\"entries\"><tr>" + "".join(f"<th>{esc(c)}</th>"
                                                               for c in cols) + "</tr>")
            for e in r["entries"]:
                f = _entry_fields(e)
                f["study (part)"] = (f"<a href=\"#study-{esc(e['study'])}\">{esc(e['study'])}"
                                     f"</a>" + (f" ({esc(e['part'])})" if e["part"] else ""))
                tds = []
                for c in cols:
                    val = f[c] if c == "study (part)" else esc(f[c])
                    klass = {"verdict": _cls(e["verdict"]), "criterion": "crit",
                             "freshness": "stale" if e["stale"] else "fresh"}.get(c, "")
                    tds.append(f"<td class=\"{klass}\">{val}</td>" if klass else
                               f"<td>{val}</td>")
                out.append("<tr>" + "".join(tds) + "</tr>")
            out.append("</table>")
        else:
            out.append("no study yet")
        out.append("</td></tr>")
    out.append("</table><h2>Studies</h2>")
    for st in studies:
        meta = st["meta"]
        wall = meta.get("wall_time_s")
        out.append(f"<h3 id=\"study-{esc(st['name'])}\">{esc(st['name'])}</h3><p>"
                   f"git SHA <code>{esc(str(meta.get('git_sha')))}</code>; created "
                   f"{esc(str(meta.get('created')))}; wall time "
                   f"{esc(_num(wall) + ' s' if wall is not None else 'unknown')}; argv "
                   f"<code>{esc(' '.join(map(str, meta.get('argv') or [])))}</code>; scale "
                   f"{esc(scale_summary(meta.get('config') or {}) or '-')}; claims "
                   f"{esc(', '.join(sorted({c['claim'] for c in st['claims']})) or 'none')}"
                   "</p>")
        if st.get("png") is not None:
            data = base64.b64encode(embedded_png(st["png"])).decode("ascii")
            out.append(f"<img alt=\"{esc(st['name'])} figure\" "
                       f"src=\"data:image/png;base64,{data}\">")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


EMBED_MAX_WIDTH = 1200  # pixels: a figure is shown at most about this wide on a page


def embedded_png(path: str | Path, *, max_width: int = EMBED_MAX_WIDTH) -> bytes:
    """A study figure as the page embeds it: scaled down (Lanczos) to at most ``max_width``
    pixels wide, aspect kept, and stored as an optimised palette PNG (256 adaptive colours: the
    flat colours of a plot survive; the page stays small). Smaller figures are only re-encoded."""
    import io

    from PIL import Image

    with Image.open(path) as img:
        img = img.convert("RGB")
        if img.width > max_width:
            img = img.resize((max_width, round(img.height * max_width / img.width)),
                             Image.Resampling.LANCZOS)
        buf = io.BytesIO()
        img.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(buf, "PNG", optimize=True)
    return buf.getvalue()


def update_readme(text: str, block: str) -> str:
    """``text`` (a README) with ``block`` between the ledger markers.

    Where the markers are absent, the marked block is inserted after the first paragraph of
    the ``## The claims ledger`` section. Applying it twice gives the same text.

    Raises
    ------
    ValueError
        When ``text`` has neither the markers (in order) nor a ``## The claims ledger`` section.
    """
    marked = f"{README_START}\n{block.rstrip()}\n{README_END}"
    start, end = text.find(README_START), text.find(README_END)
    if start >= 0 and end > start:
        return text[:start] + marked + text[end + len(README_END):]
    if start >= 0 or end >= 0:
        raise ValueError("text: the ledger markers are incomplete or out of order")
    m = re.search(r"^## The claims ledger[ \t]*\n", text, flags=re.MULTILINE)
    if m is None:
        raise ValueError(f"text: has no {README_START} block and no '## The claims ledger' "
                         "section to put one in")
    para = re.compile(r"\n[ \t]*\n").search(text, m.end() + 1)
    cut = para.end() if para else len(text)
    return text[:cut] + marked + "\n\n" + text[cut:].lstrip("\n")


def write_ledger(figures_dir: str | Path | None = None, out_dir: str | Path | None = None, *,
                 root: str | Path | None = None, readme: str | Path | None = None,
                 ) -> dict[str, Any]:
    """Read the study JSONs, build the ledger and write ``ledger.md`` and ``ledger.html``.

    Everything is rendered before anything is written, and each file is written atomically,
    so an error leaves no half-written file.

    Parameters
    ----------
    figures_dir, out_dir : path, optional
        Where the study JSONs are and where the ledger goes (both default to the repository's
        ``figures/``; ``out_dir`` defaults to ``figures_dir``).
    root : path, optional
        The git repository holding ``studies/`` (default: this checkout).
    readme : path, optional
        A README whose marked ledger block is rewritten (see :func:`update_readme`).

    Returns
    -------
    dict
        ``rows`` (from :func:`build_ledger`) and ``written`` (name -> path).
    """
    figs = Path(figures_dir) if figures_dir is not None else default_figures_dir()
    out = Path(out_dir) if out_dir is not None else figs
    if out.exists() and not out.is_dir():
        raise ValueError(f"out_dir {str(out)!r} is not a directory")
    root_p = Path(root) if root is not None else repo_root()
    studies = read_studies(figs)
    rows = build_ledger(studies, root_p)
    head = _git(root_p, "rev-parse", "HEAD")
    head_sha = head.stdout.strip() if head.returncode == 0 else None
    texts = {out / "ledger.md": render_markdown(rows, head_sha=head_sha),
             out / "ledger.html": render_html(rows, studies, head_sha=head_sha)}
    if readme is not None:
        rpath = Path(readme)
        if not rpath.is_file():
            raise ValueError(f"readme {str(rpath)!r} is not a file")
        summary = (render_summary(rows) + "\nCriteria, key numbers, scale and SHAs: "
                   "[figures/ledger.md](figures/ledger.md) (regenerate with "
                   "`python -m studies.ledger --readme`).\n")
        texts[rpath] = update_readme(rpath.read_text(encoding="utf-8"), summary)
    for path, text in texts.items():
        atomic_write_text(path, text)
    return {"rows": rows, "written": {p.name: p for p in texts}}
