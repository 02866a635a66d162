import json
import os
import stat
from dataclasses import dataclass

import numpy as np
import pytest

from mitheory.cli import parse_config
from mitheory.plotting import atomic_write_text, save_study


@dataclass(frozen=True)
class _Cfg:
    seed: int = 0
    steps: int = 10
    names: tuple[str, ...] = ("a", "b")
    flag: bool = False


def test_save_study_writes_json_tables_and_figure(tmp_path):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    res = {"x": np.float32(1.5), "arr": np.arange(3), "bad": float("nan")}
    paths = save_study("demo", fig, res, _Cfg(), out_dir=tmp_path,
                       tables={"demo": [{"a": 1, "b": 0.123456}]})
    data = json.loads((tmp_path / "demo.json").read_text())
    assert data["x"] == 1.5 and data["arr"] == [0, 1, 2] and data["bad"] is None
    assert data["meta"]["config"]["steps"] == 10 and data["meta"]["seed"] == 0
    assert "numpy" in data["meta"]["versions"]
    assert (tmp_path / "demo.png").stat().st_size > 0 and (tmp_path / "demo.pdf").exists()
    assert "| a | b |" in (tmp_path / "demo.md").read_text()
    assert set(paths) >= {"json", "png", "pdf"}


def test_atomic_write_leaves_no_partial_file(tmp_path):
    target = tmp_path / "r.json"
    atomic_write_text(target, "old")

    class Boom(str):
        def encode(self, *a, **k):
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write_text(target, Boom("new"))
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_parse_config_quick_and_overrides():
    quick = _Cfg(steps=2)
    cfg, _ = parse_config(_Cfg, ["--quick", "--names", "x", "--flag"], quick=quick)
    assert cfg == _Cfg(steps=2, names=("x",), flag=True)
    cfg, _ = parse_config(_Cfg, ["--steps", "5"], quick=quick)
    assert cfg.steps == 5


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_saved_files_get_the_umask_mode_not_the_temp_files(tmp_path, umask):
    old = os.umask(umask)
    try:
        save_study("demo", None, {"x": 1.0}, _Cfg(), out_dir=tmp_path,
                   tables={"t": [{"a": 1}]})
    finally:
        os.umask(old)
    files = [p for p in tmp_path.iterdir() if p.is_file()]
    assert {p.suffix for p in files} == {".json", ".md", ".csv"}
    for p in files:
        assert stat.S_IMODE(p.stat().st_mode) == 0o666 & ~umask, p.name


def test_run_study_checks_out_is_writable_before_running(tmp_path):
    from mitheory.cli import run_study

    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    ran = []

    def run(cfg):
        ran.append(cfg)
        return {"x": 1.0}

    with pytest.raises(SystemExit, match="--out: output directory .* is not writable"):
        run_study("demo", _Cfg, run, None, ["--out", str(blocker / "sub")], quick=_Cfg())
    assert not ran  # failed before the study ran
    run_study("demo", _Cfg, run, None, ["--out", str(tmp_path / "new" / "dir")], quick=_Cfg())
    assert len(ran) == 1 and (tmp_path / "new" / "dir" / "demo.json").exists()


def test_format_mean_sd_rounds_and_blanks_undefined_values():
    from mitheory.plotting import format_mean_sd
    assert format_mean_sd(0.91251, 0.0104) == "0.913 ± 0.010"
    assert format_mean_sd(1.0, 0.25, digits=1) == "1.0 ± 0.2"  # round-half-even of 0.25
    assert format_mean_sd(float("nan"), 0.1) == format_mean_sd(None, None) == ""


def test_grouped_bars_centres_each_group_on_its_tick():
    import matplotlib

    matplotlib.use("Agg")
    from mitheory.plotting import grouped_bars, subplots

    fig, ((ax,),) = subplots(1, 1)
    rows = [{"g": "a", "u": 1.0, "v": 2.0}, {"g": "b", "u": 3.0, "v": 4.0}]
    grouped_bars(ax, rows, "g", {"U": "u", "V": "v"}, width=0.8, yerr={"V": [0.1, 0.2]})
    bars = ax.patches
    # two series of width 0.4 each: centres at tick -0.2 and +0.2 (float round-off)
    assert [b.get_x() + b.get_width() / 2 for b in bars] == pytest.approx([-0.2, 0.8, 0.2, 1.2])
    assert [b.get_height() for b in bars] == [1.0, 3.0, 2.0, 4.0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b"]
    assert [h.get_label() for h in ax.get_legend_handles_labels()[0]] == ["U", "V"]


def test_dodged_errorbars_one_line_per_hue_dodged_on_a_log_axis():
    import matplotlib

    matplotlib.use("Agg")
    from mitheory.plotting import dodged_errorbars, subplots

    fig, ((ax,),) = subplots(1, 1)
    rows = [{"e": e, "n": n, "m": float(i), "s": 0.1} for i, e in enumerate("ab")
            for n in (10, 100)]
    dodged_errorbars(ax, rows, "n", "m", "s", hue="e", dodge=0.1)
    lines = [c.lines[0] for c in ax.containers]
    assert [c.get_label() for c in ax.containers] == ["a", "b"]
    # line i of m = 2 at n (1 + 0.1 (i - 1)): 0.9 n and 1.0 n (float round-off)
    assert list(lines[0].get_xdata()) == pytest.approx([9.0, 90.0])
    assert list(lines[1].get_xdata()) == pytest.approx([10.0, 100.0])
    assert ax.get_xscale() == "log" and list(ax.get_xticks()) == [10, 100]


def test_row_plot_helpers_draw_the_rows_values():
    import matplotlib

    matplotlib.use("Agg")
    from mitheory.plotting import barh_rows, errorbar_rows, lines_by, subplots

    rows = [{"g": "a", "x": 1, "y": 2.0, "y_sd": 0.1}, {"g": "b", "x": 1, "y": 3.0, "y_sd": 0.2},
            {"g": "a", "x": 2, "y": 4.0, "y_sd": 0.3}]
    fig, ax = subplots(1, 3)
    lines_by(ax[0, 0], rows, "g", "x", lambda r: 10 * r["y"], marker="o")
    lines = {ln.get_label(): (list(ln.get_xdata()), list(ln.get_ydata()))
             for ln in ax[0, 0].get_lines()}
    assert lines == {"a": ([1, 2], [20.0, 40.0]), "b": ([1], [30.0])}  # groups in order
    errorbar_rows(ax[0, 1], [0, 1, 2], rows, {"mean": "y"})
    (line,) = ax[0, 1].get_lines()[:1]
    assert list(line.get_ydata()) == [2.0, 3.0, 4.0]
    barh_rows(ax[0, 2], ["p", "q", "r"], rows, "y", notes=["n1", "n2", "n3"])
    assert [p.get_width() for p in ax[0, 2].patches] == [2.0, 3.0, 4.0]
    assert [t.get_text() for t in ax[0, 2].texts] == ["n1", "n2", "n3"]
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_mean_se_panels_draw_one_line_per_label_per_quantity():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mitheory.plotting import mean_se_panels

    s = {"a": {"q": {"mean": [1.0, None], "se": [0.1, None]}, "r": {"mean": [2.0, 3.0],
                                                                   "se": [None, 0.2]}},
         "b": {"q": {"mean": [4.0, 5.0], "se": [0.1, 0.1]}, "r": {"mean": [6.0, 7.0],
                                                                  "se": [0.1, 0.1]}}}
    fig = mean_se_panels(s, [0, 2], ["q", "r"], xlabel="step", ylabel="h", titles=["Q", "R"])
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == ["Q", "R"]
    assert [c.get_label() for c in axes[0].containers] == ["a", "b"]
    y = axes[0].containers[0].lines[0].get_ydata()
    assert y[0] == 1.0 and np.isnan(y[1])  # None drawn as a gap
    assert list(axes[1].containers[1].lines[0].get_ydata()) == [6.0, 7.0]
    plt.close(fig)


def test_labelled_boxplot_ticks_groups_and_draws_reference_lines():
    import matplotlib.pyplot as plt

    from mitheory.plotting import labelled_boxplot, subplots

    fig, ax = subplots()
    boxes = labelled_boxplot(ax[0, 0], {"world": [1.0, 2.0, 3.0], "digits": [4.0, 5.0]},
                             hlines=[0.5, 6.0], yscale="log", title="t")
    a = ax[0, 0]
    assert [t.get_text() for t in a.get_xticklabels()] == ["world", "digits"]
    assert [m.get_ydata()[0] for m in boxes["medians"]] == [2.0, 4.5]  # one box per group
    assert boxes["fliers"] == [] or all(len(f.get_ydata()) == 0 for f in boxes["fliers"])
    assert [ln.get_ydata()[0] for ln in a.get_lines() if ln.get_color() == "gray"] == [0.5, 6.0]
    assert a.get_yscale() == "log" and a.get_title() == "t"
    plt.close(fig)


def test_scatter_ci_bars_mean_lines_and_log_ticks_draw_the_given_numbers():
    import matplotlib.pyplot as plt

    from mitheory.plotting import ci_bars, log_xticks, mean_lines, scatter_by, subplots

    rows = [{"g": "a", "n": 10, "y": 1.0}, {"g": "b", "n": 10, "y": 3.0},
            {"g": "a", "n": 100, "y": 5.0}]
    fig, ax = subplots(1, 3)
    scatter_by(ax[0, 0], rows, "g", "n", lambda r: 2 * r["y"], s="n")
    pts = {c.get_label(): c for c in ax[0, 0].collections}
    assert pts["a"].get_offsets().tolist() == [[10, 2.0], [100, 10.0]]  # groups in order
    assert pts["b"].get_sizes().tolist() == [10]
    ci_bars(ax[0, 1], ["p", "q"], [{"r": 0.5, "ci_low": 0.2, "ci_high": 0.6},
                                   {"r": -0.1, "ci_low": -0.4, "ci_high": 0.3}])
    assert [p.get_height() for p in ax[0, 1].patches] == [0.5, -0.1]
    (bars,) = [c for c in ax[0, 1].collections]  # the error bars: one segment per bar
    ends = [s[:, 1].tolist() for s in bars.get_segments()]  # r - (r - low), r + (high - r)
    assert np.allclose(ends, [[0.2, 0.6], [-0.4, 0.3]], rtol=0, atol=1e-15)  # float rounding
    xs = mean_lines(ax[0, 2], rows, "n", {"mean y": "y"})
    assert xs == [10, 100]
    assert ax[0, 2].get_lines()[0].get_ydata().tolist() == [2.0, 5.0]  # (1 + 3) / 2, then 5
    log_xticks(ax[0, 2], xs, yscale="log", title="t")
    a = ax[0, 2]
    assert a.get_xscale() == a.get_yscale() == "log" and a.get_title() == "t"
    assert a.get_xticks().tolist() == [10, 100]
    assert [t.get_text() for t in a.get_xticklabels()] == ["10", "100"]
    assert len(a.xaxis.get_minorticklocs()) == len(a.yaxis.get_minorticklocs()) == 0
    plt.close(fig)
