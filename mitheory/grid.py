"""Study grids that survive interruption and spread over devices and torchrun ranks.

A grid is a list of cells (argument tuples of a module-level function). :func:`run_grid` runs
them in worker processes, one per device when several GPUs are visible, and, under ``torchrun``,
each rank takes every ``WORLD_SIZE``-th cell. Every finished cell is appended at once as one
JSON line to a journal file (:class:`CellJournal`), so an interrupted grid resumed with
``--resume`` recomputes nothing that had finished; a last line cut off by a kill is detected and
its cell redone. The journal's first line holds the study's configuration, and a resume from a
different configuration is refused with the keys that differ.

``run_study`` opens the journal (``<out>/<study>.cells.jsonl``) around ``run(cfg)``; a study
reaches it through :func:`current_journal`, so ``run(cfg)`` called directly (tests) journals
nothing.
"""
from __future__ import annotations

import contextlib
import contextvars
import json
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from mitheory._rng import seed_everything

__all__ = ["CellJournal", "current_journal", "distributed_share", "grid_devices",
           "open_journal", "parallel_map", "run_grid"]

def _jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=lambda o: o.tolist() if hasattr(o, "tolist")
                                 else str(o)))


def _key(key: Sequence[Any]) -> str:
    return json.dumps(list(key))


class CellJournal:
    """An append-only JSON-lines record of a grid's finished cells.

    Line 1: ``{"config": {...}}``; then one ``{"key": [...], "result": {...}}`` per finished
    cell, written with one ``write`` and flushed to disk (``fsync``) before the next cell
    starts.

    Parameters
    ----------
    path : path
        The journal file.
    config : mapping
        The configuration that decides the cells' results (JSON-serialisable).
    resume : bool
        Read the finished cells of an existing journal (whose configuration must equal
        ``config``); otherwise start a new journal, replacing any old one.
    ignore : sequence of str
        Config keys that do not change results (``workers``): not compared on resume.
    read_only : bool
        Only read an existing journal (another rank's, which may be mid-write): a partial last
        line is skipped, never cut, and :meth:`append` is refused.

    Raises
    ------
    ValueError
        On resume, if the saved configuration differs (naming the keys), or a line other than the
        last is not valid JSON. A last line cut off mid-write is dropped (and its cell redone).
    """

    def __init__(self, path: str | os.PathLike, config: Mapping[str, Any], *,
                 resume: bool = False, ignore: Sequence[str] = ("workers",),
                 read_only: bool = False) -> None:
        if not isinstance(config, Mapping):
            raise TypeError(f"config must be a mapping, got {type(config).__name__}")
        self.path = Path(path)
        self.config = _jsonable(dict(config))
        self.done: dict[str, Any] = {}
        self.dropped_partial_line = False
        self.read_only = read_only
        if read_only or (resume and self.path.exists()):
            self._read(ignore)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "w") as f:
                f.write(json.dumps({"config": self.config}) + "\n")
                f.flush()
                os.fsync(f.fileno())

    def _read(self, ignore: Sequence[str]) -> None:
        raw = self.path.read_bytes()
        lines = raw.split(b"\n")
        complete, tail = lines[:-1], lines[-1]  # a journal always ends with "\n"
        if tail:  # killed in the middle of a write: drop the partial line
            self.dropped_partial_line = True
        try:
            header = json.loads(complete[0]) if complete else None
        except json.JSONDecodeError:
            header = None
        if not isinstance(header, dict) or "config" not in header:
            raise ValueError(f"resume: {str(self.path)!r} is not a grid journal (no config line)")
        saved = header["config"]
        keys = sorted((set(saved) | set(self.config)) - set(ignore))
        differ = [k for k in keys if saved.get(k, "<missing>") != self.config.get(k, "<missing>")]
        if differ:
            detail = ", ".join(f"{k}: saved {saved.get(k, '<missing>')!r} != "
                               f"{self.config.get(k, '<missing>')!r}" for k in differ)
            raise ValueError(f"resume: {str(self.path)!r} was written by a different "
                             f"configuration ({detail}); rerun without --resume or with the "
                             "saved settings")
        for i, line in enumerate(complete[1:], start=2):
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                raise ValueError(f"resume: line {i} of {str(self.path)!r} is corrupt (not "
                                 "JSON) and is not the last line") from None
            self.done[_key(rec["key"])] = rec["result"]
        if self.dropped_partial_line and not self.read_only:  # keep later appends line-aligned
            with open(self.path, "r+b") as f:
                f.truncate(len(raw) - len(tail))

    def __contains__(self, key: Sequence[Any]) -> bool:
        return _key(key) in self.done

    def __getitem__(self, key: Sequence[Any]) -> Any:
        return self.done[_key(key)]

    def append(self, key: Sequence[Any], result: Any) -> None:
        """Record one finished cell (durably, before returning)."""
        if self.read_only:
            raise ValueError(f"journal {str(self.path)!r} was opened read-only")
        result = _jsonable(result)
        with open(self.path, "a") as f:
            f.write(json.dumps({"key": list(key), "result": result}) + "\n")
            f.flush()
            os.fsync(f.fileno())
        self.done[_key(key)] = result


class _LazyJournal:
    def __init__(self, path: Path, config: Mapping[str, Any], resume: bool) -> None:
        self.args, self.journal = (path, config, resume), None

    def get(self) -> CellJournal:
        if self.journal is None:
            path, config, resume = self.args
            self.journal = CellJournal(path, config, resume=resume)
        return self.journal


_JOURNAL: contextvars.ContextVar[_LazyJournal | None] = contextvars.ContextVar(
    "mitheory_grid_journal", default=None)


def current_journal() -> CellJournal | None:
    """The journal ``run_study`` set up for the running study (created at the first call, so a
    study without a grid writes none), or ``None`` outside ``run_study``."""
    lazy = _JOURNAL.get()
    return None if lazy is None else lazy.get()


@contextlib.contextmanager
def open_journal(path: str | os.PathLike, config: Mapping[str, Any], *,
                 resume: bool = False) -> Iterator[None]:
    """Inside the ``with`` block, :func:`current_journal` is a :class:`CellJournal` at ``path``.

    With ``resume`` an existing journal is checked against ``config`` at once (a different
    configuration fails before any work); otherwise the journal is created when first used.
    """
    lazy = _LazyJournal(Path(path), config, resume)
    if resume and Path(path).exists():
        lazy.get()
    token = _JOURNAL.set(lazy)
    try:
        yield
    finally:
        _JOURNAL.reset(token)


def distributed_share() -> tuple[int, int]:
    """``(rank, world_size)`` of a ``torchrun`` launch (``RANK``/``WORLD_SIZE``), else (0, 1)."""
    try:
        rank, world = int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
    except ValueError:
        raise ValueError(f"RANK/WORLD_SIZE must be integers, got {os.environ.get('RANK')!r}/"
                         f"{os.environ.get('WORLD_SIZE')!r}") from None
    if world < 1 or not 0 <= rank < world:
        raise ValueError(f"RANK must be in [0, WORLD_SIZE), got RANK={rank}, WORLD_SIZE={world}")
    return rank, world


def grid_devices(device: str, workers: int) -> list[str]:
    """One device per worker: with ``device="auto"`` and GPUs visible, one worker per GPU
    (under torchrun: this rank's ``LOCAL_RANK`` GPU); otherwise ``workers`` times ``device``."""
    import torch

    if device == "auto" and torch.cuda.is_available():
        if "LOCAL_RANK" in os.environ:
            return [f"cuda:{int(os.environ['LOCAL_RANK']) % torch.cuda.device_count()}"]
        return [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    return [device] * workers


def _check_costs(costs: Sequence[float] | None, n: int) -> None:
    if costs is not None and len(costs) != n:
        raise ValueError(f"costs must have one entry per cell, got {len(costs)} for {n} cells")


def _rank_path(journal: CellJournal, rank: int) -> Path:
    return journal.path.with_name(f"{journal.path.stem}.rank{rank}{journal.path.suffix}")


def run_grid(fn: Callable[..., Any], cells: Sequence[tuple], *, keys: Sequence[Sequence[Any]],
             workers: int = 1, journal: CellJournal | None = None,
             poll_s: float = 10.0, costs: Sequence[float] | None = None) -> list[Any]:
    """``[fn(*c) for c in cells]``, resumable, over worker processes and torchrun ranks.

    Parameters
    ----------
    fn : callable
        Module-level (pickled into ``spawn`` workers); each cell is seeded by its own
        arguments, so results do not depend on where or in which order it runs.
    cells : sequence of tuple
        The arguments of each cell.
    keys : sequence of sequences
        A JSON-serialisable identity per cell (e.g. its grid indices) for the journal.
    workers : int
        Worker processes on this rank (1: in this process).
    journal : CellJournal, optional
        Finished cells found there are not recomputed; new ones are appended as they finish.
        Under torchrun each rank appends to its own ``<journal>.rank<r>.jsonl`` beside it.
    poll_s : float
        Under torchrun, how often a rank that has finished its share reads the other ranks'
        journals (the output folder is shared) until the grid is complete; every rank then
        returns the whole grid (``run_study`` saves on rank 0 only).
    costs : sequence of float, optional
        An estimate of each cell's run time; worker processes then start the costliest cells
        first (longest-processing-time order), so they finish together instead of one waiting
        on the other's last long cell. Results are unchanged and still returned in cell order.

    Returns
    -------
    list
        The cells' results in order (JSON round-tripped when they went through a journal).
    """
    if len(keys) != len(cells):
        raise ValueError(f"keys must have one entry per cell, got {len(keys)} for "
                         f"{len(cells)} cells")
    _check_costs(costs, len(cells))
    rank, world = distributed_share()
    if world > 1 and journal is None:
        raise ValueError("a grid under torchrun (WORLD_SIZE > 1) needs a journal in the shared "
                         "output folder (run it through run_study)")
    own = journal
    if world > 1:
        path = _rank_path(journal, rank)
        own = CellJournal(path, journal.config, resume=path.exists())
    todo = [i for i in range(len(cells)) if i % world == rank and (own is None
                                                                   or keys[i] not in own)]
    fresh: dict[int, Any] = {}

    def record(j: int, result: Any) -> None:
        fresh[todo[j]] = result
        if own is not None:
            own.append(keys[todo[j]], result)

    parallel_map(fn, [cells[i] for i in todo], workers=workers, on_result=record,
                 costs=None if costs is None else [costs[i] for i in todo])
    if world == 1:
        return [own[keys[i]] if own is not None else fresh[i] for i in range(len(cells))]
    while True:  # wait for the other ranks' shares, then read the whole grid
        parts = [own if r == rank else _peek(journal, r) for r in range(world)]
        if all(parts[i % world] is not None and keys[i] in parts[i % world]
               for i in range(len(cells))):
            return [parts[i % world][keys[i]] for i in range(len(cells))]
        time.sleep(poll_s)


def _peek(journal: CellJournal, rank: int) -> CellJournal | None:
    path = _rank_path(journal, rank)
    return CellJournal(path, journal.config, read_only=True) if path.exists() else None


def _worker_init(threads: int, seed: int) -> None:
    import torch
    from threadpoolctl import threadpool_limits

    seed_everything(seed)
    torch.set_num_threads(threads)
    threadpool_limits(threads)


def _call(args: tuple) -> Any:
    fn, a = args
    return fn(*a)


def parallel_map(fn: Callable[..., Any], arg_tuples: Sequence[tuple], *, workers: int = 1,
                 threads: int = 1, seed: int = 0,
                 on_result: Callable[[int, Any], None] | None = None,
                 costs: Sequence[float] | None = None) -> list[Any]:
    """``[fn(*a) for a in arg_tuples]``, in ``workers`` spawned processes when ``workers > 1``.

    Each cell of a study grid draws its own seeds (from its names, e.g. ``study.named_seed``),
    never from the worker it lands on, so the results are identical whatever the number of
    workers; ``fn`` must be a module-level function (it is pickled). Worker
    processes run ``threads`` torch/BLAS threads each. ``on_result(i, result)`` is called in this
    process as soon as cell ``i`` finishes (in completion order), e.g. to journal it. With
    ``costs`` (an estimate of each cell's run time) the workers take the cells costliest first.
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    _check_costs(costs, len(arg_tuples))
    order = range(len(arg_tuples)) if costs is None else sorted(
        range(len(arg_tuples)), key=lambda i: -costs[i])  # stable: ties keep cell order
    results: dict[int, Any] = {}
    if workers == 1 or len(arg_tuples) <= 1:
        for i in order:
            results[i] = fn(*arg_tuples[i])
            if on_result is not None:
                on_result(i, results[i])
        return [results[i] for i in range(len(arg_tuples))]
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"),
                             initializer=_worker_init, initargs=(threads, seed)) as ex:
        futures = {ex.submit(_call, (fn, arg_tuples[i])): i for i in order}
        for fut in as_completed(futures):
            i = futures[fut]
            results[i] = fut.result()
            if on_result is not None:
                on_result(i, results[i])
    return [results[i] for i in range(len(arg_tuples))]
