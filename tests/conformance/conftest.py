"""Shared helpers for the conformance suite: scenarios ported from nova 12.0.0's own tests.

Each test module here names, with :func:`nova`, the nova tests (``path::Class::test_name`` at tag
12.0.0) whose facts it re-checks against the engine; ``docs/conformance.md`` lists every nova test
that was read and what became of it, and ``test_conformance_table.py`` keeps the two in step.

The helpers drive the engine only through the facade (:class:`Oracle` is a
:class:`~nova_resize.engine.facade.Cloud` that also keeps every :class:`StepResult` with the
world before it). Where a nova test sets up rows by hand (``db.instance_update``) the suite does
the same with :meth:`Oracle.poke` (the facade's ``set_instance``); where it stubs a call to raise
at a point the spec has no fault row for, :func:`spec_with_faults` adds a fault row that only
raises, in memory.

Import note: this directory has no ``__init__.py``, like ``tests/``, so pytest imports both
``tests/conftest.py`` and this file as the module ``conftest``, and whichever it imported last is
what ``from conftest import ...`` finds. Names this file does not define are therefore looked up
in ``tests/conftest.py`` (module ``__getattr__``), so that the rest of the suite keeps importing
``cloud`` and ``config`` from ``conftest`` whatever the collection order.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple, TypeVar

import pytest
from nova_resize.checker.variants import apply_variant_data
from nova_resize.engine.core import Action, StepResult
from nova_resize.engine.facade import Cloud, CloudError
from nova_resize.engine.tx import Notification
from nova_resize.engine.world import Host, Message, Migration, World
from nova_resize.spec import LIBERTY, Spec
from nova_resize.spec import model as m

HERE = Path(__file__).resolve().parent
NOVA_ID = re.compile(r"^nova/tests/[\w/]+\.py::\w+::test\w*$")
UPDATE = "compute.instance.update"

F = TypeVar("F", bound=Callable[..., Any])


# ---- the tests/conftest.py this file shadows ----------------------------------------------------

def _load_suite_conftest() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_nova_resize_suite_conftest",
                                                  HERE.parent / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


_SUITE = _load_suite_conftest()
config = _SUITE.config
FLAVORS: list[dict[str, Any]] = _SUITE.FLAVORS


def __getattr__(name: str) -> Any:
    """Everything else ``from conftest import`` asks for comes from ``tests/conftest.py``."""
    try:
        return getattr(_SUITE, name)
    except AttributeError:
        raise AttributeError(f"module 'conftest' has no attribute {name!r}") from None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "nova(*ids): the nova 12.0.0 tests (path::Class::test_name) a test ports")


def nova(*ids: str) -> Callable[[F], F]:
    """Mark a test as the port of the nova 12.0.0 tests ``ids``."""
    for i in ids:
        if not NOVA_ID.match(i):
            raise ValueError(f"not a nova test id (path::Class::test_name): {i!r}")
    return pytest.mark.nova(*ids)


# ---- an engine run that keeps what each step did ------------------------------------------------

@dataclass(frozen=True)
class Step:
    """One action, the world before it and what the engine returned."""

    action: Action
    before: World
    result: StepResult

    @property
    def after(self) -> World:
        return self.result.world


class Save(NamedTuple):
    """A write of the instance row: the row that made it, the expected_task_state its save
    carried (None: unguarded), and (vm_state, task_state) before and after."""

    row: str
    guard: tuple[str | None, ...] | None
    before: tuple[str, str | None]
    after: tuple[str, str | None]


class End(NamedTuple):
    """A handler that finished: its method, service, whether it returned normally and the
    exception it ended with."""

    method: str
    service: str
    ok: bool
    exc: str | None


class Oracle(Cloud):
    """A :class:`Cloud` that records every step's :class:`StepResult`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.steps: list[Step] = []

    def do(self, action: Action) -> StepResult:
        before = self.world
        res = super().do(action)
        self.steps.append(Step(action, before, res))
        return res

    # ---- driving ---------------------------------------------------------------------------
    def mark(self) -> int:
        """A position in the record, to look only at what happens after it."""
        return len(self.steps)

    def run_until(self, row: str, limit: int = 500) -> None:
        """Let things run on their own (as run_until_quiescent does) until ``row`` has run."""
        start = self.mark()
        for _ in range(limit):
            if any(row in s.result.rows for s in self.steps[start:]):
                return
            if self.step() is None:
                break
        raise CloudError(f"{row} did not run")

    def poke(self, instance: str, **fields: Any) -> None:
        """Write instance fields straight into the database row and into every in-flight
        message's copy of the instance, as a nova test's ``db.instance_update`` plus the object
        it then passes to the handler."""
        self.set_instance(instance, in_flight=True, **fields)

    def poke_migration(self, instance: str, **fields: Any) -> None:
        """Write fields of the instance's latest migration row."""
        self.set_migration(instance, **fields)

    # ---- reading the record ----------------------------------------------------------------
    def rows_since(self, start: int = 0) -> list[str]:
        return [r for s in self.steps[start:] for r in s.result.rows]

    def saves(self, start: int = 0, prefix: str = "") -> list[Save]:
        """Every write of an instance row since ``start`` by rows whose id starts with
        ``prefix``, in order."""
        out = []
        for s in self.steps[start:]:
            for ev in s.result.events:
                if ev.kind != "instance_write" or not ev.row.startswith(prefix):
                    continue
                a, b = ev.data
                out.append(Save(ev.row, ev.expected_task_state, (a.vm_state, a.task_state),
                                (b.vm_state, b.task_state)))
        return out

    def guard_of(self, row: str) -> tuple[str | None, ...] | None:
        """The expected_task_state of the row's instance save (None: unguarded)."""
        for eff in self.engine.spec.row(row).effects:
            if isinstance(eff, m.SaveInstance):
                return eff.guard
        return None

    def migration_writes(self, start: int = 0) -> list[tuple[str, str | None, str]]:
        """(row, status before or None when created, status after) for every migration write."""
        out = []
        for s in self.steps[start:]:
            for ev in s.result.events:
                if ev.kind == "migration_write":
                    a, b = ev.data
                    out.append((ev.row, None if a is None else a.status, b.status))
        return out

    def notifications(self, start: int = 0) -> list[Notification]:
        return [n for s in self.steps[start:] for n in s.result.notifications]

    def usage_events(self, start: int = 0, service: str | None = None) -> list[str]:
        """The event types of the notifications other than compute.instance.update, in the
        order they were emitted. (Nova's unit tests run with notify_on_state_change unset, so
        they see no compute.instance.update; so does the engine by default.)"""
        return [n.event_type for n in self.notifications(start)
                if n.event_type != UPDATE and (service is None or n.service == service)]

    def updates(self, start: int = 0) -> list[Notification]:
        return [n for n in self.notifications(start) if n.event_type == UPDATE]

    def world_after(self, event_type: str) -> World:
        """The world right after the step that emitted the first ``event_type``."""
        for s in self.steps:
            if any(n.event_type == event_type for n in s.result.notifications):
                return s.after
        raise CloudError(f"no {event_type} notification")

    def world_after_row(self, row: str) -> World:
        """The world right after the (first) step that ran ``row``."""
        for s in self.steps:
            if row in s.result.rows:
                return s.after
        raise CloudError(f"{row} did not run")

    def ends(self, start: int = 0) -> list[End]:
        out = []
        for s in self.steps[start:]:
            for ev in s.result.events:
                if ev.kind == "frame_end":
                    service, _name, ok, exc = ev.data
                    out.append(End(ev.row, service, ok, exc))
        return out

    def sent(self, start: int = 0) -> list[Message]:
        """Every message put on the bus since ``start``, in the order they were sent."""
        return [msg for s in self.steps[start:] for msg in s.result.sent]

    def usage(self, host: str) -> tuple[int, int, int]:
        """The host's resource-tracker usage: (vcpus, memory_mb, root_gb)."""
        return self.host(host).usage

    def audit(self, host: str) -> Host:
        """Run the resource tracker's periodic audit on ``host`` and return the host."""
        self.periodic("update_available_resource", host)
        return self.host(host)

    def reservation_states(self) -> list[str]:
        return [r.status for r in self.reservations]


def oracle(spec: Spec = LIBERTY, strict: bool = True, **kw: Any) -> Oracle:
    """A small cloud (``tests/conftest.py:config`` keywords) driven through the facade."""
    return Oracle(config(**kw), spec, strict)


def resized(to: str | None = "medium", **kw: Any) -> Oracle:
    """A cloud (``oracle`` keywords) whose instance ``vm`` has been resized to flavor ``to`` and
    waits for a confirm or revert; ``to=None`` cold-migrates it instead."""
    o = oracle(**kw)
    if to is None:
        o.api.migrate("vm")
    else:
        o.api.resize("vm", to)
    o.run_until_quiescent()
    assert o.instance("vm").vm_state == "resized"
    return o


def resized_down() -> Oracle:
    """A cloud whose instance ``vm`` was resized from medium down to small and waits for
    confirmation: its confirm reserves a non-empty (negative) delta of its own."""
    return resized("small", flavor="medium")


def arg(msg: Message, name: str) -> Any:
    """An argument of an RPC message."""
    return dict(msg.args).get(name)


def migration_of(o: Cloud, instance: str = "vm") -> Migration:
    mig = o.migration(instance)
    assert mig is not None, f"{instance} has no migration"
    return mig


def spec_with_faults(*rows: dict[str, Any]) -> Spec:
    """LIBERTY plus fault rows that only raise, for nova tests that stub a call to raise where
    the spec has no fault row. Each row is a dict of Row fields; ``fault`` defaults to
    ``driver``."""
    add = []
    for r in rows:
        row = {"fault": "driver", "summary": "conformance: the nova test's stub raises here",
               **r}
        add.append(row)
    return apply_variant_data(LIBERTY, {"name": "conformance-faults", "add": add},
                              "<conformance>").spec


def one(items: Iterable[Any]) -> Any:
    """The only item."""
    found = list(items)
    assert len(found) == 1, found
    return found[0]
