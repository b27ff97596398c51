"""The draft editor and the preview that is exactly the reader's page."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import interviews, operations, photos, workflow
from ..auth import editor_required
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
    items = list(interview.items)
    Form = with_items([item.id for item in items])
    if request.method == "GET":
        form = Form(obj=interview, version=interview.version)
        form.tags.data = ", ".join(tag.name for tag in interview.tags)
        for n, item in enumerate(items):
            form[f"q{item.id}"].data = item.question
            form[f"a{item.id}"].data = item.answer_html
            form[f"pos{item.id}"].data = n + 1
    else:
        form = Form()
    conflict = None
    photo = None
    if form.validate_on_submit() and form.photo.data and getattr(form.photo.data, "filename", ""):
        try:
            photo = photos.store(form.photo.data.read(photos.MAX_BYTES + 1))
        except photos.PhotoError as error:
            form.photo.errors = [*form.photo.errors, str(error)]
    if form.validate_on_submit() and not form.photo.errors:
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
                expected_version=expected_version(form),
                title=form.title.data,
                slug=form.slug.data,
                intro_html=form.intro_html.data or "",
                items=edits,
                tag_names=(form.tags.data or "").split(","),
                photo=photo,
                remove_photo=form.remove_photo.data,
                pull_quote=form.pull_quote.data or "",
            )
        except interviews.SlugTaken as error:
            form.slug.errors.append(str(error))
        except interviews.DraftConflict as error:
            # Keep what they typed; show the saved version's number so saving again wins.
            conflict = str(error)
            form.version.data = str(interview.version)
        else:
            if reopened is not None:
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
    ), status


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
