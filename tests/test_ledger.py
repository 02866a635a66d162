"""The claims ledger on synthetic study JSONs and a throwaway git repository."""
import base64
import io
import json
import re
import subprocess

import numpy as np
import pytest

from mitheory import ledger
from studies import ledger as ledger_script

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}
FILES = {
    "mitheory/__init__.py": "",
    "mitheory/a.py": "from mitheory import b\n",
    "mitheory/b.py": "from . import c\n",
    "mitheory/c.py": "X = 1\n",
    "mitheory/unused.py": "Y = 2\n",
    "studies/__init__.py": "",
    "studies/s.py": "import numpy\nfrom mitheory.a import b\n",
    "studies/t.py": "from mitheory import unused\n",
}


def _git(root, *args):
    env = {**GIT_ENV, "PATH": "/usr/bin:/bin:/usr/local/bin", "HOME": str(root)}
    out = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                         env=env, check=True)
    return out.stdout.strip()


def _commit(root, msg="c"):
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", msg)
    return _git(root, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path):
    root = tmp_path / "repo"
    for rel, text in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    _git(root, "init", "-q")
    return root, _commit(root, "init")


def _claim(cid, verdict, notes="", **evidence):
    return {"claim": cid, "verdict": verdict, "criterion": f"rule for {cid}",
            "protocol": "toolkit", "n_seeds": 2, "evidence": evidence, "notes": notes}


def _study(folder, name, sha, claims, config=None):
    folder.mkdir(parents=True, exist_ok=True)
    meta = {"study": name, "config": config or {"steps": 100, "batch_size": 32},
            "git_sha": sha, "argv": [f"studies/{name}.py"], "wall_time_s": 1.5}
    (folder / f"{name}.json").write_text(json.dumps({"meta": meta, "claims": claims}))


def test_module_dependencies_follow_transitive_imports_inside_the_repo(repo):
    root, _ = repo
    deps = ledger.module_dependencies(root / "studies/s.py", root)
    assert deps == ["mitheory/__init__.py", "mitheory/a.py", "mitheory/b.py", "mitheory/c.py",
                    "studies/__init__.py", "studies/s.py"]


def test_staleness_fresh_then_stale_after_a_transitive_change(repo):
    root, sha = repo
    deps = ledger.module_dependencies(root / "studies/s.py", root)
    assert ledger.staleness(sha, deps, root) == {"stale": False, "reason": "", "changed": []}
    (root / "mitheory/unused.py").write_text("Y = 3\n")  # not imported by s
    _commit(root)
    assert not ledger.staleness(sha, deps, root)["stale"]
    (root / "mitheory/c.py").write_text("X = 2\n")  # imported by s through a -> b -> c
    _commit(root)
    res = ledger.staleness(sha, deps, root)
    assert res["stale"] and res["changed"] == ["mitheory/c.py"]
    assert "mitheory/c.py" in res["reason"] and sha[:10] in res["reason"]


def test_staleness_direct_change_uncommitted_change_dirty_and_unknown_sha(repo):
    root, sha = repo
    deps = ledger.module_dependencies(root / "studies/s.py", root)
    (root / "studies/s.py").write_text("import numpy\n")
    res = ledger.staleness(sha, deps, root)
    assert res["stale"] and "uncommitted" in res["reason"] and "studies/s.py" in res["reason"]
    sha2 = _commit(root)
    assert ledger.staleness(sha2, deps, root)["stale"] is False
    res = ledger.staleness(sha, deps, root)
    assert res["stale"] and res["changed"] == ["studies/s.py"]
    dirty = ledger.staleness(sha2 + "-dirty", deps, root)
    assert dirty["stale"] and "-dirty" in dirty["reason"]
    unknown = ledger.staleness("0" * 40, deps, root)
    assert unknown["stale"] and "unknown" in unknown["reason"]
    assert ledger.staleness(None, deps, root)["stale"]


def _figures(tmp_path, sha):
    figs = tmp_path / "figures"
    _study(figs, "s", sha, [
        _claim("C1", "supported", x=0.123456),
        _claim("C4", "supported", notes="part: small batches", spread=0.01),
        _claim("C4", "not supported", notes="part: small EMA", spread=0.5),
        _claim("C3", "inconclusive", r2=0.5, trend={"r2": "still rising"}, rows=[1, 2, 3])])
    _study(figs, "t", sha, [_claim("C1", "not supported", x=0.9),
                            _claim("C9", "supported", d=1e-8)])
    return figs


def _md_rows(md):
    return [line for line in md.splitlines() if re.match(r"\| C\d+ \|", line)]


def test_ledger_rows_missing_conflicts_and_staleness_per_study(repo, tmp_path):
    root, sha = repo
    figs = _figures(tmp_path, sha)
    (root / "mitheory/c.py").write_text("X = 5\n")  # s depends on c, t does not
    _commit(root)
    rows = {r["claim"]: r for r in ledger.build_ledger(ledger.read_studies(figs), root)}
    assert list(rows) == [f"C{i}" for i in range(1, 15)]
    assert rows["C2"]["status"] == "no study yet" and rows["C2"]["entries"] == []
    assert rows["C9"]["status"] == "supported"
    # across two studies
    assert rows["C1"]["status"] == "conflicting"
    assert [(e["study"], e["verdict"]) for e in rows["C1"]["entries"]] == [
        ("s", "supported"), ("t", "not supported")]
    # across two parts of one study
    assert rows["C4"]["status"] == "conflicting"
    assert [e["part"] for e in rows["C4"]["entries"]] == ["small batches", "small EMA"]
    stale = {e["study"]: e["stale"] for r in rows.values() for e in r["entries"]}
    assert stale == {"s": True, "t": False}
    c3 = rows["C3"]["entries"][0]
    assert c3["plateau"] == "r2: still rising"
    assert c3["numbers"] == "r2=0.5"  # the list and the trend are left out of the numbers
    assert c3["scale"] == "steps=100, batch_size=32, seeds=2"


def test_markdown_has_14_rows_and_shows_every_conflicting_verdict(repo, tmp_path):
    root, sha = repo
    rows = ledger.build_ledger(ledger.read_studies(_figures(tmp_path, sha)), root)
    md = ledger.render_markdown(rows)
    lines = _md_rows(md)
    assert len(lines) == 14
    c1 = next(line for line in lines if line.startswith("| C1 |"))
    assert "**conflicting**" in c1 and "[1] supported" in c1 and "[2] not supported" in c1
    assert "x=0.123" in c1 and "x=0.9" in c1
    c4 = next(line for line in lines if line.startswith("| C4 |"))
    assert "s (small batches)" in c4 and "s (small EMA)" in c4
    c2 = next(line for line in lines if line.startswith("| C2 |"))
    assert "no study yet" in c2
    assert "still rising" in next(line for line in lines if line.startswith("| C3 |"))
    assert len(_md_rows(ledger.render_summary(rows))) == 14


def test_html_is_self_contained_with_the_png_embedded(repo, tmp_path):
    import matplotlib.pyplot as plt

    root, sha = repo
    figs = _figures(tmp_path, sha)
    rng = np.random.default_rng(0)  # a wide figure of few flat colours, like a plot
    blocks = rng.integers(0, 4, (3, 60)).repeat(40, 0).repeat(40, 1)
    plt.imsave(figs / "s.png", blocks, cmap="tab10")
    out = ledger.write_ledger(figs, tmp_path / "out", root=root)
    page = (tmp_path / "out" / "ledger.html").read_text()
    data = re.search(r"data:image/png;base64,([A-Za-z0-9+/=]+)", page).group(1)
    assert page.count("data:image/png;base64,") == 1  # t has no png
    from PIL import Image
    with Image.open(io.BytesIO(base64.b64decode(data))) as shown, Image.open(figs / "s.png") as src:
        # scaled to the page width, aspect kept (to the rounding of one pixel row)
        assert shown.width == ledger.EMBED_MAX_WIDTH
        assert shown.height == round(src.height * ledger.EMBED_MAX_WIDTH / src.width)
        # against the same resize without the palette: a 256-colour median-cut palette of a
        # few flat colours and their blends is off by under 2 grey levels on average
        ref = src.convert("RGB").resize(shown.size, Image.Resampling.LANCZOS)
        err = np.abs(np.asarray(shown.convert("RGB"), float) - np.asarray(ref, float)).mean()
        assert err < 2.0
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<script" not in page
    assert set(out["written"]) == {"ledger.md", "ledger.html"}
    assert not list((tmp_path / "out").glob(".*.tmp"))


def test_readme_block_rewrite_is_idempotent(tmp_path):
    text = ("# x\n\nintro\n\n## The claims ledger\n\nfirst para\nstill first\n\n"
            "second para\n\n## Next\n")
    once = ledger.update_readme(text, "| a |\n")
    assert ledger.update_readme(once, "| a |\n") == once
    assert once.index("still first") < once.index(ledger.README_START) < once.index("second")
    again = ledger.update_readme(once, "| b |\n")
    assert "| b |" in again and "| a |" not in again and again.count(ledger.README_START) == 1
    with pytest.raises(ValueError, match="text"):
        ledger.update_readme("# no section\n", "| a |\n")


def test_main_writes_and_rewrites_the_readme(repo, tmp_path):
    _, sha = repo
    figs = _figures(tmp_path, sha)
    readme = tmp_path / "README.md"
    readme.write_text("# r\n\n## The claims ledger\n\npara\n\n## Other\n")
    args = ["--figures", str(figs), "--out", str(tmp_path / "o"), "--readme", str(readme)]
    res = ledger_script.main(args)
    first = readme.read_text()
    ledger_script.main(args)
    assert readme.read_text() == first
    assert len(_md_rows(first)) == 14 and "ledger.md" in first
    assert (tmp_path / "o" / "ledger.md").is_file() and len(res["rows"]) == 14
    with pytest.raises(SystemExit, match="figures_dir"):
        ledger_script.main(["--figures", str(tmp_path / "missing")])


def test_bad_figures_dir_and_corrupt_json_are_named(tmp_path):
    with pytest.raises(ValueError, match="figures_dir"):
        ledger.read_studies(tmp_path / "nope")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="bad.json"):
        ledger.read_studies(tmp_path)
    (tmp_path / "bad.json").write_text(json.dumps({"claims": []}))
    with pytest.raises(ValueError, match="meta"):
        ledger.read_studies(tmp_path)
    (tmp_path / "bad.json").write_text(json.dumps({"meta": {}, "claims": [{"claim": "C99"}]}))
    with pytest.raises(ValueError, match="claims"):
        ledger.read_studies(tmp_path)
    with pytest.raises(TypeError, match="evidence"):
        ledger.evidence_numbers([1, 2])
