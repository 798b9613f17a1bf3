"""The engine: executes the spec's rows. Importable as a reference implementation of nova
12.0.0's resize family, for use as an oracle in other test suites (docs/oracle.md).

The stable surface is what ``__all__`` lists:

- :class:`Cloud` drives a cloud by hand (requests, steps, faults, database writes, replay) and
  reads it back with named fields; :class:`Engine` is the pure step function underneath
  (``initial``, ``enabled``, ``step``).
- :class:`World` and its records (:class:`Instance`, :class:`Migration`, :class:`Reservation`,
  :class:`Quota`, :class:`Host`, :class:`Message`, :class:`Frame`, :class:`Requests`) are
  immutable values; :func:`world_to_json` / :func:`world_from_json` store them exactly.
- Actions (:class:`ApiRequest`, :class:`Deliver`, :class:`Run`, :class:`Fail`,
  :class:`Lose`, :class:`Timeout`, :class:`Crash`, :class:`StayDown`, :class:`Restart`,
  :class:`Periodic`) are
  typed tuples; :func:`action_to_json` / :func:`action_from_json` are their JSON form.
- A step returns a :class:`StepResult`: rows, :class:`Event` records, :class:`Notification`
  records (with publisher and payload), the messages sent and nova-api's :class:`ApiOutcome`.
- Configurations: :class:`Config`, :func:`load_config`, :func:`load_preset`,
  :func:`parse_config`.
- Errors: every error raised on purpose derives from :class:`NovaResizeError`; bad input is an
  :class:`InputError` (a ``ValueError``).
"""
# ruff: noqa: E402 (the compiled modules are activated before the package imports its own)

from nova_resize import native as _native

# the compiled modules, when a current build exists (nova_resize/native.py); before any import
# of the engine's own modules
NATIVE = _native.activate(__path__)

from nova_resize.spec import LIBERTY

from nova_resize.errors import (
    CloudError,
    ConfigError,
    IllegalTransition,
    InputError,
    ModelError,
    NovaResizeError,
    RunawayStep,
    SpecError,
)

from .actions import (
    ACTION_TYPES,
    Action,
    ApiRequest,
    Crash,
    Deliver,
    Fail,
    Lose,
    Periodic,
    Restart,
    Run,
    StayDown,
    Timeout,
    coerce,
)
from .actions import from_json as action_from_json
from .actions import to_json as action_to_json
from .config import Config, Flavor, HostConfig, InstanceConfig, load_config, parse_config
from .core import Engine, StepResult, describe
from .facade import OPERATIONS, Api, Cloud, Record, trace_actions
from .outcome import ApiOutcome
from .presets import load_preset, preset_names
from .serialize import world_dumps, world_from_json, world_to_json
from .tx import UPDATE, Event, Notification
from .views import HostUsage, QuotaUsage, ResourceQuota
from .world import Frame, Host, Instance, Message, Migration, Quota, Requests, Reservation, World

__all__ = [
    "ACTION_TYPES",
    "LIBERTY",
    "OPERATIONS",
    "UPDATE",
    "Action",
    "Api",
    "ApiOutcome",
    "ApiRequest",
    "Cloud",
    "CloudError",
    "Config",
    "ConfigError",
    "Crash",
    "Deliver",
    "Engine",
    "Event",
    "Fail",
    "Flavor",
    "Frame",
    "Host",
    "HostConfig",
    "HostUsage",
    "IllegalTransition",
    "InputError",
    "Instance",
    "InstanceConfig",
    "Lose",
    "Message",
    "Migration",
    "ModelError",
    "Notification",
    "NovaResizeError",
    "Periodic",
    "Quota",
    "QuotaUsage",
    "Record",
    "Requests",
    "Reservation",
    "ResourceQuota",
    "Restart",
    "Run",
    "RunawayStep",
    "SpecError",
    "StayDown",
    "StepResult",
    "Timeout",
    "World",
    "action_from_json",
    "action_to_json",
    "coerce",
    "describe",
    "load_config",
    "load_preset",
    "parse_config",
    "preset_names",
    "trace_actions",
    "world_dumps",
    "world_from_json",
    "world_to_json",
]
