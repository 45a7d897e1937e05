"""What each simulated container does: the scenario vocabulary and its resolution.

Owns: the `sim.jobset.x-k8s.io/` annotation vocabulary, the scenario file format, reading
`sleep DURATION` commands, and `Behaviour` (how long one run lasts, how it ends).
Called by: `sim.kubelet` (per pod and attempt), `sim.__init__` (loading a scenario file).
Must not import: anything in `engine` outside `localcluster`.

Vocabulary (pod-template annotations, or keys of a scenario-file rule without the prefix):

* `duration`: how long a run lasts ("30s", "2m", "1h", "500ms", or plain seconds).
* `exit-code`: the exit code of the main container when the run ends (default 0).
* `fail-at`: the run ends at this time with `exit-code`, which then defaults to 1.
* `never-ready`: "true" keeps the pod's Ready condition False while it runs.
* `container`: the container that carries the exit code (default: the first one).

Without `duration` or `fail-at`, a container whose whole program is `sleep D` (directly or as
the only statement of `sh -c` / `bash -c`) runs D, any other the default duration; the pod's
run lasts as long as its longest container.

Any key may be narrowed with `-index-<i>` (completion index i), `-attempt-<n>` (the n-th
run of that index of that Job, counting container restarts and replacement pods from 0; for
a NonIndexed Job, the n-th run among all its pods) or `-index-<i>-attempt-<n>`. The most specific form wins: index+attempt, index, attempt, plain.
Pod annotations beat scenario-file rules; the first matching file rule is used.

Scenario file (YAML):

    defaults: {duration: 5s}
    rules:
      - match: {namePrefix: "train-workers-", labels: {app: x}}
        behaviour: {exit-code: "1", exit-code-index-1: "42"}
"""

from __future__ import annotations

import dataclasses
import math
import pathlib
import re
import shlex
from typing import Any, Mapping

import yaml

PREFIX = "sim.jobset.x-k8s.io/"
KEYS = ("duration", "exit-code", "fail-at", "never-ready", "container")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$")
_SHELLS = {"sh", "bash", "/bin/sh", "/bin/bash", "/usr/bin/sh", "/usr/bin/bash"}


class ScenarioError(ValueError):
    """A scenario value or file that cannot be understood; the message names where."""


@dataclasses.dataclass(frozen=True)
class Behaviour:
    """One run of a pod: it lasts `duration` seconds, then `container` exits `exit_code`."""

    duration: float
    exit_code: int = 0
    never_ready: bool = False
    container: str | None = None


@dataclasses.dataclass(frozen=True)
class Rule:
    """A scenario-file rule: pods whose name starts with `name_prefix` and carry `labels`."""

    name_prefix: str
    labels: Mapping[str, str]
    values: Mapping[str, str]

    def matches(self, pod: Mapping[str, Any]) -> bool:
        """Whether this rule applies to `pod`."""
        meta = pod.get("metadata", {})
        if not str(meta.get("name", "")).startswith(self.name_prefix):
            return False
        labels = meta.get("labels") or {}
        return all(labels.get(k) == v for k, v in self.labels.items())


@dataclasses.dataclass(frozen=True)
class Scenario:
    """Scenario-file rules plus defaults; `Scenario()` means "no scenario file"."""

    rules: tuple[Rule, ...] = ()
    defaults: Mapping[str, str] = dataclasses.field(default_factory=dict)


def parse_duration(text: str, *, where: str) -> float:
    """Seconds in "30s", "2m", "1.5h", "500ms", "infinity" or plain "30"."""
    value = str(text).strip()
    if value in ("inf", "infinity"):
        return math.inf
    found = _DURATION.match(value)
    if not found:
        raise ScenarioError(f"{where}: {text!r} is not a duration (try 30s, 2m, 500ms)")
    return float(found.group(1)) * _UNITS[found.group(2) or "s"]


def sleep_duration(container: Mapping[str, Any]) -> float | None:
    """The duration of a container whose whole program is `sleep D`, else None."""
    argv = [str(a) for a in (container.get("command") or []) + (container.get("args") or [])]
    if len(argv) >= 3 and argv[0] in _SHELLS and argv[1] == "-c":
        try:
            argv = shlex.split(argv[2].strip().rstrip(";"))
        except ValueError:
            return None
    if len(argv) == 2 and argv[0] in ("sleep", "/bin/sleep", "/usr/bin/sleep"):
        try:
            return parse_duration(argv[1], where="sleep")
        except ScenarioError:
            return None
    return None


def _pick(values: Mapping[str, str], key: str, index: int | None, attempt: int) -> str | None:
    candidates = []
    if index is not None:
        candidates += [f"{key}-index-{index}-attempt-{attempt}", f"{key}-index-{index}"]
    candidates += [f"{key}-attempt-{attempt}", key]
    for name in candidates:
        if name in values:
            return values[name]
    return None


def _annotation_values(pod: Mapping[str, Any]) -> dict[str, str]:
    annotations = pod.get("metadata", {}).get("annotations") or {}
    return {k[len(PREFIX):]: str(v) for k, v in annotations.items() if k.startswith(PREFIX)}


def resolve(pod: Mapping[str, Any], scenario: Scenario, *, index: int | None, attempt: int,
            default_duration: float) -> Behaviour:
    """The behaviour of `pod`'s run number `attempt` (annotations, then file, then command)."""
    layers = [_annotation_values(pod)]
    layers += [dict(rule.values) for rule in scenario.rules if rule.matches(pod)][:1]
    layers.append(dict(scenario.defaults))
    name = pod.get("metadata", {}).get("name", "?")

    def lookup(key: str) -> str | None:
        for values in layers:
            found = _pick(values, key, index, attempt)
            if found is not None:
                return found
        return None

    fail_at = lookup("fail-at")
    exit_text = lookup("exit-code")
    where = f"pod {name}: {PREFIX}"
    try:
        exit_code = int(exit_text) if exit_text is not None else (1 if fail_at is not None else 0)
    except ValueError:
        raise ScenarioError(f"{where}exit-code: {exit_text!r} is not an integer") from None
    if fail_at is not None:
        duration = parse_duration(fail_at, where=f"{where}fail-at")
    elif (text := lookup("duration")) is not None:
        duration = parse_duration(text, where=f"{where}duration")
    else:
        containers = pod.get("spec", {}).get("containers") or [{}]
        slept = [sleep_duration(c) for c in containers]
        duration = max(default_duration if d is None else d for d in slept)
    never_ready = (lookup("never-ready") or "false").lower() == "true"
    return Behaviour(duration=duration, exit_code=exit_code, never_ready=never_ready,
                     container=lookup("container"))


def _rule(raw: Any, where: str) -> Rule:
    if not isinstance(raw, dict):
        raise ScenarioError(f"{where}: a rule must be a mapping with match and behaviour")
    extra = set(raw) - {"match", "behaviour"}
    if extra:
        raise ScenarioError(f"{where}: unknown field {sorted(map(str, extra))[0]!r} (a rule has match and behaviour)")
    match = raw.get("match") or {}
    behaviour = raw.get("behaviour") or {}
    if not isinstance(match, dict) or not isinstance(behaviour, dict):
        raise ScenarioError(f"{where}: match and behaviour must be mappings")
    unknown = set(match) - {"namePrefix", "labels"}
    if unknown:
        raise ScenarioError(f"{where}.match: unknown field {sorted(unknown)[0]!r}")
    _check_keys(behaviour, f"{where}.behaviour")
    return Rule(name_prefix=str(match.get("namePrefix", "")),
                labels={str(k): str(v) for k, v in (match.get("labels") or {}).items()},
                values={str(k): str(v) for k, v in behaviour.items()})


def _check_keys(values: Mapping[str, Any], where: str) -> None:
    for key, value in values.items():
        base = re.sub(r"(-index-\d+)?(-attempt-\d+)?$", "", str(key))
        if base not in KEYS:
            raise ScenarioError(f"{where}: unknown key {key!r} (known: {', '.join(KEYS)})")
        text = str(value).strip()
        if base in ("duration", "fail-at"):
            parse_duration(text, where=f"{where}.{key}")
        elif base == "exit-code" and not text.lstrip("-").isdigit():
            raise ScenarioError(f"{where}.{key}: {value!r} is not an integer")
        elif base == "never-ready" and text.lower() not in ("true", "false"):
            raise ScenarioError(f"{where}.{key}: {value!r} is not true or false")


def load(path: pathlib.Path) -> Scenario:
    """Read a scenario file; errors name the file and the field path."""
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as err:
        raise ScenarioError(f"{path}: cannot read scenario: {err}") from None
    if not isinstance(raw, dict):
        raise ScenarioError(f"{path}: a scenario must be a mapping with rules and defaults")
    extra = set(raw) - {"rules", "defaults"}
    if extra:
        raise ScenarioError(f"{path}: unknown field {sorted(map(str, extra))[0]!r} (a scenario has rules and defaults)")
    defaults = raw.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise ScenarioError(f"{path}: defaults must be a mapping")
    _check_keys(defaults, f"{path}: defaults")
    rules = raw.get("rules") or []
    if not isinstance(rules, list):
        raise ScenarioError(f"{path}: rules must be a list")
    return Scenario(rules=tuple(_rule(r, f"{path}: rules[{i}]") for i, r in enumerate(rules)),
                    defaults={str(k): str(v) for k, v in defaults.items()})
