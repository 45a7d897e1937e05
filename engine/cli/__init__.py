"""The `jobset` command line: the top layer; nothing imports it."""
