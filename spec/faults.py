"""The faults the checker can inject, each with its own budget in a configuration."""

from __future__ import annotations

FAULTS: tuple[tuple[str, str], ...] = (
    ("driver", "a virt driver call raises (rows with fault='driver')"),
    ("claim_refused", "the destination's resize claim is refused (ComputeResourcesUnavailable)"),
    ("no_valid_host", "the scheduler finds no valid host"),
    ("crash", "a compute service stops between two steps; its running handlers are lost; it "
     "is restarted later (init_host recovery)"),
    ("stay_down", "a compute service stops between two steps and is never restarted: nova-api "
     "and the conductor go on (the API's service_is_up check sees it down)"),
    ("lose", "an in-flight RPC message is lost"),
    ("timeout", "an RPC call times out at the caller while the callee still runs"),
)
