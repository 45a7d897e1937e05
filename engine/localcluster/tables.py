"""Server-side Table output for `kubectl get` (meta.k8s.io/v1 Table).

Owns: the columns and cells of built-in kinds (Pod, Job, Service, Event, Namespace, Node,
ConfigMap, Secret, CRD; Name and Age for the rest), printer columns of custom resources
(a JSONPath subset with filters such as `.status.conditions[?(@.type=="Completed")].status`;
`date` cells as human ages), and human durations the way kubectl prints them.
Called by: `handlers` (list, get and watch responses when the client accepts a Table).
Must not import: anything in `engine` outside `localcluster`.
"""

from __future__ import annotations

import datetime
import json
import re
from typing import Any, Callable

from engine.localcluster import resources

Column = tuple[str, str, int, Callable[[dict[str, Any], datetime.datetime], Any]]
_TOKEN = re.compile(r"""\.\.?([A-Za-z0-9_$-]+)            # .field
                       |\[(\*|-?\d+)\]                     # [*] or [n]
                       |\[\?\(@((?:\.[A-Za-z0-9_-]+)+)\s*(==|!=)\s*  # [?(@.a.b == ...)]
                          (?:"([^"]*)"|'([^']*)'|(\S+?))\)\]
                       |\['([^']+)'\]                       # ['field']
                    """, re.X)


def human_duration(seconds: float) -> str:
    """kubectl's short age: 45s, 3m20s, 5h, 2d3h, 1y."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m{s % 60}s" if s % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d{hours % 24}h" if hours % 24 else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y{days}d" if days else f"{hours // 24 // 365}y"
    return f"{hours // 24 // 365}y"


def _age(timestamp: str | None, now: datetime.datetime) -> str:
    if not timestamp:
        return "<unknown>"
    moment = datetime.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    return human_duration((now - moment).total_seconds())


def jsonpath(obj: Any, path: str) -> list[Any]:
    """Every value `path` (Kubernetes JSONPath subset, optionally in braces) selects in `obj`."""
    path = path.strip()
    if path.startswith("{") and path.endswith("}"):
        path = path[1:-1]
    path = path[1:] if path.startswith("$") else path
    current = [obj]
    position = 0
    while position < len(path):
        match = _TOKEN.match(path, position)
        if match is None:
            raise ValueError(f"unsupported JSONPath {path!r} at {position}")
        position = match.end()
        field, index, filter_path, op, dq, sq, bare, quoted = match.groups()
        field = field or quoted
        following: list[Any] = []
        for value in current:
            if field is not None and isinstance(value, dict) and field in value:
                following.append(value[field])
            elif index == "*" and isinstance(value, (list, dict)):
                following.extend(value if isinstance(value, list) else list(value.values()))
            elif index is not None and isinstance(value, list) and -len(value) <= int(index) < len(value):
                following.append(value[int(index)])
            elif filter_path is not None and isinstance(value, list):
                wanted = dq if dq is not None else sq if sq is not None else bare
                for item in value:
                    found = jsonpath(item, filter_path)
                    actual = "" if not found else found[0] if isinstance(found[0], str) else json.dumps(found[0])
                    if (actual == wanted) == (op == "=="):
                        following.append(item)
        current = following
    return current


def _printed(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _pod_status(pod: dict[str, Any]) -> str:
    status = pod.get("status") or {}
    reason = status.get("reason") or status.get("phase") or "Unknown"
    for container in status.get("containerStatuses") or []:
        state = container.get("state") or {}
        if state.get("waiting", {}).get("reason"):
            reason = state["waiting"]["reason"]
        elif state.get("terminated", {}).get("reason") and status.get("phase") not in ("Succeeded", "Failed"):
            reason = state["terminated"]["reason"]
    if pod["metadata"].get("deletionTimestamp"):
        reason = "Terminating"
    return reason


def _pod_ready(pod: dict[str, Any]) -> str:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    ready = sum(1 for c in statuses if c.get("ready"))
    return f"{ready}/{len((pod.get('spec') or {}).get('containers') or [])}"


def _job_status(job: dict[str, Any]) -> str:
    conditions = {c.get("type"): c.get("status") for c in (job.get("status") or {}).get("conditions") or []}
    for kind, label in (("Complete", "Complete"), ("Failed", "Failed"), ("FailureTarget", "FailureTarget"),
                        ("SuccessCriteriaMet", "SuccessCriteriaMet"), ("Suspended", "Suspended")):
        if conditions.get(kind) == "True":
            return label
    return "Terminating" if job["metadata"].get("deletionTimestamp") else "Running"


def _job_duration(job: dict[str, Any], now: datetime.datetime) -> str:
    status = job.get("status") or {}
    if not status.get("startTime"):
        return ""
    start = datetime.datetime.fromisoformat(status["startTime"].replace("Z", "+00:00"))
    end = datetime.datetime.fromisoformat(status["completionTime"].replace("Z", "+00:00")) \
        if status.get("completionTime") else now
    return human_duration((end - start).total_seconds())


def _ports(svc: dict[str, Any]) -> str:
    ports = (svc.get("spec") or {}).get("ports") or []
    return ",".join(f"{p.get('port')}/{p.get('protocol', 'TCP')}" for p in ports) or "<none>"


def _node_ready(node: dict[str, Any]) -> str:
    conditions = (node.get("status") or {}).get("conditions") or []
    ready = next((c.get("status") for c in conditions if c.get("type") == "Ready"), None)
    text = "Ready" if ready == "True" else "NotReady" if ready else "Unknown"
    return text + (",SchedulingDisabled" if (node.get("spec") or {}).get("unschedulable") else "")


def _involved(event: dict[str, Any]) -> str:
    target = event.get("involvedObject") or event.get("regarding") or {}
    return f"{str(target.get('kind', '')).lower()}/{target.get('name', '')}"


def _name(o: dict[str, Any], _now: datetime.datetime) -> str:
    return o["metadata"]["name"]


def _created(o: dict[str, Any], now: datetime.datetime) -> str:
    return _age(o["metadata"].get("creationTimestamp"), now)


def _field(*path: str, default: Any = "") -> Callable[[dict[str, Any], datetime.datetime], Any]:
    """A cell reading a nested field."""
    def cell(o: dict[str, Any], _now: datetime.datetime) -> Any:
        value: Any = o
        for part in path:
            value = value.get(part) if isinstance(value, dict) else None
        return default if value in (None, "") else value
    return cell


def _restarts(pod: dict[str, Any], _now: datetime.datetime) -> str:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return str(sum(c.get("restartCount", 0) for c in statuses))


def _completions(job: dict[str, Any], _now: datetime.datetime) -> str:
    spec, status = job.get("spec") or {}, job.get("status") or {}
    wanted = spec.get("completions") if spec.get("completions") is not None else 1
    return f"{status.get('succeeded', 0)}/{wanted}"


def _roles(node: dict[str, Any], _now: datetime.datetime) -> str:
    prefix = "node-role.kubernetes.io/"
    roles = sorted(k[len(prefix):] for k in node["metadata"].get("labels") or {} if k.startswith(prefix))
    return ",".join(roles) or "<none>"


def _last_seen(event: dict[str, Any], now: datetime.datetime) -> str:
    return _age(event.get("lastTimestamp") or event.get("eventTime") or event["metadata"].get("creationTimestamp"), now)


def _data_count(o: dict[str, Any], _now: datetime.datetime) -> int:
    return len(o.get("data") or {}) + len(o.get("binaryData") or {})


_NAME: Column = ("Name", "string", 0, _name)
_AGE: Column = ("Age", "string", 0, _created)
_BUILTIN: dict[str, list[Column]] = {
    "v1/pods": [_NAME, ("Ready", "string", 0, lambda o, n: _pod_ready(o)),
                ("Status", "string", 0, lambda o, n: _pod_status(o)), ("Restarts", "string", 0, _restarts), _AGE,
                ("IP", "string", 1, _field("status", "podIP", default="<none>")),
                ("Node", "string", 1, _field("spec", "nodeName", default="<none>"))],
    "batch/v1/jobs": [_NAME, ("Status", "string", 0, lambda o, n: _job_status(o)),
                      ("Completions", "string", 0, _completions), ("Duration", "string", 0, _job_duration), _AGE],
    "v1/services": [_NAME, ("Type", "string", 0, _field("spec", "type", default="ClusterIP")),
                    ("Cluster-IP", "string", 0, _field("spec", "clusterIP", default="<none>")),
                    ("External-IP", "string", 0, lambda o, n: "<none>"),
                    ("Port(s)", "string", 0, lambda o, n: _ports(o)), _AGE],
    "v1/events": [("Last Seen", "string", 0, _last_seen), ("Type", "string", 0, _field("type")),
                  ("Reason", "string", 0, _field("reason")), ("Object", "string", 0, lambda o, n: _involved(o)),
                  ("Message", "string", 0, _field("message"))],
    "v1/namespaces": [_NAME, ("Status", "string", 0, _field("status", "phase")), _AGE],
    "v1/nodes": [_NAME, ("Status", "string", 0, lambda o, n: _node_ready(o)), ("Roles", "string", 0, _roles), _AGE,
                 ("Version", "string", 0, _field("status", "nodeInfo", "kubeletVersion"))],
    "v1/configmaps": [_NAME, ("Data", "integer", 0, _data_count), _AGE],
    "v1/secrets": [_NAME, ("Type", "string", 0, _field("type", default="Opaque")),
                   ("Data", "integer", 0, _data_count), _AGE],
    "apiextensions.k8s.io/v1/customresourcedefinitions": [
        _NAME, ("Created At", "date", 0, _field("metadata", "creationTimestamp"))],
}


def _custom_columns(rt: resources.ResourceType) -> list[Column]:
    if not rt.printer_columns:
        return [("Name", "string", 0, _name), ("Age", "date", 0, _created)]
    columns: list[Column] = [("Name", "string", 0, _name)]
    for spec in rt.printer_columns:
        columns.append((spec["name"], spec.get("type", "string"), int(spec.get("priority", 0)),
                        _printer_cell(spec.get("jsonPath", ""), spec.get("type", "string"))))
    return columns


def _printer_cell(path: str, kind: str) -> Callable[[dict[str, Any], datetime.datetime], Any]:
    def cell(obj: dict[str, Any], now: datetime.datetime) -> Any:
        try:
            found = jsonpath(obj, path)
        except ValueError:
            return None
        if not found:
            return None
        if kind == "date" and isinstance(found[0], str):
            return _age(found[0], now)
        if len(found) > 1:
            return " ".join(_printed(v) for v in found)
        return found[0] if kind in ("integer", "number", "boolean") else _printed(found[0])
    return cell


def columns_for(rt: resources.ResourceType) -> list[Column]:
    """The columns of `rt`'s Table."""
    if rt.custom:
        return _custom_columns(rt)
    return _BUILTIN.get(rt.key, [_NAME, _AGE])


def table(rt: resources.ResourceType, objects: list[dict[str, Any]], now: datetime.datetime, *,
          resource_version: str, include_columns: bool = True, continue_token: str = "") -> dict[str, Any]:
    """A meta.k8s.io/v1 Table of `objects`."""
    columns = columns_for(rt)
    definitions = [{"name": name, "type": "string" if kind == "date" and not rt.custom else kind,
                    "format": "name" if name == "Name" else "", "description": name, "priority": priority}
                   for name, kind, priority, _ in columns]
    rows = [{"cells": [cell(obj, now) for _, _, _, cell in columns],
             "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj["metadata"]}}
            for obj in objects]
    metadata: dict[str, Any] = {"resourceVersion": resource_version}
    if continue_token:
        metadata["continue"] = continue_token
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata,
            "columnDefinitions": definitions if include_columns else [], "rows": rows}
