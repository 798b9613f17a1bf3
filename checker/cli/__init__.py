"""The ``nova-resize`` command line: a thin layer that parses, dispatches to the wings and maps
errors to exit statuses (:mod:`.main`); one module per group of commands."""

from .main import build_parser, main

__all__ = ["build_parser", "main"]
