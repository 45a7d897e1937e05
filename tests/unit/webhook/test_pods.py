"""The Pod webhooks of exclusive placement (spec §12.3), one test per bullet of the section.

The handlers run on the built-in packs; the leader lookup is the controller's real
`placement.PodLookup` over a cache built from the pods each test lists, and Nodes come
from a dict (a missing one answers NotFound as the API server does).
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
from collections.abc import Mapping
from typing import Any

import pytest

from engine.kube import informers, placement
from engine.rules import loading, registry
from engine.webhook import pods, reviews

EXCLUSIVE = "alpha.jobset.sigs.k8s.io/exclusive-topology"
NODE_SELECTOR = "alpha.jobset.sigs.k8s.io/node-selector"
INDEX = "batch.kubernetes.io/job-completion-index"
JOB_KEY = "jobset.sigs.k8s.io/job-key"
PRIORITY = "jobset.sigs.k8s.io/priority"
RACK = "example.com/rack"
JOB_UID = "job-uid-0"


@pytest.fixture(scope="module")
def packs() -> registry.Registry:
    rules = registry.Registry()
    assert rules.load([loading.builtin_directory()]) == []
    return rules


class Cluster:
    """The pods the leader lookup sees and the Nodes the webhook reads."""

    def __init__(self, existing: list[dict[str, Any]] = (), nodes: Mapping[str, dict[str, Any]] | None = None) -> None:
        objects = {informers.Key.of(p): p for p in existing}
        indexes: dict[str, dict[str, set[informers.Key]]] = {placement.LEADER_NAME_INDEX: {}, placement.JOB_KEY_INDEX: {}}
        for key, pod in objects.items():
            for value in placement.index_leader_name(pod):
                indexes[placement.LEADER_NAME_INDEX].setdefault(value, set()).add(key)
        self.pods = placement.PodLookup(api=None, pods=informers.Reader(objects, indexes))  # type: ignore[arg-type]
        self.nodes = dict(nodes or {})

    async def leader(self, follower: Mapping[str, Any]) -> tuple[dict[str, Any] | None, str]:
        return await self.pods.leader(follower)

    async def node(self, name: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        if name in self.nodes:
            return self.nodes[name], None
        return None, {"code": 404, "reason": "NotFound", "message": f'nodes "{name}" not found'}


def pod(index: int | None, *, name: str = "", job_index: str = "0", owner: str | None = JOB_UID,
        annotations: dict[str, str | None] | None = None, spec: dict[str, Any] | None = None) -> dict[str, Any]:
    """A pod of Job js-w-<job_index> as the Job controller creates it (completion `index`)."""
    all_annotations = {"jobset.sigs.k8s.io/jobset-name": "js", EXCLUSIVE: RACK}
    if index is not None:
        all_annotations[INDEX] = str(index)
    all_annotations.update(annotations or {})
    metadata: dict[str, Any] = {
        "namespace": "ns", "generateName": f"js-w-{job_index}-{index}-",
        "labels": {"jobset.sigs.k8s.io/jobset-name": "js", "jobset.sigs.k8s.io/replicatedjob-name": "w",
                   "jobset.sigs.k8s.io/job-index": job_index, JOB_KEY: f"key-{job_index}"},
        "annotations": {k: v for k, v in all_annotations.items() if v is not None}}
    if name:
        metadata["name"] = name
    if owner is not None:
        metadata["ownerReferences"] = [{"apiVersion": "batch/v1", "kind": "Job", "name": f"js-w-{job_index}",
                                        "uid": owner, "controller": True}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata,
            "spec": {"containers": [{"name": "main", "image": "busybox"}], **(spec or {})}}


def leader_on(node: str | None, **extra: Any) -> dict[str, Any]:
    """The existing leader pod js-w-0-0-abcde, bound to `node` (None: not scheduled)."""
    return pod(0, name="js-w-0-0-abcde", spec={"nodeName": node} if node else {}, **extra)


def rack_node(name: str, rack: str | None) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": {RACK: rack} if rack else {"other": "x"}}}


def request(obj: dict[str, Any], operation: str = "CREATE") -> reviews.AdmissionRequest:
    return reviews.AdmissionRequest(uid="u-1", operation=operation, kind={"group": "", "version": "v1", "kind": "Pod"},
                                    namespace="ns", name="", object=obj, old_object=None, dry_run=False, raw={})


def mutate(packs: registry.Registry, cluster: Cluster, obj: dict[str, Any]) -> dict[str, Any]:
    """The mutating webhook's answer, with the patched pod under `pod` when it was allowed."""
    answer = asyncio.run(pods.PodAdmission(packs, lookup=cluster).mutate_review(request(obj)))["response"]
    if answer["allowed"]:
        answer["pod"] = apply(obj, json.loads(base64.b64decode(answer["patch"])) if "patch" in answer else [])
    return answer


def validate(packs: registry.Registry, cluster: Cluster, obj: dict[str, Any],
             operation: str = "CREATE") -> dict[str, Any]:
    admission = pods.PodAdmission(packs, lookup=cluster)
    response: dict[str, Any] = asyncio.run(admission.validate_review(request(obj, operation)))["response"]
    return response


def apply(document: dict[str, Any], operations: list[dict[str, Any]]) -> dict[str, Any]:
    """RFC 6902 `add` operations (all a webhook patch holds) applied to a copy."""
    result = copy.deepcopy(document)
    for operation in operations:
        assert operation["op"] == "add", operation
        *parents, last = [t.replace("~1", "/").replace("~0", "~") for t in operation["path"].split("/")[1:]]
        node = result
        for token in parents:
            node = node[token]
        node[last] = operation["value"]
    return result


# ------------------------------------------------------------------------ mutating (Default)

def test_default_leaves_a_pod_without_the_jobset_name_annotation_unchanged(packs: registry.Registry) -> None:
    """§12.3 Default step 1."""
    plain = pod(0, annotations={"jobset.sigs.k8s.io/jobset-name": None}, spec={"priority": 3})
    answer = mutate(packs, Cluster(), plain)
    assert answer["allowed"] and "patch" not in answer


def test_default_leaves_node_selector_strategy_pods_unchanged_without_priority_label(packs: registry.Registry) -> None:
    """§12.3 Default step 2, §12.2."""
    answer = mutate(packs, Cluster(), pod(0, annotations={NODE_SELECTOR: "true"}, spec={"priority": 3}))
    assert answer["allowed"] and "patch" not in answer


def test_default_sets_the_priority_label_from_spec_priority(packs: registry.Registry) -> None:
    """§12.3 Default step 3: any JobSet pod, exclusive placement or not."""
    answer = mutate(packs, Cluster(), pod(1, annotations={EXCLUSIVE: None}, spec={"priority": 42}))
    assert answer["pod"]["metadata"]["labels"][PRIORITY] == "42"
    assert "affinity" not in answer["pod"]["spec"]


def test_default_gives_a_leader_one_affinity_and_one_anti_affinity_term(packs: registry.Registry) -> None:
    """§12.3 Default step 4 (leader): structs created, both terms on the topology key, match-all namespaces."""
    patched = mutate(packs, Cluster(), pod(0, spec={"priority": 7}))["pod"]
    affinity = patched["spec"]["affinity"]
    [near] = affinity["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    [away] = affinity["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert near == {"labelSelector": {"matchExpressions": [{"key": JOB_KEY, "operator": "In", "values": ["key-0"]}]},
                    "topologyKey": RACK, "namespaceSelector": {}}
    assert away == {"labelSelector": {"matchExpressions": [
        {"key": JOB_KEY, "operator": "Exists"},
        {"key": JOB_KEY, "operator": "NotIn", "values": ["key-0"]},
        {"key": PRIORITY, "operator": "In", "values": ["7"]}]}, "topologyKey": RACK, "namespaceSelector": {}}


def test_default_appends_leader_terms_after_existing_ones(packs: registry.Registry) -> None:
    """§12.3 Default step 4 (leader): the user's required terms are kept, ours appended."""
    own = {"topologyKey": "zone", "labelSelector": {"matchLabels": {"app": "x"}}}
    leader = pod(0, spec={"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [own]}}})
    terms = mutate(packs, Cluster(), leader)["pod"]["spec"]["affinity"]["podAntiAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"]
    assert terms[0] == own and terms[1]["topologyKey"] == RACK


def test_default_anti_affinity_matches_the_empty_priority_without_priority(packs: registry.Registry) -> None:
    """§12.3 Default step 4 (leader), quirk: no priority label means `priority In [""]`."""
    patched = mutate(packs, Cluster(), pod(0))["pod"]
    away = patched["spec"]["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0]
    assert away["labelSelector"]["matchExpressions"][2] == {"key": PRIORITY, "operator": "In", "values": [""]}
    assert PRIORITY not in patched["metadata"]["labels"]


def test_default_gives_a_follower_its_leaders_domain(packs: registry.Registry) -> None:
    """§12.3 Default step 4 (follower): nodeSelector[T] = the leader Node's value of T."""
    cluster = Cluster([leader_on("n1")], {"n1": rack_node("n1", "rack-2")})
    patched = mutate(packs, cluster, pod(3, spec={"nodeSelector": {"disk": "ssd"}}))["pod"]
    assert patched["spec"]["nodeSelector"] == {"disk": "ssd", RACK: "rack-2"}
    assert "affinity" not in patched["spec"]


@pytest.mark.parametrize("existing", [[], [leader_on(None)]], ids=["leader-missing", "leader-unscheduled"])
def test_default_leaves_a_follower_unchanged_until_its_leader_is_scheduled(
        packs: registry.Registry, existing: list[dict[str, Any]]) -> None:
    """§12.3 Default step 4 (follower): lookup error or unscheduled leader: unchanged, allowed."""
    answer = mutate(packs, Cluster(existing), pod(1))
    assert answer["allowed"] and "patch" not in answer


def test_default_refuses_a_follower_when_the_leaders_node_cannot_be_read(packs: registry.Registry) -> None:
    """§12.3 Default step 4 (follower): a Node lookup failure is an admission error (NotFound here)."""
    answer = mutate(packs, Cluster([leader_on("gone")]), pod(1))
    assert not answer["allowed"]
    assert answer["status"]["code"] == 404 and answer["status"]["reason"] == "NotFound"
    assert answer["status"]["message"] == 'nodes "gone" not found'


def test_default_refuses_a_follower_when_the_leaders_node_lacks_the_topology_label(packs: registry.Registry) -> None:
    """§12.3 Default step 4 (follower)."""
    answer = mutate(packs, Cluster([leader_on("n1")], {"n1": rack_node("n1", None)}), pod(1))
    assert not answer["allowed"]
    assert answer["status"]["message"] == f"node does not have topology label: {RACK}"


# ---------------------------------------------------------------------------- leader lookup

def lookup(existing: list[dict[str, Any]], follower: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    return asyncio.run(Cluster(existing).leader(follower))


@pytest.mark.parametrize("label", ["jobset.sigs.k8s.io/jobset-name", "jobset.sigs.k8s.io/replicatedjob-name",
                                   "jobset.sigs.k8s.io/job-index"])
def test_leader_lookup_needs_the_three_name_labels(label: str) -> None:
    """§12.3 leader lookup: a missing label is an error naming it."""
    follower = pod(1)
    del follower["metadata"]["labels"][label]
    assert lookup([leader_on("n1")], follower) == (None, f"pod missing label: {label}")


def test_leader_lookup_finds_the_leader_by_name_without_its_suffix() -> None:
    """§12.3 leader lookup: <jobset>-<rj>-<job-index>-0 plus one random segment; other Jobs' leaders ignored."""
    other = pod(0, name="js-w-1-0-zzzzz", job_index="1", spec={"nodeName": "n2"})
    found, error = lookup([other, leader_on("n1")], pod(2))
    assert error == "" and found is not None and found["metadata"]["name"] == "js-w-0-0-abcde"


def test_leader_lookup_ignores_pods_without_the_annotation_or_with_short_names() -> None:
    """§12.3 leader lookup: only exclusive-placement pods, names of at least 5 segments, are candidates."""
    unannotated = leader_on("n1", annotations={EXCLUSIVE: None})
    short = pod(0, name="js-w-0-0", spec={"nodeName": "n1"})
    assert lookup([unannotated, short], pod(1)) == (
        None, "expected 1 leader pod (js-w-0-0), but got 0. this is an expected, transient error")


def test_leader_lookup_drops_deleting_and_finished_candidates() -> None:
    """§12.3 leader lookup: being deleted, Failed or Succeeded pods do not count."""
    deleting = pod(0, name="js-w-0-0-aaaaa", spec={"nodeName": "n1"})
    deleting["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    failed = pod(0, name="js-w-0-0-bbbbb", spec={"nodeName": "n1"})
    failed["status"] = {"phase": "Failed"}
    succeeded = pod(0, name="js-w-0-0-ccccc", spec={"nodeName": "n1"})
    succeeded["status"] = {"phase": "Succeeded"}
    found, error = lookup([deleting, failed, succeeded, leader_on("n1")], pod(1))
    assert error == "" and found is not None and found["metadata"]["name"] == "js-w-0-0-abcde"


def test_leader_lookup_needs_exactly_one_leader() -> None:
    """§12.3 leader lookup: two live candidates are an error."""
    second = pod(0, name="js-w-0-0-fffff", spec={"nodeName": "n1"})
    assert lookup([second, leader_on("n1")], pod(1)) == (
        None, "expected 1 leader pod (js-w-0-0), but got 2. this is an expected, transient error")


def test_leader_lookup_needs_both_owned_by_the_same_job() -> None:
    """§12.3 leader lookup: follower owner, leader owner, same UID."""
    assert lookup([leader_on("n1")], pod(1, owner=None)) == (None, "follower pod has no owner reference")
    assert lookup([leader_on("n1", owner=None)], pod(1)) == (
        None, 'leader pod "js-w-0-0-abcde" has no owner reference')
    assert lookup([leader_on("n1", owner="old-uid")], pod(1)) == (
        None, f"follower pod owner UID ({JOB_UID}) != leader pod owner UID (old-uid)")


# ------------------------------------------------------------------ validating (ValidateCreate)

@pytest.mark.parametrize("candidate", [
    pod(1, annotations={"jobset.sigs.k8s.io/jobset-name": None}),
    pod(1, annotations={NODE_SELECTOR: "true"}),
    pod(1, annotations={EXCLUSIVE: None}),
    pod(0),
], ids=["not-a-jobset-pod", "node-selector-strategy", "not-exclusive", "leader"])
def test_validate_allows_pods_that_are_not_exclusive_followers(packs: registry.Registry,
                                                               candidate: dict[str, Any]) -> None:
    """§12.3 ValidateCreate: allowed without any lookup (the cluster here has no leader at all)."""
    assert validate(packs, Cluster(), candidate)["allowed"]


def test_validate_refuses_a_follower_without_node_selector(packs: registry.Registry) -> None:
    """§12.3 ValidateCreate: `follower pod node selector not set`."""
    answer = validate(packs, Cluster([leader_on("n1")]), pod(1))
    assert not answer["allowed"] and answer["status"]["code"] == 403
    assert answer["status"]["message"] == "follower pod node selector not set"


def test_validate_refuses_a_follower_whose_selector_lacks_the_topology_key(packs: registry.Registry) -> None:
    """§12.3 ValidateCreate: `missing selector: T`."""
    answer = validate(packs, Cluster([leader_on("n1")]), pod(1, spec={"nodeSelector": {"disk": "ssd"}}))
    assert not answer["allowed"]
    assert answer["status"]["message"].endswith(f"missing selector: {RACK}")


def test_validate_refuses_a_follower_with_the_leader_lookup_error(packs: registry.Registry) -> None:
    """§12.3 ValidateCreate: a leader lookup error is the rejection."""
    answer = validate(packs, Cluster(), pod(1, spec={"nodeSelector": {RACK: "rack-1"}}))
    assert not answer["allowed"]
    assert answer["status"]["message"].startswith("expected 1 leader pod (js-w-0-0), but got 0")


def test_validate_refuses_a_follower_until_the_leader_is_scheduled(packs: registry.Registry) -> None:
    """§12.3 ValidateCreate: `leader pod not yet scheduled`, transient; scheduled: allowed."""
    follower = pod(1, spec={"nodeSelector": {RACK: "rack-1"}})
    waiting = validate(packs, Cluster([leader_on(None)]), follower)
    assert not waiting["allowed"] and waiting["status"]["message"].startswith("leader pod not yet scheduled")
    assert validate(packs, Cluster([leader_on("n1")]), follower)["allowed"]


def test_update_and_delete_are_always_allowed(packs: registry.Registry) -> None:
    """§12.3: only CREATE is checked."""
    assert validate(packs, Cluster(), pod(1), operation="UPDATE")["allowed"]
    answer = asyncio.run(pods.PodAdmission(packs, lookup=Cluster()).mutate_review(request(pod(0), "UPDATE")))
    assert answer["response"] == {"uid": "u-1", "allowed": True}
