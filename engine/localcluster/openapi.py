"""OpenAPI v3 documents: the root index and one document per group-version.

Owns: what `kubectl apply` needs to learn that the server supports the `fieldValidation` query
parameter (a `patch` operation per kind carrying `x-kubernetes-group-version-kind` and that
parameter), plus the schemas of custom resources (for `kubectl explain`). Each document is
addressed by a content hash, which changes whenever the catalogue does.
Called by: `handlers`.
Must not import: anything in `engine` outside `localcluster`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from engine.localcluster import discovery, resources

_PARAMETERS = [{"name": name, "in": "query", "schema": {"type": "string"}, "uniqueItems": True}
               for name in ("dryRun", "fieldManager", "fieldValidation", "force")]


class Documents:
    """OpenAPI v3 documents, rebuilt when the catalogue changes."""

    def __init__(self, catalogue: resources.Catalogue) -> None:
        self._catalogue = catalogue
        self._generation = -1
        self._documents: dict[str, bytes] = {}
        self._hashes: dict[str, str] = {}

    def _refresh(self) -> None:
        if self._generation == self._catalogue.generation:
            return
        self._documents, self._hashes = {}, {}
        for group_version, types in self._catalogue.group_versions().items():
            path = "api/v1" if group_version == "v1" else f"apis/{group_version}"
            body = json.dumps(_document(types), sort_keys=True).encode()
            self._documents[path] = body
            self._hashes[path] = hashlib.sha512(body).hexdigest()[:64].upper()
        self._generation = self._catalogue.generation

    def root(self) -> dict[str, Any]:
        """`GET /openapi/v3`."""
        self._refresh()
        return {"paths": {path: {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest}"}
                          for path, digest in self._hashes.items()}}

    def document(self, path: str) -> bytes | None:
        """`GET /openapi/v3/<path>`, or None."""
        self._refresh()
        return self._documents.get(path)


def _document(types: list[resources.ResourceType]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for rt in types:
        gvk = {"group": rt.group, "version": rt.version, "kind": rt.kind}
        prefix = "/api/v1" if not rt.group else f"/apis/{rt.group}/{rt.version}"
        scope = "/namespaces/{namespace}" if rt.namespaced else ""
        operation = {"x-kubernetes-group-version-kind": gvk, "x-kubernetes-action": "patch",
                     "parameters": _PARAMETERS, "responses": {"200": {"description": "OK"}}}
        paths[f"{prefix}{scope}/{rt.plural}/{{name}}"] = {"patch": operation}
        if rt.openapi is not None:
            name = ".".join(reversed(rt.group.split("."))) + f".{rt.version}.{rt.kind}"
            schemas[name] = {**rt.openapi, "x-kubernetes-group-version-kind": [gvk]}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": discovery.VERSION["gitVersion"]},
            "paths": paths, "components": {"schemas": schemas}}
