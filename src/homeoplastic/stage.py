"""One stage contract for the three models: a row of a model's stage table, and what a stage
returns.

A :class:`Stage` says what a stage is called, which stores it reads (and from which stage), which
settings it declares (dotted key prefixes: ``network`` for every network parameter,
``protocol.spontaneous_s`` for one key), the function that runs it and an estimate of its cost.
Each model has one table of them and one ``run_stage(stage, params, inputs, output)`` returning a
:class:`StageOutcome`. From the table follow, without writing them again: the chain of stages a
run needs (:func:`chain`), and which axes of a sweep a stage's store depends on
(:func:`reads`), so that points differing only in what a stage does not read share its store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Stage:
    """One row of a model's stage table.

    ``inputs`` are (input name, stage that writes it); ``settings`` the dotted-key prefixes of the
    settings that change its store (besides those of its inputs); ``cost`` estimates the work
    (simulated or wall seconds, for runtimes) from a run's resolved settings; ``store_stage`` is
    the ``stage`` attr its store carries.
    """

    name: str
    run: Callable[..., Any]
    inputs: tuple[tuple[str, str], ...] = ()
    settings: tuple[str, ...] = ()
    cost: Callable[[Any], float] | None = None
    store_stage: str = ""
    description: str = ""

    @property
    def stage_attr(self) -> str:
        return self.store_stage or self.name


@dataclass(frozen=True)
class StageOutcome:
    """What ``run_stage`` returns in every model: the store's status and why, and its path.

    ``status`` is ``completed``, ``aborted`` (a guard stopped it), ``nonfinite`` or ``skipped``
    (an input had stopped); ``reason`` says why when it is not ``completed``.
    """

    status: str
    output: str
    reason: str = ""

    @property
    def completed(self) -> bool:
        return self.status == "completed"


def table_index(table: Sequence[Stage]) -> dict[str, Stage]:
    """Stages by name; refuses a table whose stage reads a stage listed after it or not at all."""
    index: dict[str, Stage] = {}
    for stage in table:
        for _, source in stage.inputs:
            if source not in index:
                raise ValueError(f"stage {stage.name!r} reads {source!r}, which is not an earlier "
                                 "row of the table")
        index[stage.name] = stage
    return index


def upstream(table: Mapping[str, Stage], name: str) -> list[str]:
    """``name`` and every stage it reads, directly or not, in table order."""
    needed = {name}
    stack = [name]
    while stack:
        for _, source in table[stack.pop()].inputs:
            if source not in needed:
                needed.add(source)
                stack.append(source)
    return [stage for stage in table if stage in needed]


def chain(table: Mapping[str, Stage], last: Iterable[str]) -> tuple[str, ...]:
    """The stages a run needs to produce ``last``, each after the stages it reads."""
    needed: set[str] = set()
    for name in last:
        needed.update(upstream(table, name))
    return tuple(stage for stage in table if stage in needed)


def declares(prefixes: Iterable[str], key: str) -> bool:
    """True when a dotted ``key`` is one of ``prefixes`` or lies under one of them."""
    return any(key == p or key.startswith(p + ".") for p in prefixes)


def reads(table: Mapping[str, Stage], name: str, key: str) -> bool:
    """True when the store of stage ``name`` depends on the setting ``key``: the stage or any
    stage it reads declares it."""
    return any(declares(table[stage].settings, key) for stage in upstream(table, name))
