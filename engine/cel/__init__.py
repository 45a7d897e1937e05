"""CEL: one evaluator interface, two backends, and the extension functions packs may use."""
