"""Spec mutation testing."""
