"""The draft editor and the preview that is exactly the reader's page."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import interviews, operations, photos, workflow
from ..auth import editor_required
from ..filters import local
from ..forms import expected_version
from ..workflow import State
from . import bp
from .forms import with_items
from .submission import load


@bp.route("/submissions/<int:submission_id>/draft", methods=["GET", "POST"])
@editor_required
def draft(submission_id: int):
    """Title, address, the interviewer's note, the Q&A pairs and the tags."""
    submission = load(submission_id)
    interview = submission.interview
    if interview is None or State(submission.state) not in workflow.DRAFT_EDITABLE:
        raise workflow.IllegalTransition(
            "The draft can be edited once the application is approved, and not "
            "while the proof is with the applicant."
        )
    if submission.scheduled_for is not None:
        raise workflow.IllegalTransition(
            f"This interview is scheduled to go live {local(submission.scheduled_for)}. "
            "To change it, cancel the schedule first: a change after the sign-off "
            "needs a new proof."
        )
    items = list(interview.items)
    Form = with_items([item.id for item in items])
    waiting = interviews.pending(interview)
    if request.method == "GET":
        form = Form(version=interview.version, pending=waiting.id if waiting else "")
        _fill(form, waiting.content if waiting else interviews.snapshot(interview))
    else:
        form = Form()
    conflict = None
    photo = None
    # Validated once: a second validate_on_submit() would clear the photo's error.
    valid = form.validate_on_submit()
    if valid and form.photo.data and getattr(form.photo.data, "filename", ""):
        try:
            photo = photos.store(form.photo.data.read(photos.MAX_BYTES + 1))
        except photos.PhotoError as error:
            form.photo.errors = [*form.photo.errors, str(error)]
    if valid and not form.photo.errors:
        edits = [
            interviews.ItemEdit(
                item_id=item.id,
                question=form[f"q{item.id}"].data,
                answer_html=form[f"a{item.id}"].data or "",
                position=form[f"pos{item.id}"].data or n + 1,
                remove=form[f"remove{item.id}"].data,
            )
            for n, item in enumerate(items)
        ]
        try:
            reopened = operations.save_draft(
                submission,
                operations.Actor.of(current_user),
                pending_base=_id_or_none(form.pending.data),
                expected_version=expected_version(form),
                title=form.title.data,
                slug=form.slug.data,
                intro_html=form.intro_html.data or "",
                items=edits,
                tag_names=(form.tags.data or "").split(","),
                photo=photo,
                remove_photo=form.remove_photo.data,
                pull_quote=form.pull_quote.data or "",
                greeting=form.greeting.data or "",
            )
        except interviews.SlugTaken as error:
            form.slug.errors.append(str(error))
        except interviews.DraftConflict as error:
            # Keep what they typed; show the saved version's number so saving again wins.
            conflict = str(error)
            form.version.data = str(interview.version)
            now_pending = interviews.pending(interview)
            form.pending.data = str(now_pending.id) if now_pending else ""
        else:
            if submission.state == State.PUBLISHED.value:
                flash(
                    "Changes saved. Readers still see the live interview: publish the "
                    "changes from the submission page when they are ready.",
                    "success",
                )
            elif reopened is not None:
                flash(
                    "Draft saved. It changed what the interviewee signed off, so it is back "
                    "to “approved”: send them a new proof.",
                    "success",
                )
            else:
                flash("Draft saved.", "success")
            return redirect(url_for("review.draft", submission_id=submission.id))
    status = 409 if conflict else 200
    return render_template(
        "review/draft.html",
        submission=submission,
        interview=interview,
        items=items,
        form=form,
        conflict=conflict,
        fixes=_fix_requests(submission),
        waiting=waiting,
    ), status


def _id_or_none(value: str | None) -> int | None:
    text = value or ""
    return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else None


def _fill(form, content: dict) -> None:
    """The draft form, showing `content` (the live draft, or the pending changes)."""
    form.title.data = content["title"]
    form.slug.data = content["slug"]
    form.intro_html.data = content["intro_html"]
    form.pull_quote.data = content["pull_quote"]
    form.greeting.data = content.get("greeting", "")
    form.tags.data = ", ".join(content["tag_names"])
    for item in content["items"]:
        key = item["item_id"]
        if f"q{key}" in form:
            form[f"q{key}"].data = item["question"]
            form[f"a{key}"].data = item["answer_html"]
            form[f"pos{key}"].data = item["position"]
            form[f"remove{key}"].data = item.get("remove", False)


def _fix_requests(submission) -> dict[int, str]:
    """The interviewee's latest per-answer fix requests on a proof, by item id,
    while the interview is back with the editors for them."""
    if submission.state != State.APPROVED.value:
        return {}
    for event in reversed(submission.events):
        if event.action == workflow.Action.ASK_FIX.value:
            return event.item_requests
        if event.action == workflow.Action.SEND_PROOF.value:
            return {}
    return {}


@bp.route("/submissions/<int:submission_id>/preview")
@editor_required
def preview(submission_id: int):
    """The interview exactly as readers will see it."""
    submission = load(submission_id)
    if submission.interview is None:
        abort(404)
    return render_template(
        "publishing/interview.html",
        interview=submission.interview,
        submission=submission,
        preview=True,
    )
