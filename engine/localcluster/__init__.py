"""The embedded control plane: an API server speaking the Kubernetes REST API on loopback,
plus a simulated Job controller, scheduler and kubelet. Imports nothing from the
controller side (kube, webhook, planner, rules, model)."""
