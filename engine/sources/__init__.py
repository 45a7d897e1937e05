"""Reading source documents (YAML) with the position of every field, for precise errors."""
