"""Diagrams: graph data built from the spec and from engine runs (networkx), rendered as DOT
and drawn by Graphviz. ``spec_diagrams`` gives every diagram of the tables."""

from .spec_diagrams import spec_diagrams

__all__ = ["spec_diagrams"]
