"""The regression set reaches every row of Liberty's tables that any configuration can reach, so
that ``nova-resize mutate`` (which runs each mutant on these presets and calls a mutant whose rows
never run "unreached") can judge a mutant of every such row. A new row no regression preset
executes fails here: add a small preset for it (docs/mutate.md), or list it below with the
reason no configuration reaches it."""

from __future__ import annotations

from unittest import mock

import pytest
from nova_resize.checker.explicit.coverage import RowCoverage
from nova_resize.checker.explicit.model import NovaModel
from nova_resize.checker.explorer import Visitor, explore
from nova_resize.checker.symbolic.domains import analyse, outside, unreachable_rows
from nova_resize.engine import core, handlers
from nova_resize.engine.core import Engine
from nova_resize.engine.presets import load_preset, regression_names
from nova_resize.spec import LIBERTY

UNREACHABLE: dict[str, str] = {
    # what the model leaves out
    "compute.prep_resize.no_source_host": "an instance reaching prep_resize without a host needs "
    "a failed boot; not modelled (every instance starts on a host and keeps one: proved by "
    "checker/symbolic/domains.py)",
    "api.restore.no_host": "an instance without a host needs a failed boot; not modelled "
    "(proved by checker/symbolic/domains.py)",
    "init_instance.delete_failed.error_state": "restart recovery runs in one step, without "
    "fault injection, so the _delete_instance it resumes never fails",
    "api.delete.confirm_no_new_flavor": "confirm clears old_flavor and new_flavor in one step "
    "(three saves in Nova), so new_flavor is never missing alone",
    "conductor.cold_migrate.other": "the conductor's rows raise only NoValidHost and "
    "MaxRetriesExceeded; Nova's other failures there (the scheduler call timing out, server "
    "group policies) are not modelled (proved by checker/symbolic/domains.py)",
    "api.restore.except.other": "the restore's body raises only the quota's OverQuota (a "
    "failed save goes to api.restore.save_failed)",
    "error_out.not_implemented": "libvirt implements every driver method the resize family "
    "calls inside _error_out_instance_on_exception, and the model's driver raises no "
    "NotImplementedError there (soft_delete's and restore's are handled where they happen): "
    "no row raises it (proved by checker/symbolic/domains.py)",
    "compute.cleanup_incomplete_migrations.skip": "the engine offers a run of "
    "_cleanup_incomplete_migrations only for a migration it acts on (Engine.periodic_candidates "
    "applies the delete_files condition), and the run's first row is evaluated in the same step",
}


DOMAINS = analyse(LIBERTY)


class _Outside(Visitor):
    """Field values outside what checker/symbolic/domains.py says any configuration reaches."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def on_state(self, state, index, depth) -> None:
        self.found.extend(outside(DOMAINS, state))


def _rows_of(name: str) -> tuple[set[str], list[str]]:
    cov, out = RowCoverage(), _Outside()
    real = handlers.exec_row

    def exec_row(tb, tx, fr, row):  # what each row runs while raising, inside a step too
        here = DOMAINS.handler_exc.get(row.handler)
        if here is not None and fr.exc not in here:
            out.found.append(f"{row.id} ran while raising {fr.exc!r}")
        real(tb, tx, fr, row)

    with mock.patch.object(handlers, "exec_row", exec_row), \
            mock.patch.object(core, "exec_row", exec_row):
        ex = explore(NovaModel(Engine(load_preset(name), LIBERTY)), "bfs", None, [cov, out])
    assert ex.complete, name
    return set(cov.rows), out.found


@pytest.fixture(scope="module")
def runs() -> dict[str, tuple[set[str], list[str]]]:
    return {name: _rows_of(name) for name in regression_names()}


@pytest.fixture(scope="module")
def executed(runs) -> dict[str, set[str]]:
    return {name: rows for name, (rows, _) in runs.items()}


def test_the_rows_proved_unreachable_are_listed_and_the_proof_holds_on_every_preset(runs):
    # the proof (a fixpoint over the tables' writes) agrees with the reasons given above, and no
    # state of any regression preset has a field value the fixpoint left out
    proved = unreachable_rows(LIBERTY)
    assert proved and set(proved) <= set(UNREACHABLE), sorted(set(proved) - set(UNREACHABLE))
    assert {name: found[:3] for name, (_, found) in runs.items() if found} == {}


def test_the_regression_set_executes_every_row_but_the_listed_unreachable(executed):
    every = {r.id for r in LIBERTY.rows}
    union = set().union(*executed.values())
    assert set(UNREACHABLE) <= every, sorted(set(UNREACHABLE) - every)
    missing = sorted(every - union - set(UNREACHABLE))
    assert missing == [], f"rows no regression preset executes: {missing}"
    # a row listed as unreachable that a preset reaches is a stale entry
    assert sorted(set(UNREACHABLE) & union) == []


def test_the_rows_of_a_refused_request_are_covered(executed):
    # a request nova-api turns down is a self-loop of the explorer: its rows are executed and
    # seen like any other step's
    assert "api.resize.except.over_quota" in executed["regression-over-quota"]
    assert "api.restore.except.over_quota" in executed["regression-over-quota"]
