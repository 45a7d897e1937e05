"""The controller runtime: API client, informers, work queue, controller loop, leader election, manager.

Generic Kubernetes machinery, agnostic of JobSet where possible. Must not import `planner`,
`webhook`, `localcluster` or `cli`.
"""
