"""What the explorer needs from a model, and how properties are declared.

A model is a small protocol in the manner of Stateright's ``Model`` trait: its initial states,
the actions enabled in a state, the step an action takes (the next state and whatever the step
did that properties look at), a one-line description of an action, which steps the system takes
by itself (for liveness), and its named properties. States must be hashable and immutable;
actions hashable. Nothing in the search loops knows what a state means.

A :class:`Property` is declared once with its statement and up to three checks:

* ``always``: a predicate over every reachable state (or only those where ``when`` holds, such
  as quiescent ones), returning the violations it sees;
* ``transition``: a predicate over every step (the state before and the step taken);
* ``recoverable``: a liveness check: from every reachable state, some ``good`` state must be
  reachable through steps the system takes by itself (CTL's AG EF over the model's own steps).
  A state from which none is reachable is *stuck*; ``stuck_key`` names it for the report.

A violation is a ``(key, message)`` pair, or ``(key, message, subject)`` naming what it is
about (an instance, say): the key identifies the finding independently of the trace (a baseline
lists keys), the message says what is wrong in this state. A model may also :meth:`locate` a
violation -- where it happened: the subject's state, in the model's terms -- and name its
:meth:`cause` on a witness trace. A finding's identity is (property, key, where): the same
symptom in a different state is a different finding. The cause describes a witness, and is not
part of the identity, since it depends on the path the search took first, not on the state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

S = TypeVar("S")
A = TypeVar("A")
Violation = tuple[str, str] | tuple[str, str, str]


class Step(Protocol):
    """What a step returns: at least the next state (``world`` for historical reasons: a Nova
    step's result names its state so)."""

    @property
    def state(self) -> Any: ...


@dataclass(frozen=True)
class Recoverable:
    """AG EF ``good`` over the model's own steps.

    ``stuck_key(model, state, has_own_step)`` names a stuck state for the report (None: a stuck
    state not worth its own finding, typically one on the way to a named one); ``message(key)``
    says what a stuck state with that key means."""

    good: Callable[[Any, Any], bool]
    stuck_key: Callable[[Any, Any, bool], str | None]
    message: Callable[[str], str] = lambda key: f"stuck: {key}"


@dataclass(frozen=True)
class Property:
    """A named property with its statement and its checks (see the module docstring)."""

    name: str
    statement: str
    always: Callable[[Any, Any], list[Violation]] | None = None
    when: Callable[[Any, Any], bool] | None = None
    transition: Callable[[Any, Any, Any], list[Violation]] | None = None
    recoverable: Recoverable | None = None
    bugs: tuple[str, ...] = ()
    triggers: frozenset[str] | None = None
    """The kinds of step its transition check can fire on, as the model's optional
    ``step_kinds(step)`` names them: on a step of none of these kinds the check is known to
    hold without calling it. None: it is called on every step."""

    @property
    def kind(self) -> str:
        """``liveness`` for a recoverable property, else ``invariant``."""
        return "liveness" if self.recoverable is not None else "invariant"

    @property
    def checks(self) -> tuple[str, ...]:
        """Which checks it has: ``always``, ``when`` (an always check restricted to some
        states), ``transition``, ``recoverable``."""
        out = []
        if self.always is not None:
            out.append("when" if self.when is not None else "always")
        if self.transition is not None:
            out.append("transition")
        if self.recoverable is not None:
            out.append("recoverable")
        return tuple(out)


class Model(Protocol[S, A]):
    """The protocol every model implements (see the module docstring)."""

    name: str

    def init_states(self) -> Sequence[S]:
        """The initial states."""
        ...

    def actions(self, state: S) -> Iterable[A]:
        """The actions enabled in ``state``."""
        ...

    def step(self, state: S, action: A) -> Any:
        """The step ``action`` takes from ``state``: an object with the next state as
        ``.state`` (and whatever transition properties read), or None when the action changes
        nothing (a refused request)."""
        ...

    def format_action(self, state: S, action: A) -> str:
        """A one-line description of ``action`` in ``state``."""
        ...

    def is_own(self, state: S, action: A) -> bool:
        """Whether the system takes this step by itself (no user, no injected fault)."""
        ...

    def properties(self) -> Sequence[Property]:
        """The properties to check."""
        ...


class Successors(Protocol):
    """Optional: models that produce every (action, next state) of a state at once. The
    explorer uses it when nothing looks at the steps (no transition check, step visitor or
    liveness), skipping the step objects (Stateright's ``next_states``)."""

    def successors(self, state: Any) -> Any:
        """(action, next state) for each enabled action that changes something."""
        ...


class IntStates(Protocol):
    """Optional: models whose every state is a non-negative int below ``2**61 - 1`` (a packed
    state vector) may say so with ``states_are_fingerprints = True``. CPython hashes such an
    int to itself, so the state is its own exact fingerprint and the breadth-first loop uses it
    without calling ``hash`` (everywhere else ``hash`` gives the same number). The search checks
    the initial states and refuses a model whose claim they break."""

    states_are_fingerprints: bool


INT_STATE_LIMIT = (1 << 61) - 1
"""CPython's hash modulus: non-negative ints below it are their own hash."""


class Locating(Protocol):
    """Optional: models that name where a violation happened and what caused it."""

    def locate(self, state: Any, subject: str | None) -> str:
        """Where: the subject's state (all of the state's relevant parts when ``subject`` is
        None)."""
        ...

    def cause(self, actions: list[Any], subject: str | None) -> str:
        """What caused a violation seen at the end of ``actions`` (a witness trace)."""
        ...


class Outcome(Generic[S]):
    """A plain step result for models whose steps carry nothing but the next state (a slotted
    class: one is made per transition)."""

    __slots__ = ("info", "state")

    def __init__(self, state: S, info: Any = None) -> None:
        self.state = state
        self.info = info

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Outcome) and self.state == other.state
                and self.info == other.info)

    def __hash__(self) -> int:
        return hash((self.state, self.info))

    def __repr__(self) -> str:
        return f"Outcome({self.state!r}, {self.info!r})"


__all__ = [
    "INT_STATE_LIMIT",
    "A",
    "IntStates",
    "Locating",
    "Model",
    "Outcome",
    "Property",
    "Recoverable",
    "S",
    "Step",
    "Successors",
    "Violation",
]
