"""The ``goldloop`` command line: one entry point for the whole loop."""

from __future__ import annotations

import sys

import typer

from goldloop.commands import build, demo, extract, quality, report, sandbox, sync, webhooks
from goldloop.errors import GoldloopError

app = typer.Typer(
    help="goldloop: extract CRM, ERP, shop and HR into the warehouse, model golden records, "
    "and push them back.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(sandbox.app, name="sandbox")
app.add_typer(sync.app, name="sync")
app.add_typer(report.app, name="report")
app.add_typer(webhooks.app, name="webhooks")
app.add_typer(quality.app, name="quality")
app.command()(extract.extract)
app.command()(build.build)
app.command()(demo.demo)


def main() -> None:
    """Run the CLI; goldloop's own errors print as one clear line, not a traceback."""
    try:
        code = app(standalone_mode=False)
    except GoldloopError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except typer.Abort:
        sys.exit(1)
    except Exception as exc:  # click's usage errors arrive here in non-standalone mode
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
    if isinstance(code, int) and code:  # typer.Exit(n) comes back as n in this mode
        sys.exit(code)


if __name__ == "__main__":
    main()
