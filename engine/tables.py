"""The spec's tables compiled against one configuration: what the interpreter looks up on every
step, computed once.

:class:`Tables` is the only thing the effect, reference, quota and resource modules receive: they
never see the :class:`~nova_resize.engine.core.Engine` that drives them, so the engine's modules
form a tree (``core`` -> ``handlers`` -> ``effects`` -> ``refs``/``quota``/``resources`` ->
``tables``), not a cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nova_resize.spec import Spec
from nova_resize.spec import model as m

from nova_resize.errors import ConfigError

from .compiled import Chooser, Test, compile_chooser, compile_test
from .config import Config, Flavor
from .resources import Resources

EAGER_EFFECTS: tuple[type, ...] = (m.Set, m.Raise, m.Refuse, m.Goto, m.Lock)
"""Effects that touch only the running handler's memory: a row made of them alone runs in the
same step as the row before it (nothing else can observe the difference)."""


@dataclass
class Tables:
    """A spec compiled against a configuration."""

    spec: Spec
    config: Config
    flavors: dict[str, Flavor]
    quota_deltas: dict[str, m.QuotaDelta]
    handlers: dict[str, m.Handler]
    rows: dict[tuple[str, str], list[m.Row]]
    fault_rows: dict[tuple[str, str], list[m.Row]]
    eager: dict[str, bool]
    has_choice: dict[str, bool]
    resources: Resources
    host_names: tuple[str, ...]
    fifo: bool
    op_args: dict[str, tuple[Any, ...]]
    # generated code (engine/compiled.py), built the first time a label or a list of
    # conditions is met
    choosers: dict[tuple[str, str], Chooser] = field(default_factory=dict)
    tests: dict[tuple[m.Cond, ...], Test] = field(default_factory=dict)

    @classmethod
    def compile(cls, config: Config, spec: Spec) -> Tables:
        ops = {o.name for o in spec.operations}
        for k, _ in config.actions:
            if k not in ops:
                raise ConfigError(f"{config.source}: actions.{k}: the spec has no operation "
                                  f"{k!r} (operations: {', '.join(sorted(ops))})")
        rows: dict[tuple[str, str], list[m.Row]] = {}
        fault_rows: dict[tuple[str, str], list[m.Row]] = {}
        for r in spec.rows:
            (fault_rows if r.fault else rows).setdefault((r.handler, r.at), []).append(r)
        flavors = {f.name: f for f in config.flavors}
        return cls(
            spec=spec,
            config=config,
            flavors=flavors,
            quota_deltas={q.name: q for q in spec.quota_deltas},
            handlers={h.name: h for h in spec.handlers},
            rows=rows,
            fault_rows=fault_rows,
            eager={r.id: all(isinstance(e, EAGER_EFFECTS) for e in r.effects) for r in spec.rows},
            has_choice={r.id: any(isinstance(e, m.SelectDestination) for e in r.effects)
                        for r in spec.rows},
            resources=Resources(spec, config, flavors),
            host_names=tuple(h.name for h in config.hosts),
            # the arguments each configured request is made with
            op_args={o.name: (tuple(config.deletable_flavors) if o.target == "flavor" else
                              tuple(config.resize_flavors) if o.takes_flavor else
                              tuple(h.name for h in config.hosts) if o.takes_host else (None,))
                     for o in spec.operations},
            # Casts are delivered in any order unless [check] fifo: the bus is then a multiset.
            fifo=bool(config.check_option("fifo", False)),
        )

    def chooser(self, handler: str, label: str) -> Chooser:
        """The compiled choice of row at ``handler:label``."""
        key = (handler, label)
        ch = self.choosers.get(key)
        if ch is None:
            ch = self.choosers[key] = compile_chooser(self, self.rows.get(key, []),
                                                      f"{handler}:{label}")
        return ch

    def test(self, conds: tuple[m.Cond, ...]) -> Test:
        """The compiled conjunction of ``conds``."""
        t = self.tests.get(conds)
        if t is None:
            t = self.tests[conds] = compile_test(self, conds)
        return t

    def option(self, name: str) -> Any:
        return self.config.option(name)


__all__ = ["EAGER_EFFECTS", "Tables"]
