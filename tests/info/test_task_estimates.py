"""mi_estimates_on_task: the split, the H(Y) it hands the estimators, and its streams."""
import numpy as np
import pytest

from mitheory.info import entropy_knn, mi_estimates_on_task
from mitheory.info.tasks import TASKS
from mitheory.study import spawn


def _record(x, y, xt, yt, *, entropy_y, seed):
    """An 'estimator' that returns what it was given, to check the protocol."""
    from mitheory._types import InfoValue
    return InfoValue(float(entropy_y), details={"shapes": (x.shape, y.shape, xt.shape, yt.shape),
                                                "first": float(x[0, 0]), "seed": seed})


def test_split_entropy_and_streams_follow_the_protocol():
    task = TASKS["2v2-normal-dense"]()
    got = mi_estimates_on_task(task, {"a": _record, "b": _record}, n_samples=21, n_repeats=2,
                               seed=4)
    assert list(got) == ["a", "b"] and all(len(v) == 2 for v in got.values())
    for rep, ss in enumerate(spawn(4, 2)):
        ss_data, _, ss_est = spawn(ss, 3)
        x, _ = task.sample(21, seed=ss_data)
        est_streams = spawn(ss_est, 2)  # (spawning again would give the next children)
        for j, e in enumerate("ab"):
            d = got[e][rep].details
            # fit half = the first n // 2 = 10 pairs, test half the other 11
            assert d["shapes"] == ((10, 2), (10, 2), (11, 2), (11, 2))
            assert d["first"] == x[0, 0]  # the replicate's own data stream
            assert d["seed"].entropy == est_streams[j].entropy
            assert d["seed"].spawn_key == est_streams[j].spawn_key
        # a Gaussian task has an exact H(Y): every estimator gets it
        assert got["a"][rep].value == task.entropy("y").value


def test_entropy_falls_back_to_knn_on_the_test_half():
    task = TASKS["1v1-mixture-AI"]()
    with pytest.raises(NotImplementedError):
        task.entropy("y")
    got = mi_estimates_on_task(task, {"a": _record}, n_samples=40, n_repeats=1, k=3, seed=1)
    ss_data, ss_h, _ = spawn(spawn(1, 1)[0], 3)
    _, y = task.sample(40, seed=ss_data)
    assert got["a"][0].value == entropy_knn(y[20:], k=3, seed=ss_h).value  # same call: equal
    assert np.isfinite(got["a"][0].value)


def test_bad_input_names_the_argument():
    task = TASKS["2v2-normal-dense"]()
    with pytest.raises(ValueError, match="estimators"):
        mi_estimates_on_task(task, {}, n_samples=10, n_repeats=1)
    with pytest.raises(TypeError, match="estimators"):
        mi_estimates_on_task(task, {"a": 3.0}, n_samples=10, n_repeats=1)
    with pytest.raises(ValueError, match="n_samples"):
        mi_estimates_on_task(task, {"a": _record}, n_samples=3, n_repeats=1)
