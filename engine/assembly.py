"""The one composer of the controller process: manager, informers, controllers, webhooks, certificates.

Owns: `build(settings) -> Assembly`, which wires the JobSet controller (planner + executor over
informers), the exclusive-placement Pod reconciler (spec §12.4), the admission webhook server
(JobSet defaulting and validation, the Pod webhooks of spec §12.3, all through the packs) and,
with internal certificate management, a self-signed CA and serving certificate shared by every
replica through the webhook Secret, rotated there, and whose bundle is injected into the
webhook configurations (spec §14.5). `jobset controller` and `jobset up` both call it.
Called by: `engine.cli.commands.controller`, `engine.cli.commands.up`.
Must not import: `engine.cli`, `engine.localcluster`.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import datetime
import logging
import pathlib
import tempfile
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from engine import tls
from engine.kube import client as client_
from engine.kube import configuration, errors, jobsets, manager, packreload, placement, resources
from engine.planner import packs
from engine.webhook import certificates, jobsets as jobset_webhooks, pods as pod_webhooks, rotation, server

log = logging.getLogger("jobset.assembly")
WEBHOOK_CONFIGURATIONS = (
    (resources.Resource("admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations",
                        "MutatingWebhookConfiguration", namespaced=False), "jobset-mutating-webhook-configuration"),
    (resources.Resource("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations",
                        "ValidatingWebhookConfiguration", namespaced=False), "jobset-validating-webhook-configuration"),
)
ROTATION_CHECK_SECONDS = 60.0


class AssemblyError(Exception):
    """The process cannot be assembled (bad rule packs, bad TLS options); the message says why."""


@dataclasses.dataclass(frozen=True)
class Settings:
    """What the composer needs beyond the Configuration file."""

    config: configuration.Configuration
    namespace: str
    rules_dirs: Sequence[pathlib.Path] = ()
    webhook_host: str = "0.0.0.0"
    cert_validity: datetime.timedelta = datetime.timedelta(days=365)
    serve_webhooks: bool = True
    now: Callable[[], datetime.datetime] = lambda: datetime.datetime.now(datetime.timezone.utc)
    time_scale: float = 1.0  # cluster seconds per real second: a simulated cluster's clock speed


@dataclasses.dataclass
class Assembly:
    """The wired process; `manager.run(stop)` runs it."""

    manager: manager.Manager
    controller: jobsets.JobSetController
    webhook: server.WebhookServer | None
    rotator: rotation.Rotator | None
    pod_reconciler: placement.PodReconciler | None = None


def build(settings: Settings, api: client_.Client) -> Assembly:
    """Wire everything; raises `AssemblyError` for a configuration that cannot run."""
    config = settings.config
    decision_packs, problems = packs.load(settings.rules_dirs)
    if problems:
        raise AssemblyError("rule packs rejected:\n" + "\n".join(str(problem) for problem in problems))
    gates = dict(config.gates().values)
    options = manager.Options.from_configuration(config, namespace=settings.namespace)
    mgr = manager.Manager(client=api, options=options)
    controller = jobsets.JobSetController(api=api, decision_packs=decision_packs, feature_gates=gates,
                                            now=settings.now, time_scale=settings.time_scale)
    for informer in controller.informers:
        mgr.add_informer(informer)
    mgr.add_controller(controller.controller)
    pods = placement.PodReconciler(api=api, packs=decision_packs.registry, now=settings.now)
    for informer in pods.informers:
        mgr.add_informer(informer)
    mgr.add_controller(pods.controller)
    election = config.leader_election  # rejected operator packs are reported on the Lease (packreload)
    reloader = packreload.PackReloader(
        api=api, rules=decision_packs.registry, rules_dirs=settings.rules_dirs, namespace=settings.namespace,
        lease=packreload.Target(resources.LEASES, election.resource_namespace or settings.namespace,
                                election.resource_name), now=settings.now)
    mgr.add_informer(reloader.informer)
    mgr.add(manager.Runnable(name="rule-packs", run=reloader.run, group=manager.Group.CACHES,
                             ready=reloader.wait_loaded))
    webhook = rotator = None
    if settings.serve_webhooks:
        webhook, rotator = _webhooks(settings, api, decision_packs, gates, mgr, pods.lookup)
    return Assembly(manager=mgr, controller=controller, webhook=webhook, rotator=rotator, pod_reconciler=pods)


def _webhooks(settings: Settings, api: client_.Client, decision_packs: packs.RegistryPacks, gates: dict[str, bool],
              mgr: manager.Manager, lookup: pod_webhooks.Lookup) -> tuple[server.WebhookServer, rotation.Rotator | None]:
    config = settings.config
    settings_tls = config.tls or configuration.TLS()
    problems = tls.validate(settings_tls.min_version, settings_tls.cipher_suites)
    if problems:
        raise AssemblyError("; ".join(f"{field}: {message}" for field, message in problems))
    cert_dir = pathlib.Path(config.webhook.cert_dir or pathlib.Path(tempfile.gettempdir()) / "k8s-webhook-server" / "serving-certs")
    admission = jobset_webhooks.JobSetAdmission(decision_packs.registry, feature_gates=gates,
                                                pvc_lookup=_pvc_lookup(api))
    routes = {**admission.routes(), **pod_webhooks.PodAdmission(decision_packs.registry, lookup=lookup).routes()}
    webhook = server.WebhookServer(routes, cert_dir=cert_dir, host=config.webhook.host or settings.webhook_host,
                                   port=config.webhook.port, min_version=settings_tls.min_version,
                                   cipher_suites=tuple(settings_tls.cipher_suites or ()))
    rotator = None
    if config.internal_cert_management.enable:
        certs = config.internal_cert_management
        service = certs.webhook_service_name or "jobset-webhook-service"
        rotator = rotation.Rotator(cert_dir, dns_names=certificates.service_dns_names(service, settings.namespace),
                                   validity=settings.cert_validity)
        store = SecretStore(api, settings.namespace, certs.webhook_secret_name or "jobset-webhook-server-cert")
        first = asyncio.Event()
        mgr.add(manager.Runnable(name="certificates", run=lambda: _rotate_forever(rotator, store, webhook, api, first),
                                 group=manager.Group.CACHES, ready=first.wait))
    mgr.add(manager.Runnable(name="webhook-server", run=lambda: _serve(webhook), group=manager.Group.WEBHOOKS,
                             ready=lambda: _until_bound(webhook)))
    return webhook, rotator


async def _serve(webhook: server.WebhookServer) -> None:
    await webhook.start()
    try:
        await asyncio.Event().wait()
    finally:
        await webhook.stop()


async def _until_bound(webhook: server.WebhookServer) -> None:
    while not webhook.bound_port:
        await asyncio.sleep(0.01)


class SecretStore:
    """The webhook Secret (spec §14.5) as a `rotation.Store`: reads, and writes guarded by resourceVersion."""

    def __init__(self, api: client_.Client, namespace: str, name: str) -> None:
        self.api, self.namespace, self.name = api, namespace, name
        self._last: dict[str, Any] | None = None

    async def read(self) -> rotation.Stored:
        """The Secret's data and resourceVersion; empty data and None when it does not exist."""
        try:
            self._last = await self.api.get(resources.SECRETS, self.name, namespace=self.namespace)
        except errors.NotFound:
            self._last = None
            return rotation.Stored(data={}, resource_version=None)
        return rotation.Stored(data=self._last.get("data") or {},
                               resource_version=self._last["metadata"].get("resourceVersion"))

    async def write(self, data: Mapping[str, str], resource_version: str | None) -> bool:
        """Create it, or update the version last read; False when another replica wrote first."""
        try:
            if resource_version is None or self._last is None:
                await self.api.create(resources.SECRETS, {
                    "apiVersion": "v1", "kind": "Secret", "data": dict(data),
                    "metadata": {"name": self.name, "namespace": self.namespace}}, namespace=self.namespace)
            else:
                metadata = {**self._last["metadata"], "resourceVersion": resource_version}
                await self.api.update(resources.SECRETS, {**self._last, "metadata": metadata, "data": dict(data)})
        except errors.Conflict:  # AlreadyExists included
            return False
        return True


async def _rotate_forever(rotator: rotation.Rotator, store: SecretStore, webhook: server.WebhookServer,
                          api: client_.Client, first: asyncio.Event) -> None:
    """Sync with the Secret every ROTATION_CHECK_SECONDS (sooner when a certificate falls due):
    inject the Secret's bundle where it differs, then serve the new files."""
    while True:
        try:
            material = await rotator.sync(store, datetime.datetime.now(datetime.timezone.utc))
            await inject_ca_bundle(api, material.ca_bundle)
        except (errors.APIError, rotation.RotationError) as error:
            log.warning("webhook certificates not synced with Secret %s/%s: %s", store.namespace, store.name, error)
            await asyncio.sleep(1.0 if not first.is_set() else ROTATION_CHECK_SECONDS / 10)
            continue
        if rotator.install(material).serving_rotated:
            log.info("webhook certificate from Secret %s/%s now served", store.namespace, store.name)
            webhook.reload_certificates()
        first.set()
        due = rotation.seconds_until_due(material, datetime.datetime.now(datetime.timezone.utc))
        await asyncio.sleep(min(ROTATION_CHECK_SECONDS, max(due, 0.05)))


async def inject_ca_bundle(api: client_.Client, bundle: bytes) -> None:
    """Set `clientConfig.caBundle` on every webhook of the JobSet webhook configurations, unless they
    already trust a newer CA (a replica with a stale view of the Secret must not undo a rotation)."""
    encoded = base64.b64encode(bundle).decode()
    for resource, name in WEBHOOK_CONFIGURATIONS:
        for _ in range(5):
            try:
                current = await api.get(resource, name)
            except errors.NotFound:
                log.debug("webhook configuration %s not installed; caBundle not injected", name)
                break
            hooks: list[dict[str, Any]] = current.get("webhooks") or []
            injected = [(hook.get("clientConfig") or {}).get("caBundle") or "" for hook in hooks]
            if all(value == encoded for value in injected):
                break
            if not all(rotation.supersedes(bundle, _decoded(value)) for value in injected):
                log.info("webhook configuration %s trusts a newer CA; this replica's view is stale", name)
                break
            for hook in hooks:
                hook.setdefault("clientConfig", {})["caBundle"] = encoded
            try:
                await api.update(resource, current)
                break
            except errors.Conflict:
                continue


def _decoded(value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except ValueError:
        return b""


def _pvc_lookup(api: client_.Client) -> jobset_webhooks.PVCLookup:
    async def lookup(namespace: str, names: Sequence[str]) -> tuple[list[dict[str, Any]], dict[str, str]]:
        found: list[dict[str, Any]] = []
        failures: dict[str, str] = {}
        for name in names:
            try:
                found.append(await api.get(resources.PERSISTENT_VOLUME_CLAIMS, name, namespace=namespace))
            except errors.NotFound:
                continue
            except errors.APIError as error:
                failures[name] = str(error)
        return found, failures
    return lookup
