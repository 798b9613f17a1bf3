"""z3 proofs: each is proved (or refuted for a known reason) on Liberty, and a deliberately
broken variant makes it fail."""

from __future__ import annotations

from pathlib import Path

import pytest
from nova_resize.checker.cli import main
from nova_resize.checker.cli.symbolic import load_proof_baseline
from nova_resize.checker.symbolic.induction import prove_inductive
from nova_resize.checker.symbolic.proofs import prove_disjoint, prove_legal_results
from nova_resize.checker.symbolic.quota_proofs import prove_quota
from nova_resize.checker.variants import apply_variant_text
from nova_resize.spec import LIBERTY

ROOT = Path(__file__).resolve().parent.parent


def variant(text: str):
    return apply_variant_text(LIBERTY, text, "broken.toml").spec


def by_name(results):
    return {(r.group, r.name): r for r in results}


def test_liberty_proves_everything_but_its_known_refutations(capsys):
    assert main(["prove", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "0 not in the baseline" in out
    known = load_proof_baseline(None)
    assert ("quota", "resize, confirm fails") in known


def test_disjoint_guards_are_proved_and_an_overlap_is_refuted():
    ok = by_name(prove_disjoint(LIBERTY))
    assert all(r.status == "proved" for r in ok.values())
    assert ("disjoint", "errors_out_migration:start") in ok
    broken = by_name(prove_disjoint(variant('''
[[replace]]
row = "errors_out_migration.instance_not_found"
when = ["exc is truthy"]
''')))
    r = broken[("disjoint", "errors_out_migration:start")]
    assert r.status == "refuted" and "both apply" in r.detail


def test_a_removed_guard_yields_an_undefined_pair():
    ok = by_name(prove_legal_results(LIBERTY))
    assert ok[("legal-result", "compute.resize_instance.task_migrating")].status == "proved"
    broken = by_name(prove_legal_results(variant('''
[[guard]]
row = "compute.resize_instance.task_migrating"
expected_task_state = "none"
''')))
    r = broken[("legal-result", "compute.resize_instance.task_migrating")]
    assert r.status == "refuted" and "resize_migrating" in r.detail


def test_quota_arithmetic_holds_for_all_sizes_and_a_misplaced_commit_is_refuted():
    ok = by_name(prove_quota(LIBERTY))
    for name in ("resize, confirm", "resize, revert", "resize, awaiting confirmation",
                 "resize, delete while resized", "migrate, confirm",
                 "resize, migrate_disk_and_power_off fails", "resize, no valid host"):
        assert ok[("quota", name)].status == "proved", ok[("quota", name)].detail
    broken = by_name(prove_quota(variant('''
[[replace]]
row = "compute.finish_resize.commit"
effects = [{type = "Quota", op = "rollback"}]
''')))
    r = broken[("quota", "resize, confirm")]
    assert r.status == "refuted" and "new.vcpus" in r.detail


def test_a_duplicated_reservation_is_refuted():  # a second upsize reserve never resolved
    broken = by_name(prove_quota(variant('''
[[replace]]
row = "compute.finish_resize.commit"
effects = [{type = "Quota", op = "commit"}, {type = "Quota", op = "reserve", delta = "upsize"}]
''')))
    assert broken[("quota", "resize, confirm")].status == "refuted"


def test_migration_endpoints_fixed_by_the_bug_1625462_fix():
    liberty = by_name(prove_inductive(LIBERTY))
    assert liberty[("inductive", "migration-endpoints-fixed")].status == "refuted"
    fixed = apply_variant_text(LIBERTY, (ROOT / "spec/variants/bug-1625462.toml").read_text(),
                               "bug-1625462.toml").spec
    assert by_name(prove_inductive(fixed))[("inductive",
                                            "migration-endpoints-fixed")].status == "proved"


@pytest.mark.parametrize("prop", ["legal-state", "host-consistent"])
def test_induction_reports_counterexamples_and_the_houdini_result(prop):
    r = by_name(prove_inductive(LIBERTY))[("inductive", prop)]
    # the proofs baseline says these are refuted on Liberty
    assert ("inductive", prop) in load_proof_baseline(None)
    assert r.status == "refuted"
    assert "not inductive on its own" in r.detail and "->" in r.detail
