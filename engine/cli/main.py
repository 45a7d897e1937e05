"""Entry point of the `jobset` console script.

Every module in `engine.cli.commands` contributes its subcommands through
`register(subparsers)`, which sets `handler(args) -> int` as the parser default. Command
`a-b` lives in module `a_b`: a run of one command imports only that module (the in-place
restart agent starts in every worker Pod, so it should not load the controller).
Exit codes: 0 success, 1 a verdict of "invalid" or a failed test, 2 usage or unreadable input.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from engine.cli import commands


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser with one subparser per registered command, or only `command`'s when it names one."""
    parser = argparse.ArgumentParser(prog="jobset", description="JobSet with its semantics as rule packs")
    subparsers = parser.add_subparsers(dest="command", required=True)
    names = sorted(module_info.name for module_info in pkgutil.iter_modules(commands.__path__))
    wanted = (command or "").replace("-", "_")
    for name in [wanted] if wanted in names else names:
        importlib.import_module(f"{commands.__name__}.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run the chosen command; returns the process exit code."""
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv[0] if argv else None)
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
