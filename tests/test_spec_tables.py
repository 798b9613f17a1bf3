"""The tables are well formed: ids, citations, labels, handlers, chains, edges."""

import json
import re

import pytest
from nova_resize.checker.spec_export import to_json, to_markdown
from nova_resize.spec import END, LIBERTY, RAISE
from nova_resize.spec import model as m
from nova_resize.spec.faults import FAULTS
from nova_resize.spec.states import STATE_MAP, STATE_PAIRS, api_status

CITE = re.compile(r"^nova/[a-z_/]+\.py:[A-Za-z_][A-Za-z_.]*$")


def test_row_ids_are_unique_and_every_row_cites_nova():
    ids = [r.id for r in LIBERTY.rows]
    assert len(ids) == len(set(ids))
    for r in LIBERTY.rows:
        assert CITE.match(r.cite), f"{r.id}: citation {r.cite!r}"
        assert r.summary, r.id
    for h in LIBERTY.handlers:
        assert CITE.match(h.cite), h.name
    for op in LIBERTY.operations:
        assert CITE.match(op.cite), op.name
        for v in op.validations:
            assert CITE.match(v.cite), v.id


def test_every_handler_has_rows_at_its_entry_and_every_label_is_defined():
    labels = {(r.handler, r.at) for r in LIBERTY.rows}
    for h in LIBERTY.handlers:
        assert (h.name, h.entry) in labels, f"{h.name} has no row at its entry {h.entry}"
    for r in LIBERTY.rows:
        assert any(h.name == r.handler for h in LIBERTY.handlers), r.id
        for target in (r.then, r.on_fail):
            if target in (None, END, RAISE):
                continue
            assert (r.handler, target) in labels, f"{r.id}: no rows at {r.handler}:{target}"
        scopes = dict(LIBERTY.handler(r.handler).scopes)
        assert r.scope in scopes, f"{r.id}: scope {r.scope} not declared by {r.handler}"
        for e in r.effects:
            if isinstance(e, m.Goto):
                assert (e.handler, e.label) in labels, f"{r.id}: Goto {e.handler}:{e.label}"
                for name in e.chain or ():
                    LIBERTY.handler(name)


def test_error_chains_name_declared_handlers():
    for h in LIBERTY.handlers:
        for _, chain in h.scopes:
            for name in chain:
                LIBERTY.handler(name)


def test_at_most_one_otherwise_row_per_label_and_faults_are_known():
    seen = set()
    kinds = {k for k, _ in FAULTS}
    for r in LIBERTY.rows:
        if r.otherwise:
            assert (r.handler, r.at) not in seen, r.id
            seen.add((r.handler, r.at))
        if r.fault:
            assert r.fault in kinds, r.id
            assert not r.otherwise, r.id


def test_every_migration_status_write_has_an_edge():
    edges = {e.row for e in LIBERTY.migration_edges}
    for r in LIBERTY.rows:
        for e in r.effects:
            writes = isinstance(e, m.CreateMigration) or (
                isinstance(e, m.Set) and e.target == "migration" and e.name == "status"
            )
            if writes:
                assert r.id in edges, f"{r.id} writes migration.status without an edge"
    row_ids = {r.id for r in LIBERTY.rows}
    assert edges <= row_ids


def test_quota_effects_name_known_deltas():
    names = {q.name for q in LIBERTY.quota_deltas}
    for r in LIBERTY.rows:
        for e in r.effects:
            if isinstance(e, m.Quota) and e.op == "reserve":
                assert e.delta in names, r.id


def test_state_pairs_match_nova_state_map():
    for p in STATE_PAIRS:
        assert api_status(p.vm_state, p.task_state) == p.status
    assert api_status("active", "resize_reverting") == "ACTIVE"
    assert api_status("resized", "resize_reverting") == "REVERT_RESIZE"
    assert api_status("error", "resize_migrating") == "ERROR"
    assert set(STATE_MAP) <= set(LIBERTY.vm_states)


# The reference's step tables (nova-liberty-resize-compact.md §1, §3, §4, §5) mapped to rows.
REFERENCE_STEPS = {
    "A1 reserve upsize": "api.resize.reserve_upsize",
    "A2 save resize_prep [None]": "api.resize.save",
    "A7/A8 select_destinations, cast prep_resize": "conductor.migrate_server.select_destinations",
    "A10 set_flavor new": "compute.prep_resize.stash_new_flavor",
    "A10 old_vm_state": "compute.prep_resize.stash_old_vm_state",
    "A10a no source host": "compute.prep_resize.no_source_host",
    "A10a UnableToMigrateToSelf": "compute.prep_resize.same_host_unsupported",
    "A11/A12 resize_claim, cast resize_instance": "compute.prep_resize.resize_claim",
    "A14 migrating": "compute.resize_instance.migrating",
    "A15 save resize_migrating [resize_prep]": "compute.resize_instance.task_migrating",
    "A16 migrate_disk_and_power_off": "compute.resize_instance.migrate_disk_and_power_off",
    "A17 post-migrating": "compute.resize_instance.post_migrating",
    "A18/A19 save resize_migrated, cast finish_resize": "compute.resize_instance.task_migrated",
    "A20 set_flavor old": "compute.finish_resize.stash_old_flavor",
    "A20 _set_instance_info": "compute.finish_resize.set_instance_info",
    "A21 save resize_finish [resize_migrated]": "compute.finish_resize.task_finish",
    "A22 finish_migration": "compute.finish_resize.finish_migration",
    "A23 finished": "compute.finish_resize.finished",
    "A24 save resized [resize_finish]": "compute.finish_resize.resized",
    "A25 commit": "compute.finish_resize.commit",
    "C1 reserve downsize": "api.confirm_resize.reserve_downsize",
    "C2/C3 confirming, cast": "api.confirm_resize.confirming",
    "C4 re-read": "compute.confirm_resize.reread",
    "C4 already confirmed": "compute.confirm_resize.already_confirmed",
    "C4 unexpected status": "compute.confirm_resize.unexpected_status",
    "C4 instance not found": "compute.confirm_resize.instance_not_found",
    "C6 cleanup stored flavors": "compute.confirm_resize.cleanup_stored_flavors",
    "C7 confirm_migration": "compute.confirm_resize.confirm_migration",
    "C8/C9 confirmed, drop_move_claim": "compute.confirm_resize.confirmed",
    "C10 save [None, deleting]": "compute.confirm_resize.save_active",
    "C11 commit": "compute.confirm_resize.commit",
    "R1 reserve reverse upsize": "api.revert_resize.reserve_reverse_upsize",
    "R2 save resize_reverting [None]": "api.revert_resize.save",
    "R2 rollback on failure": "api.revert_resize.except.rollback",
    "R3/R4 reverting, cast": "api.revert_resize.reverting",
    "R6 destroy": "compute.revert_resize.destroy",
    "R7 reverted": "compute.revert_resize.reverted",
    "R8/R9/R10 drop claim, cast": "compute.revert_resize.drop_claim",
    "R12 restore flavor": "compute.finish_revert_resize.restore_flavor",
    "R12 host": "compute.finish_revert_resize.set_host",
    "R13 dest_compute": "compute.finish_revert_resize.migration_dest",
    "R14 finish_revert_migration": "compute.finish_revert_resize.finish_revert_migration",
    "R15 save [resize_reverting]": "compute.finish_revert_resize.launched",
    "R16a active": "compute.finish_revert_resize.active",
    "R16b powering-off": "compute.finish_revert_resize.powering_off",
    "R16b stop_instance": "compute.finish_revert_resize.stop_already_off",
    "R17 commit": "compute.finish_revert_resize.commit",
    "3.1 NotImplementedError": "error_out.not_implemented",
    "3.1 InstanceFaultRollback": "error_out.fault_rollback",
    "3.1 other": "error_out.error_state",
    "errors_out_migration": "errors_out_migration.error",
    "reverts_task_state": "reverts_task_state.revert",
    "reverts_task_state preempted": "reverts_task_state.preempted",
    "3.2 reschedule": "reschedule.call_conductor",
    "3.2 no retry": "reschedule.no_retry",
    "3.3 NoValidHost": "conductor.cold_migrate.no_valid_host",
    "3.3 other": "conductor.cold_migrate.other",
    "3.3 rollback": "conductor.task_rollback.rollback",
    "3.5 finish_resize except": "finish_resize.except.error_state",
    "4 init resize_prep": "compute.init_instance.resize_prep",
    "4 init resize_migrating": "compute.init_instance.resize_migrating",
    "5.1 auto-confirm": "compute.poll_unconfirmed_resizes.confirm",
    "5.2 audit": "compute.update_available_resource.audit",
    "6 delete deleting": "api.delete.set_deleting",
    "6 confirm on deleting": "api.delete.confirm_call",
    "6 terminate": "api.delete.terminate",
    "6 local delete": "api.delete.local_delete",
}


@pytest.mark.parametrize("step", sorted(REFERENCE_STEPS))
def test_spec_json_lists_every_reference_step_with_guard_and_citation(step):
    doc = to_json(LIBERTY)
    rows = {r["id"]: r for r in doc["rows"]}
    row = rows[REFERENCE_STEPS[step]]
    spec_row = LIBERTY.row(REFERENCE_STEPS[step])
    # the citation names a function of a nova module
    assert re.fullmatch(r"nova/[\w/]+\.py:[\w.]+", row["cite"]), row["cite"]
    # the export says what the row does: every condition and effect of the spec row
    assert row["when_text"] == [str(c) for c in spec_row.when]
    assert len(row["effects"]) == len(row["effects_text"]) == len(spec_row.effects)
    # a step the reference names with its guard ("save ... [resize_prep]") saves under it
    named = re.search(r"\[(.*?)\]", step)
    if named:
        assert row["guard"] == f"[{named.group(1)}]"


def test_guards_of_the_guarded_saves():
    doc = to_json(LIBERTY)
    guards = {r["id"]: r["guard"] for r in doc["rows"]}
    assert guards["api.resize.save"] == "[None]"
    assert guards["compute.resize_instance.task_migrating"] == "[resize_prep]"
    assert guards["compute.resize_instance.task_migrated"] == "[resize_migrating]"
    assert guards["compute.finish_resize.task_finish"] == "[resize_migrated]"
    assert guards["compute.finish_resize.resized"] == "[resize_finish]"
    assert guards["compute.confirm_resize.save_active"] == "[None, deleting]"
    assert guards["compute.finish_revert_resize.launched"] == "[resize_reverting]"
    assert guards["api.delete.set_deleting"] == "none"
    assert guards["compute.prep_resize.stash_new_flavor"] == "none"
    json.dumps(doc)


def test_markdown_has_a_section_per_handler():
    text = to_markdown(LIBERTY)
    for h in LIBERTY.handlers:
        assert f"## {h.name} (" in text
