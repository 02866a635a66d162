"""Every jupytext notebook in studies/notebooks/ runs top to bottom (so none of them rots)."""
from pathlib import Path

import jupytext
import matplotlib
import matplotlib.pyplot as plt
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "studies" / "notebooks").glob("*.py"))


def test_there_are_notebooks():
    assert NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes(path, tmp_path, monkeypatch):
    nb = jupytext.read(path)
    assert all(not c.get("outputs") for c in nb.cells)  # py:percent files carry no outputs
    code = "\n\n".join(c.source for c in nb.cells if c.cell_type == "code")
    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)  # anything a notebook writes lands in a temporary folder
    try:
        exec(compile(code, str(path), "exec"), {"__name__": "__main__"})
    finally:
        plt.close("all")
