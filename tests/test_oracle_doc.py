"""docs/oracle.md runs: its ``pycon`` blocks are doctests, executed in order in one namespace."""

from __future__ import annotations

import doctest
import re
from pathlib import Path
from typing import Any

DOC = Path(__file__).resolve().parent.parent / "docs" / "oracle.md"
BLOCK = re.compile(r"^```pycon\n(.*?)^```", re.S | re.M)


def test_the_oracle_guide_runs():
    text = DOC.read_text(encoding="utf-8")
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    namespace: dict[str, Any] = {}
    out: list[str] = []
    blocks = 0
    for m in BLOCK.finditer(text):
        line = text.count("\n", 0, m.start(1))  # the block's first line, counted from 0
        test = parser.get_doctest(m.group(1), namespace, "docs/oracle.md", str(DOC), line)
        runner.run(test, out=out.append, clear_globs=False)
        namespace.update(test.globs)  # a DocTest runs in a copy: carry it to the next block
        blocks += 1
    result = runner.summarize(verbose=False)
    assert blocks >= 8 and result.attempted >= 30
    assert result.failed == 0, "".join(out)
