"""Symbolic checking with z3: proofs over the tables (:mod:`.proofs`, :mod:`.quota_proofs`,
:mod:`.induction`, sharing :mod:`.encoding`) and bounded model checking by a second interpreter
of the tables cross-checked against the engine (:mod:`.bmc`)."""
