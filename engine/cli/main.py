"""Entry point of the `jobset` console script.

Every module in `engine.cli.commands` contributes its subcommands through
`register(subparsers)`, which sets `handler(args) -> int` as the parser default.
Exit codes: 0 success, 1 a verdict of "invalid" or a failed test, 2 usage or unreadable input.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from engine.cli import commands


def build_parser() -> argparse.ArgumentParser:
    """The full parser, with one subparser per registered command."""
    parser = argparse.ArgumentParser(prog="jobset", description="JobSet with its semantics as rule packs")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module_info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{module_info.name}")
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run the chosen command; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
