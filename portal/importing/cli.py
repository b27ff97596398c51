"""`flask --app wsgi import text FILE...` and `import wordpress EXPORT.xml`."""

from __future__ import annotations

import signal
import sys
from contextlib import contextmanager, nullcontext

import click
from flask.cli import AppGroup

from .. import operations, socials
from ..workflow import LABELS, State
from . import Found, ImportRefused
from .text import read_file
from .wordpress import MAX_MB, check_size, read_export

import_cli = AppGroup("import", help="Bring in the interviews the old blog already has.")

_SHARED = [
    click.option(
        "--publish",
        is_flag=True,
        help="Publish them at their original date (default: drafts in “approved”).",
    ),
    click.option("--tag", "tags", multiple=True, help="A tag for every interview (repeatable)."),
    click.option(
        "--footer",
        "footers",
        multiple=True,
        help="Text of the old blog's own footer lines, to leave out (repeatable).",
    ),
    click.option("--dry-run", is_flag=True, help="Print what would be imported; write nothing."),
]


def _shared(command):
    for option in reversed(_SHARED):
        command = option(command)
    return command


def _profiles(values: tuple[str, ...]) -> dict[str, str]:
    profiles = {}
    for value in values:
        network, _, address = value.partition("=")
        network = {"twitter": "x"}.get(network.strip().lower(), network.strip().lower())
        if network not in socials.NETWORKS and network != "mastodon":
            raise click.BadParameter(
                f"{network!r} is not a network the portal knows "
                f"({', '.join([*socials.NETWORKS, 'mastodon'])}).",
                param_hint="--social",
            )
        try:
            profiles[network] = socials.canonical(network, address)
        except socials.NotAProfile as error:
            raise click.BadParameter(f"{value}: {error}", param_hint="--social") from None
    return profiles


@import_cli.command("text")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--name", default="", help="The interviewee's name, if the text does not say it.")
@click.option("--business", default="", help="Their business, if the text does not say it.")
@click.option(
    "--published-at",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%d %H:%M"]),
    default=None,
    help="When the old blog published it (UTC); needed with --publish.",
)
@click.option(
    "--social",
    "social",
    multiple=True,
    metavar="NETWORK=PROFILE",
    help="A profile the text names without its address: --social x=@jesper (repeatable).",
)
@_shared
def import_text(files, name, business, published_at, social, publish, tags, footers, dry_run):
    """Plain-text interviews, as they read on the old blog: the title on the
    first line, the interviewer's note, then each question and its answer."""
    if len(files) > 1 and (name or business or social):
        raise click.UsageError(
            "--name, --business and --social describe one person: import the files one at a time."
        )
    if publish and published_at is None:
        raise click.UsageError(
            "--publish needs the date the old blog published it: --published-at YYYY-MM-DD."
        )
    profiles = _profiles(social)
    try:
        found = [
            read_file(path, footers=footers, name=name, business=business, profiles=profiles)
            for path in files
        ]
    except ImportRefused as error:
        raise click.ClickException(f"{error} Nothing was imported.") from None
    for item in found:
        item.published_at = published_at
        if published_at is None:
            item.doubts.append(
                "no date: pass --published-at, or it goes live with the day it is published here"
            )
    _write(found, publish=publish, tags=list(tags), dry_run=dry_run)


@import_cli.command("wordpress")
@click.argument("export", type=click.Path(dir_okay=False))
@click.option("--category", default="", help="Only the posts of this category or tag.")
@click.option(
    "--uploads",
    type=click.Path(file_okay=False, exists=True),
    default=None,
    help="The old blog's wp-content/uploads folder, for the people's photos.",
)
@click.option(
    "--max-mb",
    type=click.IntRange(1, 10_000),
    default=MAX_MB,
    show_default=True,
    help="Refuse an export larger than this.",
)
@_shared
def import_wordpress(export, category, uploads, max_mb, publish, tags, footers, dry_run):
    """The posts of a WordPress export (Tools → Export), each old address
    kept: it answers with a 301 to the interview's page here."""
    try:
        size = check_size(export, max_mb)
        bar = _bar(size, "Reading the export") if size > 1024 * 1024 else nullcontext(None)
        with bar as progress:
            found = read_export(
                export,
                category=category,
                uploads=uploads,
                footers=footers,
                max_mb=max_mb,
                on_progress=progress.update if progress is not None else None,
            )
    except ImportRefused as error:
        raise click.ClickException(str(error)) from None
    _write(found, publish=publish, tags=list(tags), dry_run=dry_run)


@contextmanager
def _stopped_cleanly():
    """SIGTERM (a `kill`, systemd stopping the job) ends the run like Ctrl-C
    does: the transaction rolls back and the files it wrote are deleted."""

    def stop(_signal, _frame):
        raise SystemExit(143)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    except SystemExit as exit_:
        if exit_.code == 143:
            click.echo("Stopped: nothing of this run was written.", err=True)
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)


def _bar(length: int, label: str):
    return click.progressbar(length=length, label=label, file=sys.stderr)


def _write(found: list[Found], *, publish: bool, tags: list[str], dry_run: bool) -> None:
    bar = _bar(len(found), "Writing") if len(found) > 50 else nullcontext(None)
    try:
        with _stopped_cleanly(), bar as progress:
            results = operations.import_interviews(
                found,
                publish=publish,
                tags=tags,
                dry_run=dry_run,
                each=(lambda: progress.update(1)) if progress is not None else None,
            )
    except ImportRefused as error:
        raise click.ClickException(str(error)) from None
    for line in report(results):
        click.echo(line)
    published = sum(1 for r in results if r.outcome == "published")
    if published > operations.SHARE_CARDS_DRAWN:
        click.echo(
            f"Share cards: {operations.SHARE_CARDS_DRAWN} drawn now; the mail worker draws "
            f"the other {published - operations.SHARE_CARDS_DRAWN} over the next minutes."
        )
    if dry_run:
        click.echo("Dry run: nothing was written.")
    if not any(r.outcome != "skipped" for r in results):
        raise click.ClickException("Nothing in it could be imported (see above).")


def report(results: list[operations.Imported]) -> list[str]:
    """Each interview with its pair count and anything doubtful, then the totals."""
    lines = []
    for result in results:
        item = result.found
        where = ""
        if result.submission is not None:
            state = LABELS[State(result.submission.state)].lower()
            where = f" · #{result.submission.id}, {state}"
        if result.outcome == "skipped":
            lines.append(f"{'skipped':<17} {item.title} ({item.origin}): {item.skipped}")
            continue
        pairs = f"{len(item.pairs)} pair" + ("" if len(item.pairs) == 1 else "s")
        lines.append(f"{result.outcome:<17} {item.title} · {pairs}{where}")
        if result.outcome == "repeated":
            lines[-1] += " (the same as one above: left out)"
        elif result.outcome != "already here":
            lines.extend(f"{'':<17}   doubtful: {doubt}" for doubt in item.doubts)
    counts: dict[str, int] = {}
    for result in results:
        counts[result.outcome] = counts.get(result.outcome, 0) + 1
    lines.append(
        "In all: " + ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())) + "."
    )
    doubtful = sum(
        1
        for r in results
        if r.outcome not in ("skipped", "already here", "repeated") and r.found.doubts
    )
    if doubtful:
        lines.append(f"{doubtful} with something doubtful (above): check them in the draft editor.")
    return lines
