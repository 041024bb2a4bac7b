"""CLI subcommands, one module each; cli.py wires them."""
