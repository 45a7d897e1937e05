"""Cache pieces that need no server: keys, indexes, transforms, event-to-key mappers (spec §7)."""

from engine.kube import handlers, informers, workqueue

JOBSET_OWNER = {"apiVersion": "jobset.x-k8s.io/v1alpha2", "kind": "JobSet", "name": "js", "uid": "u-1",
                "controller": True}


def job(name: str, owners: list[dict] | None = None, labels: dict | None = None) -> dict:
    return {"metadata": {"name": name, "namespace": "ns", "ownerReferences": owners or [], "labels": labels or {},
                         "managedFields": [{"manager": "kubectl"}],
                         "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{...}", "keep": "me"}}}


def test_key_of_namespaced_and_cluster_scoped_objects() -> None:
    assert informers.Key.of(job("a")) == informers.Key("ns", "a")
    assert str(informers.Key.of(job("a"))) == "ns/a"
    assert str(informers.Key.of({"metadata": {"name": "node-1"}})) == "node-1"


def test_strip_noise_drops_managed_fields_and_last_applied_only() -> None:
    stripped = informers.strip_noise(job("a"))
    assert "managedFields" not in stripped["metadata"]
    assert stripped["metadata"]["annotations"] == {"keep": "me"}


def test_index_jobs_by_controller_owner_uid_only_for_jobset_owners_spec_7() -> None:
    index = informers.by_controller_uid(group="jobset.x-k8s.io", kind="JobSet")
    assert index(job("a", [JOBSET_OWNER])) == ["u-1"]
    assert index(job("b", [{**JOBSET_OWNER, "controller": False}])) == []
    assert index(job("c", [{**JOBSET_OWNER, "apiVersion": "other.io/v1"}])) == []


def test_index_pods_by_namespace_and_jobset_name_label_spec_7() -> None:
    index = informers.by_label("jobset.sigs.k8s.io/jobset-name")
    assert index(job("p", labels={"jobset.sigs.k8s.io/jobset-name": "js"})) == ["ns/js"]
    assert index(job("q")) == []


def test_child_event_enqueues_its_controller_owner_key() -> None:
    async def scenario() -> list:
        queue = workqueue.WorkQueue(name="owner-map")
        handler = handlers.enqueue(queue, handlers.controller_owner(group="jobset.x-k8s.io", kind="JobSet"))
        handler(None, job("a", [JOBSET_OWNER]))
        handler(job("a", [JOBSET_OWNER]), job("a", [JOBSET_OWNER]))
        handler(job("orphan"), None)
        return [await queue.get() for _ in range(len(queue))]
    import asyncio
    assert asyncio.run(scenario()) == [informers.Key("ns", "js")]


def test_label_and_own_key_mappers() -> None:
    mapper = handlers.label_value("jobset.sigs.k8s.io/jobset-name")
    assert mapper(job("p", labels={"jobset.sigs.k8s.io/jobset-name": "js"})) == [informers.Key("ns", "js")]
    assert mapper(job("p")) == []
    assert handlers.own_key(job("x")) == [informers.Key("ns", "x")]


def test_keep_fields_keeps_only_named_paths_and_shares_repeated_strings() -> None:
    transform = informers.keep_fields("metadata.name", "metadata.labels", "spec.nodeName", "status.phase",
                                      "status.missing", "nothing.here")
    first = transform({**job("a", labels={"jobset.sigs.k8s.io/jobset-name": "js"}),
                       "spec": {"nodeName": "n1", "containers": [{"name": "c"}]}, "status": {"phase": "Running"}})
    assert first == {"metadata": {"name": "a", "labels": {"jobset.sigs.k8s.io/jobset-name": "js"}},
                     "spec": {"nodeName": "n1"}, "status": {"phase": "Running"}}
    second = transform({"metadata": {"name": "b"}, "spec": {"nodeName": "".join(["n", "1"])}})
    assert second["spec"]["nodeName"] is first["spec"]["nodeName"]


def test_compact_strips_noise_and_shares_strings_between_objects() -> None:
    first = informers.compact(job("a", labels={"app": "".join(["trai", "ning"])}))
    second = informers.compact(job("b", labels={"app": "".join(["train", "ing"])}))
    assert "managedFields" not in first["metadata"]
    assert first["metadata"]["labels"]["app"] is second["metadata"]["labels"]["app"]
