"""Fixtures of the simulation's integration tests."""

from __future__ import annotations

from typing import Iterator

import pytest
import simharness


@pytest.fixture
def harness() -> Iterator[simharness.Harness]:
    yield simharness.Harness()
