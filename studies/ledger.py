"""The claims ledger: one row per claim C1..C14 with every study's verdict, its criterion, key
numbers, scale, protocol, git SHA and whether the code changed since (stale).

Run:  python -m studies.ledger [--figures DIR] [--out DIR] [--readme [PATH]]
Writes: figures/ledger.{md,html} (the HTML is self-contained, figures embedded); with
``--readme`` also rewrites the ``<!-- ledger:start -->`` block of README.md.

Not a compute study: it reads the JSONs the other studies wrote (see :mod:`mitheory.ledger`).
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from mitheory.ledger import write_ledger
from mitheory.plotting import default_figures_dir, repo_root


@dataclass(frozen=True)
class Config:
    figures_dir: Path | None = None  # folder of the study JSONs (default: the repo's figures/)
    out: Path | None = None  # folder ledger.md/.html are written to (default: figures_dir)
    readme: Path | None = None  # README whose marked ledger block is rewritten (None: not)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m studies.ledger", description=__doc__.split(
        "\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--figures", type=Path, default=None, dest="figures_dir",
                   help=f"folder of the study JSONs (default: {default_figures_dir()})")
    p.add_argument("--out", type=Path, default=None,
                   help="folder ledger.md/.html are written to (default: the figures folder)")
    p.add_argument("--readme", type=Path, nargs="?", const=repo_root() / "README.md",
                   default=None, help="rewrite the ledger block of this README "
                   "(default path: the repo's README.md)")
    return p


def main(argv: list[str] | None = None) -> dict:
    """Parse ``argv``, write the ledger and return ``{"rows": ..., "written": ...}``."""
    ns = _parser().parse_args(argv)
    cfg = Config(figures_dir=ns.figures_dir, out=ns.out, readme=ns.readme)
    try:
        result = write_ledger(cfg.figures_dir, cfg.out, readme=cfg.readme)
    except (ValueError, OSError) as exc:
        raise SystemExit(f"studies.ledger: {exc}") from None
    counts: dict[str, int] = {}
    for row in result["rows"]:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    stale = sorted({e["study"] for r in result["rows"] for e in r["entries"] if e["stale"]})
    print("claims: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print("stale studies: " + (", ".join(stale) or "none"))
    for path in result["written"].values():
        print(f"wrote {path}")
    return result


if __name__ == "__main__":
    main()
