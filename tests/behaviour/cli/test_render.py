"""`jobset render`: the defaulted JobSet, then its children in creation order (§8 steps 11-14, §9)."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import pytest
import yaml

from engine.cli import main as cli

ROOT = pathlib.Path(__file__).resolve().parents[3]
EXAMPLES = ROOT.parent / "shared" / "upstream-examples"


def render(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict], str]:
    code = cli.main(["render", *args])
    captured = capsys.readouterr()
    objects = [doc for doc in yaml.safe_load_all(captured.out) if doc] if captured.out.strip() else []
    return code, objects, captured.err


def test_objects_come_in_creation_order_with_section_9_shapes(capsys: pytest.CaptureFixture[str]) -> None:
    """§9.1, §9.2, §9.7: Service first, then Jobs named <jobset>-<rj>-<index> in spec order."""
    code, objects, _ = render(capsys, str(EXAMPLES / "simple" / "coordinator.yaml"))
    assert code == 0
    assert [o["kind"] for o in objects] == ["JobSet", "Service", "Job", "Job"]
    jobset, service, *jobs = objects
    assert jobset["spec"]["successPolicy"] == {"operator": "All"}          # §5.2 step 1
    assert service["spec"]["clusterIP"] == "None"
    assert service["metadata"]["name"] == "coordinator-example"
    assert [j["metadata"]["name"] for j in jobs] == ["coordinator-example-workers-0", "coordinator-example-driver-0"]
    for job in jobs:
        owner = job["metadata"]["ownerReferences"][0]
        assert owner["uid"] == jobset["metadata"]["uid"] and owner["controller"] is True
        assert job["spec"]["template"]["spec"]["subdomain"] == "coordinator-example"       # §9.2 step 4
        assert job["metadata"]["labels"]["jobset.sigs.k8s.io/coordinator"] == \
            "coordinator-example-driver-0-0.coordinator-example"                              # §9.6


def test_global_indexes_follow_spec_order(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    """§9.3 worked example: rjob1 (2), rjob2 (4), rjob3 (1): rjob2 job 3 has global index 5 of 7."""
    replicated = [{"name": n, "replicas": r, "template": {"spec": {"template": {"spec": {
        "containers": [{"name": "c", "image": "busybox"}]}}}}} for n, r in (("rjob1", 2), ("rjob2", 4), ("rjob3", 1))]
    path = tmp_path / "js.yaml"
    path.write_text(yaml.safe_dump({"apiVersion": "jobset.x-k8s.io/v1alpha2", "kind": "JobSet",
                                    "metadata": {"name": "js", "namespace": "ns"},
                                    "spec": {"replicatedJobs": replicated}}))
    code, objects, _ = render(capsys, str(path), "-o", "yaml")
    assert code == 0
    jobs = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Job"}
    assert len(jobs) == 7
    labels = jobs["js-rjob2-3"]["metadata"]["labels"]
    assert labels["jobset.sigs.k8s.io/job-global-index"] == "5"
    assert labels["jobset.sigs.k8s.io/global-replicas"] == "7"


def test_json_output_is_a_list(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["render", "-o", "json", str(EXAMPLES / "simple" / "paralleljobs.yaml")])
    out = capsys.readouterr().out
    assert code == 0
    objects = json.loads(out)
    assert objects[0]["kind"] == "JobSet" and all("kind" in o for o in objects)


def test_invalid_jobset_renders_nothing_and_exits_1(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("apiVersion: jobset.x-k8s.io/v1alpha2\nkind: JobSet\nmetadata: {name: Bad}\nspec: {}\n")
    code, objects, err = render(capsys, str(path))
    assert code == 1
    assert objects == []
    assert "metadata.name" in err


def test_unreadable_file_exits_2(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("kind: [\n")
    code, _, err = render(capsys, str(path))
    assert code == 2 and str(path) in err


def test_two_runs_print_the_same_text() -> None:
    """Maps built by CEL have no order of their own (cel-cpp's changes between processes): the
    output is printed with sorted keys, so two runs of the same file can be diffed line by line."""
    manifest = str(EXAMPLES / "simple" / "coordinator.yaml")
    for output in ("yaml", "json"):
        runs = [subprocess.run([sys.executable, "-m", "engine.cli.main", "render", "-o", output, manifest],
                               capture_output=True, text=True, check=True).stdout for _ in range(2)]
        assert runs[0] == runs[1]
        assert "jobset.sigs.k8s.io/coordinator" in runs[0]
