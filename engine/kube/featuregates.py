"""Feature gates by their upstream names (spec §4): defaults, locks, and parsing.

Owns: `FeatureGates` (read-only after start-up) and `KNOWN` (name -> default, locked).
An unknown gate name, or a change to a locked gate, is a start-up error.
Called by: `kube.configuration` (builds them from `featureGates`), the manager and the
controllers (read them once at start-up: gates that change watches or indexes are not live).
Must not import: anything in `engine`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping


@dataclasses.dataclass(frozen=True)
class Gate:
    """One gate: its default and whether it is locked to that default (GA)."""

    default: bool
    stage: str
    locked: bool = False


KNOWN: Mapping[str, Gate] = {
    "ElasticJobSet": Gate(default=False, stage="Alpha"),
    "InPlaceRestart": Gate(default=False, stage="Alpha"),
    "RestartJob": Gate(default=False, stage="Alpha"),
    "TLSOptions": Gate(default=True, stage="GA", locked=True),
}


class FeatureGateError(ValueError):
    """An unknown gate, or an attempt to change a locked one."""


@dataclasses.dataclass(frozen=True)
class FeatureGates:
    """The effective value of every known gate."""

    values: Mapping[str, bool]

    def enabled(self, name: str) -> bool:
        """Whether gate `name` is on; an unknown name is a programming error (KeyError)."""
        return self.values[name]


def build(settings: Mapping[str, object] | None) -> FeatureGates:
    """Gates from `name -> bool` settings over the defaults; errors list every bad entry."""
    problems: list[str] = []
    values = {name: gate.default for name, gate in KNOWN.items()}
    for name, value in sorted((settings or {}).items()):
        gate = KNOWN.get(name)
        if gate is None:
            problems.append(f"unrecognized feature gate: {name} (known: {', '.join(sorted(KNOWN))})")
        elif not isinstance(value, bool):
            problems.append(f"feature gate {name}: value must be true or false, got {value!r}")
        elif gate.locked and value != gate.default:
            problems.append(f"cannot set feature gate {name} to {str(value).lower()}, "
                            f"feature is locked to {str(gate.default).lower()}")
        else:
            values[name] = value
    if problems:
        raise FeatureGateError("; ".join(problems))
    return FeatureGates(values)
