"""A Hypothesis RuleBasedStateMachine over the engine: long random interleavings of clouds too
large to exhaust, with the properties as invariants. A violation that is not in the baseline
fails, and Hypothesis shrinks it to a minimal interleaving.

Used by the test suite (a small budget) and by ``nova-resize simulate --hypothesis`` (a larger
one, printing the shrunk trace as ``check`` prints its traces).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from nova_resize.engine.actions import Action
from nova_resize.engine.config import Config
from nova_resize.engine.core import Engine
from nova_resize.engine.presets import load_preset
from nova_resize.engine.world import World
from nova_resize.spec import LIBERTY, Spec

from ..explorer.model import Violation
from .baseline import Known, load_baseline, lookup
from .model import NovaModel

KINDS = ("api", "deliver", "run", "fail", "crash", "restart", "lose", "timeout", "periodic")


def large_config() -> Config:
    """The ``hypothesis`` preset: three instances and four hosts, larger than ``full`` and far
    beyond exhaustion."""
    return load_preset("hypothesis")


@dataclass
class Outcome:
    """What a run of the machine found: the first new violation and the actions leading to it."""

    prop: str | None = None
    key: str | None = None
    message: str | None = None
    actions: list[Action] = field(default_factory=list)


def machine_for(config: Config, spec: Spec = LIBERTY, known: list[Known] | None = None,
                outcome: Outcome | None = None) -> type[RuleBasedStateMachine]:
    """A RuleBasedStateMachine class for this cloud (a fresh class per configuration)."""
    engine = Engine(config, spec)
    model = NovaModel(engine)
    baseline = load_baseline(None) if known is None else known
    state_props = [p for p in model.properties() if p.always is not None]
    trans_props = [p for p in model.properties() if p.transition is not None]

    class CloudMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.world: World = engine.initial()
            self.actions: list[Action] = []

        def _has(self, kind: str) -> bool:
            return any(a[0] == kind for a in engine.enabled(self.world))


        def _enabled(self, kind: str) -> list[Action]:
            return [a for a in engine.enabled(self.world) if a[0] == kind]

        def _take(self, kind: str, data: st.DataObject) -> None:
            acts = self._enabled(kind)
            if not acts:
                return
            action = data.draw(st.sampled_from(acts), label=kind)
            before = self.world
            res = engine.step(before, action)
            self.actions.append(action)
            self.world = res.world
            for p in trans_props:
                self._check(p.name, p.transition(model, before, res))  # type: ignore[misc]

        def _check(self, prop: str, violations: list[Violation]) -> None:
            for v in violations:
                key, msg = v[0], v[1]
                where = model.locate(self.world, v[2] if len(v) > 2 else None)
                if lookup(baseline, prop, key, where) is None:
                    if outcome is not None:
                        outcome.prop, outcome.key, outcome.message = prop, key, msg
                        outcome.actions = list(self.actions)
                    raise AssertionError(f"{prop}: {key}: {msg}")

        @precondition(lambda self: self._has("api"))
        @rule(data=st.data())
        def user_request(self, data: st.DataObject) -> None:
            self._take("api", data)

        @precondition(lambda self: self._has("deliver"))
        @rule(data=st.data())
        def deliver_message(self, data: st.DataObject) -> None:
            self._take("deliver", data)

        @precondition(lambda self: self._has("run"))
        @rule(data=st.data())
        def run_handler_step(self, data: st.DataObject) -> None:
            self._take("run", data)

        @precondition(lambda self: self._has("fail"))
        @rule(data=st.data())
        def inject_failure(self, data: st.DataObject) -> None:
            self._take("fail", data)

        @precondition(lambda self: self._has("crash"))
        @rule(data=st.data())
        def crash_compute(self, data: st.DataObject) -> None:
            self._take("crash", data)

        @precondition(lambda self: self._has("restart"))
        @rule(data=st.data())
        def restart_compute(self, data: st.DataObject) -> None:
            self._take("restart", data)

        @precondition(lambda self: self._has("lose"))
        @rule(data=st.data())
        def lose_message(self, data: st.DataObject) -> None:
            self._take("lose", data)

        @precondition(lambda self: self._has("timeout"))
        @rule(data=st.data())
        def time_out_call(self, data: st.DataObject) -> None:
            self._take("timeout", data)

        @precondition(lambda self: self._has("periodic"))
        @rule(data=st.data())
        def periodic_task(self, data: st.DataObject) -> None:
            self._take("periodic", data)

        @precondition(lambda self: bool(engine.enabled(self.world)))
        @rule(data=st.data())
        def run_to_quiescence(self, data: st.DataObject) -> None:
            """Let Nova run on its own for a while (deliveries and handler steps only)."""
            for _ in range(data.draw(st.integers(1, 40), label="steps")):
                own = [a for a in engine.enabled(self.world) if a[0] in ("run", "deliver")]
                if not own:
                    break
                self._take_action(own[0])

        def _take_action(self, action: Action) -> None:
            before = self.world
            res = engine.step(before, action)
            self.actions.append(action)
            self.world = res.world
            for p in trans_props:
                self._check(p.name, p.transition(model, before, res))  # type: ignore[misc]

        @precondition(lambda self: not engine.enabled(self.world))
        @rule()
        def nothing_left_to_do(self) -> None:
            """Every budget is spent and Nova is idle: nothing can happen any more (a rule, so
            that some rule is always enabled)."""

        @invariant()
        def properties_hold_or_are_known(self) -> None:
            w = self.world
            for p in state_props:
                if p.when is not None and not p.when(model, w):
                    continue
                self._check(p.name, p.always(model, w))  # type: ignore[misc]

    return CloudMachine


def run_machine(config: Config, examples: int, steps: int, seed: int | None = None,
                spec: Spec = LIBERTY, known: list[Known] | None = None) -> Outcome:
    """Run the machine with a budget of examples; the returned outcome holds the shrunk failure
    (if any)."""
    from hypothesis.stateful import run_state_machine_as_test

    outcome = Outcome()
    cls = machine_for(config, spec, known, outcome)
    s = settings(max_examples=examples, stateful_step_count=steps, deadline=None,
                 suppress_health_check=list(HealthCheck), derandomize=seed is not None,
                 database=None, print_blob=False)
    if seed is not None:
        from hypothesis import seed as hseed

        cls.TestCase.settings = s

        def run() -> None:
            hseed(seed)(lambda: run_state_machine_as_test(cls, settings=s))()
    else:
        def run() -> None:
            run_state_machine_as_test(cls, settings=s)
    try:
        run()
    except AssertionError:
        return outcome
    return Outcome()


__all__ = ["KINDS", "Outcome", "large_config", "machine_for", "run_machine"]
