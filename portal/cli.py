"""Command line: `flask --app wsgi users create | demo seed | mail deliver`."""

from __future__ import annotations

import signal
import sys
import threading
from datetime import timedelta

import click
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import delete, func, select

from .clock import utcnow
from .extensions import db
from .importing.cli import import_cli
from .models import User
from .notifications.delivery import deliver_due

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

    if current_app.config["ENV_NAME"] == "production":
        # The demo admin's password is printed in the README.
        raise click.ClickException("The demo content is not for production: nothing was added.")

    click.echo(run_seed())


@mail_cli.command("deliver")
@click.option("--loop", is_flag=True, help="Keep delivering until stopped (a worker).")
@click.option("--until-empty", is_flag=True, help="Deliver until nothing is due, then stop.")
@click.option("--batch", type=int, default=None, help="Emails per SMTP connection.")
@click.option("--interval", default=2.0, show_default=True, help="Seconds between polls.")
@click.option(
    "--name",
    default=None,
    help="The worker's name (default: <host>:mail); give each worker on a host its own.",
)
def deliver(
    loop: bool, until_empty: bool, batch: int | None, interval: float, name: str | None
) -> None:
    """Send the due emails of the outbox (once, or as a worker with --loop).

    As a worker it outlives a database restart or an SMTP outage (it waits and
    tries again), and says it is alive on the outbox page and in /healthz. On
    SIGTERM or Ctrl-C it finishes the email in hand, hands the rest of its batch
    back to the outbox and exits.
    """
    from .notifications.delivery import default_worker_name, run_worker

    if not (loop or until_empty):
        report = deliver_due(batch)
        click.echo(f"sent {report.sent}, failed {report.failed}, dead {report.dead}")
        return
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    if not current_app.config["MAIL_SERVER"]:
        click.echo("No MAIL_SERVER set: emails stay in the outbox (see /editor/outbox).")
    totals = run_worker(
        name or default_worker_name(),
        batch=batch,
        interval=interval,
        stopping=stopping,
        until_empty=until_empty,
        echo=click.echo,
    )
    if until_empty:
        click.echo(f"sent {totals.sent}, failed {totals.failed}, dead {totals.dead}")


@mail_cli.command("test")
@click.argument("address")
def mail_test(address: str) -> None:
    """Send a test email to ADDRESS now and print what the SMTP server answered."""
    from .notifications.delivery import MalformedAddress, describe, send_test

    try:
        answer = send_test(address)
        click.echo(f"The server answered: {answer}")
        if not answer.startswith("2"):
            raise SystemExit(1)  # refused: a script or a monitor sees it
    except (ValueError, MalformedAddress) as error:
        raise click.ClickException(str(error)) from None
    except Exception as error:  # refused, down, timed out, bad login: say which
        raise click.ClickException(f"Not sent: {describe(error)}") from None


@mail_cli.command("retry")
@click.option(
    "--since",
    "since",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M"]),
    required=True,
    help="Dead emails queued from this UTC day or time on.",
)
@click.option(
    "--until",
    "until",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M"]),
    default=None,
    help="... and before this one (default: now).",
)
def retry_dead_command(since, until) -> None:
    """Put every dead email of a period back in line (after an outage or a restore)."""
    from .notifications.delivery import retry_dead

    click.echo(f"{retry_dead(since, until)} dead emails are due again.")


@mail_cli.command("show")
@click.argument("email_id", type=int)
def show(email_id: int) -> None:
    """Print one outbox email as its recipient gets it, with its private link.

    For the operator at the shell (who can read the database anyway), e.g. to
    hand an invitation over when no SMTP server is set up.
    """
    from .models import OutboxEmail
    from .notifications.delivery import LinkUnavailable, mint_private_link
    from .notifications.outbox import PRIVATE_LINK

    email = db.session.get(OutboxEmail, email_id)
    if email is None:
        raise click.ClickException(f"There is no email {email_id} in the outbox.")
    text = email.text_body
    if email.private_link:
        try:
            text = text.replace(PRIVATE_LINK, mint_private_link(email.private_link, email.id))
        except LinkUnavailable as error:
            raise click.ClickException(str(error)) from None
        db.session.commit()
    click.echo(f"To: {email.to_address}\nSubject: {email.subject}\n\n{text}")


@mail_cli.command("digest")
@click.option(
    "--day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The UTC day to report on (default: yesterday).",
)
def digest(day) -> None:
    """Queue each digest subscriber's list of the day's new applications (once a day)."""
    from .notifications.emails import queue_digests

    day = day.date() if day else (utcnow() - timedelta(days=1)).date()
    queued = queue_digests(day)
    db.session.commit()
    click.echo(f"{queued} digest emails queued for {day.isoformat()}.")


drafts_cli = AppGroup("drafts", help="Unfinished applications.")


@drafts_cli.command("purge")
def purge() -> None:
    """Remind owners of drafts untouched for 25 days; delete those untouched for 30;
    delete photos kept for a form that was never sent again (after a day)."""
    from . import photos
    from .operations import purge_drafts

    reminded, deleted = purge_drafts()
    swept = photos.sweep()
    click.echo(
        f"{reminded} reminders queued, {deleted} drafts deleted, {swept} stray photos deleted."
    )


follow_ups_cli = AppGroup("follow-ups", help="Editors' follow-up questions to applicants.")


@follow_ups_cli.command("remind")
def remind() -> None:
    """Remind applicants of follow-up questions unanswered for 3 days (once a round; daily)."""
    from .operations import remind_follow_ups

    reminded = remind_follow_ups()
    click.echo(f"{reminded} reminder{'s' if reminded != 1 else ''} queued.")


search_cli = AppGroup("search", help="Full-text search.")


@search_cli.command("reindex")
def reindex() -> None:
    """Rebuild the search index of every interview."""
    from . import search
    from .models import Interview, SearchWord

    count = 0
    db.session.execute(delete(SearchWord))  # learnt again from what is published now
    for interview in db.session.scalars(select(Interview)):
        search.index(interview)
        count += 1
    db.session.commit()
    click.echo(f"{count} interviews indexed.")


@click.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, writable=True))
@with_appcontext
def backup_command(target: str) -> None:
    """Write the database and the photos to TARGET (a .tar.gz), while the site runs."""
    from .backup import BackupError, backup

    try:
        manifest = backup(target)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Backed up the {manifest['database']} database and the photos to {target}.")


@click.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Don't ask: replace this site's data.")
@click.option("--force", is_flag=True, help="Restore even if a mail worker was seen just now.")
@with_appcontext
def restore_command(source: str, yes: bool, force: bool) -> None:
    """Replace the database and add the photos from SOURCE (stop the site first).

    Emails that were waiting in the backup are held for an editor to send again
    from the outbox: some may have gone out after the backup was made.
    """
    from .backup import BackupError, restore

    if not yes:
        click.confirm("This replaces everything in this site's database. Go on?", abort=True)
    try:
        manifest = restore(source, force=force)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"Restored the backup made {manifest['made_at']} UTC. {manifest['held_emails']} "
        "emails that were waiting in it are held: send them again from the outbox "
        "(or `flask mail retry`) if they are still wanted. Then run `flask db upgrade`."
    )


@click.command("doctor")
@with_appcontext
def doctor_command() -> None:
    """Check what an operator gets wrong: settings, schema, storage, Redis, the
    mail worker, the outbox, free disk. One line per problem; exit 1 if any."""
    from .readiness import checkup

    found = checkup()
    for line in found:
        click.echo(f"- {line}")
    if found:
        raise SystemExit(1)
    click.echo("All is well.")


@click.command("version")
@with_appcontext
def version_command() -> None:
    """This code's release and schema, and the database's schema."""
    from . import __version__
    from .readiness import database_schema, newest_schema

    click.echo(f"portal {__version__}")
    click.echo(f"schema of this code: {newest_schema()}")
    click.echo(f"schema of the database: {database_schema() or 'none (run db upgrade)'}")


alarms_cli = AppGroup("alarms", help="Telling the admins when something needs them.")


@alarms_cli.command("check")
def alarms_check() -> None:
    """Email the admins if email is in trouble (a timer runs this: it notices
    a mail worker that is gone, which the worker itself can't)."""
    from . import alarms

    lines = alarms.mail_trouble()
    for line in lines:
        click.echo(line)
    if alarms.raise_mail_alarm():
        click.echo("The admins are emailed.")
    elif not lines:
        click.echo("Email is going out.")


@alarms_cli.command("unit-failed")
@click.argument("unit")
def alarms_unit_failed(unit: str) -> None:
    """Email the admins that the systemd unit UNIT failed (its OnFailure=)."""
    from . import alarms

    alarms.unit_failed(unit)
    click.echo(f"The admins are told that {unit} failed.")


def init_app(app) -> None:
    app.cli.add_command(users)
    app.cli.add_command(demo)
    app.cli.add_command(mail_cli)
    app.cli.add_command(drafts_cli)
    app.cli.add_command(follow_ups_cli)
    app.cli.add_command(search_cli)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(doctor_command)
    app.cli.add_command(version_command)
    app.cli.add_command(alarms_cli)
    app.cli.add_command(import_cli)
