"""z3's ``unknown`` (a timeout under load, an incomplete theory) is its own outcome: never a
proof, shown in prove's text and JSON, and an exit status other than 0."""

from __future__ import annotations

import json
from typing import Any

import pytest
import z3
from nova_resize.checker.cli import main
from nova_resize.checker.symbolic import encoding
from nova_resize.checker.symbolic.bmc import Encoding, crosscheck
from nova_resize.checker.symbolic.induction import prove_inductive
from nova_resize.checker.symbolic.proofs import prove_disjoint, prove_legal_results
from nova_resize.checker.symbolic.quota_proofs import prove_quota
from nova_resize.engine.presets import load_preset
from nova_resize.spec import LIBERTY


class Undecided:
    """A z3 solver that answers ``unknown`` to every query, as one that timed out does."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def check(self, *args: Any) -> Any:
        return z3.unknown

    def reason_unknown(self) -> str:
        return "timeout (injected)"

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@pytest.fixture
def z3_undecided(monkeypatch):
    """Every solver of the proofs answers unknown."""
    monkeypatch.setattr(encoding, "new_solver", lambda: Undecided(z3.Solver()))


def test_given_a_1ms_timeout_when_z3_meets_a_hard_query_then_decide_says_unknown(monkeypatch):
    # x^3 + y^3 = z^3 over positive integers: z3 can neither find a model nor refute it
    monkeypatch.setattr(encoding, "TIMEOUT_MS", 1)
    x, y, z = z3.Ints("x y z")
    s = encoding.new_solver()
    s.add(x > 0, y > 0, z > 0, x * x * x + y * y * y == z * z * z)
    assert encoding.decide(s) == "unknown"
    assert encoding.why_unknown(s) != ""


def test_given_an_easy_query_then_decide_tells_sat_from_unsat():
    x = z3.Int("x")
    s = encoding.new_solver()
    s.add(x > 2)
    assert encoding.decide(s) == "sat"
    s.add(x < 1)
    assert encoding.decide(s) == "unsat"


def test_given_z3_cannot_decide_then_no_disjointness_or_legal_result_is_proved(z3_undecided):
    disjoint = prove_disjoint(LIBERTY)
    assert disjoint and {r.status for r in disjoint} == {"unknown"}
    assert "could not decide" in disjoint[0].detail and "injected" in disjoint[0].detail
    legal = prove_legal_results(LIBERTY)
    assert legal and {r.status for r in legal} == {"unknown"}


def test_given_z3_cannot_decide_then_no_quota_path_is_proved(z3_undecided):
    quota = prove_quota(LIBERTY)
    assert quota and {r.status for r in quota} == {"unknown"}


def test_given_z3_cannot_decide_then_induction_proves_nothing_it_asked_z3(z3_undecided):
    results = {r.name: r for r in prove_inductive(LIBERTY)}
    # migration-endpoints-fixed is a syntactic check of the rows: z3 is not asked
    assert results.pop("migration-endpoints-fixed").status == "refuted"
    assert results and {r.status for r in results.values()} == {"unknown"}
    assert all("could not decide" in r.detail for r in results.values())


def test_given_z3_cannot_decide_when_prove_runs_then_it_reports_unknown_and_exits_4(
        z3_undecided, tmp_path, capsys):
    out_json = tmp_path / "proofs.json"
    assert main(["prove", "--json", str(out_json)]) == 4
    out = capsys.readouterr().out
    assert "unknown  disjoint " in out and "[UNKNOWN: not proved]" in out
    assert "z3 answered unknown on" in out
    doc = json.loads(out_json.read_text())
    statuses = {r["status"] for r in doc}
    assert "proved" not in statuses and "unknown" in statuses


def test_given_the_unknowns_are_in_the_baseline_when_prove_runs_then_it_exits_0(
        z3_undecided, tmp_path, capsys):
    out_json = tmp_path / "proofs.json"
    main(["prove", "--quiet", "--json", str(out_json)])
    doc = json.loads(out_json.read_text())
    lines = []
    for r in doc:
        lines += [f"[[{r['status']}]]", f"group = {json.dumps(r['group'])}",
                  f"name = {json.dumps(r['name'])}", 'reason = "z3 times out"', ""]
    baseline = tmp_path / "baseline.toml"
    baseline.write_text("\n".join(lines))
    capsys.readouterr()
    assert main(["prove", "--quiet", "--baseline", str(baseline)]) == 0
    assert "0 not in the baseline" in capsys.readouterr().out


def test_given_a_known_refutation_comes_back_unknown_then_prove_does_not_exit_0(
        z3_undecided, tmp_path, capsys):
    # the bundled baseline lists refutations only: an unknown under their names is not known
    assert main(["prove", "--quiet"]) == 4


def test_given_z3_cannot_decide_when_bmc_enumerates_then_the_depth_does_not_agree(monkeypatch):
    real = z3.SolverFor
    monkeypatch.setattr(z3, "SolverFor", lambda *a, **k: Undecided(real(*a, **k)))
    checks = list(crosscheck.iter_cross_check(Encoding(load_preset("bmc"), LIBERTY), 0))
    assert [c.depth for c in checks] == [0]
    assert all(c.unknown == "timeout (injected)" and not c.agree for c in checks)
    # the explicit side still reached its combinations; the z3 side found none it could trust
    assert checks[0].explicit and not checks[0].symbolic


def test_given_z3_cannot_decide_when_bmc_runs_then_it_exits_4(monkeypatch, tmp_path, capsys):
    real = z3.SolverFor
    monkeypatch.setattr(z3, "SolverFor", lambda *a, **k: Undecided(real(*a, **k)))
    out_json = tmp_path / "bmc.json"
    assert main(["bmc", "--depth", "1", "--json", str(out_json)]) == 4
    out = capsys.readouterr().out
    assert "z3 answered unknown" in out and "no conclusion" in out
    doc = json.loads(out_json.read_text())
    assert doc["agree"] is False
    assert doc["depths"][0]["unknown"] == "timeout (injected)"
