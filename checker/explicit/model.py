"""The Nova engine as a model for the generic explorer.

The model's states are the engine's worlds, its actions the engine's typed actions, its steps
the engine's step results (the properties' transition checks read their events), its own steps
those Nova takes by itself, and its properties Nova's (:mod:`.properties`).
"""

from __future__ import annotations

from collections.abc import Sequence

from nova_resize.engine.actions import Action
from nova_resize.engine.core import Engine, StepResult
from nova_resize.engine.world import World

from ..explorer.model import Property
from .properties import PROPERTIES, Context


class NovaModel(Context):
    """The explorer's view of an :class:`Engine`."""

    def __init__(self, engine: Engine, properties: Sequence[Property] = PROPERTIES) -> None:
        super().__init__(engine)
        self.name = engine.config.name
        self._properties = tuple(properties)

    def init_states(self) -> list[World]:
        return [self.engine.initial()]

    def actions(self, state: World) -> list[Action]:
        return self.engine.enabled(state)

    def step(self, state: World, action: Action) -> StepResult | None:
        """The engine's step; None when it changes nothing (a refused request)."""
        res = self.engine.step(state, action)
        nw = res.world
        if nw is state or ((res.outcome or "").startswith("refused") and nw == state):
            return None
        return res

    def format_action(self, state: World, action: Action) -> str:
        return self.engine.describe(state, action)

    def is_own(self, state: World, action: Action) -> bool:
        return self.engine.is_own_step(state, action)

    def properties(self) -> tuple[Property, ...]:
        return self._properties


__all__ = ["NovaModel"]
