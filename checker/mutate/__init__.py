"""Spec mutation testing: would these configurations notice a mistake in the tables?

``nova-resize mutate`` (docs/mutate.md) makes small mechanical mistakes in Liberty's tables
(:mod:`.operators`), each written as a variant file (:mod:`.variant_text`), judges each by
``diff`` against Liberty on every configuration given (:mod:`.runner`), tells the mutants that
make no difference apart (:mod:`.equivalence`) and reports the kill rate per operator
(:mod:`.report`); :mod:`.campaign` runs the whole.
"""
