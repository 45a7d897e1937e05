"""Built-in validation of the kinds a controller writes.

Owns: name formats per kind, label and annotation checks, and the Job and Pod rules a
controller could trip over: required fields, restartPolicy, Indexed completions, selector
immutability, pod-template immutability (only scheduling directives may change, and only while
the Job is suspended and has never started), Job status consistency (terminal conditions need
their interim condition, start and completion times), pod spec immutability.
Returns (field path, message) pairs; `admission` turns them into a 422 Invalid.
Called by: `admission`.
Must not import: anything in `engine` outside `localcluster`.
"""

from __future__ import annotations

from typing import Any

from engine.localcluster import objectmeta, resources

Problems = list[tuple[str, str]]
_NAME_STYLE = {"v1/namespaces": "label", "v1/services": "1035"}
_SCHEDULING = ("nodeSelector", "affinity", "tolerations", "schedulingGates")


def validate(rt: resources.ResourceType, obj: dict[str, Any], old: dict[str, Any] | None,
             subresource: str | None) -> Problems:
    """Every problem of `obj` (an update when `old` is given)."""
    meta = obj["metadata"]
    problems: Problems = [("metadata.name", f'Invalid value: "{meta["name"]}": {p}')
                          for p in objectmeta.name_problems(meta["name"], _NAME_STYLE.get(rt.key, "subdomain"))]
    problems += objectmeta.metadata_problems(meta)
    if rt.key == "batch/v1/jobs":
        problems += _job(obj, old, subresource)
    elif rt.key == "v1/pods":
        problems += _pod_spec(obj.get("spec") or {}, "spec", job=False)
        if old is not None and subresource is None:
            problems += _pod_update(obj, old)
    return problems


def _pod_spec(spec: dict[str, Any], path: str, *, job: bool) -> Problems:
    problems: Problems = []
    containers = spec.get("containers")
    if not containers:
        problems.append((f"{path}.containers", "Required value"))
    seen: set[str] = set()
    for n, container in enumerate(containers or []):
        where = f"{path}.containers[{n}]"
        if not isinstance(container, dict):
            problems.append((where, "Invalid value: must be an object"))
            continue
        name = container.get("name")
        if not name:
            problems.append((f"{where}.name", "Required value"))
        elif name in seen:
            problems.append((f"{where}.name", f'Duplicate value: "{name}"'))
        seen.add(name or "")
        if not container.get("image"):
            problems.append((f"{where}.image", "Required value"))
    policy = spec.get("restartPolicy")
    allowed = ("OnFailure", "Never") if job else ("Always", "OnFailure", "Never")
    if job and policy is None:
        problems.append((f"{path}.restartPolicy", 'Required value: valid values: "OnFailure", "Never"'))
    elif policy not in allowed:
        problems.append((f"{path}.restartPolicy", f'Unsupported value: "{policy}": supported values: '
                         + ", ".join(f'"{a}"' for a in allowed)))
    return problems


def _job(job: dict[str, Any], old: dict[str, Any] | None, subresource: str | None) -> Problems:
    spec = job.get("spec") or {}
    problems: Problems = []
    template = spec.get("template")
    if not isinstance(template, dict):
        return [("spec.template", "Required value")]
    problems += _pod_spec(template.get("spec") or {}, "spec.template.spec", job=True)
    problems += [(f"spec.template.{field.removeprefix('metadata.')}", message)
                 for field, message in objectmeta.metadata_problems(template.get("metadata") or {})]
    for field in ("parallelism", "completions", "backoffLimit", "activeDeadlineSeconds"):
        value = spec.get(field)
        if value is not None and (not isinstance(value, int) or value < 0):
            problems.append((f"spec.{field}", f"Invalid value: {value}: must be greater than or equal to 0"))
    if spec.get("completionMode") == "Indexed" and spec.get("completions") is None:
        problems.append(("spec.completions", "Required value: when completion mode is Indexed"))
    if spec.get("completionMode") not in ("NonIndexed", "Indexed"):
        problems.append(("spec.completionMode", f'Unsupported value: "{spec.get("completionMode")}": '
                         'supported values: "NonIndexed", "Indexed"'))
    selector = (spec.get("selector") or {}).get("matchLabels") or {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    if any(labels.get(k) != v for k, v in selector.items()):
        problems.append(("spec.template.metadata.labels",
                         "Invalid value: `selector` does not match template `labels`"))
    if old is not None:
        problems += _job_update(job, old)
        if subresource == "status":
            problems += _job_status(job.get("status") or {})
    return problems


def _job_update(job: dict[str, Any], old: dict[str, Any]) -> Problems:
    spec, old_spec = job.get("spec") or {}, old.get("spec") or {}
    problems: Problems = []
    for field in ("selector", "completionMode", "podFailurePolicy", "manualSelector"):
        if spec.get(field) != old_spec.get(field):
            problems.append((f"spec.{field}", "Invalid value: field is immutable"))
    if spec.get("completions") != old_spec.get("completions") and not (
            spec.get("completionMode") == "Indexed" and spec.get("completions") == spec.get("parallelism")):
        problems.append(("spec.completions", "Invalid value: field is immutable"))
    template, old_template = spec.get("template") or {}, old_spec.get("template") or {}
    if template != old_template:
        suspended_unstarted = old_spec.get("suspend") and not (old.get("status") or {}).get("startTime")
        if not suspended_unstarted or _without_scheduling(template) != _without_scheduling(old_template):
            problems.append(("spec.template", "Invalid value: field is immutable"))
    return problems


def _without_scheduling(template: dict[str, Any]) -> dict[str, Any]:
    meta = {k: v for k, v in (template.get("metadata") or {}).items() if k not in ("labels", "annotations")}
    spec = {k: v for k, v in (template.get("spec") or {}).items() if k not in _SCHEDULING}
    return {"metadata": meta, "spec": spec}


def _condition(status: dict[str, Any], kind: str) -> bool:
    return any(c.get("type") == kind and c.get("status") == "True" for c in status.get("conditions") or [])


def _job_status(status: dict[str, Any]) -> Problems:
    problems: Problems = []
    complete, failed = _condition(status, "Complete"), _condition(status, "Failed")
    if complete and not _condition(status, "SuccessCriteriaMet"):
        problems.append(("status.conditions", "Invalid value: cannot set Complete=True condition without "
                         "the SuccessCriteriaMet=true condition"))
    if failed and not _condition(status, "FailureTarget"):
        problems.append(("status.conditions", "Invalid value: cannot set Failed=True condition without "
                         "the FailureTarget=true condition"))
    if (complete or failed) and not status.get("startTime"):
        problems.append(("status.startTime", "Required value: startTime is required for a finished job"))
    if complete and not status.get("completionTime"):
        problems.append(("status.completionTime", "Required value: completionTime is required for a "
                         "Complete job"))
    if status.get("completionTime") and not complete:
        problems.append(("status.completionTime", "Invalid value: completionTime can only be set for a "
                         "Complete job"))
    if status.get("completionTime") and status.get("startTime") and status["completionTime"] < status["startTime"]:
        problems.append(("status.completionTime", "Invalid value: completionTime cannot be set before "
                         "startTime"))
    return problems


def _pod_update(pod: dict[str, Any], old: dict[str, Any]) -> Problems:
    spec, old_spec = dict(pod.get("spec") or {}), dict(old.get("spec") or {})
    for field in ("activeDeadlineSeconds", "tolerations", "schedulingGates", "terminationGracePeriodSeconds"):
        spec.pop(field, None)
        old_spec.pop(field, None)
    if _imageless(spec) != _imageless(old_spec):
        return [("spec", "Forbidden: pod updates may not change fields other than `spec.containers[*].image`, "
                 "`spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` (only "
                 "additions to existing tolerations), `spec.terminationGracePeriodSeconds` (allow it to be "
                 "set to 1 if it was previously negative)")]
    return []


def _imageless(spec: dict[str, Any]) -> dict[str, Any]:
    """A pod spec without container images (the one field pods may change)."""
    return {**spec, **{field: [{k: v for k, v in c.items() if k != "image"} for c in spec.get(field) or []
                               if isinstance(c, dict)] for field in ("containers", "initContainers")}}
