"""Every reserved label and annotation key, condition type and reason JobSet uses.

Owns: the string constants of spec §3 (keys), §2.11 (condition types), §10.5 (condition
reasons, messages and event reasons) and §4 (feature gate names and defaults).
Called by: the planner, the webhook, the CLI and tests; the rule packs spell the same
strings in their CEL, and `tests/unit/model/test_keys.py` checks the two agree.
Must not import: anything else in `engine`.
"""

from __future__ import annotations

from types import MappingProxyType

# --- spec §3: label and annotation keys set on Jobs and pod templates (label + annotation)
JOBSET_NAME = "jobset.sigs.k8s.io/jobset-name"
JOBSET_UID = "jobset.sigs.k8s.io/jobset-uid"
REPLICATED_JOB_NAME = "jobset.sigs.k8s.io/replicatedjob-name"
REPLICATED_JOB_REPLICAS = "jobset.sigs.k8s.io/replicatedjob-replicas"
GLOBAL_REPLICAS = "jobset.sigs.k8s.io/global-replicas"
JOB_INDEX = "jobset.sigs.k8s.io/job-index"
JOB_GLOBAL_INDEX = "jobset.sigs.k8s.io/job-global-index"
JOB_KEY = "jobset.sigs.k8s.io/job-key"
GROUP_NAME = "jobset.sigs.k8s.io/group-name"
GROUP_REPLICAS = "jobset.sigs.k8s.io/group-replicas"
JOB_GROUP_INDEX = "jobset.sigs.k8s.io/job-group-index"
RESTART_ATTEMPT = "jobset.sigs.k8s.io/restart-attempt"
JOB_RESTART_ATTEMPT = "jobset.sigs.k8s.io/job-restart-attempt"
COORDINATOR = "jobset.sigs.k8s.io/coordinator"

# --- spec §3 / §12: exclusive placement (annotation-only keys, node selector, toleration)
EXCLUSIVE_TOPOLOGY = "alpha.jobset.sigs.k8s.io/exclusive-topology"
NODE_SELECTOR_STRATEGY = "alpha.jobset.sigs.k8s.io/node-selector"
NAMESPACED_JOB = "alpha.jobset.sigs.k8s.io/namespaced-job"
NO_SCHEDULE = "alpha.jobset.sigs.k8s.io/no-schedule"

# --- spec §3: keys written by other actors
PRIORITY = "jobset.sigs.k8s.io/priority"
IN_PLACE_RESTART_ATTEMPT = "jobset.sigs.k8s.io/in-place-restart-attempt"
DISABLE_IN_PLACE_RESTART = "jobset.sigs.k8s.io/disable-in-place-restart"
JOB_COMPLETION_INDEX = "batch.kubernetes.io/job-completion-index"

# --- spec §2.1 / §3: the controller name of `spec.managedBy`
JOBSET_CONTROLLER_NAME = "jobset.sigs.k8s.io/jobset-controller"

# --- spec §2.11: condition types of the JobSet
CONDITION_COMPLETED = "Completed"
CONDITION_FAILED = "Failed"
CONDITION_SUSPENDED = "Suspended"
CONDITION_RESTARTING = "RestartingJobSet"
CONDITION_STARTUP_IN_PROGRESS = "StartupPolicyInProgress"
CONDITION_STARTUP_COMPLETED = "StartupPolicyCompleted"

# --- spec §10.5: condition reasons
REASON_ALL_JOBS_COMPLETED = "AllJobsCompleted"
REASON_JOBSET_COMPLETED = "JobSetCompleted"
REASON_FAILED_JOBS = "FailedJobs"
REASON_FAIL_JOBSET_ACTION = "FailJobSetFailurePolicyAction"
REASON_REACHED_MAX_RESTARTS = "ReachedMaxRestarts"
REASON_JOBSET_FAILED = "JobSetFailed"
REASON_DEFAULT_FAILURE_POLICY = "DefaultFailurePolicy"
REASON_FAILURE_POLICY_RULE_PREFIX = "FailurePolicy_"
REASON_JOBS_READY = "JobsReady"
REASON_SUSPENDED_JOBS = "SuspendedJobs"
REASON_JOBSET_SUSPENDED = "JobSetSuspended"
REASON_RESUME_JOBS = "ResumeJobs"
REASON_IN_ORDER_IN_PROGRESS = "InOrderStartupPolicyInProgress"
REASON_IN_ORDER_COMPLETED = "InOrderStartupPolicyCompleted"
REASON_EXCLUSIVE_PLACEMENT_VIOLATION = "ExclusivePlacementViolation"

# --- spec §10.5: condition messages (exact upstream texts; "<job>" suffixes added by callers)
MESSAGE_COMPLETED = "jobset completed successfully"
MESSAGE_FAILED = "jobset failed"
MESSAGE_JOBS_READY = "all jobs are ready"
MESSAGE_SUSPENDED = "jobset is suspended"
MESSAGE_RESUMED = "jobset is resumed"
MESSAGE_IN_ORDER_IN_PROGRESS = "in order startup policy is in progress"
MESSAGE_IN_ORDER_COMPLETED = "in order startup policy has completed"

# --- spec §10.5: event reasons not tied to a condition
EVENT_RESTART_JOBSET = "RestartJobSetFailurePolicyAction"
EVENT_RESTART_JOBSET_IGNORE_MAX = "RestartJobSetAndIgnoreMaxRestartsFailurePolicyAction"
EVENT_RESTART_JOB = "RestartJobFailurePolicyAction"
EVENT_RESTART_JOB_IGNORE_MAX = "RestartJobAndIgnoreMaxRestartsFailurePolicyAction"
EVENT_JOB_CREATION_FAILED = "JobCreationFailed"
EVENT_SERVICE_CREATION_FAILED = "HeadlessServiceCreationFailed"
EVENT_PVC_CREATION_FAILED = "PVCCreationFailed"

# --- spec §4: feature gates and their upstream defaults
GATE_IN_PLACE_RESTART = "InPlaceRestart"
GATE_TLS_OPTIONS = "TLSOptions"
GATE_RESTART_JOB = "RestartJob"
GATE_ELASTIC_JOBSET = "ElasticJobSet"
FEATURE_GATE_DEFAULTS = MappingProxyType({
    GATE_IN_PLACE_RESTART: False,
    GATE_TLS_OPTIONS: True,
    GATE_RESTART_JOB: False,
    GATE_ELASTIC_JOBSET: False,
})

# The label keys of spec §9.3 that the construct pack writes on every Job and pod template.
JOB_LABEL_KEYS = (
    JOBSET_NAME, JOBSET_UID, REPLICATED_JOB_NAME, REPLICATED_JOB_REPLICAS, GLOBAL_REPLICAS,
    JOB_INDEX, JOB_GLOBAL_INDEX, JOB_KEY, GROUP_NAME, GROUP_REPLICAS, JOB_GROUP_INDEX,
    RESTART_ATTEMPT,
)
