"""The ``assay`` command.

Every user error is an ``AssayError``: it is printed as one line on standard error and the process
exits with the error's code (2 for bad input, 3 for failed verification). No traceback. The line
is inert (``cli._output``): an error may quote a value from an export or a package.
"""

from __future__ import annotations

import io
import sys

import typer

from assay.cli._output import inert
from assay.errors import AssayError

app = typer.Typer(
    rich_markup_mode="markdown",
    name="assay",
    help="Assay: SOC 2 continuous compliance — scope as code, evidence, checks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register_subcommands() -> None:
    """Add the commands to ``app``, once per process (``main`` may be called many times)."""
    if app.registered_commands:
        return
    from assay.cli import catalog, evidence, findings, identities, registers, run, scope, web

    app.command()(run.init)
    app.command()(run.run)
    app.command()(findings.findings)
    app.command()(evidence.verify)
    evidence.evidence_app.command()(registers.submit)
    evidence.evidence_app.command()(registers.accept)
    evidence.evidence_app.command("return")(registers.send_back)
    evidence.evidence_app.command()(registers.requests)
    app.add_typer(evidence.evidence_app, name="evidence")
    app.command()(registers.controls)
    app.add_typer(registers.register_app, name="register")
    app.add_typer(evidence.audit_app, name="audit")
    app.add_typer(identities.app, name="identities")
    app.add_typer(catalog.app, name="catalog")
    app.add_typer(scope.app, name="scope")
    app.command()(web.serve)
    app.add_typer(web.users_app, name="users")
    app.add_typer(web.tokens_app, name="tokens")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code instead of raising."""
    _register_subcommands()
    for stream in (sys.stdout, sys.stderr):
        # A character the output's encoding cannot hold is shown as an escape, not a traceback.
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    try:
        result = app(args=argv, prog_name="assay", standalone_mode=False)
    except AssayError as error:
        _fail(error)
        return error.exit_code
    except typer.Abort:
        _fail("aborted")
        return 1
    except typer.TyperException as error:
        # Usage errors: a bad option or argument is bad input. (Help shown for a bare command
        # group is one too, with no message of its own.)
        if message := error.format_message():
            _fail(message)
        return 2
    return result if isinstance(result, int) else 0


def _fail(problem: object) -> None:
    typer.echo(f"assay: {inert(problem)}", err=True)


if __name__ == "__main__":
    sys.exit(main())
