"""One submission: answers, revisions and their differences, internal notes,
assignment, and the workflow actions allowed now."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from .. import interviews, operations, spam, workflow
from ..auth import editor_required
from ..clock import NoSuchTime, site_to_utc, utcnow
from ..diffs import compare_answers
from ..extensions import db
from ..filters import local
from ..forms import expected_version
from ..models import ReplyPreset, Submission, User
from ..workflow import Action, State
from . import bp
from .forms import (
    FOLLOW_UPS_AT_ONCE,
    AskOpinionsForm,
    AssignForm,
    ChangesForm,
    CompareForm,
    NoteForm,
    OpinionForm,
    PublishForm,
    choices,
    follow_ups_form,
    with_answer_requests,
)
from .queue import active_editors

# A publication time typed a minute ago still means "now", not a mistake.
PAST_GRACE = timedelta(minutes=5)


def load(submission_id: int) -> Submission:
    submission = db.session.get(Submission, submission_id)
    if submission is None or submission.state == State.DRAFT.value:
        abort(404)
    return submission


def _revisions_to_compare(submission: Submission, form: CompareForm):
    numbers = [r.number for r in submission.revisions]
    if len(numbers) < 2:
        return None
    revisions = [(r.number, f"{r.number} ({r.created_at:%-d %b})") for r in submission.revisions]
    form.from_.choices = form.to.choices = choices(revisions)
    old = request.args.get("from", type=int) or numbers[-2]
    new = request.args.get("to", type=int) or numbers[-1]
    by_number = {r.number: r for r in submission.revisions}
    if old not in by_number or new not in by_number:
        abort(404)
    form.from_.data, form.to.data = old, new
    return by_number[old], by_number[new]


def _question_ids(submission: Submission) -> list[int]:
    revision = submission.latest_revision
    return [a.question_id for a in revision.answers if a.question_id] if revision else []


@bp.route("/submissions/<int:submission_id>")
@editor_required
def submission(submission_id: int):
    """One submission: answers, history, notes and the actions allowed now."""
    return _page(load(submission_id))


def _action_forms(submission: Submission, actions, failed_form=None, failed=None) -> dict:
    """One form per action allowed now; the refused one keeps what was typed."""
    form_class = with_answer_requests(_question_ids(submission))
    presets = db.session.scalars(select(ReplyPreset).order_by(ReplyPreset.title)).all()
    forms = {}
    for action in actions:
        if failed_form is not None and failed == action:
            form = failed_form
        else:
            form = form_class(formdata=None, version=submission.version)
        form.preset.choices = choices(
            [(0, "(none: write below)")] + [(p.id, p.title) for p in presets if p.action == action]
        )
        forms[action] = form
    return forms


def _page(
    submission: Submission,
    form=None,
    failed: str | None = None,
    publish_form=None,
    follow_ups=None,
):
    """The submission page; after a refused action, with what was typed in its form."""
    actions = sorted(
        (
            a
            for a in workflow.allowed_actions(submission.state, current_user.role)
            if a not in workflow.FORM_ACTIONS
            # Set for later: it can be called off; live: it can be taken down.
            and a is not (Action.UNPUBLISH if submission.scheduled_for else Action.CANCEL_SCHEDULE)
            # Imported: nobody to send a proof to (an admin skips the sign-off).
            and not (a is Action.SEND_PROOF and not submission.email)
        ),
        key=lambda a: a in workflow.DESTRUCTIVE,
    )
    compare_form = CompareForm()
    compared = _revisions_to_compare(submission, compare_form)
    assign_form = AssignForm(formdata=None, version=submission.version)
    assign_form.assignee.choices = choices(
        [(0, "Nobody")] + [(u.id, u.name) for u in active_editors()]
    )
    assign_form.assignee.data = submission.assigned_to_id or 0
    interview = submission.interview
    waiting = interviews.pending(interview) if interview else None
    return render_template(
        "review/submission.html",
        waiting=waiting,
        waiting_changes=[
            c
            for c in interviews.compare(interviews.snapshot(interview), waiting.content)
            if c.changed
        ]
        if waiting
        else [],
        changes_form=ChangesForm(formdata=None, version=submission.version),
        submission=submission,
        others=operations.other_applications(submission),
        action_forms=_action_forms(submission, actions, form, failed),
        message_rules={a: workflow.message_rule(a) for a in actions},
        destructive=workflow.DESTRUCTIVE,
        failed=failed,
        publish_form=publish_form or PublishForm(formdata=None),
        original_date=operations.original_date(submission),
        note_form=NoteForm(formdata=None),
        ask_form=AskOpinionsForm(formdata=None),
        colleagues=[u for u in active_editors() if u.id != current_user.id],
        opinion_forms={
            o.id: OpinionForm(
                formdata=None, recommendation=o.recommendation, comment=o.comment, prefix=f"o{o.id}"
            )
            for o in submission.opinions
            if o.editor_id == current_user.id
        },
        assign_form=assign_form,
        compare_form=compare_form,
        compared=compared,
        changes=compare_answers(compared[0].answers, compared[1].answers) if compared else [],
        draft_editable=State(submission.state) in workflow.DRAFT_EDITABLE
        and interview is not None
        and submission.scheduled_for is None,
        item_questions={i.id: i.question for i in interview.items} if interview else {},
        question_texts={
            a.question_id: a.question_text
            for r in submission.revisions
            for a in r.answers
            if a.question_id
        },
        site_timezone=current_app.config["SITE_TIMEZONE"],
        held_words=_held_words(submission),
        can_ask=Action.ASK_FOLLOW_UPS
        in workflow.allowed_actions(submission.state, current_user.role),
        follow_ups_form=follow_ups or follow_ups_form(submission),
        follow_ups_at_once=FOLLOW_UPS_AT_ONCE,
        rounds=_rounds(submission),
        reminder_days=operations.FOLLOW_UP_REMINDER_DAYS,
    )


def _rounds(submission: Submission) -> list[tuple]:
    """Each round of follow-up questions: (the asking event, its questions with
    what each follows, and whether it is the one waiting now)."""
    after = {}
    for revision in submission.revisions:
        after.update({a.key: a.question_text for a in revision.answers})
    waiting = {q.id for q in operations.waiting_follow_ups(submission)}
    rounds: dict[int, list] = {}
    for question in submission.follow_ups:
        rounds.setdefault(question.asked_event_id, []).append(
            (question, after.get(question.follows, ""))
        )
    events = {e.id: e for e in submission.events}
    return [
        (events[event_id], questions, any(q.id in waiting for q, _ in questions))
        for event_id, questions in rounds.items()
        if event_id in events
    ]


def _which(field) -> str:
    """ "Question 2, " for a field of the second question (the labels repeat)."""
    number = field.name[-1]
    return f"Question {number}, " if number.isdigit() and field.name != "question" + number else ""


@bp.route("/submissions/<int:submission_id>/follow-ups", methods=["POST"])
@editor_required
def ask_follow_ups(submission_id: int):
    """Ask the applicant questions of their own (one round)."""
    submission = load(submission_id)
    form = follow_ups_form(submission, request.form)
    asks = [
        operations.Ask(
            form[f"question{n}"].data or "",
            form[f"follows{n}"].data or "",
            form[f"cites{n}"].data or "",
        )
        for n in range(1, FOLLOW_UPS_AT_ONCE + 1)
    ]
    valid = form.validate_on_submit()
    if valid and not any(a.question for a in asks):
        form.question1.errors.append("Write at least one question to ask.")
        valid = False
    if not valid:
        errors = [
            f"{_which(field)}{field.label.text}: {error}"
            for field in form
            for error in field.errors
        ]
        flash(" ".join(errors) or "Please try again.", "error")
        return _page(submission, follow_ups=form), 400
    operations.ask_follow_ups(
        submission,
        operations.Actor.of(current_user),
        asks,
        form.message.data or "",
        expected_version=expected_version(form),
    )
    asked = sum(1 for a in asks if a.question)
    flash(
        f"Sent: {asked} question{'s' if asked != 1 else ''} to {submission.name}, by email.",
        "success",
    )
    return redirect(url_for("review.submission", submission_id=submission.id))


def _held_words(submission: Submission) -> list:
    """For an application held as spam: each blocked word, marked in its sentence."""
    if submission.state != State.SPAM.value or submission.latest_revision is None:
        return []
    answers = [a.body for a in submission.latest_revision.answers]
    return spam.in_context([submission.pitch, *answers])


@bp.route("/submissions/<int:submission_id>/actions/<action>", methods=["POST"])
@editor_required
def act(submission_id: int, action: str):
    """Apply one workflow action to a submission."""
    submission = load(submission_id)
    question_ids = _question_ids(submission)
    form = with_answer_requests(question_ids)()
    options = {}
    if action == Action.PUBLISH.value:
        publish_form = PublishForm()
        publish_form.validate()
        if publish_form.publish_at.errors:
            # A time we can't read must not become "now".
            flash(
                "Publish at: give a date and time like 2027-03-01 09:30, or leave it empty.",
                "error",
            )
            return _page(submission, form=form, failed=action, publish_form=publish_form), 400
        if publish_form.publish_at.data:
            try:
                options["when"] = site_to_utc(publish_form.publish_at.data)
            except NoSuchTime as error:
                flash(str(error), "error")
                return _page(submission, form=form, failed=action, publish_form=publish_form), 400
            if options["when"] < utcnow() - PAST_GRACE:
                flash(
                    "Publish at: that time has passed. Leave it empty to publish now, "
                    "or give a later time.",
                    "error",
                )
                return _page(submission, form=form, failed=action, publish_form=publish_form), 400
    if not form.validate_on_submit():
        # Say which field, and give the page back with everything typed in it.
        asked_about = {
            f"req{a.question_id}": a.question_text
            for a in (submission.latest_revision.answers if submission.latest_revision else [])
        }
        errors = [
            f"{asked_about.get(field.name, field.label.text)}: {error}"
            for field in form
            for error in field.errors
        ]
        flash(" ".join(errors) or "Please try again.", "error")
        return _page(submission, form=form, failed=action), 400
    if action == Action.REQUEST_CHANGES.value:
        options["answer_requests"] = {qid: form[f"req{qid}"].data or "" for qid in question_ids}
    message = form.message.data or ""
    preset = db.session.get(ReplyPreset, form.preset.data or 0)
    if not message.strip() and preset is not None and preset.action == action:
        message = preset.body
    operations.perform(
        submission,
        action,
        operations.Actor.of(current_user),
        message=message,
        expected_version=expected_version(form),
        **options,
    )
    if submission.scheduled_for is not None:
        flash(f"Scheduled: it goes live {local(submission.scheduled_for)}.", "success")
    else:
        flash(f"Done: {workflow.LABELS[State(submission.state)].lower()}.", "success")
    return redirect(url_for("review.submission", submission_id=submission.id))


@bp.route("/submissions/<int:submission_id>/changes/publish", methods=["POST"])
@editor_required
def publish_changes(submission_id: int):
    """Put a published interview's saved changes live, with an optional correction note."""
    submission = load(submission_id)
    form = ChangesForm()
    if not form.validate_on_submit():
        flash(" ".join(form.message.errors) or "Please try again.", "error")
        return redirect(url_for("review.submission", submission_id=submission.id))
    operations.publish_changes(
        submission,
        operations.Actor.of(current_user),
        form.message.data or "",
        expected_version=expected_version(form),
    )
    flash(f"The changes are live; {submission.name} has been told.", "success")
    return redirect(url_for("review.submission", submission_id=submission.id))


@bp.route("/submissions/<int:submission_id>/changes/discard", methods=["POST"])
@editor_required
def discard_changes(submission_id: int):
    """Drop a published interview's saved changes; readers never saw them."""
    submission = load(submission_id)
    actor = operations.Actor.of(current_user)
    if FlaskForm().validate_on_submit() and operations.discard_changes(submission, actor):
        flash("The unpublished changes are discarded.", "success")
    return redirect(url_for("review.submission", submission_id=submission.id))


@bp.route("/submissions/<int:submission_id>/versions")
@editor_required
def versions(submission_id: int):
    """Every saved version of the draft; any two compared, field by field."""
    submission = load(submission_id)
    if submission.interview is None:
        abort(404)
    kept = interviews.versions(submission.interview)
    by_id = {v.id: v for v in kept}
    old = by_id.get(request.args.get("a", type=int) or 0)
    new = by_id.get(request.args.get("b", type=int) or 0)
    if kept and (old is None or new is None):
        new = new or kept[0]
        old = old or (kept[1] if len(kept) > 1 else kept[0])
    return render_template(
        "review/versions.html",
        submission=submission,
        kept=kept,
        old=old,
        new=new,
        changes=interviews.compare(old.content, new.content) if kept else [],
        live=interviews.snapshot(submission.interview),
        editable=State(submission.state) in workflow.DRAFT_EDITABLE
        and submission.scheduled_for is None,
    )


@bp.route("/submissions/<int:submission_id>/assign", methods=["POST"])
@editor_required
def assign(submission_id: int):
    """Assign the submission to an editor (or to nobody)."""
    submission = load(submission_id)
    form = AssignForm()
    form.assignee.choices = choices([(0, "Nobody")] + [(u.id, u.name) for u in active_editors()])
    if request.form.get("me"):
        form.assignee.data = current_user.id
    if not form.validate_on_submit() and not request.form.get("me"):
        flash("Choose an active editor.", "error")
        return redirect(url_for("review.submission", submission_id=submission.id))
    assignee = db.session.get(User, form.assignee.data) if form.assignee.data else None
    operations.assign(submission, assignee, current_user, expected_version=expected_version(form))
    flash(f"Assigned to {assignee.name}." if assignee else "Unassigned.", "success")
    return redirect(url_for("review.submission", submission_id=submission.id))


@bp.route("/submissions/<int:submission_id>/requests/<int:request_id>/handled", methods=["POST"])
@editor_required
def request_handled(submission_id: int, request_id: int):
    """Mark a correction or takedown request as dealt with."""
    submission = load(submission_id)
    found = next((r for r in submission.after_requests if r.id == request_id), None)
    if found is None:
        abort(404)
    operations.handle_after_request(found, current_user)  # CSRF checked by CSRFProtect
    flash("Marked as handled.", "success")
    return redirect(url_for("review.submission", submission_id=submission.id))


@bp.route("/submissions/<int:submission_id>/opinions", methods=["POST"])
@editor_required
def ask_opinions(submission_id: int):
    """Ask colleagues for a second opinion (each is emailed)."""
    submission = load(submission_id)
    form = AskOpinionsForm()
    ids = {int(i) for i in request.form.getlist("colleagues") if i.isascii() and i.isdigit()}
    colleagues = [u for u in active_editors() if u.id in ids and u.id != current_user.id]
    if not form.validate_on_submit() or not colleagues:
        flash(" ".join(form.question.errors) or "Choose at least one colleague to ask.", "error")
        return redirect(url_for("review.submission", submission_id=submission.id) + "#opinions")
    asked = operations.ask_opinions(submission, current_user, colleagues, form.question.data or "")
    names = ", ".join(o.editor.name for o in asked)
    flash(
        f"Asked {names}: they have an email." if asked else "They were asked already.",
        "success" if asked else "info",
    )
    return redirect(url_for("review.submission", submission_id=submission.id) + "#opinions")


@bp.route("/submissions/<int:submission_id>/opinions/<int:opinion_id>", methods=["POST"])
@editor_required
def give_opinion(submission_id: int, opinion_id: int):
    """The colleague asked gives (or changes) their recommendation."""
    submission = load(submission_id)
    opinion = next((o for o in submission.opinions if o.id == opinion_id), None)
    if opinion is None or opinion.editor_id != current_user.id:
        abort(404)
    form = OpinionForm(prefix=f"o{opinion.id}")
    if not form.validate_on_submit():
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
        return redirect(url_for("review.submission", submission_id=submission.id) + "#opinions")
    operations.give_opinion(opinion, current_user, form.recommendation.data, form.comment.data)
    flash("Your opinion is recorded: the colleague who asked has an email.", "success")
    return redirect(url_for("review.submission", submission_id=submission.id) + "#opinions")


@bp.route("/submissions/<int:submission_id>/notes", methods=["POST"])
@editor_required
def note(submission_id: int):
    """Add an internal note (editors only)."""
    submission = load(submission_id)
    form = NoteForm()
    if form.validate_on_submit():
        operations.add_note(submission, current_user, form.body.data)
        flash("Note added.", "success")
    else:
        flash(" ".join(form.body.errors), "error")
    return redirect(url_for("review.submission", submission_id=submission.id) + "#notes")
