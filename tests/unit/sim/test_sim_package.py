"""The simulation package's public surface: one sorted `__all__`, nothing else public."""

from __future__ import annotations

import types

from engine.localcluster import sim


def test_all_is_sorted_and_lists_exactly_the_public_names() -> None:
    assert sim.__all__ == sorted(sim.__all__)
    public = {name for name, value in vars(sim).items()
              if not name.startswith("_") and not isinstance(value, types.ModuleType)
              and str(getattr(value, "__module__", "")).startswith(sim.__name__)}
    assert public == set(sim.__all__)
