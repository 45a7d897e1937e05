"""One module per `jobset` subcommand; each exposes `register(subparsers)`."""
