"""Flavors: an admin deleting one while a resize uses it (nova/api/openstack/compute/
flavor_manage.py, nova/compute/flavors.py, nova/db/sqlalchemy/api.py).

``flavor_destroy`` soft-deletes the instance_types row. Since Kilo each instance carries copies
of its current, old and new flavors (instance_extra), which every step of the resize family
reads, and compute RPC 4.x sends Flavor objects; so only the lookups by id still see a deleted
flavor: ``API.resize``'s target flavor (``api.resize.flavor_not_found``),
``reverse_upsize_quota_delta`` in ``API.revert_resize`` (``api.revert_resize.*_flavor_not_found``)
and ``get_inst_attrs_from_migration`` in the delete's reservation
(``api.delete.old_flavor_not_found``). Each is an ``unknown_flavor`` condition.
"""

from __future__ import annotations

from .model import ApiOperation, Cond, DestroyFlavor, Handler, Ref, Row, Validation

MANAGE = "nova/api/openstack/compute/flavor_manage.py:FlavorManageController._delete"

OPERATIONS: tuple[ApiOperation, ...] = (
    ApiOperation(
        name="delete_flavor",
        cite=MANAGE,
        handler="api.delete_flavor",
        lock_check=False,
        vm_states=None,
        task_states=None,
        must_have_launched=False,
        validations=(
            Validation(
                "api.delete_flavor.not_found",
                MANAGE,
                (Cond("local.flavor_id", "unknown_flavor"),),
                "FlavorNotFound",
                404,
                "get_flavor_by_flavor_id(read_deleted='no') finds no such flavor (already "
                "deleted)",
            ),
        ),
        takes_flavor=True,
        summary="DELETE /flavors/{id} (admin)",
        target="flavor",
    ),
)

HANDLERS: tuple[Handler, ...] = (
    Handler(
        "api.delete_flavor",
        "api",
        MANAGE,
        "start",
        summary="mark the flavor deleted",
    ),
)

ROWS: tuple[Row, ...] = (
    Row(
        "api.delete_flavor.destroy",
        "api.delete_flavor",
        "start",
        "nova/db/sqlalchemy/api.py:flavor_destroy",
        "flavors.destroy(name): the instance_types row, its extra specs and its project access "
        "are soft-deleted in one transaction; instances keep their stashed flavors",
        effects=(DestroyFlavor(Ref("local.flavor_id")),),
    ),
)
