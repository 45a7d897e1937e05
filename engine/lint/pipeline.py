"""Check one JobSet document as a cluster would on CREATE (spec §5.1).

Owns: `Checker.check(obj) -> Verdict`: unknown fields (strict field validation), CRD
structural defaults, the mutating webhook (`default` packs), schema and CEL validation, then
the validating webhook (`validate` packs), stopping where the API server would stop. The
schema stages take two walks: a pruned and defaulted copy of the document, then defaults
and validation of the webhook's result together.
Called by: `jobset lint`, `jobset render`, tests.
Must not import: `engine.kube`, `engine.localcluster`, `engine.planner`.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import pathlib
import re
from collections.abc import Mapping, Sequence
from typing import Any

import engine
from engine.cel import evaluator
from engine.crd import structural
from engine.rules import decisions, registry
from engine.webhook import jobsets

API_VERSION = "jobset.x-k8s.io/v1alpha2"
KIND = "JobSet"
SCHEMA_FILE = pathlib.Path(engine.__file__).resolve().parent.parent / "schemas" / "jobset.v1alpha2.schema.json"
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


@dataclasses.dataclass(frozen=True)
class Finding:
    """One reason a document is invalid: a field path, a message and what decided it."""

    field: str
    message: str
    rule: str

    def to_json(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message, "rule": self.rule}


@dataclasses.dataclass(frozen=True)
class Verdict:
    """The outcome for one JobSet: valid or not, why, and the object as it would be stored."""

    name: str
    findings: tuple[Finding, ...]
    defaulted: dict[str, Any]
    trace: tuple[decisions.TraceEntry, ...]

    @property
    def valid(self) -> bool:
        return not self.findings


class ConfigurationError(Exception):
    """The rule packs or the schema could not be loaded; the message lists every problem."""


class Checker:
    """Holds the compiled packs and schema; `check` is then cheap and side-effect free."""

    def __init__(self, *, feature_gates: Mapping[str, bool], rules_dirs: Sequence[pathlib.Path] = (),
                 backend: evaluator.Backend | None = None) -> None:
        self.packs = registry.Registry(backend=backend)
        from engine.rules import loading  # the built-in directory is found relative to the package

        found = self.packs.load([loading.builtin_directory(), *rules_dirs])
        if found:
            raise ConfigurationError("\n".join(str(problem) for problem in found))
        try:
            schema = json.loads(SCHEMA_FILE.read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise ConfigurationError(f"{SCHEMA_FILE.name}: cannot read the JobSet schema: {error}") from None
        self.schema = structural.CompiledSchema(schema, backend=backend)
        # a verdict's trace says which rules decided; lint reports no rule that did nothing
        self.admission = jobsets.JobSetAdmission(self.packs, feature_gates=feature_gates, skipped_trace=False)

    def check(self, document: dict[str, Any]) -> Verdict:
        """Run the CREATE admission path; `document` itself is left unchanged."""
        findings = _object_meta_findings(document)
        if findings:
            return Verdict(_display_name(document), tuple(findings), copy.deepcopy(document), ())
        name = _display_name(document)
        obj, unknown = self.schema.pruned_copy(document, default=True)
        if unknown:
            obj, _ = self.schema.pruned_copy(document, default=False)  # strict validation stops before defaults
            findings = [Finding(path, f'unknown field "{path}"', "apiserver/strict-field-validation")
                        for path in unknown]
            return Verdict(name, tuple(findings), obj, ())
        defaulting = self.admission.default(obj, owned=True)  # obj is this check's own copy
        trace = list(defaulting.trace)
        if not defaulting.allowed:  # nothing of a refused defaulting is kept: the object before it
            obj, _ = self.schema.pruned_copy(document, default=True)
            return Verdict(name, _from_pack_errors(defaulting), obj, tuple(trace))
        obj = defaulting.subject
        schema_errors = self.schema.apply_defaults_and_validate(obj)
        if schema_errors:
            findings = [Finding(error.field, error.body, "apiserver/schema") for error in schema_errors]
            return Verdict(name, tuple(findings), obj, tuple(trace))
        validation = self.admission.validate(obj)
        trace += validation.trace
        return Verdict(name, _from_pack_errors(validation), obj, tuple(trace))


def _from_pack_errors(result: decisions.Result) -> tuple[Finding, ...]:
    return tuple(Finding(error.field, error.message, _rule_of(error.origin)) for error in result.errors)


def _rule_of(origin: str) -> str:
    """`pack@1.0.0/rule` -> `pack/rule` (the version stays in the trace)."""
    pack, _, rule = origin.partition("/")
    return f"{pack.split('@', 1)[0]}/{rule}"


def _display_name(obj: dict[str, Any]) -> str:
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        return ""
    return str(metadata.get("name") or metadata.get("generateName") or "")


def _object_meta_findings(obj: dict[str, Any]) -> list[Finding]:
    """The API server's own ObjectMeta checks that precede admission."""
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        return [Finding("metadata", "Required value: name or generateName is required", "apiserver/metadata")]
    for key in ("name", "generateName", "namespace"):
        if key in metadata and not isinstance(metadata[key], str):
            return [Finding(f"metadata.{key}", "Invalid value: must be a string", "apiserver/metadata")]
    for key in ("labels", "annotations"):
        value = metadata.get(key)
        if value is not None and not (isinstance(value, dict) and all(isinstance(v, str) for v in value.values())):
            return [Finding(f"metadata.{key}", "Invalid value: must be a map of strings", "apiserver/metadata")]
    name = metadata.get("name")
    if not name and not metadata.get("generateName"):
        return [Finding("metadata.name", "Required value: name or generateName is required", "apiserver/metadata")]
    if name and (len(str(name)) > 253 or not _DNS1123_SUBDOMAIN.match(str(name))):
        return [Finding("metadata.name", f'Invalid value: "{name}": a lowercase RFC 1123 subdomain must consist of '
                        "lower case alphanumeric characters, '-' or '.', and must start and end with an "
                        "alphanumeric character", "apiserver/metadata")]
    return []
