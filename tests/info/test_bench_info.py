"""Smoke test of benchmarks/bench_info.py --quick (numbers, not speed, are checked)."""
import re

from benchmarks import bench_info


def test_bench_quick_runs_and_agrees_with_sklearn(tmp_path):
    out = tmp_path / "results.txt"
    bench_info.main(["--quick", "--out", str(out)])
    text = out.read_text()
    diffs = [float(m) for m in re.findall(r"^\s+\d+\s+\S+\s+\S+\s+(\S+)", text, re.M)]
    assert len(diffs) == 2
    assert max(diffs) < 1e-12  # same KSG definition on the same arrays: rounding only
    assert "peak traced memory" in text
