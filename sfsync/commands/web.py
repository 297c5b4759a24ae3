"""``sfsync web …``: helpers for the admin page's settings (``hash-password``)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from sfsync.commands.context import EXIT_OK, EXIT_USAGE

app = typer.Typer(help="The admin web page: make its password hash.", no_args_is_help=True)


@app.command("hash-password")
def hash_password(
    stdin: Annotated[bool, typer.Option("--stdin", help="Read the password from standard input.")] = False,
) -> int:
    """Print the argon2id hash of a password for ``web.admin_password_hash``.

    The password is read from a prompt (typed twice, not echoed) or, with --stdin, from the first
    line of standard input; it is never printed or logged.

    Examples:
      [bold]sfsync web hash-password[/]
      [bold]printf '%s' "$PW" | sfsync web hash-password --stdin[/]
    """
    from sfsync.web import hash_password as make_hash

    if stdin or not sys.stdin.isatty():
        plain = sys.stdin.readline().rstrip("\r\n")
    else:
        plain = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if not plain:
        typer.echo("error: empty password", err=True)
        return EXIT_USAGE
    typer.echo(make_hash(plain))
    return EXIT_OK
