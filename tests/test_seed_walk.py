"""The seed document's walk, replayed by the engine."""

from nova_resize.checker.traces.walk import seed_walk
from nova_resize.engine.presets import load_preset


def test_seed_walk_shows_the_task_states_of_the_seed_document():
    # given the seed's cloud: test-cirros-1 (m1.tiny) on compute-1
    # when it is resized to m1.small and every step runs
    snaps = seed_walk(load_preset("seed"))
    # then nova list shows exactly the Status / Task State columns the seed recorded
    shown = [(s.status, s.task_state) for s in snaps]
    assert shown == [
        ("ACTIVE", "-"),
        ("RESIZE", "resize_prep"),
        ("RESIZE", "resize_migrating"),
        ("RESIZE", "resize_migrated"),
        ("RESIZE", "resize_finish"),
        ("VERIFY_RESIZE", "-"),
    ]
    # and the instance moved to compute-2 when resize_migrated was saved
    assert "compute-1" in snaps[2].table and "compute-2" in snaps[3].table
    # and the power state column stays Running: the resize path never writes power_state
    assert all("Running" in s.table for s in snaps)
