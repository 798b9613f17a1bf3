"""nova-resize-model: Nova Liberty's resize family as tables, an engine and a checker.

The three parts install as ``nova_resize.spec`` (the tables), ``nova_resize.engine`` (the
interpreter) and ``nova_resize.checker`` (the search and the command line).
"""

__version__ = "0.1.0"
