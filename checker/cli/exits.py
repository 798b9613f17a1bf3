"""The exit-status contract every ``nova-resize`` command keeps (in the spirit of pytest's and
TLC's):

===  ==========================================================================================
 0   success: nothing new found, the observations fit, the proofs hold
 1   findings: a finding not in the baseline, a rejected trace, a refuted proof, a disagreement
 2   bad input or usage: a configuration, variant, observation file, baseline or flag that
     cannot be used; one line on stderr names the file, key or line and what was expected
 3   internal error: a bug of ours; the traceback is written to a file and stderr points to it
 4   incomplete: the run was stopped by a cap or bound (the default memory or state cap, or
     a bound set without --allow-partial) or interrupted (SIGINT, SIGTERM) before it could say
     0; whatever it had found is reported (and written to --json), marked partial; z3 answered
     unknown (prove, bmc) where the baseline does not expect it
===  ==========================================================================================

A run whose bounded end the user accepted (``--allow-partial``, or ``allow_partial = true`` in
the configuration's ``[check]`` table) ends 0 or 1 by what it found, its report marked partial;
without that, a bound the user set (``--max-states``...) ends it 4 like a default cap. New
findings make a partial run end 1: what was found is real whether or not the search finished.
"""

from __future__ import annotations

OK = 0
FINDINGS = 1
BAD_INPUT = 2
INTERNAL = 3
INCOMPLETE = 4

__all__ = ["BAD_INPUT", "FINDINGS", "INCOMPLETE", "INTERNAL", "OK"]
