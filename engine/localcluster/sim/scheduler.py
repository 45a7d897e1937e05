"""The simulated scheduler's decision: which node a pod goes to, or why none fits.

Owns: `Cluster` (nodes, what is bound where, indexed by node, label and anti-affinity
term, kept up to date by the driver) and `choose(pod, cluster)`: nodeSelector, required
node affinity, taints and tolerations, resource fit (cpu, memory, pods, any other request),
required pod affinity and anti-affinity by topologyKey with label and namespace selectors
(including existing pods' anti-affinity), and Kubernetes-style "0/N nodes are available"
messages. Pure apart from the in-memory index.
Called by: `sim.schedulerdriver`; unit tests.
Must not import: anything in `engine` outside `localcluster`.
"""

from __future__ import annotations

import collections
import dataclasses
import json
from typing import Any, Iterable, Mapping

from engine.localcluster.sim import placement, podstate


@dataclasses.dataclass(frozen=True)
class Choice:
    """A node name, or None with the Unschedulable message."""

    node: str | None
    message: str = ""


@dataclasses.dataclass
class _Bound:
    namespace: str
    labels: dict[str, str]
    node: str
    requests: dict[str, float]
    terms: list[str]


class Cluster:
    """Nodes and bound, non-terminal pods, indexed for placement decisions."""

    def __init__(self) -> None:
        self.nodes: dict[str, Mapping[str, Any]] = {}
        self.offered: dict[str, dict[str, float]] = {}
        self.used: dict[str, dict[str, float]] = collections.defaultdict(dict)
        self.namespaces: dict[str, dict[str, str]] = {}
        self._pods: dict[str, _Bound] = {}
        self._by_label: dict[tuple[str, str], set[str]] = collections.defaultdict(set)
        self._by_key: dict[str, set[str]] = collections.defaultdict(set)
        self._anti: dict[str, tuple[str, Mapping[str, Any], collections.Counter[str]]] = {}
        self._rotation = 0

    def put_node(self, node: Mapping[str, Any]) -> None:
        """Add or replace a node."""
        name = node["metadata"]["name"]
        self.nodes[name] = node
        self.offered[name] = placement.allocatable(node)

    def drop_node(self, name: str) -> None:
        """Forget a node (its pods stay until they go)."""
        self.nodes.pop(name, None)
        self.offered.pop(name, None)

    def put_pod(self, pod: Mapping[str, Any]) -> None:
        """Track a pod if it is bound and not terminal; forget it otherwise."""
        uid = pod["metadata"]["uid"]
        self.drop_pod(uid)
        node = pod.get("spec", {}).get("nodeName")
        if not node or podstate.is_terminal(pod):
            return
        labels = dict(pod["metadata"].get("labels") or {})
        namespace = pod["metadata"].get("namespace", "")
        bound = _Bound(namespace, labels, node, placement.pod_requests(pod), [])
        for term in _terms(pod, "podAntiAffinity"):
            signature = json.dumps([namespace, term], sort_keys=True)
            entry = self._anti.setdefault(signature, (namespace, term, collections.Counter()))
            entry[2][node] += 1
            bound.terms.append(signature)
        self._pods[uid] = bound
        for k, v in labels.items():
            self._by_label[(k, v)].add(uid)
            self._by_key[k].add(uid)
        used = self.used[node]
        for name, value in bound.requests.items():
            used[name] = used.get(name, 0.0) + value

    def drop_pod(self, uid: str) -> None:
        """Forget a pod."""
        bound = self._pods.pop(uid, None)
        if bound is None:
            return
        for k, v in bound.labels.items():
            self._by_label[(k, v)].discard(uid)
            self._by_key[k].discard(uid)
        for name, value in bound.requests.items():
            self.used[bound.node][name] = self.used[bound.node].get(name, 0.0) - value
        for signature in bound.terms:
            counter = self._anti[signature][2]
            counter[bound.node] -= 1
            if counter[bound.node] <= 0:
                del counter[bound.node]
            if not counter:
                del self._anti[signature]

    def matching(self, selector: Mapping[str, Any], namespaces: set[str] | None) -> Iterable[_Bound]:
        """Bound pods in `namespaces` (None: all) whose labels match `selector`."""
        for uid in self._candidates(selector):
            bound = self._pods[uid]
            if (namespaces is None or bound.namespace in namespaces) and \
                    placement.selector_matches(selector, bound.labels):
                yield bound

    def _candidates(self, selector: Mapping[str, Any]) -> Iterable[str]:
        for k, v in (selector.get("matchLabels") or {}).items():
            return list(self._by_label.get((k, v), ()))
        for expr in selector.get("matchExpressions") or []:
            if expr.get("operator") == "In":
                found: set[str] = set()
                for value in expr.get("values") or []:
                    found |= self._by_label.get((expr["key"], str(value)), set())
                return list(found)
            if expr.get("operator") == "Exists":
                return list(self._by_key.get(expr["key"], ()))
        return list(self._pods)

    def anti_terms(self) -> Iterable[tuple[str, Mapping[str, Any], collections.Counter[str]]]:
        """(namespace, term, pods per node) of every required anti-affinity term in place."""
        return self._anti.values()

    def domain(self, node: str, key: str) -> str | None:
        """The node's value of a topology label."""
        found = self.nodes.get(node)
        return None if found is None else (found["metadata"].get("labels") or {}).get(key)

    def next_start(self) -> int:
        """Where the next search starts, so pods spread over equal nodes."""
        self._rotation += 1
        return self._rotation


def _terms(pod: Mapping[str, Any], kind: str) -> list[Mapping[str, Any]]:
    affinity = (pod.get("spec", {}).get("affinity") or {}).get(kind) or {}
    return list(affinity.get("requiredDuringSchedulingIgnoredDuringExecution") or [])


def _namespaces(term: Mapping[str, Any], own: str, cluster: Cluster) -> set[str] | None:
    chosen = set(term.get("namespaces") or [])
    selector = term.get("namespaceSelector")
    if selector is not None:
        if not selector.get("matchLabels") and not selector.get("matchExpressions"):
            return None
        chosen |= {ns for ns, labels in cluster.namespaces.items()
                   if placement.selector_matches(selector, labels)}
    return chosen or {own}


def _pod_rules(pod: Mapping[str, Any], cluster: Cluster) -> list[tuple[str, str, set[str] | None]]:
    """(kind, topologyKey, allowed or forbidden domains) for each pod (anti-)affinity term."""
    own_ns = pod["metadata"].get("namespace", "")
    own_labels = pod["metadata"].get("labels") or {}
    rules = []
    for kind in ("podAffinity", "podAntiAffinity"):
        for term in _terms(pod, kind):
            key = term.get("topologyKey", "")
            spaces = _namespaces(term, own_ns, cluster)
            selector = term.get("labelSelector") or {}
            domains = {cluster.domain(b.node, key) for b in cluster.matching(selector, spaces)}
            domains.discard(None)
            if kind == "podAffinity" and not domains and (spaces is None or own_ns in spaces) \
                    and placement.selector_matches(selector, own_labels):
                rules.append((kind, key, None))
                continue
            rules.append((kind, key, {d for d in domains if d is not None}))
    for namespace, term, counter in cluster.anti_terms():
        spaces = _namespaces(term, namespace, cluster)
        if (spaces is None or own_ns in spaces) and \
                placement.selector_matches(term.get("labelSelector") or {}, own_labels):
            key = term.get("topologyKey", "")
            found = {cluster.domain(node, key) for node in counter}
            rules.append(("existing", key, {d for d in found if d is not None}))
    return _merge(rules)


def _merge(rules: list[tuple[str, str, set[str] | None]]) -> list[tuple[str, str, set[str] | None]]:
    """One rule per (kind, topologyKey): allowed domains intersect, forbidden ones add up."""
    merged: dict[tuple[str, str], set[str] | None] = {}
    for kind, key, domains in rules:
        slot = (kind, key)
        if slot not in merged:
            merged[slot] = None if domains is None else set(domains)
        elif kind == "podAffinity":
            have = merged[slot]
            merged[slot] = domains if have is None else have if domains is None else have & domains
        else:
            merged[slot] = (merged[slot] or set()) | (domains or set())
    return [(kind, key, domains) for (kind, key), domains in merged.items()]


def _reject(pod: Mapping[str, Any], name: str, cluster: Cluster, asked: Mapping[str, float],
            rules: list[tuple[str, str, set[str] | None]]) -> str | None:
    node = cluster.nodes[name]
    if (node.get("spec") or {}).get("unschedulable"):
        return "node(s) were unschedulable"
    if not placement.node_fits_affinity(pod, node):
        return "node(s) didn't match Pod's node affinity/selector"
    taint = placement.untolerated_taint(pod, node)
    if taint is not None:
        shown = f"{taint.get('key')}: {taint.get('value')}" if taint.get("value") else taint.get("key")
        return f"node(s) had untolerated taint {{{shown}}}"
    for kind, key, domains in rules:
        value = cluster.domain(name, key)
        if kind == "podAffinity" and (value is None or (domains is not None and value not in domains)):
            return "node(s) didn't match pod affinity rules"
        if kind == "podAntiAffinity" and value is not None and value in (domains or set()):
            return "node(s) didn't match pod anti-affinity rules"
        if kind == "existing" and value is not None and value in (domains or set()):
            return "node(s) didn't satisfy existing pods anti-affinity rules"
    used, offered = cluster.used.get(name, {}), cluster.offered[name]
    for resource, amount in sorted(asked.items()):
        if amount > 0 and used.get(resource, 0.0) + amount > offered.get(resource, 0.0) + 1e-9:
            return "Too many pods" if resource == "pods" else f"Insufficient {resource}"
    return None


def choose(pod: Mapping[str, Any], cluster: Cluster) -> Choice:
    """The first feasible node (searched from a rotating start), or why none is."""
    names = sorted(cluster.nodes)
    if not names:
        return Choice(None, "no nodes available to schedule pods")
    asked = placement.pod_requests(pod)
    rules = _pod_rules(pod, cluster)
    start = cluster.next_start() % len(names)
    reasons: collections.Counter[str] = collections.Counter()
    for name in names[start:] + names[:start]:
        why = _reject(pod, name, cluster, asked, rules)
        if why is None:
            return Choice(name)
        reasons[why] += 1
    detail = ", ".join(sorted(f"{n} {why}" for why, n in reasons.items()))
    return Choice(None, f"0/{len(names)} nodes are available: {detail}.")
