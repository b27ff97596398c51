"""The draft editor and the preview that is exactly the reader's page."""

from __future__ import annotations

import hashlib
import json

from flask import (
    abort,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from .. import interviews, operations, photos, workflow
from ..auth import editor_required
from ..clock import utcnow
from ..extensions import csrf, db
from ..filters import local
from ..forms import expected_version
from ..models import InterviewVersion
from ..security import CSP
from ..workflow import State
from . import bp
from .forms import with_items
from .submission import load


def _editable(submission_id: int):
    """The submission whose draft may be edited now, else a 409 saying why."""
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
    return submission


def _edits(form, items) -> list[interviews.ItemEdit]:
    return [
        interviews.ItemEdit(
            item_id=item.id,
            question=form[f"q{item.id}"].data,
            answer_md=form[f"a{item.id}"].data or "",
            position=form[f"pos{item.id}"].data or n + 1,
            remove=form[f"remove{item.id}"].data,
        )
        for n, item in enumerate(items)
    ]


def _save(submission, form, items, *, photo=None, autosave=False):
    """Save what the form holds (`operations.save_draft`); the event, if the
    save sent a signed-off interview back for a new proof."""
    return operations.save_draft(
        submission,
        operations.Actor.of(current_user),
        pending_base=_id_or_none(form.pending.data),
        expected_version=expected_version(form),
        autosave=autosave,
        title=form.title.data,
        slug=form.slug.data,
        intro_md=form.intro_md.data or "",
        items=_edits(form, items),
        tag_names=(form.tags.data or "").split(","),
        photo=photo,
        remove_photo=form.remove_photo.data,
        pull_quote=form.pull_quote.data or "",
        greeting=form.greeting.data or "",
    )


@bp.route("/submissions/<int:submission_id>/draft", methods=["GET", "POST"])
@csrf.exempt  # the form checks its own token, so an expired one gets the draft back
@editor_required
def draft(submission_id: int):
    """Title, address, the interviewer's note, the Q&A pairs and the tags."""
    submission = _editable(submission_id)
    interview = submission.interview
    items = list(interview.items)
    Form = with_items([item.id for item in items])
    waiting = interviews.pending(interview)
    restoring = None
    if request.method == "GET":
        form = Form(version=interview.version, pending=waiting.id if waiting else "")
        restoring = _version(interview, request.args.get("restore", type=int))
        content = waiting.content if waiting else interviews.snapshot(interview)
        _fill(form, content)
        form.base.data = _digests(form, items)  # what is saved, even when restoring
        if restoring:
            _fill(form, restoring.content)
    else:
        form = Form()
    conflict = None
    clashes: dict[str, str] = {}
    removed: list[tuple[str, str]] = []
    photo = None
    # Validated once: a second validate_on_submit() would clear the photo's error.
    valid = form.validate_on_submit()
    if valid and form.photo.data and getattr(form.photo.data, "filename", ""):
        try:
            photo = photos.store(form.photo.data.read(photos.MAX_BYTES + 1))
        except photos.PhotoError as error:
            form.photo.errors = [*form.photo.errors, str(error)]
    if valid and not form.photo.errors:
        try:
            reopened = _save(submission, form, items, photo=photo)
        except interviews.SlugTaken as error:
            form.slug.errors.append(str(error))
        except interviews.DraftConflict:
            # Keep what they typed, bring in what the colleague changed where they
            # typed nothing, and show both where both did; then saving again wins.
            now_pending = interviews.pending(interview)
            saved = now_pending.content if now_pending else interviews.snapshot(interview)
            taken, clashes = _merge(form, items, saved)
            conflict = _conflict_message(taken, clashes, form, items)
            removed = _removed_meanwhile(form, items)
            form.version.data = str(interview.version)
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
        restoring=restoring,
        clashes=clashes,
        removed=removed,
        # A save after the sign-off asks for a new proof: only the editor decides that.
        # After a conflict the editor saves by hand, having seen the other's text.
        autosave=submission.state != State.READY.value and conflict is None,
    ), status


@bp.route("/submissions/<int:submission_id>/draft/autosave", methods=["POST"])
@csrf.exempt  # the form checks its own token: an expired one is answered with a new one
@editor_required
def autosave(submission_id: int):
    """The draft editor's script saves what is typed every few seconds: the same
    save, with the same version check, answered in a line of JSON."""
    submission = _editable(submission_id)
    if submission.state == State.READY.value:
        return jsonify(message="Autosave is off after the sign-off: save by hand."), 409
    interview = submission.interview
    items = list(interview.items)
    form = with_items([item.id for item in items])()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            # Left open past the token's hour: the page gets a new one (only this
            # site's page can read it) and saves with it at once.
            return jsonify(message="Saving again…", csrf_token=generate_csrf()), 422
        message = "Not saved: " + " ".join(
            f"{form[name].label.text}: {' '.join(errors)}" for name, errors in form.errors.items()
        )
        return jsonify(message=message), 422
    try:
        _save(submission, form, items, autosave=True)
    except interviews.SlugTaken as error:
        return jsonify(message=f"Not saved: {error}"), 422
    except interviews.DraftConflict as error:
        return jsonify(message=str(error), conflict=True), 409
    waiting = interviews.pending(interview)
    return jsonify(
        version=interview.version,
        pending=waiting.id if waiting else "",
        saved_at=local(utcnow(), "%H:%M:%S"),
    )


def _version(interview, version_id: int | None):
    if version_id is None:
        return None
    found = db.session.get(InterviewVersion, version_id)
    if found is None or found.interview_id != interview.id:
        abort(404)
    return found


def _id_or_none(value: str | None) -> int | None:
    text = value or ""
    return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else None


def _fill(form, content: dict) -> None:
    """The draft form, showing `content` (the live draft, or the pending changes)."""
    form.title.data = content["title"]
    form.slug.data = content["slug"]
    form.intro_md.data = content["intro_md"]
    form.pull_quote.data = content["pull_quote"]
    form.greeting.data = content.get("greeting", "")
    form.tags.data = ", ".join(content["tag_names"])
    for item in content["items"]:
        key = item["item_id"]
        if f"q{key}" in form:
            form[f"q{key}"].data = item["question"]
            form[f"a{key}"].data = item["answer_md"]
            form[f"pos{key}"].data = item["position"]
            form[f"remove{key}"].data = item.get("remove", False)


def _merged_fields(form, items) -> list[str]:
    names = ["title", "slug", "intro_md", "greeting", "tags", "pull_quote"]
    for item in items:
        names += [f"q{item.id}", f"a{item.id}", f"pos{item.id}", f"remove{item.id}"]
    return names


def _text(value) -> str:
    return "" if value is None else str(value).replace("\r\n", "\n").strip()


def _digest(value) -> str:
    return hashlib.sha256(_text(value).encode()).hexdigest()[:16]


def _digests(form, items) -> str:
    """Each field's digest as the form holds it now (for its `base`)."""
    return json.dumps({name: _digest(form[name].data) for name in _merged_fields(form, items)})


def _merge(form, items, saved: dict) -> tuple[list[str], dict[str, str]]:
    """After a colleague's save: each field this editor left as it was takes the
    colleague's text; where both changed it, theirs is returned beside (by
    field name) and the editor's stays in the form. Returns the names of the
    fields taken and the clashes."""
    base = _base(form)
    theirs = with_items([item.id for item in items])(formdata=None)
    _fill(theirs, saved)
    taken, clashes = [], {}
    for name in _merged_fields(form, items):
        mine, saved_value = form[name].data, theirs[name].data
        if _text(mine) == _text(saved_value):
            continue
        if _digest(mine) == base.get(name):
            form[name].data = saved_value
            form[name].raw_data = None  # (a number field shows what was posted, else)
            taken.append(name)
        elif _digest(saved_value) != base.get(name):
            clashes[name] = _text(saved_value)
    form.base.data = _digests(theirs, items)
    return taken, clashes


def _base(form) -> dict:
    try:
        base = json.loads(form.base.data or "{}")
    except ValueError:
        return {}
    return base if isinstance(base, dict) else {}


def _removed_meanwhile(form, items) -> list[tuple[str, str]]:
    """(question, answer) of each pair this editor changed that a colleague's
    save has removed from the draft: the form has no field for it any more."""
    here = {str(item.id) for item in items}
    base, lost = _base(form), []
    for key, answer in request.form.items():
        item_id = key[1:]
        if not (key.startswith("a") and item_id.isdigit()) or item_id in here:
            continue
        question = request.form.get(f"q{item_id}", "")
        if _digest(answer) != base.get(key) or _digest(question) != base.get(f"q{item_id}"):
            lost.append((_text(question), _text(answer)))
    return lost


def _label(form, items, name: str) -> str:
    """A field's name as the editor reads it, its pair's number included."""
    for n, item in enumerate(items, start=1):
        if name == f"pos{item.id}":
            return f"the position of pair {n}"
        if name == f"remove{item.id}":
            return f"removing pair {n}"
    return form[name].label.text


def _conflict_message(taken: list[str], clashes: dict[str, str], form, items) -> str:
    message = "Another editor saved this draft while you were editing it."
    if taken:
        fields = ", ".join(_label(form, items, name) for name in taken)
        message += f" Their changes to what you had not touched are now in the form ({fields})."
    if clashes:
        both = ", ".join(_label(form, items, name) for name in clashes)
        message += f" You both changed {both}: yours is in the form, theirs is shown under it."
    return message + " Nothing of yours is saved yet: look it over and save again."


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


@bp.route("/submissions/<int:submission_id>/preview", methods=["GET", "POST"])
@csrf.exempt  # it changes nothing; the form still checks its token, to say it expired
@editor_required
def preview(submission_id: int):
    """The interview exactly as readers will see it: as saved (GET), or as the
    draft form holds it now, unsaved (POST: the editor's Preview button, and
    the pane beside the editor)."""
    submission = load(submission_id)
    interview = submission.interview
    if interview is None:
        abort(404)
    # In the pane beside the editor: the page without the site's header and footer.
    pane = request.args.get("pane") == "1"
    if request.method == "POST":
        items = list(interview.items)
        form = with_items([item.id for item in items])()
        if form.validate_on_submit():
            interview = interviews.unsaved(
                interview,
                form.title.data,
                form.intro_md.data or "",
                _edits(form, items),
                form.greeting.data or "",
                (form.tags.data or "").split(","),
            )
        else:
            page = render_template(
                "review/preview_refused.html", submission=submission, form=form, pane=pane
            )
            return _framed(page, 422) if pane else (page, 422)
    page = render_template(
        "publishing/interview.html",
        interview=interview,
        submission=submission,
        preview=True,
        pane=pane,
    )
    return _framed(page, 200) if pane else page


def _framed(page: str, status: int):
    """A page the draft editor shows in its own frame (this site's pages only)."""
    response = make_response(page, status)
    response.headers["Content-Security-Policy"] = CSP.replace(
        "frame-ancestors 'none'", "frame-ancestors 'self'"
    )
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response
