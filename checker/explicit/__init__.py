"""Explicit search of Nova's state space: the engine as a model for the generic explorer
(:mod:`.model`), Nova's properties (:mod:`.properties`), baselines of known findings, reports,
row coverage, one whole check (:mod:`.run`) and the Hypothesis state machine."""
