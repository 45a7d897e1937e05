"""Names JobSet gives to its children, and the name it validates with.

Owns: Job, Pod, PVC, Service and coordinator naming (spec §6.0, §9.1, §9.4, §9.6-§9.8)
and `name_for_validation` (spec §6.0 `getJobSetNameForValidation`), the one impure helper
here: it draws the 5 random characters the API server would append to `generateName`.
Called by: the webhook (it passes `name_for_validation` to the validation pack as the
`nameForValidation` input), the planner, `jobset render` and tests.
Must not import: anything else in `engine`.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

MAX_NAME_LENGTH = 63
GENERATE_NAME_PREFIX_LENGTH = 58
RANDOM_SUFFIX_LENGTH = 5
# The alphabet of the API server's random name suffix (no vowels, no confusable digits).
RANDOM_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def job_name(jobset_name: str, replicated_job: str, job_index: int) -> str:
    """`<jobset>-<replicatedJob>-<jobIndex>` (spec §9.1)."""
    return f"{jobset_name}-{replicated_job}-{job_index}"


def pod_name(jobset_name: str, replicated_job: str, job_index: int, pod_index: int) -> str:
    """The deterministic part of a Pod name: `<job name>-<podIndex>` (spec §6.0, §9.4)."""
    return f"{job_name(jobset_name, replicated_job, job_index)}-{pod_index}"


def pvc_name(template_name: str, jobset_name: str) -> str:
    """`<template>-<jobset>` (spec §9.8)."""
    return f"{template_name}-{jobset_name}"


def effective_subdomain(jobset_name: str, network: Mapping[str, Any] | None) -> str:
    """`network.subdomain` when non-empty, else the JobSet name (spec §2.4, §9.2 step 4)."""
    subdomain = (network or {}).get("subdomain") or ""
    return str(subdomain) or jobset_name


def service_name(jobset_name: str, network: Mapping[str, Any] | None) -> str:
    """The headless Service is named after the effective subdomain (spec §9.7)."""
    return effective_subdomain(jobset_name, network)


def coordinator_endpoint(*, jobset_name: str, replicated_job: str, job_index: int,
                         pod_index: int, subdomain: str) -> str:
    """`<jobset>-<rj>-<jobIndex>-<podIndex>.<subdomain>` (spec §9.6)."""
    return f"{pod_name(jobset_name, replicated_job, job_index, pod_index)}.{subdomain}"


def random_suffix() -> str:
    """Five characters drawn like the API server does for `generateName`."""
    return "".join(secrets.choice(RANDOM_SUFFIX_ALPHABET) for _ in range(RANDOM_SUFFIX_LENGTH))


def generated_name(prefix: str, suffix: str) -> str:
    """The API server's `generateName` result: prefix cut to 58 characters, then the suffix."""
    return prefix[:GENERATE_NAME_PREFIX_LENGTH] + suffix


def name_for_validation(metadata: Mapping[str, Any]) -> str:
    """`metadata.name`, else a simulated generated name, else "" (spec §6.0)."""
    name = metadata.get("name") or ""
    if name:
        return str(name)
    prefix = metadata.get("generateName") or ""
    if prefix:
        return generated_name(str(prefix), random_suffix())
    return ""
