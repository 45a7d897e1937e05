"""Operator rule packs reloaded into the running controller, from directories and ConfigMaps.

Owns: `PackReloader`, one runnable that keeps a `rules.registry.Registry` in step with its
sources without a restart: the `--rules-dir` directories (their content hashed every
`POLL_SECONDS`) and the ConfigMaps of the controller's namespace labelled `LABEL=true` (an
informer; each ConfigMap holds one pack under the `pack.yaml` key, its tests under
`tests-*.yaml` keys, written to a private temporary directory loaded after the directories).
Each change reloads the whole set through `Registry.load`, which keeps the previous version of
a pack that fails. Each new problem is logged on its own line (file:line:col) and recorded as a
Warning Event `RulePackRejected`: on the ConfigMap that holds the pack, or, for a directory
pack, on the controller's leader-election Lease (see docs/rule-packs.md §8).
Called by: `engine.assembly.build` (registered with the manager in the caches group).
Must not import: `engine.planner`, `engine.webhook`, `engine.localcluster`, `engine.cli`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import hashlib
import logging
import pathlib
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from engine.kube import client as client_
from engine.kube import errors, events, informers, resources
from engine.rules import loading, problems, registry

LABEL = "rules.jobset.x-k8s.io/pack"
REASON = "RulePackRejected"
POLL_SECONDS = 2.0
CONFIG_MAPS = resources.Resource("", "v1", "configmaps", "ConfigMap")
log = logging.getLogger("jobset.packreload")


@dataclasses.dataclass(frozen=True)
class Target:
    """The object an Event about a rejected pack is recorded on."""

    resource: resources.Resource
    namespace: str
    name: str


def fingerprint(directories: Iterable[pathlib.Path]) -> str:
    """A hash of every file's relative path and content under `directories` (missing ones count too)."""
    digest = hashlib.sha256()
    for directory in directories:
        digest.update(f"\0dir {directory}\0".encode())
        if not directory.is_dir():
            continue
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            digest.update(f"\0{path.relative_to(directory)}\0".encode())
            try:
                digest.update(path.read_bytes())
            except OSError as error:
                digest.update(str(error).encode())
    return digest.hexdigest()


def materialise(config_maps: Sequence[Mapping[str, Any]], root: pathlib.Path) -> list[problems.Problem]:
    """Write each ConfigMap's pack to `root/<name>/` (`pack.yaml`, `tests/<rest of tests-*.yaml>`),
    removing what no ConfigMap holds any more; returns a problem for each ConfigMap without a pack."""
    wanted: dict[pathlib.Path, str] = {}
    found = []
    for config_map in config_maps:
        name = config_map["metadata"]["name"]
        data: Mapping[str, str] = config_map.get("data") or {}
        if loading.PACK_FILE not in data:
            found.append(problems.Problem(source_name(config_map, loading.PACK_FILE), 1, 1,
                                          f"the ConfigMap has no {loading.PACK_FILE} key"))
            continue
        wanted[root / name / loading.PACK_FILE] = data[loading.PACK_FILE]
        for key, text in data.items():
            if key.startswith("tests-") and key.endswith((".yaml", ".yml")):
                wanted[root / name / "tests" / key.removeprefix("tests-")] = text
    _sync(root, wanted)
    return found


def _sync(root: pathlib.Path, wanted: Mapping[pathlib.Path, str]) -> None:
    """Make the files under `root` exactly `wanted`, rewriting only those that changed."""
    for path in sorted(root.rglob("*"), reverse=True):
        if path.is_file() and path not in wanted:
            path.unlink()
        elif path.is_dir() and not any(p.is_relative_to(path) for p in wanted):
            shutil.rmtree(path)
    for path, text in wanted.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")


def source_name(config_map: Mapping[str, Any], key: str) -> str:
    """How problems name a ConfigMap key: `configmaps/<namespace>/<name>/<key>`."""
    metadata = config_map["metadata"]
    return f"configmaps/{metadata.get('namespace', '')}/{metadata['name']}/{key}"


class PackReloader:
    """Reloads the registry whenever a pack directory or a labelled ConfigMap changes."""

    def __init__(self, *, api: client_.Client, rules: registry.Registry, rules_dirs: Sequence[pathlib.Path],
                 namespace: str, lease: Target, now: Callable[[], datetime.datetime]) -> None:
        self.api = api
        self.rules = rules
        self.rules_dirs = tuple(rules_dirs)
        self.namespace = namespace
        self.lease = lease
        self.now = now
        self.informer = informers.Informer(client=api, resource=CONFIG_MAPS, namespace=namespace,
                                           label_selector=f"{LABEL}=true")
        self._changed = asyncio.Event()
        self.informer.add_handler(lambda old, new: self._changed.set())
        self._loaded = asyncio.Event()
        self._reported: set[str] = set()
        self._root: pathlib.Path | None = None

    async def wait_loaded(self) -> None:
        """Return once the first load with the ConfigMap packs is done."""
        await self._loaded.wait()

    async def run(self) -> None:
        """Load once the ConfigMaps are listed, then reload on every change until cancelled."""
        self._root = pathlib.Path(tempfile.mkdtemp(prefix="jobset-configmap-packs-"))
        try:
            await self.informer.wait_synced()
            seen = fingerprint(self.rules_dirs)
            await self._reload()
            self._loaded.set()
            while True:
                try:
                    await asyncio.wait_for(self._changed.wait(), POLL_SECONDS)
                except TimeoutError:
                    pass
                current = await asyncio.to_thread(fingerprint, self.rules_dirs)
                if self._changed.is_set() or current != seen:
                    seen = current
                    await self._reload_logged()
        finally:
            shutil.rmtree(self._root, ignore_errors=True)

    async def _reload_logged(self) -> None:
        """`_reload`, with a failure to write the temporary directory logged rather than ending the process."""
        try:
            await self._reload()
        except OSError as error:
            log.error("rule packs not reloaded, the active ones stay: %s", error)

    async def _reload(self) -> None:
        """Materialise the ConfigMaps, load every source, report the problems not reported by the last reload."""
        assert self._root is not None, "_reload runs inside run()"
        self._changed.clear()
        config_maps = self.informer.reader.list(namespace=self.namespace)
        found = await asyncio.to_thread(self._load, config_maps, self._root)
        fresh = [problem for problem in found if str(problem) not in self._reported]
        self._reported = {str(problem) for problem in found}
        for problem in fresh:
            log.warning("rule pack rejected, its previous version stays: %s", problem)
        for target, messages in self._by_target(fresh, config_maps).items():
            await self._record(target, messages)

    def _load(self, config_maps: Sequence[Mapping[str, Any]], root: pathlib.Path) -> list[problems.Problem]:
        found = materialise(config_maps, root)
        loaded = self.rules.load([loading.builtin_directory(), *self.rules_dirs, root])
        by_dir = {str(root / cm["metadata"]["name"]): cm for cm in config_maps}
        return found + [self._renamed(problem, root, by_dir) for problem in loaded]

    @staticmethod
    def _renamed(problem: problems.Problem, root: pathlib.Path,
                 by_dir: Mapping[str, Mapping[str, Any]]) -> problems.Problem:
        """A problem in a materialised file, named by its ConfigMap key instead of the temporary path."""
        path = pathlib.Path(problem.filename)
        if not path.is_relative_to(root) or path == root:
            return problem
        config_map = by_dir.get(str(root / path.relative_to(root).parts[0]))
        if config_map is None:
            return problem
        key = "/".join(path.relative_to(root).parts[1:]).replace("tests/", "tests-", 1)
        return dataclasses.replace(problem, filename=source_name(config_map, key))

    def _by_target(self, found: Sequence[problems.Problem],
                   config_maps: Sequence[Mapping[str, Any]]) -> dict[Target, list[str]]:
        """Problems grouped by the object their Event goes on: their ConfigMap, else the Lease."""
        prefixes = {source_name(cm, ""): Target(CONFIG_MAPS, self.namespace, cm["metadata"]["name"])
                    for cm in config_maps}
        grouped: dict[Target, list[str]] = {}
        for problem in found:
            target = next((t for prefix, t in prefixes.items() if problem.filename.startswith(prefix)), self.lease)
            grouped.setdefault(target, []).append(str(problem))
        return grouped

    async def _uid(self, target: Target) -> str:
        """The target's UID: a ConfigMap's from the cache, the Lease's from the API ("" when absent)."""
        if target.resource == CONFIG_MAPS:
            cached = self.informer.reader.get(target.namespace, target.name) or {}
            return str((cached.get("metadata") or {}).get("uid", ""))
        try:
            lease = await self.api.get(target.resource, target.name, namespace=target.namespace)
            return str(lease["metadata"]["uid"])
        except errors.APIError:
            return ""  # a Lease that does not exist (no leader election): the Event still names it

    async def _record(self, target: Target, messages: Sequence[str]) -> None:
        """One Warning Event on `target` (a repeat bumps its count); failures are logged, never raised."""
        involved = {"apiVersion": target.resource.api_version, "kind": target.resource.kind,
                    "name": target.name, "namespace": target.namespace, "uid": await self._uid(target)}
        await events.RECORDER.record(self.api, involved, type_="Warning", reason=REASON, action="LoadRulePacks",
                                     message="rule pack rejected, its previous version stays: " + "; ".join(messages),
                                     now=self.now())
