"""The engine: executes the spec's rows. Importable as a reference implementation."""
