"""Skeletons carry the template and nothing JobSet adds (spec §9.2 steps 1-2, §9.7, §9.8)."""

from engine.model import builders

REPLICATED_JOB = {
    "name": "workers",
    "replicas": 2,
    "template": {
        "metadata": {"name": "ignored", "labels": {"team": "a"}, "annotations": {"note": "x"}},
        "spec": {"parallelism": 2, "template": {"spec": {"containers": [{"name": "c", "image": "i"}]}}},
    },
}


def test_job_skeleton_copies_template_labels_annotations_and_spec() -> None:
    """§9.2 step 2: labels, annotations and spec are copied; nothing else is set."""
    job = builders.job_skeleton(REPLICATED_JOB)
    assert job == {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"labels": {"team": "a"}, "annotations": {"note": "x"}},
        "spec": REPLICATED_JOB["template"]["spec"],
    }


def test_job_skeleton_is_a_deep_copy() -> None:
    """§9.2: changing the Job must never change the JobSet's template."""
    job = builders.job_skeleton(REPLICATED_JOB)
    job["spec"]["template"]["spec"]["containers"][0]["image"] = "changed"
    job["metadata"]["labels"]["team"] = "b"
    assert REPLICATED_JOB["template"]["spec"]["template"]["spec"]["containers"][0]["image"] == "i"
    assert REPLICATED_JOB["template"]["metadata"]["labels"]["team"] == "a"


def test_job_skeleton_of_a_bare_template() -> None:
    """§9.2: a template without metadata yields empty metadata."""
    assert builders.job_skeleton({"name": "r", "template": {"spec": {}}})["metadata"] == {}


def test_service_skeleton_is_empty() -> None:
    """§9.7: every Service field comes from the construct pack."""
    assert builders.service_skeleton() == {"apiVersion": "v1", "kind": "Service", "metadata": {}, "spec": {}}


def test_pvc_skeleton_copies_template() -> None:
    """§9.8: labels, annotations and spec of the policy template; name comes later."""
    template = {"metadata": {"name": "data", "labels": {"l": "v"}},
                "spec": {"accessModes": ["ReadWriteOnce"]}}
    pvc = builders.pvc_skeleton(template)
    assert pvc == {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                   "metadata": {"labels": {"l": "v"}}, "spec": {"accessModes": ["ReadWriteOnce"]}}
    pvc["spec"]["accessModes"].append("x")
    assert template["spec"]["accessModes"] == ["ReadWriteOnce"]
