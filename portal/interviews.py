"""The editor's draft of an interview: made from the answers, edited, addressed.

The draft is kept apart from what the applicant wrote; nothing here changes a
submission's state (that is `operations`).
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from difflib import SequenceMatcher
from types import SimpleNamespace
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from . import markup, photos, search, share_image
from .clock import utcnow
from .extensions import db
from .models import (
    TITLE_MAX,
    Answer,
    Interview,
    InterviewItem,
    InterviewVersion,
    Question,
    SlugRedirect,
    Submission,
    Tag,
)
from .sanitize import plain_to_html
from .workflow import WorkflowError

if TYPE_CHECKING:
    from .importing import Found


class DraftConflict(WorkflowError):
    """Another editor saved the draft first."""


class SlugTaken(ValueError):
    pass


def slugify(text: str, limit: int = 80) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:limit].strip("-") or "interview"


def slug_owner(slug: str) -> int | None:
    """The interview answering at /interviews/<slug>, now or through a redirect."""
    current = db.session.scalar(select(Interview.id).where(Interview.slug == slug))
    if current is not None:
        return current
    return db.session.scalar(select(SlugRedirect.interview_id).where(SlugRedirect.old_slug == slug))


def unique_slug(base: str, exclude_id: int | None = None) -> str:
    slug, n = base, 2
    while (owner := slug_owner(slug)) is not None and owner != exclude_id:
        slug, n = f"{base}-{n}", n + 1
    return slug


def shorten(text: str, limit: int) -> str:
    """`text` if it fits in `limit` characters, else cut at a word and marked with …"""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip() + "…"


def draft_from(submission: Submission) -> Interview:
    """The editor's first draft: the latest answers, as they were written."""
    revision = submission.latest_revision
    interview = Interview(
        title=shorten(f"{submission.name} of {submission.business}", TITLE_MAX),
        slug=unique_slug(slugify(f"{submission.name} {submission.business}")),
        intro_html="",
        photo=submission.photo,
    )
    interview.items = [
        InterviewItem(
            position=a.position,
            question=a.question_text,
            source_answer_id=a.id,
            question_id=a.question_id,
            **answer_from(str(plain_to_html(a.body))),
        )
        for a in (revision.answers if revision else [])
        if a.body
    ]
    return interview


def answer_from(html: str) -> dict[str, str]:
    """An answer's two forms from HTML the portal made: as readers get it, and
    as Markdown for editors."""
    return {"answer_html": html, "answer_md": markup.from_html(html)}


def imported(found: Found, answers: list[Answer]) -> Interview:
    """The draft of an interview brought from the old blog (`operations.import_interviews`):
    its title, note and pairs as the old blog had them, at its old slug where free."""
    interview = Interview(
        title=found.title,
        slug=unique_slug(found.slug or slugify(found.title)),
        intro_html=found.intro_html,
        intro_md=markup.from_html(found.intro_html),
    )
    interview.items = [
        InterviewItem(
            position=i,
            question=pair.question,
            source_answer=answer,
            **answer_from(pair.answer_html),
        )
        for i, (pair, answer) in enumerate(zip(found.pairs, answers, strict=True))
    ]
    return interview


@dataclass
class ItemEdit:
    item_id: int
    question: str
    answer_md: str  # Markdown, refused by `markup.render` already if it would lose anything
    position: int
    remove: bool = False


# How alike a pair's question must stay to the questionnaire's wording (0..1)
# to gather with every other answer to it: a typo fixed or a phrase tightened
# keeps it; a question the editor rewrote into another one does not.
SAME_QUESTION = 0.6


def asked_question(item: InterviewItem) -> int | None:
    """The questionnaire question `item` answers, judged by its wording now:
    none when the editor has made it a question of their own."""
    answer = item.source_answer
    if answer is None or answer.question_id is None:
        return None
    asked = [answer.question_text]
    question = db.session.get(Question, answer.question_id)
    if question is not None:
        asked.append(question.text)
    mine = " ".join(item.question.lower().split())
    alike = max(SequenceMatcher(None, mine, " ".join(a.lower().split())).ratio() for a in asked)
    return answer.question_id if alike >= SAME_QUESTION else None


def tags_from(names: list[str]) -> list[Tag]:
    """The tags with these names, made on the fly where new."""
    tags, seen = [], set()
    for name in names:
        name = " ".join(name.split())[:60]
        slug = slugify(name, 60)
        if not name or slug in seen:
            continue
        seen.add(slug)
        tag = db.session.scalar(select(Tag).where(Tag.slug == slug))
        if tag is None:
            tag = Tag(name=name, slug=slug)
            db.session.add(tag)
        tags.append(tag)
    return tags


def save_draft(
    interview: Interview,
    *,
    expected_version: int | None,
    title: str,
    slug: str,
    intro_md: str,
    items: list[ItemEdit],
    tag_names: list[str],
    photo: str | None = None,
    remove_photo: bool = False,
    pull_quote: str | None = None,
    greeting: str | None = None,
    before_commit: Callable[[], None] | None = None,
) -> None:
    """Save an editor's changes (Markdown the form has let through) in one
    transaction. Text whose Markdown is unchanged keeps its HTML as it was, so
    saving changes nothing a proof showed unless its words changed."""
    if expected_version is not None and interview.version != expected_version:
        raise DraftConflict(
            "Another editor saved this draft while you were editing it. Your text is "
            "still in the form below: compare it with the saved draft and save again."
        )
    owner = slug_owner(slug)
    if owner is not None and owner != interview.id:
        raise SlugTaken("Another interview has this address already.")
    try:
        if slug != interview.slug:
            _keep_old_address(interview, slug)
        interview.title = title
        interview.slug = slug
        if intro_md != interview.intro_md:
            interview.intro_html, interview.intro_md = markup.render(intro_md), intro_md
        by_id = {item.id: item for item in interview.items}
        kept = []
        for edit in sorted(items, key=lambda e: (e.position, e.item_id)):
            item = by_id.get(edit.item_id)
            if item is None:
                continue
            if edit.remove:
                interview.items.remove(item)
                continue
            item.question = edit.question
            if edit.answer_md != item.answer_md:
                item.answer_html, item.answer_md = markup.render(edit.answer_md), edit.answer_md
            item.question_id = asked_question(item)
            kept.append(item)
        for position, item in enumerate(kept):
            item.position = position
        interview.tags = tags_from(tag_names)
        if photo or remove_photo:
            if interview.photo != interview.submission.photo:
                photos.discard(interview.photo)  # the applicant's own stays theirs
            interview.photo = photo or None
        if pull_quote is not None:
            interview.pull_quote = pull_quote
        if greeting is not None:
            interview.greeting = greeting.strip()
        db.session.flush()
        search.index(interview)
        share_image.try_ensure(interview)  # remade only when what it shows changed
        if before_commit is not None:
            before_commit()  # the caller's step in the same transaction (operations)
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise DraftConflict(
            "Another editor saved this draft at the same moment. Your text is still "
            "in the form below: save again."
        ) from None
    except IntegrityError:
        # Another draft took this address, or made this new tag, in the same instant.
        db.session.rollback()
        raise DraftConflict(
            "Another draft took this address or made one of these tags at the same moment. "
            "Your text is still in the form below: save again."
        ) from None


def _keep_old_address(interview: Interview, new_slug: str) -> None:
    """A published interview's old address keeps answering, with a 301."""
    existing = db.session.scalar(select(SlugRedirect).where(SlugRedirect.old_slug == new_slug))
    if existing is not None:  # going back to an address it had before
        db.session.delete(existing)
    ever_published = any(e.action == "publish" for e in interview.submission.events)
    if ever_published:
        interview.old_slugs.append(SlugRedirect(old_slug=interview.slug))


# Versions: every save is kept; a published interview's changes wait as "pending".


def snapshot(interview: Interview) -> dict:
    """What the draft says now, in the shape `save_draft` takes."""
    return {
        "title": interview.title,
        "slug": interview.slug,
        "intro_html": interview.intro_html,
        "intro_md": interview.intro_md,
        "greeting": interview.greeting,
        "photo": interview.photo,
        "pull_quote": interview.pull_quote,
        "tag_names": [tag.name for tag in interview.tags],
        "items": [
            {
                "item_id": item.id,
                "question": item.question,
                "answer_html": item.answer_html,
                "answer_md": item.answer_md,
                "position": n + 1,
            }
            for n, item in enumerate(interview.items)
        ],
    }


def fingerprint(interview: Interview) -> str:
    """A digest of what a proof shows the interviewee: the title, the note, the
    photo, the greeting, each question and answer in order. Equal digests, equal texts."""
    content = snapshot(interview)
    shown = [content["title"], content["intro_html"], content["photo"]]
    if content["greeting"]:  # (so the digests of proofs without one stay as they were)
        shown.append({"greeting": content["greeting"]})
    shown += [[i["question"], i["answer_html"]] for i in content["items"]]
    return hashlib.sha256(json.dumps(shown, ensure_ascii=False).encode()).hexdigest()


# An editor's autosaves with no pause this long between them make one version
# (a sitting's typing); a pause, a colleague's save or a Save starts another.
AUTOSAVE_SPAN = timedelta(minutes=2)


def starting_point(interview: Interview) -> InterviewVersion | None:
    """Before the draft's first save: the draft as it was made (from the answers,
    or imported), to be kept with that save, so it can be restored too."""
    if interview.versions:
        return None
    return InterviewVersion(
        interview_id=interview.id, content=snapshot(interview), created_at=interview.updated_at
    )


def record_version(
    interview: Interview,
    author,
    status: str = "saved",
    *,
    autosave: bool = False,
    start: InterviewVersion | None = None,
) -> InterviewVersion:
    """Keep what the draft says now (and `start`, the draft before its first
    save), in the caller's transaction. An autosave updates the editor's own
    autosaved version of the last few minutes rather than adding one every few
    seconds."""
    if start is not None:
        db.session.add(start)
        db.session.flush()  # ordered before this save's version
    if autosave and (last := _recent_autosave(interview, author, "saved")) is not None:
        last.content, last.created_at = snapshot(interview), utcnow()
        return last
    version = InterviewVersion(
        interview_id=interview.id,
        author=author,
        status=status,
        content=snapshot(interview),
        autosaved=autosave,
    )
    db.session.add(version)
    return version


def _recent_autosave(interview: Interview, author, status: str) -> InterviewVersion | None:
    last = db.session.scalar(
        select(InterviewVersion)
        .where(InterviewVersion.interview_id == interview.id)
        .order_by(InterviewVersion.id.desc())
        .limit(1)
    )
    if (
        last is not None
        and last.autosaved
        and last.status == status
        and author is not None
        and last.author_id == author.id
        and last.created_at > utcnow() - AUTOSAVE_SPAN
    ):
        return last
    return None


def unsaved(
    interview: Interview,
    title: str,
    intro_md: str,
    items: list[ItemEdit],
    greeting: str,
    tag_names: list[str],
) -> SimpleNamespace:
    """The interview as the editor's form holds it, for the preview: nothing is
    stored (the Markdown has been through the form's checks)."""
    by_id = {item.id: item for item in interview.items}
    pairs = [
        SimpleNamespace(
            id=edit.item_id,
            question=edit.question,
            answer_html=markup.render(edit.answer_md),
            asked=by_id[edit.item_id].asked,
        )
        for edit in sorted(items, key=lambda e: (e.position, e.item_id))
        if not edit.remove and edit.item_id in by_id
    ]
    names = {slugify(n, 60): " ".join(n.split())[:60] for n in tag_names if n.strip()}
    return SimpleNamespace(
        title=title,
        photo=interview.photo,
        intro_html=markup.render(intro_md),
        greeting=greeting.strip(),
        items=pairs,
        tags=[SimpleNamespace(name=name, slug=slug) for slug, name in names.items()],
        published_at=interview.published_at,
        interviewer=interview.interviewer,
        share_image=None,
        updated_at=interview.updated_at,
    )


def pending(interview: Interview) -> InterviewVersion | None:
    """The changes to a published interview that readers don't see yet."""
    return db.session.scalar(
        select(InterviewVersion).where(
            InterviewVersion.interview_id == interview.id, InterviewVersion.status == "pending"
        )
    )


def versions(interview: Interview) -> list[InterviewVersion]:
    return list(
        db.session.scalars(
            select(InterviewVersion)
            .where(InterviewVersion.interview_id == interview.id)
            .order_by(InterviewVersion.id.desc())
        )
    )


def save_pending(
    interview: Interview,
    author,
    *,
    base: int | None,
    items: list[ItemEdit],
    tag_names: list[str],
    photo: str | None = None,
    remove_photo: bool = False,
    pull_quote: str | None = None,
    greeting: str | None = None,
    expected_version: int | None = None,  # noqa: ARG001 (the pending version's `base` guards)
    autosave: bool = False,
    **fields: str,
) -> InterviewVersion:
    """Save changes to a published interview without touching what readers see:
    they wait as the one pending version (`base`: the pending version's id the
    form was made from, or None) until an editor publishes or discards them.
    Takes what `save_draft` takes; `fields` are the title, slug and intro_md."""
    current = pending(interview)
    if (current.id if current else None) != base:
        raise DraftConflict(
            "Another editor saved changes to this interview while you were editing it. "
            "Your text is still in the form below: compare it with theirs and save again."
        )
    owner = slug_owner(fields["slug"])
    if owner is not None and owner != interview.id:
        raise SlugTaken("Another interview has this address already.")
    was = current.content if current else snapshot(interview)
    if photo:
        new_photo = photo
    elif remove_photo:
        new_photo = None
    else:
        new_photo = was["photo"]
    content = {
        "title": fields["title"],
        "slug": fields["slug"],
        "intro_md": fields["intro_md"],
        "intro_html": markup.render(fields["intro_md"]),
        "photo": new_photo,
        "pull_quote": was["pull_quote"] if pull_quote is None else pull_quote,
        "greeting": was.get("greeting", "") if greeting is None else greeting.strip(),
        "tag_names": [n.strip() for n in tag_names if n.strip()],
        "items": [
            {
                "item_id": e.item_id,
                "question": e.question,
                "answer_md": e.answer_md,
                "answer_html": markup.render(e.answer_md),
                "position": e.position,
                "remove": e.remove,
            }
            for e in items
        ],
    }
    if (
        autosave
        and current is not None
        and current == _recent_autosave(interview, author, "pending")
    ):
        current.content, current.created_at = content, utcnow()
        db.session.commit()
        return current
    if current is not None:
        current.status = "saved"  # kept as history; the new one takes its place
        if current.content["photo"] not in (new_photo, interview.photo):
            photos.discard(current.content["photo"])
    version = InterviewVersion(
        interview_id=interview.id,
        author=author,
        status="pending",
        content=content,
        autosaved=autosave,
    )
    db.session.add(version)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise DraftConflict("Another editor saved at the same moment: save again.") from None
    return version


def apply_pending(interview: Interview, version: InterviewVersion, before_commit=None) -> None:
    """Make the pending changes what readers see (the caller records why)."""
    content = version.content
    photo_changed = content["photo"] != interview.photo
    version.status = "published"
    save_draft(
        interview,
        expected_version=None,
        title=content["title"],
        slug=content["slug"],
        intro_md=content["intro_md"],
        items=[
            ItemEdit(
                item_id=i["item_id"],
                question=i["question"],
                answer_md=i["answer_md"],
                position=i["position"],
                remove=i.get("remove", False),
            )
            for i in content["items"]
        ],
        tag_names=content["tag_names"],
        photo=content["photo"] if photo_changed and content["photo"] else None,
        remove_photo=photo_changed and not content["photo"],
        pull_quote=content["pull_quote"],
        greeting=content.get("greeting", ""),
        before_commit=before_commit,
    )


def discard_pending(interview: Interview) -> bool:
    """Drop the pending changes (the caller commits); readers never saw them.
    False if there were none."""
    version = pending(interview)
    if version is None:
        return False
    version.status = "discarded"
    if version.content["photo"] not in (interview.photo, interview.submission.photo):
        photos.discard(version.content["photo"])
    return True


@dataclass
class FieldChange:
    label: str
    diff: object  # Markup
    changed: bool


def compare(old: dict, new: dict) -> list[FieldChange]:
    """What differs between two versions' content, field by field, words marked."""
    from .diffs import word_diff

    def field(label, a, b):
        return FieldChange(label, word_diff(a or "", b or ""), (a or "") != (b or ""))

    changes = [
        field("Title", old["title"], new["title"]),
        field("Address", old["slug"], new["slug"]),
        field("Interviewer's note", old["intro_md"], new["intro_md"]),
        field("Greeting", old.get("greeting", ""), new.get("greeting", "")),
        field("Tags", ", ".join(old["tag_names"]), ", ".join(new["tag_names"])),
        FieldChange("Photo", "", old["photo"] != new["photo"]),
    ]
    olds = {i["item_id"]: i for i in old["items"]}
    for n, item in enumerate(sorted(new["items"], key=lambda i: i["position"])):
        before = olds.get(item["item_id"], {"question": "", "answer_md": ""})
        if item.get("remove"):
            changes.append(FieldChange(f"Pair {n + 1} (removed)", before["answer_md"], True))
            continue
        changes.append(field(f"Question {n + 1}", before["question"], item["question"]))
        changes.append(field(f"Answer {n + 1}", before["answer_md"], item["answer_md"]))
    return changes
