"""Admission webhooks: AdmissionReview handling, TLS serving and certificates.

The JobSet handlers evaluate the same rule packs as `jobset lint`; the transport
(`server`) makes no decisions. Must not import `engine.kube` or `engine.localcluster`.
"""
