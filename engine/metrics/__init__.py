"""Prometheus metrics of the controller: names, labels and help texts live in `metrics.metrics`."""
