"""One hierarchy for every error the project raises on purpose.

Two branches matter to a caller:

* :class:`InputError` -- the user's mistake (a configuration, variant, observation file, baseline
  or flag that cannot be used). Its message is one line naming the file, key or line and what
  was expected. The command line prints it and exits with status 2. Each subclass also derives
  from the builtin it resembles (``ValueError``), as Hypothesis's errors do.
* :class:`ModelError` -- the tables asked the engine for something it cannot do (a bug in the
  spec or in a variant's rows, found while running). A variant's rows are the user's input, so
  the command line reports it in one line too, with status 2 when a variant is involved.

Anything else escaping a command is a bug of ours: the command line writes the traceback to a
file and exits with its internal-error status.
"""

from __future__ import annotations


class NovaResizeError(Exception):
    """Base of every error this project raises on purpose."""


class InputError(NovaResizeError, ValueError):
    """Bad input from the user; the message is one line."""


class ConfigError(InputError):
    """A configuration, variant, baseline or other TOML file is malformed."""


class VariantError(ConfigError):
    """A variant patches the tables into something the engine cannot run."""


class ObservationError(InputError):
    """An observation file (nova list, server show, notifications...) cannot be read."""


class UsageError(InputError):
    """A command-line flag or argument that cannot be used."""


class OutsideFragment(InputError):
    """A configuration outside what a symbolic encoding covers."""


class ModelError(NovaResizeError, RuntimeError):
    """The spec (or a variant) asked the engine for something it cannot resolve."""


class SpecError(ModelError):
    """A row refers to something that does not exist, or rows at one label overlap."""


class RunawayStep(ModelError):
    """One engine step ran more rows than any real handler can without blocking."""


class CloudError(NovaResizeError, RuntimeError):
    """A facade call that cannot be carried out (no such message, host or handler)."""


class IllegalTransition(ModelError):
    """A step changed an instance or migration in a way no row of the tables explains."""


__all__ = [
    "CloudError",
    "ConfigError",
    "IllegalTransition",
    "InputError",
    "ModelError",
    "NovaResizeError",
    "ObservationError",
    "OutsideFragment",
    "RunawayStep",
    "SpecError",
    "UsageError",
    "VariantError",
]
