"""The reserved keys and gate names of `engine.model.keys` are the ones the packs spell (spec §3, §4)."""

from engine.model import keys
from engine.rules import loading


def pack_text(name: str) -> str:
    return (loading.builtin_directory() / name / "pack.yaml").read_text()


def test_every_job_key_of_9_3_is_written_by_the_construct_pack() -> None:
    """§3, §9.3: each label/annotation key appears in the construct pack."""
    text = pack_text("jobset-construct")
    for key in (*keys.JOB_LABEL_KEYS, keys.JOB_RESTART_ATTEMPT, keys.COORDINATOR,
                keys.EXCLUSIVE_TOPOLOGY, keys.NODE_SELECTOR_STRATEGY, keys.NAMESPACED_JOB, keys.NO_SCHEDULE):
        assert key in text, key


def test_keys_are_distinct_and_namespaced() -> None:
    """§3: all JobSet keys live under jobset.sigs.k8s.io or alpha.jobset.sigs.k8s.io."""
    assert len(set(keys.JOB_LABEL_KEYS)) == len(keys.JOB_LABEL_KEYS) == 12
    assert all(key.startswith("jobset.sigs.k8s.io/") for key in keys.JOB_LABEL_KEYS)
    assert keys.EXCLUSIVE_TOPOLOGY.startswith("alpha.jobset.sigs.k8s.io/")


def test_gate_defaults_follow_spec_4_and_the_packs_use_the_upstream_names() -> None:
    """§4: only TLSOptions is on by default; packs read gates by their upstream names."""
    assert dict(keys.FEATURE_GATE_DEFAULTS) == {"InPlaceRestart": False, "TLSOptions": True,
                                                "RestartJob": False, "ElasticJobSet": False}
    validation = pack_text("jobset-validation")
    for gate in (keys.GATE_IN_PLACE_RESTART, keys.GATE_RESTART_JOB, keys.GATE_ELASTIC_JOBSET):
        assert f"'{gate}'" in validation, gate
