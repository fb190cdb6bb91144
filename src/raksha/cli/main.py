"""The ``raksha`` command: one app, noun-verb subcommands, one error policy.

Every error Raksha raises on purpose is a :class:`~raksha.errors.RakshaError`; here it
becomes one sentence on stderr and the exit code its class names (``docs/cli.md``).
Anything else is a bug: it is logged with its traceback and exits with 70.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import typer
from sqlalchemy.exc import SQLAlchemyError

from raksha import __version__
from raksha.cli import (
    audit_cmd,
    case_cmd,
    chat_cmd,
    demo_cmd,
    hashset_cmd,
    index_cmd,
    match_cmd,
    network_cmd,
    operation_cmd,
    referral_cmd,
    report_cmd,
    scan_cmd,
    seizure_cmd,
    serve_cmd,
    tip_cmd,
    user_cmd,
    watch_cmd,
)
from raksha.cli.context import app_context, current_context, err_console, reset_context
from raksha.errors import RakshaError, StoreError

EXIT_INTERRUPTED = 130
EXIT_BUG = 70

app = typer.Typer(
    name="raksha",
    help=(
        "Raksha finds known child sexual abuse material in lawfully obtained evidence by "
        "its hashes, and links it to the people who share it.\n\n"
        "Data lives in RAKSHA_HOME (default ~/.local/share/raksha); set RAKSHA_DATABASE_URL "
        "to use PostgreSQL. Start with `raksha demo`."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(hashset_cmd.app, name="hashset")
app.add_typer(index_cmd.app, name="index")
app.add_typer(case_cmd.app, name="case")
app.add_typer(operation_cmd.app, name="operation")
app.add_typer(scan_cmd.evidence_app, name="evidence")
app.add_typer(tip_cmd.app, name="tip")
app.add_typer(referral_cmd.app, name="referral")
app.add_typer(network_cmd.person_app, name="person")
app.add_typer(network_cmd.network_app, name="network")
app.add_typer(watch_cmd.app, name="watch")
app.add_typer(seizure_cmd.seizure_app, name="seizure")
app.add_typer(seizure_cmd.custody_app, name="custody")
app.command("trace")(seizure_cmd.trace_command)
scan_cmd.evidence_app.command("link")(seizure_cmd.evidence_link_command)
app.add_typer(user_cmd.app, name="user")
app.add_typer(audit_cmd.app, name="audit")
app.add_typer(report_cmd.app, name="report")
app.add_typer(report_cmd.material_app, name="material")
app.command("login")(user_cmd.login_command)
app.command("logout")(user_cmd.logout_command)
app.command("whoami")(user_cmd.whoami_command)
app.command("scan")(scan_cmd.scan_command)
app.command("hits")(scan_cmd.hits_command)
app.command("groups")(chat_cmd.groups_command)
app.command("accounts")(chat_cmd.accounts_command)
app.command("sightings")(chat_cmd.sightings_command)
app.command("referrals")(referral_cmd.referrals_command)
app.command("suspects")(network_cmd.suspects_command)
app.command("hash")(match_cmd.hash_command)
app.command("match")(match_cmd.match_command)
app.command("demo")(demo_cmd.demo_command)
app.command("serve")(serve_cmd.serve_command)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"raksha {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    verbose: int = typer.Option(
        0, "--verbose", "-v", count=True, help="More log lines on stderr (-v info, -vv debug)."
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _command_words(group: Any, args: list[str]) -> str:
    """The subcommand words of ``args`` ("user list"), skipping the root's options."""
    words: list[str] = []
    node = group
    for arg in args:
        if arg.startswith("-"):
            continue
        commands = getattr(node, "commands", None)
        if not commands or arg not in commands:
            break
        words.append(arg)
        node = commands[arg]
    return " ".join(words)


def _audit_cli_use(group: Any, args: list[str], code: int) -> int:
    """Log who ran which command on the store, and how it ended (reads of case data too).

    Only commands that opened the store as a logged-in user are logged; set-up mode has
    nobody to attribute them to. Passwords never reach ``args``: they come from a prompt
    or ``--password-stdin``. If the entry cannot be written the command fails with 5.
    """
    ctx = current_context()
    if ctx is None:
        return code
    try:
        ctx.audit_command(_command_words(group, args), args, code)
    except (RakshaError, SQLAlchemyError) as exc:
        err_console.print(
            f"[bold red]error:[/] the audit entry for this command could not be written: {exc}",
            highlight=False,
            soft_wrap=True,
        )
        return code or StoreError.exit_code
    return code


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code (and exits with it when run as a script)."""
    args = list(sys.argv[1:] if argv is None else argv)
    command = typer.main.get_command(app)
    code = 0
    app_context().command = _command_words(command, args)
    try:
        result = command.main(args=argv, prog_name="raksha", standalone_mode=False)
        code = result if isinstance(result, int) else 0
    except RakshaError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        code = exc.exit_code
    except typer.Exit as exc:
        code = exc.exit_code
    except typer.TyperException as exc:  # usage errors: bad option, missing argument
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:  # pragma: no cover - every Typer usage error can show itself
            err_console.print(f"error: {exc}")
        code = int(getattr(exc, "exit_code", 2))
    except (KeyboardInterrupt, typer.Abort):
        err_console.print("interrupted")
        code = EXIT_INTERRUPTED
    except Exception:
        logging.getLogger(__name__).exception("unexpected error (a bug: please report it)")
        code = EXIT_BUG
    finally:
        code = _audit_cli_use(command, args, code)
        reset_context()
    if argv is None:
        sys.exit(code)
    return code
