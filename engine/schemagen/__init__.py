"""Build-time generator of the JobSet schema, the JobSet CRD and the Configuration schema.

Run `python -m engine.schemagen` after editing `schemas/source/`. Needs the optional extra
`schemagen` (kubernetes-validate); nothing at runtime imports this package.
"""
