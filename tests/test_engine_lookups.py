"""The engine's small pieces that every step leans on, tested directly: lookups by name that must
not answer with a neighbour, the hypervisor's move of an instance directory aside when a copy is
already there, and the resource tracker's rule for an instance it does not track yet. (Found by
mutation testing of the engine: bench/bench_mutation.py.)"""

from __future__ import annotations

import pytest
from conftest import cloud, config
from nova_resize.checker.variants import apply_variant_text
from nova_resize.engine import effects
from nova_resize.engine.facade import Cloud
from nova_resize.engine.tx import Tx, WFrame
from nova_resize.engine.world import frame_of
from nova_resize.spec import LIBERTY
from nova_resize.spec import model as m


def _frame(c, fid: str = "vm.0", service: str = "host1", **locals_) -> WFrame:
    inst = c.instance("vm")
    return WFrame(fid, service, "m", "h", "l", inst, set(), None, None, set(), dict(locals_),
                  None, None, None, False, None, False)


def test_frame_of_finds_exactly_the_frame_named_and_refuses_any_other():
    c = cloud()
    w = c.world._replace(frames=tuple(_frame(c, fid).freeze() for fid in ("vm.0", "vm.2")))
    assert frame_of(w, "vm.0").id == "vm.0" and frame_of(w, "vm.2").id == "vm.2"
    for missing in ("", "a", "vm.1", "vm.00", "vm.3", "zz"):  # before, between, after them
        with pytest.raises(KeyError):
            frame_of(w, missing)


def test_tx_finds_instances_and_hosts_by_exact_name():
    c = cloud()
    tx = Tx.of(c.world)
    assert tx.instances[tx.inst_index("vm")].name == "vm"
    for missing in ("", "v", "vm0", "vz", "a"):
        with pytest.raises(KeyError):
            tx.inst_index(missing)
    assert tx.host("host2") is not None and tx.host("host2").name == "host2"
    assert tx.host("host0") is None and tx.host("host3") is None and tx.host(None) is None


def test_migrate_disk_keeps_a_resize_copy_already_moved_aside():
    # libvirt's migrate_disk_and_power_off renames <path> to <path>_resize: when a copy from an
    # earlier same-host resize is still there, the instance still has one afterwards
    c = cloud()
    tb = c.engine.tables
    for already in (False, True):
        tx = Tx.of(c.world)
        h = tx.host("host1")
        assert h is not None and "vm" in h.disks and "vm" not in h.resize_disks
        if already:
            tx.set_host(h._replace(resize_disks=h.resize_disks | {"vm"}))
        effects._driver(tb, tx, _frame(c, dest="host2"), m.Driver("power_off", to="local.dest"))
        h1, h2 = tx.host("host1"), tx.host("host2")
        assert h1 is not None and h2 is not None
        assert "vm" in h1.resize_disks and "vm" not in h1.disks and "vm" in h2.disks
        assert "vm" not in h1.running


def test_an_untracked_instance_is_counted_by_update_usage_only_when_the_rule_says_so():
    # Liberty: update_usage changes nothing for an instance the tracker does not track yet
    c = cloud()
    tx = Tx.of(c.world)
    h = tx.host("host1")
    assert h is not None and "vm" in h.tracked_instances
    bare = h._replace(tracked_instances=h.tracked_instances - {"vm"}, usage=(0, 0, 0))
    tx.set_host(bare)
    inst = tx.instances[tx.inst_index("vm")]
    c.engine.tables.resources.update_usage(tx, "host1", inst)
    assert tx.host("host1") == bare
    # a tracker that counts any instance of its host (the rule off): tracked, usage added
    spec = apply_variant_text(LIBERTY, "[resource_tracker]\nupdate_usage_tracked_only = false\n",
                              "rt.toml").spec
    c2 = Cloud.from_config(config(), spec)
    tx2 = Tx.of(c2.world)
    tx2.set_host(bare)
    c2.engine.tables.resources.update_usage(tx2, "host1", inst)
    after = tx2.host("host1")
    assert after is not None and "vm" in after.tracked_instances
    assert after.usage == (1, 512, 10)  # small: 1 vCPU, 512 MB, 10 GB


def test_an_exception_enters_the_first_handler_of_its_chain_at_that_handler_s_entry():
    # without error_out's first row (its quota rollback) the handler starts at its next label;
    # a failure of resize_instance must still run error_out from there, then the rest
    spec = apply_variant_text(LIBERTY, '[[remove]]\nrow = "error_out.rollback"\n',
                              "no-rollback.toml").spec
    assert spec.handler("error_out").entry == "state"
    assert spec.handler("resize_instance").chain("body")[0] == "error_out"
    c = Cloud.from_config(config(), spec)
    c.api.resize("vm", "medium")
    c.fail("compute.resize_instance.migrate_disk_fails")
    c.run_until_quiescent()
    vm = c.instance("vm")
    assert (vm.vm_state, vm.task_state) == ("error", None)
    assert {"error_out.error_state", "errors_out_migration.error"} <= set(c.rows())
    assert c.migration("vm").status == "error"
    assert [r.status for r in c.reservations] == ["pending"]  # nothing rolled it back

