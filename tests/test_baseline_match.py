"""A baseline entry matches a finding as a glob does (fnmatchcase), whether its key is an exact
key (compared as a string) or a pattern."""

from __future__ import annotations

import fnmatch

from hypothesis import given
from hypothesis import strategies as st
from nova_resize.checker.explicit.baseline import Known, glob_escape, lookup

TEXT = st.text(alphabet="ab*?[]!-/ :", max_size=8)


@given(TEXT, TEXT, TEXT, TEXT)
def test_an_entry_matches_as_fnmatchcase(key: str, pattern: str, where: str,
                                         where_pattern: str) -> None:
    k = Known("legal-state", pattern, "r", where=where_pattern)
    want = fnmatch.fnmatchcase(key, pattern) and fnmatch.fnmatchcase(where, where_pattern)
    assert k.matches("legal-state", key, where) is want
    assert not k.matches("claims-consistent", key, where)


@given(TEXT)
def test_an_escaped_key_matches_itself_only(key: str) -> None:
    k = Known("legal-state", glob_escape(key), "r")
    assert k.matches("legal-state", key, "anywhere")
    assert not k.matches("legal-state", key + "x", "anywhere")


def test_lookup_gives_the_first_entry_of_the_property_that_matches() -> None:
    entries = [Known("claims-consistent", "*", "a"), Known("legal-state", "x*", "b"),
               Known("legal-state", "*", "c")]
    assert lookup(entries, "legal-state", "xy") is entries[1]
    assert lookup(entries, "legal-state", "y") is entries[2]
    assert lookup(entries, "claims-consistent", "y") is entries[0]
    assert lookup(entries, "no-orphan", "y") is None
