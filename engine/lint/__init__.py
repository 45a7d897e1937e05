"""Offline checks of JobSet manifests, as the API server plus the webhooks would decide."""
