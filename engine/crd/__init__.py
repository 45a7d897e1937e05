"""Structural schemas of custom resources: defaulting, pruning and validation with CEL rules.

Callers import the module they need: `from engine.crd import structural`.
"""
