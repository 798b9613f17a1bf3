"""The layout shows the architecture, and stays that way: three floors (checker -> engine ->
spec, nothing importing upward), no import cycle, modules short enough to read in one sitting,
and a project that stands on its own."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"nova_resize": ROOT / "nova_resize", "nova_resize.spec": ROOT / "spec",
            "nova_resize.engine": ROOT / "engine", "nova_resize.checker": ROOT / "checker"}
MAX_LINES = 500


def _modules() -> dict[str, Path]:
    out = {}
    for pkg, folder in PACKAGES.items():
        for p in folder.rglob("*.py"):
            rel = p.relative_to(folder).with_suffix("")
            parts = [x for x in rel.parts if x != "__init__"]
            if pkg == "nova_resize" and parts and parts[0] in ("spec", "engine", "checker"):
                continue
            out[".".join([pkg, *parts])] = p
    return out


def _runtime_imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Modules imported when ``name`` is imported (not those under ``if TYPE_CHECKING``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_pkg = path.name == "__init__.py"
    base = name.split(".") if is_pkg else name.split(".")[:-1]
    out: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                visit(node.orelse)
                continue
            if isinstance(node, ast.Import):
                out.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    parent = base[: len(base) - node.level + 1]
                    mod = ".".join(parent + ([node.module] if node.module else []))
                else:
                    mod = node.module or ""
                out.add(mod)
                for a in node.names:
                    if f"{mod}.{a.name}" in known:
                        out.add(f"{mod}.{a.name}")
            elif isinstance(node, (ast.If, ast.Try, ast.With)):
                for field in ("body", "orelse", "finalbody", "handlers"):
                    for sub in getattr(node, field, []):
                        visit(sub.body if isinstance(sub, ast.ExceptHandler) else [sub])

    visit(tree.body)
    return {m for m in out if m in known}


def _graph() -> nx.DiGraph:
    mods = _modules()
    g = nx.DiGraph()
    for name, path in mods.items():
        g.add_node(name)
        for dep in _runtime_imports(name, path, set(mods)):
            if dep != name and not name.startswith(dep + "."):
                g.add_edge(name, dep)
    return g


def test_no_import_cycle():
    cycles = list(nx.simple_cycles(_graph()))
    assert not cycles, f"import cycles: {cycles[:3]}"


def test_the_floors_import_only_downward():
    floor = {"nova_resize.spec": 0, "nova_resize.engine": 1, "nova_resize.checker": 2}
    for a, b in _graph().edges:
        fa = next((v for k, v in floor.items() if a.startswith(k)), -1)
        fb = next((v for k, v in floor.items() if b.startswith(k)), -1)
        assert fb <= fa, f"{a} imports {b}, a floor above it"


def test_the_generic_explorer_knows_nothing_of_nova():
    for a, b in _graph().edges:
        if a.startswith("nova_resize.checker.explorer"):
            # errors, and files (atomic writes: the checkpoints), know nothing of Nova either
            assert b.startswith(("nova_resize.checker.explorer", "nova_resize.errors",
                                 "nova_resize.files")), \
                f"{a} imports {b}"


def test_checker_modules_are_short_or_say_why():
    for name, path in _modules().items():
        if not name.startswith("nova_resize.checker"):
            continue
        n = len(path.read_text(encoding="utf-8").splitlines())
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        assert n <= MAX_LINES or "longer than" in doc, f"{name}: {n} lines"


def test_the_project_stands_on_its_own():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    for rel in tracked:
        p = ROOT / rel
        if p.suffix in (".svg", ".png") or not p.is_file():
            continue
        text = p.read_text(encoding="utf-8", errors="replace")
        assert "../" + "shared" not in text and "/work/" + "shared" not in text, rel


def test_the_checker_does_not_import_the_engine_s_internals():
    # the step machinery (Tx, effects, refs, quota, resources, handlers) is the engine's own;
    # the checker uses what nova_resize.engine and its public modules export
    import re

    root = Path(__file__).resolve().parent.parent / "checker"
    internal = re.compile(r"from nova_resize\.engine\.(tx|effects|refs|quota|resources|handlers)"
                          r"\b|import nova_resize\.engine\.(tx|effects|refs|quota|resources|"
                          r"handlers)\b")
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.py")
                 if internal.search(p.read_text(encoding="utf-8"))]
    assert offenders == []
