"""Quota deltas of the resize family (nova/compute/utils.py, nova/compute/api.py).

Reserve, commit and rollback follow nova/db/sqlalchemy/api.py: ``quota_reserve`` adds positive
deltas to ``reserved`` and refuses the whole request when ``in_use + reserved + delta`` exceeds
the limit for a positive delta; ``reservation_commit`` adds every delta to ``in_use`` and takes
positive ones out of ``reserved``; ``reservation_rollback`` takes positive ones out of
``reserved``. Both look reservations up with read_deleted="no", so each resolves at most once and a
second commit or rollback is a no-op. Resize never touches ``instances``.
"""

from __future__ import annotations

from .model import QuotaDelta

RESOURCES: tuple[str, ...] = ("instances", "cores", "ram")

QUOTA_DELTAS: tuple[QuotaDelta, ...] = (
    QuotaDelta(
        "upsize",
        "nova/compute/utils.py:upsize_quota_delta",
        "resize",
        new="local.flavor",
        old="instance.flavor",
        sense=1,
        compare=1,
        summary="resize: the growth of cores and ram from the current to the new flavor",
    ),
    QuotaDelta(
        "downsize",
        "nova/compute/utils.py:downsize_quota_delta",
        "resize",
        new="instance.new_flavor",
        old="instance.old_flavor",
        sense=1,
        compare=-1,
        summary="confirm: the shrink of cores and ram from old_flavor to new_flavor (negative)",
    ),
    QuotaDelta(
        "reverse_upsize",
        "nova/compute/utils.py:reverse_upsize_quota_delta",
        "resize",
        new="migration.new_flavor",
        old="migration.old_flavor",
        sense=-1,
        compare=-1,
        summary="revert: the undoing of the upsize, read from the migration's flavor ids",
    ),
    QuotaDelta(
        "delete",
        "nova/compute/api.py:API._create_reservations",
        "delete",
        new=None,
        old="instance.flavor",
        summary="delete: instances -1, cores and ram of the instance's current flavor",
    ),
    QuotaDelta(
        "delete_old_flavor",
        "nova/compute/utils.py:get_inst_attrs_from_migration",
        "delete",
        new=None,
        old="migration.old_flavor",
        summary="delete in resize_migrated/resize_finish with a post-migrating migration whose "
        "new flavor is already the instance's: the old flavor's cores and ram (bug 1099729)",
    ),
    QuotaDelta(
        "restore",
        "nova/compute/api.py:API._check_num_instances_quota",
        "create",
        new=None,
        old="instance.flavor",
        summary="restore: instances +1, cores and ram of the instance's current flavor "
        "(instance.get_flavor(), the stashed copy); OverQuota becomes TooManyInstances",
    ),
)
