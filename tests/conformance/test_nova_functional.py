"""Ported from nova 12.0.0 nova/tests/functional/api_sample_tests: the server actions resize,
revertResize, confirmResize and migrate are accepted.

These tests run real services with the CastAsCall fixture
(nova/tests/functional/integrated_helpers.py:_IntegratedTestBase.setUp): every cast is a call,
so the HTTP answer comes after the whole chain of compute handlers has returned, and an
exception in any of them would replace the 202 with an error. A port therefore also checks
that every handler the request started returned normally."""

from __future__ import annotations

from conftest import Oracle, nova, one, oracle

SA = "nova/tests/functional/api_sample_tests/test_servers.py::ServersActionsJsonTest::"


def _all_returned(o: Oracle, start: int) -> None:
    failed = [e for e in o.ends(start) if not e.ok]
    assert failed == []


def _resized_in_place() -> Oracle:
    # given one compute host and allow_resize_to_same_host (the samples' setting)
    o = oracle(hosts=1, options={"allow_resize_to_same_host": True})
    # when the server is resized: the request is accepted (HTTP 202)
    assert o.api.resize("vm", "medium").outcome == "accepted"
    # and every handler of the chain returned; it waits for confirmation on the same host
    o.run_until_quiescent()
    _all_returned(o, 0)
    assert o.status("vm") == ("VERIFY_RESIZE", "-")
    assert o.instance("vm").host == "host1"
    return o


@nova(SA + "test_server_resize",
      "nova/tests/functional/api_sample_tests/test_disk_config.py::DiskConfigJsonTest::"
      "test_resize_server")
def test_server_resize_action():
    _resized_in_place()


@nova(SA + "test_server_revert_resize")
def test_server_revert_resize_action():
    """nova keeps the disk a same-host revert needs: revert_resize passes destroy_disks = not
    _is_instance_storage_shared(host=migration.source_compute) (manager.py L3502-3505), which
    is True when the source is this very host (L854-877; libvirt's temp-file probe,
    driver.py L5044-5077), and libvirt keeps the source copy in <dir>_resize anyway
    (finish_revert_migration, driver.py L6881-6895). The engine's compute.revert_resize.destroy
    drops the host's one disk copy, so finish_revert_resize raises InstanceDiskMissing."""
    o = _resized_in_place()
    start = o.mark()
    # when the resize is reverted: accepted (HTTP 202)
    assert o.api.revert_resize("vm").outcome == "accepted"
    # and revert_resize and finish_revert_resize both returned
    o.run_until_quiescent()
    _all_returned(o, start)
    assert o.status("vm") == ("ACTIVE", "-")
    assert o.instance("vm").flavor == "small"


@nova(SA + "test_server_confirm_resize")
def test_server_confirm_resize_action():
    o = _resized_in_place()
    start = o.mark()
    # when the resize is confirmed: accepted (HTTP 204)
    assert o.api.confirm_resize("vm").outcome == "accepted"
    # and confirm_resize returned
    o.run_until_quiescent()
    _all_returned(o, start)
    assert o.status("vm") == ("ACTIVE", "-")
    assert o.instance("vm").flavor == "medium"


@nova("nova/tests/functional/api_sample_tests/test_migrate_server.py::"
      "MigrateServerSamplesJsonTest::test_post_migrate")
def test_server_migrate_action():
    # given an ACTIVE server
    o = oracle()
    # when an admin migrates it: accepted (HTTP 202), handed to the conductor
    assert o.api.migrate("vm").outcome == "accepted"
    call = one(o.world.messages)
    assert (call.method, call.target) == ("migrate_server", "conductor")
