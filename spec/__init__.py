"""Nova Liberty's resize family as declarative tables: data only.

``LIBERTY`` is the whole specification (:class:`nova_resize.spec.model.Spec`): states, the API
operations, the conductor, scheduler and compute handlers as rows of atomic steps, error
handlers, restart recovery, periodic tasks, migration status edges, quota deltas, resource
tracker rules. Every row cites nova 12.0.0 (the properties' statements are the checker's).
"""

from .liberty import LIBERTY
from .model import END, RAISE, Spec

__all__ = ["END", "LIBERTY", "RAISE", "Spec"]
