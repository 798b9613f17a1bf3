"""Traces of real clouds: reading operators' observations (:mod:`.observe`), validating them
against the spec (:mod:`.validate`), explaining one stuck instance (:mod:`.explain`), and the
seed document's walk (:mod:`.walk`)."""
