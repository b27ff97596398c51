"""Command line: `flask --app wsgi users create | demo seed | mail deliver`."""

from __future__ import annotations

import signal
import sys
import time

import click
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from .extensions import db
from .models import User

users = AppGroup("users", help="Editors and admins.")
demo = AppGroup("demo", help="Demo content.")
mail_cli = AppGroup("mail", help="The email outbox.")


@users.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(["editor", "admin"]), default="editor")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from standard input instead of prompting.",
)
def create_user(email: str, name: str, role: str, password_stdin: bool) -> None:
    """Create an editor or admin; the password is prompted or read from stdin."""
    try:
        email = validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise click.BadParameter(str(error), param_hint="--email") from None
    if db.session.scalar(select(User).where(func.lower(User.email) == email.lower())):
        raise click.ClickException(f"There is already a user with the email {email}.")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 10:
        raise click.ClickException("Use a password of at least 10 characters.")
    user = User(email=email, name=name.strip(), role=role)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    click.echo(f"Created {role} {name} <{email}>.")


@demo.command("seed")
def seed() -> None:
    """Fill an empty database with demo interviews in different states."""
    from .demo import seed as run_seed

    click.echo(run_seed())


@mail_cli.command("deliver")
@click.option("--loop", is_flag=True, help="Keep delivering until stopped.")
@click.option("--batch", default=50, show_default=True)
@click.option("--interval", default=2.0, show_default=True, help="Seconds between polls.")
def deliver(loop: bool, batch: int, interval: float) -> None:
    """Send the due emails of the outbox (once, or as a worker with --loop)."""
    from .notifications.delivery import deliver_due

    stopping = False

    def stop(_signum, _frame):
        nonlocal stopping
        stopping = True

    if loop:
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        if not current_app.config["MAIL_SERVER"]:
            click.echo("No MAIL_SERVER set: emails stay in the outbox (see /editor/outbox).")
    while True:
        report = deliver_due(batch)
        if report.handled or not loop:
            click.echo(f"sent {report.sent}, failed {report.failed}, dead {report.dead}")
        if not loop or stopping:
            return
        if report.handled < batch:
            for _ in range(int(interval * 10)):
                if stopping:
                    return
                time.sleep(0.1)


def init_app(app) -> None:
    app.cli.add_command(users)
    app.cli.add_command(demo)
    app.cli.add_command(mail_cli)
