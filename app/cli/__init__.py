"""The `zka` console script.

`zka serve` takes a lean path (argparse, app.cli.serve): the server process lives for months and carries
only what serving needs (SPEC §13 idle RSS). Every other command goes through typer (app.cli.commands).
"""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:2] == ["serve"] and not {"-h", "--help"} & set(sys.argv[2:]):
        from app.cli.serve import main as serve_main

        serve_main(sys.argv[2:])
        return
    from app.cli.commands import run
    from app.cli.failures import guarded

    guarded(run)
