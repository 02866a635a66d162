"""Resumable study grids: the cell journal, resume after a kill, and the configuration check."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from mitheory.grid import CellJournal, distributed_share, parallel_map, run_grid

TOY = textwrap.dedent('''
    """A toy study grid: each cell sleeps, logs that it ran, and returns a function of its index."""
    import time
    from dataclasses import dataclass

    from mitheory.grid import current_journal, run_grid
    from mitheory.study import run_study


    @dataclass(frozen=True)
    class Config:
        n: int = 6  # cells
        delay: float = 0.4  # seconds per cell
        calls: str = "calls.log"  # file each computed cell appends its index to


    def cell(i, cfg):
        time.sleep(cfg.delay)
        with open(cfg.calls, "a") as f:
            f.write(f"{i}\\n")
        return {"i": i, "value": i * i + 0.5}


    def run(cfg):
        runs = run_grid(cell, [(i, cfg) for i in range(cfg.n)], keys=[(i,) for i in range(cfg.n)],
                        journal=current_journal())
        return {"runs": runs}


    if __name__ == "__main__":
        run_study("toy", Config, run, None, quick=Config())
''')


def _toy(tmp_path, *args):
    (tmp_path / "toy_study.py").write_text(TOY)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.getcwd()])}
    return [sys.executable, "-m", "toy_study", "--out", str(tmp_path / "out"), *args], env


def _journal_lines(path):
    return path.read_text().count("\n") if path.exists() else 0


def test_killed_grid_resumes_without_recomputing_and_gives_the_same_json(tmp_path):
    cmd, env = _toy(tmp_path, "--calls", str(tmp_path / "calls.log"))
    journal = tmp_path / "out" / "toy.cells.jsonl"
    proc = subprocess.Popen(cmd, env=env, cwd=tmp_path)
    deadline = time.time() + 120
    while _journal_lines(journal) < 3 and time.time() < deadline:  # header + two cells
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (tmp_path / "out" / "toy.json").exists()  # killed before the end
    done = _journal_lines(journal) - 1
    assert 2 <= done < 6
    with open(journal, "a") as f:  # as if killed in the middle of writing the next cell
        f.write('{"key": [5], "result": {"i": 5, "val')
    subprocess.run(cmd + ["--resume"], env=env, cwd=tmp_path, check=True)
    calls = [int(x) for x in (tmp_path / "calls.log").read_text().split()]
    # every cell ran exactly once over the two runs (the finished ones were not recomputed)
    assert sorted(calls) == list(range(6))
    resumed = json.loads((tmp_path / "out" / "toy.json").read_text())["runs"]
    assert resumed == [{"i": i, "value": i * i + 0.5} for i in range(6)]
    # the journal is whole again: header + 6 cells, every line valid JSON
    lines = journal.read_text().splitlines()
    assert len(lines) == 7 and all(json.loads(x) for x in lines)


def test_resume_from_a_different_configuration_is_refused_naming_the_keys(tmp_path, capsys):
    import importlib.util
    (tmp_path / "toy_study.py").write_text(TOY)
    spec = importlib.util.spec_from_file_location("toy_study", tmp_path / "toy_study.py")
    toy = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(toy)
    args = ["--out", str(tmp_path / "out"), "--calls", str(tmp_path / "calls.log"),
            "--delay", "0"]
    toy.run_study("toy", toy.Config, toy.run, None, args, quick=toy.Config())
    with pytest.raises(SystemExit, match=r"different configuration \(n: saved 6 != 4\)"):
        toy.run_study("toy", toy.Config, toy.run, None, args + ["--resume", "--n", "4"],
                      quick=toy.Config())
    assert (tmp_path / "calls.log").read_text().split() == [str(i) for i in range(6)]


def test_journal_unit(tmp_path):
    path = tmp_path / "j.jsonl"
    j = CellJournal(path, {"a": 1, "workers": 2})
    j.append((0, 1), {"x": 1.5})
    assert (0, 1) in j and j[(0, 1)] == {"x": 1.5}
    again = CellJournal(path, {"a": 1, "workers": 8}, resume=True)  # workers: not compared
    assert again[(0, 1)] == {"x": 1.5} and not again.dropped_partial_line
    with pytest.raises(ValueError, match=r"a: saved 1 != 2"):
        CellJournal(path, {"a": 2}, resume=True)
    path.write_text(path.read_text() + "not json\n" + '{"key": [1], "result": 2}\n')
    with pytest.raises(ValueError, match="line 3 .* corrupt"):
        CellJournal(path, {"a": 1}, resume=True)
    (tmp_path / "x.jsonl").write_text('{"no": "config"}\n')
    with pytest.raises(ValueError, match="not a grid journal"):
        CellJournal(tmp_path / "x.jsonl", {}, resume=True)
    ro = CellJournal(tmp_path / "x2.jsonl", {"a": 1})
    ro = CellJournal(tmp_path / "x2.jsonl", {"a": 1}, read_only=True)
    with pytest.raises(ValueError, match="read-only"):
        ro.append((0,), 1)


def _square(i):
    return i * i


def test_run_grid_skips_journalled_cells_and_checks_keys(tmp_path):
    j = CellJournal(tmp_path / "g.jsonl", {})
    j.append((1,), 100)  # a "finished" cell: its journalled result is returned, not recomputed
    assert run_grid(_square, [(0,), (1,), (2,)], keys=[(0,), (1,), (2,)], journal=j) == [0, 100, 4]
    assert run_grid(_square, [(3,)], keys=[(3,)]) == [9]
    with pytest.raises(ValueError, match="one entry per cell"):
        run_grid(_square, [(0,)], keys=[])


def test_costs_start_the_costliest_cells_first_and_keep_the_cell_order():
    started = []
    costs = [1.0, 5.0, 3.0, 5.0]
    out = run_grid(_square, [(i,) for i in range(4)], keys=[(i,) for i in range(4)],
                   costs=costs)
    assert out == [0, 1, 4, 9]  # returned in cell order
    parallel_map(_square, [(i,) for i in range(4)], costs=costs,
             on_result=lambda i, r: started.append(i))
    assert started == [1, 3, 2, 0]  # descending cost, ties in cell order
    assert parallel_map(_square, [(i,) for i in range(4)], workers=2, costs=costs) == [0, 1, 4, 9]
    with pytest.raises(ValueError, match="costs must have one entry per cell"):
        run_grid(_square, [(0,)], keys=[(0,)], costs=[1.0, 2.0])


def test_torchrun_shares_split_the_grid_and_every_rank_returns_all(tmp_path, monkeypatch):
    """Two ranks (simulated one after the other through RANK/WORLD_SIZE): each computes its
    share into its own journal; a rank returns the whole grid once the other's share is there."""
    cfg = {"grid": "squares"}
    j = CellJournal(tmp_path / "g.jsonl", cfg)
    cells, keys = [(i,) for i in range(5)], [(i,) for i in range(5)]
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    # rank 0's journal is absent, so rank 1 would wait: pre-write rank 0's share by hand
    r0 = CellJournal(tmp_path / "g.rank0.jsonl", cfg)
    for i in (0, 2, 4):
        r0.append((i,), i * i)
    assert run_grid(_square, cells, keys=keys, journal=j, poll_s=0.01) == [0, 1, 4, 9, 16]
    rank1 = CellJournal(tmp_path / "g.rank1.jsonl", cfg, resume=True)
    assert sorted(rank1.done) == ["[1]", "[3]"]  # rank 1 computed only its share
    assert distributed_share() == (1, 2)
    monkeypatch.setenv("RANK", "2")
    with pytest.raises(ValueError, match="RANK"):
        distributed_share()
