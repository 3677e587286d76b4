"""zka bench: run the SPEC §13 measures and print them against their budgets."""

from __future__ import annotations

from typing import Annotated

import typer


def register(cli: typer.Typer) -> None:
    cli.command()(bench)


def bench(
    only: Annotated[list[str] | None, typer.Option(help="run only these measure groups")] = None,
) -> None:
    """Measure cold start, RSS and the other budgets; exits 1 if any is over budget."""
    from app.bench import render
    from app.bench.registry import GROUPS

    measures = []
    for name, fn in GROUPS.items():
        if only and name not in only and name != "machine":  # the reference row always comes first
            continue
        typer.echo(f"… {name}", err=True)
        measures.extend(fn())
    typer.echo(render(measures))
    raise typer.Exit(1 if any(m.ok is False for m in measures) else 0)
