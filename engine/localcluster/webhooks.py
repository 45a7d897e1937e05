"""Admission webhooks called over HTTPS, as kube-apiserver calls them.

Owns: `Webhooks`: the cache of Mutating/ValidatingWebhookConfiguration objects, matching
(rules with wildcards and subresources, namespaceSelector, objectSelector), `AdmissionReview`
v1 requests, TLS verified against each webhook's caBundle (a `clientConfig.service` is reached
through `routes`, "namespace/name:port" -> "host:port", with the TLS server name
`<name>.<namespace>.svc`; a `clientConfig.url` is used as is), failurePolicy, timeoutSeconds,
JSONPatch responses, denials as Status errors and warnings handed to the request.
Called by: `admission`.
Must not import: anything in `engine` outside `localcluster`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
import uuid
from typing import TYPE_CHECKING, Any

import aiohttp

from engine.localcluster import errors, objectmeta, patching, resources, selectors, storage

if TYPE_CHECKING:
    from engine.localcluster import api as api_module

MUTATING = "admissionregistration.k8s.io/v1/mutatingwebhookconfigurations"
VALIDATING = "admissionregistration.k8s.io/v1/validatingwebhookconfigurations"
CONFIGURATIONS = (MUTATING, VALIDATING)
_USER = {"username": "system:admin", "groups": ["system:masters", "system:authenticated"]}


class Webhooks:
    """Every registered webhook of one API server, and the client that calls them."""

    def __init__(self, api: "api_module.ClusterAPI") -> None:
        self._api = api
        self._configs: dict[str, dict[str, dict[str, Any]]] = {MUTATING: {}, VALIDATING: {}}
        self.routes: dict[str, str] = {}  # "namespace/name:port" -> "host:port"
        self._session: aiohttp.ClientSession | None = None

    def observe(self, rt: resources.ResourceType, event: storage.Event) -> None:
        """Track configuration objects as they are written."""
        if rt.key in self._configs:
            name = event.obj["metadata"]["name"]
            if event.type == storage.DELETED:
                self._configs[rt.key].pop(name, None)
            else:
                self._configs[rt.key][name] = event.obj

    async def close(self) -> None:
        """Close the HTTP client."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def mutate(self, rt: resources.ResourceType, obj: dict[str, Any], old: dict[str, Any] | None,
                     operation: str, opts: "api_module.Options") -> dict[str, Any]:
        """Run matching mutating webhooks in order, then once more those with reinvocationPolicy
        IfNeeded that a later webhook changed the object after; returns the (possibly new) object."""
        seen_after: list[tuple[dict[str, Any], dict[str, Any]]] = []
        for hook in self._matching(MUTATING, rt, obj, old, operation):
            obj = await self._mutate_once(hook, rt, obj, old, operation, opts)
            seen_after.append((hook, obj))
        for hook, after in seen_after:
            if hook.get("reinvocationPolicy") == "IfNeeded" and after != obj:
                obj = await self._mutate_once(hook, rt, obj, old, operation, opts)
        return obj

    async def _mutate_once(self, hook: dict[str, Any], rt: resources.ResourceType, obj: dict[str, Any],
                           old: dict[str, Any] | None, operation: str, opts: "api_module.Options") -> dict[str, Any]:
        response = await self._call(hook, rt, obj, old, operation, opts)
        if response is None:
            return obj
        opts.warnings.extend(response.get("warnings") or [])
        if not response.get("patch"):
            return obj
        if response.get("patchType", "JSONPatch") != "JSONPatch":
            raise errors.internal(f'failed calling webhook "{hook["name"]}": unsupported patchType')
        try:
            operations = json.loads(base64.b64decode(response["patch"]))
            return patching.json_patch(objectmeta.clone(obj), operations)
        except (ValueError, errors.APIStatusError) as error:
            raise errors.internal(f'Internal error occurred: failed calling webhook "{hook["name"]}": '
                                  f"the patch could not be applied: {error}") from None

    async def validate(self, rt: resources.ResourceType, obj: dict[str, Any], old: dict[str, Any] | None,
                       operation: str, opts: "api_module.Options") -> None:
        """Run matching validating webhooks; the first denial becomes the request's error."""
        for hook in self._matching(VALIDATING, rt, obj, old, operation):
            response = await self._call(hook, rt, obj, old, operation, opts)
            if response is not None:
                opts.warnings.extend(response.get("warnings") or [])

    # ---- matching ----------------------------------------------------------------------

    def _matching(self, key: str, rt: resources.ResourceType, obj: dict[str, Any],
                  old: dict[str, Any] | None, operation: str) -> list[dict[str, Any]]:
        if rt.key in CONFIGURATIONS:
            return []
        found = []
        for name in sorted(self._configs[key]):
            for hook in self._configs[key][name].get("webhooks") or []:
                if self._matches(hook, rt, obj, old, operation):
                    found.append(hook)
        return found

    def _matches(self, hook: dict[str, Any], rt: resources.ResourceType, obj: dict[str, Any],
                 old: dict[str, Any] | None, operation: str) -> bool:
        if not any(_rule_matches(rule, rt, operation) for rule in hook.get("rules") or []):
            return False
        labels = [o["metadata"].get("labels") for o in (obj, old) if o is not None]
        object_selector = selectors.LabelSelector.from_dict(hook.get("objectSelector") or {})
        if not any(object_selector.matches(lab) for lab in labels):
            return False
        namespace_selector = selectors.LabelSelector.from_dict(hook.get("namespaceSelector") or {})
        if namespace_selector.empty:
            return True
        if rt.key == "v1/namespaces":
            return namespace_selector.matches(obj["metadata"].get("labels"))
        if not rt.namespaced:
            return True
        space = self._api.storage.get("/namespaces", "", obj["metadata"].get("namespace", ""))
        return namespace_selector.matches((space or {}).get("metadata", {}).get("labels"))

    # ---- calling -----------------------------------------------------------------------

    async def _call(self, hook: dict[str, Any], rt: resources.ResourceType, obj: dict[str, Any],
                    old: dict[str, Any] | None, operation: str, opts: "api_module.Options"
                    ) -> dict[str, Any] | None:
        """The webhook's response when it allowed the request; None when skipped on failure."""
        name = hook.get("name", "")
        review = _review(rt, obj, old, operation, opts.dry_run)
        try:
            response = await self._post(hook, review)
        except (aiohttp.ClientError, asyncio.TimeoutError, ssl.SSLError, ValueError, KeyError) as error:
            if hook.get("failurePolicy", "Fail") == "Ignore":
                return None
            detail = "context deadline exceeded" if isinstance(error, asyncio.TimeoutError) else str(error)
            raise errors.internal(f'Internal error occurred: failed calling webhook "{name}": '
                                  f"failed to call webhook: {detail}") from None
        if response.get("uid") != review["request"]["uid"]:
            if hook.get("failurePolicy", "Fail") == "Ignore":
                return None
            raise errors.internal(f'Internal error occurred: failed calling webhook "{name}": '
                                  "expected response.uid to match the request.uid")
        if not response.get("allowed"):
            raise _denial(name, response.get("status") or {})
        return response

    async def _post(self, hook: dict[str, Any], review: dict[str, Any]) -> dict[str, Any]:
        config = hook.get("clientConfig") or {}
        context = ssl.create_default_context()
        if config.get("caBundle"):
            context = ssl.create_default_context(cadata=base64.b64decode(config["caBundle"]).decode())
        server_hostname = None
        if config.get("url"):
            url = config["url"]
        else:
            service = config.get("service") or {}
            route = f'{service.get("namespace")}/{service.get("name")}:{service.get("port", 443)}'
            if route not in self.routes:
                raise ValueError(f'service "{route}" has no route on this API server')
            url = f"https://{self.routes[route]}{service.get('path') or '/'}"
            server_hostname = f'{service.get("name")}.{service.get("namespace")}.svc'
        if self._session is None:
            self._session = aiohttp.ClientSession()
        timeout = aiohttp.ClientTimeout(total=float(hook.get("timeoutSeconds", 10)))
        async with self._session.post(url, json=review, ssl=context, server_hostname=server_hostname,
                                      timeout=timeout) as reply:
            if reply.status != 200:
                raise ValueError(f"the server responded with status {reply.status}")
            body = await reply.json(content_type=None)
        return body["response"]


def _rule_matches(rule: dict[str, Any], rt: resources.ResourceType, operation: str) -> bool:
    def among(values: list[str] | None, value: str) -> bool:
        return bool(values) and ("*" in values or value in values)
    resources_ = rule.get("resources") or []
    resource_ok = any(r in ("*", "*/*", rt.plural) for r in resources_)
    scope = rule.get("scope", "*")
    scope_ok = scope == "*" or (scope == "Namespaced") == rt.namespaced
    return (among(rule.get("apiGroups"), rt.group) and among(rule.get("apiVersions"), rt.version)
            and among(rule.get("operations"), operation) and resource_ok and scope_ok)


def _review(rt: resources.ResourceType, obj: dict[str, Any], old: dict[str, Any] | None, operation: str,
            dry_run: bool) -> dict[str, Any]:
    kind = {"group": rt.group, "version": rt.version, "kind": rt.kind}
    resource = {"group": rt.group, "version": rt.version, "resource": rt.plural}
    options_kind = {"CREATE": "CreateOptions", "UPDATE": "UpdateOptions", "DELETE": "DeleteOptions"}[operation]
    request = {
        "uid": str(uuid.uuid4()), "kind": kind, "resource": resource, "requestKind": kind,
        "requestResource": resource, "name": obj["metadata"].get("name", ""), "operation": operation,
        "userInfo": _USER, "object": obj if operation != "DELETE" else None, "oldObject": old,
        "dryRun": dry_run, "options": {"kind": options_kind, "apiVersion": "meta.k8s.io/v1"},
    }
    if rt.namespaced:
        request["namespace"] = obj["metadata"].get("namespace", "")
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request}


def _denial(name: str, status: dict[str, Any]) -> errors.APIStatusError:
    denied_by = f'admission webhook "{name}" denied the request'
    if status.get("message"):
        message = f"{denied_by}: {status['message']}"
    elif status.get("reason"):
        message = f"{denied_by}: {status['reason']}"
    else:
        message = f"{denied_by} without explanation"
    code = int(status.get("code") or 400)
    return errors.APIStatusError(max(code, 400), status.get("reason", ""), message, details=status.get("details"))
