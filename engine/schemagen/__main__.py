"""`python -m engine.schemagen [--check]`: regenerate the schemas and the CRD from schemas/source.

Owns: the command line of the generator. Called by: developers, after editing a source.
Must not import: anything in `engine` outside `engine.schemagen`.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

from engine.schemagen import kubernetes, outputs

ROOT = pathlib.Path(__file__).resolve().parents[2]


def main(argv: list[str] | None = None) -> int:
    """Write the generated files (or, with --check, list the stale ones); return an exit code."""
    parser = argparse.ArgumentParser(prog="python -m engine.schemagen", description=__doc__)
    parser.add_argument("--check", action="store_true", help="only report files that are out of date")
    args = parser.parse_args(argv)
    try:
        files = outputs.stale(ROOT) if args.check else outputs.write(ROOT)
    except (kubernetes.GenerationError, ImportError, OSError) as error:
        print(f"schemagen: {error}", file=sys.stderr)
        return 2
    verb = "out of date" if args.check else "written"
    for relative in files:
        print(f"{verb}: {relative}")
    return 1 if args.check and files else 0


if __name__ == "__main__":
    sys.exit(main())
