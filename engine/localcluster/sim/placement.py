"""Matching rules a scheduler applies to one pod and one node, as pure functions.

Owns: resource quantities ("500m", "1Gi") and pod requests, label selectors
(matchLabels/matchExpressions), node selector terms (In, NotIn, Exists, DoesNotExist, Gt,
Lt; matchFields on metadata.name) and taint toleration.
Called by: `sim.scheduler`, `sim.topology`.
Must not import: anything in `engine` outside `localcluster`.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

_SUFFIX = {"": 1.0, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15,
           "Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40, "Pi": 2.0**50}
_QUANTITY = re.compile(r"^([+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)(m|k|M|G|T|P|Ki|Mi|Gi|Ti|Pi)?$")
DEFAULT_MAX_PODS = 110


class PlacementError(ValueError):
    """A quantity or selector that cannot be read; the message names the field."""


def quantity(text: Any, *, where: str = "quantity") -> float:
    """A Kubernetes quantity as a float ("500m" -> 0.5, "1Gi" -> 1073741824)."""
    found = _QUANTITY.match(str(text).strip())
    if not found:
        raise PlacementError(f"{where}: {text!r} is not a quantity")
    return float(found.group(1)) * _SUFFIX[found.group(2) or ""]


def pod_requests(pod: Mapping[str, Any]) -> dict[str, float]:
    """What a pod asks of a node: the sum of container requests (at least the largest init
    container's), plus one pod slot."""
    spec = pod.get("spec", {})
    total: dict[str, float] = {}
    for container in spec.get("containers") or []:
        for name, value in _requests(container).items():
            total[name] = total.get(name, 0.0) + value
    for container in spec.get("initContainers") or []:
        for name, value in _requests(container).items():
            total[name] = max(total.get(name, 0.0), value)
    total["pods"] = 1.0
    return total


def _requests(container: Mapping[str, Any]) -> dict[str, float]:
    resources = container.get("resources") or {}
    asked = dict(resources.get("limits") or {})
    asked.update(resources.get("requests") or {})
    return {k: quantity(v, where=f"container {container.get('name')}: resources.{k}")
            for k, v in asked.items()}


def allocatable(node: Mapping[str, Any]) -> dict[str, float]:
    """What a node offers (status.allocatable, else capacity; pods default 110)."""
    status = node.get("status") or {}
    offered = status.get("allocatable") or status.get("capacity") or {}
    result = {k: quantity(v, where=f"node {node['metadata']['name']}: {k}")
              for k, v in offered.items()}
    result.setdefault("pods", float(DEFAULT_MAX_PODS))
    return result


def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """A LabelSelector against labels; an empty selector matches everything, None nothing."""
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    return all(_expression(e, labels) for e in selector.get("matchExpressions") or [])


def _expression(expr: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    key, operator = expr.get("key"), expr.get("operator")
    values = [str(v) for v in expr.get("values") or []]
    present = key in labels
    value = labels.get(key, "")
    if operator == "In":
        return present and value in values
    if operator == "NotIn":
        return not present or value not in values
    if operator == "Exists":
        return present
    if operator == "DoesNotExist":
        return not present
    if operator in ("Gt", "Lt") and present and values:
        try:
            number, bound = int(value), int(values[0])
        except ValueError:
            return False
        return number > bound if operator == "Gt" else number < bound
    return False


def node_term_matches(term: Mapping[str, Any], node: Mapping[str, Any]) -> bool:
    """One NodeSelectorTerm (all its expressions and fields) against a node."""
    labels = node["metadata"].get("labels") or {}
    expressions = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not expressions and not fields:
        return False
    if not all(_expression(e, labels) for e in expressions):
        return False
    name_only = {"metadata.name": node["metadata"]["name"]}
    return all(_expression(f, name_only) for f in fields)


def node_fits_affinity(pod: Mapping[str, Any], node: Mapping[str, Any]) -> bool:
    """nodeSelector and required node affinity (any term may match)."""
    spec = pod.get("spec", {})
    labels = node["metadata"].get("labels") or {}
    for key, value in (spec.get("nodeSelector") or {}).items():
        if labels.get(key) != value:
            return False
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution")
    if not required:
        return True
    return any(node_term_matches(t, node) for t in required.get("nodeSelectorTerms") or [])


def untolerated_taint(pod: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The first NoSchedule/NoExecute taint of the node the pod does not tolerate."""
    tolerations = pod.get("spec", {}).get("tolerations") or []
    for taint in (node.get("spec") or {}).get("taints") or []:
        if taint.get("effect") == "PreferNoSchedule":
            continue
        if not any(_tolerates(t, taint) for t in tolerations):
            return taint
    return None


def _tolerates(toleration: Mapping[str, Any], taint: Mapping[str, Any]) -> bool:
    effect = toleration.get("effect")
    if effect and effect != taint.get("effect"):
        return False
    key = toleration.get("key")
    if key and key != taint.get("key"):
        return False
    if toleration.get("operator", "Equal") == "Exists":
        return True
    return bool(key) and str(toleration.get("value", "")) == str(taint.get("value", ""))
