"""Planner behaviour tests: the shared world lives in `planworld`; this file holds the fixtures."""

from __future__ import annotations

import pytest

import planworld


@pytest.fixture(autouse=True)
def planner_packs_load_cleanly() -> None:
    """Every planner test needs the built-in packs to load without problems."""
    assert not [p for p in planworld.PROBLEMS if "jobset-" in str(p)], planworld.PROBLEMS
