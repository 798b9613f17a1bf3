"""The ``nova-resize`` command line: a thin layer that parses, dispatches to the wings and maps
errors to exit statuses (:mod:`.main`); one module per group of commands."""

from nova_resize import native

# the command line runs the compiled engine when a current build exists (nova_resize/native.py)
native.WANTED = True

from .main import build_parser, main  # noqa: E402

__all__ = ["build_parser", "main"]
