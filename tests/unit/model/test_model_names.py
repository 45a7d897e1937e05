"""Naming of JobSet children and the name used for validation (spec §6.0, §9)."""

from engine.model import names


def test_job_pod_pvc_names_follow_spec_9() -> None:
    """§9.1, §6.0, §9.8: generated names are plain dash joins."""
    assert names.job_name("js", "workers", 3) == "js-workers-3"
    assert names.pod_name("js", "workers", 3, 7) == "js-workers-3-7"
    assert names.pvc_name("data", "js") == "data-js"


def test_effective_subdomain_falls_back_to_jobset_name() -> None:
    """§9.2 step 4 / §9.7: an empty or absent subdomain means the JobSet name."""
    assert names.effective_subdomain("js", None) == "js"
    assert names.effective_subdomain("js", {"subdomain": ""}) == "js"
    assert names.effective_subdomain("js", {"subdomain": "net"}) == "net"
    assert names.service_name("js", {"enableDNSHostnames": True}) == "js"


def test_coordinator_endpoint_example_of_9_6() -> None:
    """§9.6: the worked example `test-js-replicated-job-a-0-0.test-js`."""
    endpoint = names.coordinator_endpoint(jobset_name="test-js", replicated_job="replicated-job-a",
                                          job_index=0, pod_index=0, subdomain="test-js")
    assert endpoint == "test-js-replicated-job-a-0-0.test-js"


def test_name_for_validation_prefers_metadata_name() -> None:
    """§6.0: `metadata.name` wins over `generateName`."""
    assert names.name_for_validation({"name": "js", "generateName": "x-"}) == "js"
    assert names.name_for_validation({}) == ""


def test_name_for_validation_simulates_generate_name() -> None:
    """§6.0: the prefix is cut to 58 characters and 5 random characters are appended."""
    prefix = "p" * 70
    generated = names.name_for_validation({"generateName": prefix})
    assert len(generated) == 63
    assert generated.startswith("p" * 58)
    assert all(c in names.RANDOM_SUFFIX_ALPHABET for c in generated[58:])
    short = names.name_for_validation({"generateName": "train-"})
    assert short.startswith("train-") and len(short) == len("train-") + 5


def test_generated_name_is_deterministic_given_the_suffix() -> None:
    """§6.0: truncation happens before the suffix is appended."""
    assert names.generated_name("a" * 60, "bcdfg") == "a" * 58 + "bcdfg"
