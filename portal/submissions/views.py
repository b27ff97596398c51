"""Applicants' pages: apply, the private status page and what can be done there."""

from __future__ import annotations

from contextlib import contextmanager

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from .. import operations, personal_data, photos, spam, workflow
from ..extensions import csrf, db
from ..filters import local
from ..forms import expected_version
from ..models import Question, StatusToken, Submission
from ..notifications import limits
from ..notifications.emails import asked
from ..workflow import Action, Role, State
from . import applicant, bp
from .forms import (
    AfterRequestForm,
    ApplicantActionForm,
    ApplyForm,
    ProfileForm,
    ResendForm,
    answers_of,
    socials_of,
    with_fix_requests,
    with_follow_ups,
    with_questions,
)

# What the applicant can do from the status page, besides revising.
STATUS_ACTIONS = (Action.SIGN_OFF, Action.ASK_FIX, Action.WITHDRAW)


def _questions() -> list[Question]:
    return list(db.session.scalars(Question.active_query()))


def _photo(form) -> str | None:
    """Store the uploaded photo, or take the one kept from an earlier try, if
    any; a bad file becomes a message on the field."""
    upload = form.photo.data
    try:
        if not upload or not getattr(upload, "filename", ""):
            return photos.claim(form.kept_photo.data)
        return photos.store(upload.read(photos.MAX_BYTES + 1))
    except photos.PhotoError as error:
        form.photo.errors = [*form.photo.errors, str(error)]
        form.kept_photo.data = ""  # sent again, it goes without the photo
        return None


def _keep_photo(form) -> None:
    """Other fields have errors: keep a good photo for the form's next try (the
    page shows it), and say at once if it is no good."""
    upload = form.photo.data
    if not upload or not getattr(upload, "filename", ""):
        return
    try:
        form.kept_photo.data = photos.keep(upload.read(photos.MAX_BYTES + 1))
    except photos.PhotoError as error:
        form.photo.errors = [*form.photo.errors, str(error)]


def _profile(form, photo: str | None = None) -> operations.Profile:
    return operations.Profile(
        name=form.name.data,
        email=form.email.data,
        business=form.business.data,
        website=form.website.data or "",
        location=form.location.data or "",
        industry=form.industry_value(),
        pitch=form.pitch.data or "",
        socials=socials_of(form),
        photo=photo,
        consented=bool(getattr(form, "consent", None) and form.consent.data and form.privacy.data),
    )


@bp.route("/apply", methods=["GET", "POST"])
@csrf.exempt  # the form checks its own token, so an expired one gets the form back
def apply():
    """The application form."""
    questions = _questions()
    form = with_questions(ApplyForm, questions)()
    if request.method == "GET" or spam.seconds_since(form.shown.data) is None:
        form.shown.data = spam.form_stamp()
    saving = "save" in request.form
    valid = _valid(form, saving)
    if not valid and form.is_submitted():
        _keep_photo(form)
    if valid:
        photo = _photo(form)
        if not form.photo.errors:
            draft = _this_browsers_draft(form.email.data)
            try:
                with _limited(form.email.data) as mailed:
                    if draft is not None:
                        # Saved from this browser, then sent again from a page the
                        # back button brought back: that draft, not a second one.
                        started = spam.form_stamp(started=draft.created_at)
                        operations.continue_draft(
                            draft,
                            _profile(form, photo),
                            answers_of(form, questions),
                            submit=not saving,
                            spam_reasons=None
                            if saving
                            else _spam_reasons(form, questions, started),
                        )
                        submission, token = draft, operations.new_status_link(draft)
                    else:
                        submission, token = operations.apply(
                            _profile(form, photo),
                            answers_of(form, questions),
                            submit=not saving,
                            spam_reasons=None if saving else _spam_reasons(form, questions),
                            form_key=spam.form_key(form.shown.data),
                        )
            except operations.FormAlreadySent as error:
                flash(str(error), "error")
                form.shown.data = spam.form_stamp()  # sending it now is a new application
                return render_template(
                    "submissions/apply.html", form=form, questions=questions
                ), 409
            if saving:
                session["draft"] = submission.id
            else:
                session.pop("draft", None)
            if not mailed:
                flash(HELD_BACK, "warning")
            elif saving:
                flash("Saved. We have emailed you a link to come back and finish.", "success")
            if not saving:
                flash("received", "receipt")
            return redirect(url_for("submissions.status", token=token))
    return render_template("submissions/apply.html", form=form, questions=questions), _form_status(
        form
    )


def _form_status(form) -> int:
    """A stale or missing token: everything typed comes back, with a fresh token (400)."""
    return 400 if "csrf_token" in form.errors else 200


def _valid(form, saving: bool) -> bool:
    """Validate; saving for later needs only a name and an email that works."""
    if not form.is_submitted():
        return False
    if form.validate() or not saving:
        return not any(field.errors for field in form)
    for field in form:
        if field.name not in ("name", "email", "csrf_token") and not field.data:
            field.errors = []
    return not any(field.errors for field in form)


def _spam_reasons(form, questions, stamp: str | None = None) -> list[str]:
    texts = [form.pitch.data, *answers_of(form, questions).values()]
    return spam.reasons(texts, form.fax.data, stamp or request.form.get("shown"))


def _this_browsers_draft(email: str):
    """The draft this browser saved, if it is still a draft from `email`."""
    draft_id = session.get("draft")
    if not isinstance(draft_id, int):
        return None
    draft = db.session.get(Submission, draft_id)
    if draft is None or draft.state != State.DRAFT.value:
        return None
    return draft if draft.email.lower() == (email or "").strip().lower() else None


HELD_BACK = (
    "We did not email you this time: several emails went to this address in the last "
    "hour. Everything is saved; keep this page's address to come back."
)


@contextmanager
def _limited(address: str):
    """Inside: the action's emails to `address` are queued only within its limits.
    Yields whether they were."""
    if limits.may_email(address):
        yield True
    else:
        with limits.holding_back(address):
            yield False


def _submission_for(token: str):
    submission = StatusToken.find(token)
    if submission is None:
        # Expired, ended on withdrawal, or never made: say how to get a fresh one.
        abort(
            make_response(
                render_template(
                    "submissions/link_ended.html", days=current_app.config["STATUS_LINK_DAYS"]
                ),
                404,
            )
        )
    return submission


@bp.route("/status/<token>")
def status(token: str):
    """The applicant's private status page."""
    submission = _submission_for(token)
    state = State(submission.state)
    actions = [a for a in workflow.allowed_actions(state, Role.APPLICANT) if a in STATUS_ACTIONS]
    if state is State.DRAFT:
        actions = [a for a in actions if a is not Action.WITHDRAW]  # unsent: erase it instead
    return render_template(
        "submissions/status.html",
        submission=submission,
        token=token,
        state=state,
        next_step=_next_step(submission),
        waiting=applicant.waiting(submission, current_app.config["RESPONSE_DAYS"]),
        timeline=applicant.timeline(submission),
        proof=applicant.proof(submission) if state is State.AWAITING_SIGNOFF else [],
        proof_note=applicant.proof_note(submission) if state is State.AWAITING_SIGNOFF else "",
        actions=actions,
        can_revise=Action.REVISE in workflow.allowed_actions(state, Role.APPLICANT),
        follow_ups=operations.waiting_follow_ups(submission),
        asked=applicant.latest_request(submission) if state is State.CHANGES_REQUESTED else None,
        form=ApplicantActionForm(formdata=None, version=submission.version),
        fix_form=_fix_form(submission)(formdata=None) if submission.interview else None,
        after_form=AfterRequestForm(formdata=None),
    )


def _next_step(submission) -> str:
    if submission.scheduled_for is not None:
        return f"Your interview is ready and goes live {local(submission.scheduled_for)}."
    state = State(submission.state)
    return workflow.APPLICANT_NEXT[state].format(days=current_app.config["RESPONSE_DAYS"])


def _fix_form(submission):
    return with_fix_requests([item.id for item in submission.interview.items])


@bp.route("/status/<token>/continue", methods=["GET", "POST"])
@csrf.exempt  # the form checks its own token, so an expired one gets the form back
def continue_draft(token: str):
    """Pick up a saved application: save it again, or submit it."""
    submission = _submission_for(token)
    if submission.state != State.DRAFT.value:
        return redirect(url_for("submissions.status", token=token))
    questions = _questions()
    Form = with_questions(ApplyForm, questions)
    if request.method == "GET":
        form = Form(obj=submission)
        form.set_industry(submission.industry)
        for key, url in (submission.socials or {}).items():
            if f"social_{key}" in form:
                form[f"social_{key}"].data = url
        saved = {a.question_id: a.body for a in submission.latest_revision.answers}
        for q in questions:
            form[f"q{q.id}"].data = saved.get(q.id, "")
        # The applicant started this form when they made the draft: someone who
        # comes back and sends it at once is not a bot filling it in seconds.
        form.shown.data = spam.form_stamp(started=submission.created_at)
        form.consent.data = form.privacy.data = submission.consented_at is not None
    else:
        form = Form()
    saving = "save" in request.form
    valid = _valid(form, saving)
    if not valid and form.is_submitted():
        _keep_photo(form)
    if valid:
        photo = _photo(form)
        if not form.photo.errors:
            with _limited(form.email.data) as mailed:
                operations.continue_draft(
                    submission,
                    _profile(form, photo),
                    answers_of(form, questions),
                    submit=not saving,
                    spam_reasons=None if saving else _spam_reasons(form, questions),
                )
            flash("Saved again." if saving else "received", "success" if saving else "receipt")
            if not mailed:
                flash(HELD_BACK, "warning")
            return redirect(url_for("submissions.status", token=token))
    return render_template(
        "submissions/apply.html",
        form=form,
        questions=questions,
        draft_token=token,
        submission=submission,
    ), _form_status(form)


@bp.route("/status/<token>/request", methods=["POST"])
def after_request(token: str):
    """After publication: ask for a correction or a takedown."""
    submission = _submission_for(token)
    form = AfterRequestForm()
    if form.validate_on_submit():
        operations.ask_after_publication(submission, form.kind.data, form.message.data)
        flash("Thank you: the editors have your request and will answer by email.", "success")
    else:
        flash(" ".join(e for f in form for e in f.errors) or "Please try again.", "error")
    return redirect(url_for("submissions.status", token=token))


@bp.route("/status/<token>/erase", methods=["GET", "POST"])
def erase(token: str):
    """Erase an unpublished application, after a confirmation step."""
    submission = _submission_for(token)
    form = ApplicantActionForm()
    if (
        request.method == "POST"
        and form.validate_on_submit()
        and request.form.get("confirm") == "yes"
    ):
        operations.erase(submission, expected_version=expected_version(form))
        return render_template("submissions/erased.html")
    if submission.state == State.PUBLISHED.value:
        raise personal_data.CannotErase(
            "A published interview can't be erased from here: ask us to take it down first."
        )
    return render_template("submissions/erase.html", submission=submission, token=token, form=form)


@bp.route("/status/<token>/withdraw")
def withdraw(token: str):
    """The confirmation step before withdrawing."""
    submission = _submission_for(token)
    workflow.check(Action.WITHDRAW, submission.state, Role.APPLICANT)
    return render_template(
        "submissions/withdraw.html",
        submission=submission,
        token=token,
        form=ApplicantActionForm(version=submission.version),
    )


@bp.route("/status/<token>/actions/<action>", methods=["POST"])
def act(token: str, action: str):
    """Sign off, ask for a fix, or withdraw."""
    submission = _submission_for(token)
    if action not in {a.value for a in STATUS_ACTIONS}:
        abort(404)
    form = ApplicantActionForm()
    if not form.validate_on_submit():
        flash(" ".join(form.message.errors) or "Please try again.", "error")
        return redirect(url_for("submissions.status", token=token))
    if action == Action.WITHDRAW.value and request.form.get("confirm") != "yes":
        return redirect(url_for("submissions.withdraw", token=token))
    options = {}
    if action == Action.ASK_FIX.value and submission.interview:
        fixes = _fix_form(submission)()
        options["item_requests"] = {
            item.id: (fixes[f"fix{item.id}"].data or "")[:1000]
            for item in submission.interview.items
        }
    operations.perform(
        submission,
        action,
        operations.APPLICANT,
        message=form.message.data or "",
        expected_version=expected_version(form),
        **options,
    )
    if action == Action.WITHDRAW.value:
        # Its links no longer open it; what the applicant asked for is done here.
        if request.form.get("erase") == "yes":
            operations.erase(submission)
            return render_template("submissions/erased.html")
        return render_template("submissions/withdrawn.html", submission=submission)
    if action == Action.ASK_FIX.value:
        asked = sum(1 for v in options.get("item_requests", {}).values() if v.strip())
        flash(
            "Thank you: the editors have your request"
            + (f", with notes on {asked} answer{'s' if asked != 1 else ''}" if asked else "")
            + ". They will fix it and send you a new proof.",
            "success",
        )
    else:
        flash(_next_step(submission), "success")
    return redirect(url_for("submissions.status", token=token))


@bp.route("/status/<token>/revise", methods=["GET", "POST"])
@csrf.exempt  # the form checks its own token, so an expired one gets the form back
def revise(token: str):
    """Revise the application after the editors asked for changes."""
    submission = _submission_for(token)
    workflow.check(Action.REVISE, submission.state, Role.APPLICANT)
    questions = _questions()
    Form = with_questions(ProfileForm, questions)
    latest = {a.question_id: a.body for a in submission.latest_revision.answers}
    if request.method == "GET":
        form = Form(obj=submission)
        form.set_industry(submission.industry)
        for key in submission.socials or {}:
            if f"social_{key}" in form:
                form[f"social_{key}"].data = submission.socials[key]
        for q in questions:
            form[f"q{q.id}"].data = latest.get(q.id, "")
    else:
        form = Form()
    if form.is_submitted() and not form.validate():
        _keep_photo(form)
    elif form.is_submitted():
        photo = _photo(form)
        if not form.photo.errors:
            operations.revise(submission, _profile(form, photo), answers_of(form, questions))
            flash("Thank you. Your revised answers are with the editors.", "success")
            return redirect(url_for("submissions.status", token=token))
    requests = [e for e in submission.events if e.action == Action.REQUEST_CHANGES.value]
    request_event = requests[-1] if requests else None
    return render_template(
        "submissions/revise.html",
        form=form,
        questions=questions,
        submission=submission,
        token=token,
        request_event=request_event,
        answer_requests=request_event.answer_requests if request_event else {},
    ), _form_status(form)


@bp.route("/status/<token>/follow-ups", methods=["GET", "POST"])
@csrf.exempt  # the form checks its own token, so an expired one gets the answers back
def follow_ups(token: str):
    """Answer the editors' follow-up questions: save to finish later, or send."""
    submission = _submission_for(token)
    questions = operations.waiting_follow_ups(submission)
    closed = not questions
    if closed:
        # Sent already, or the editors went on without the answers: a page sent
        # now still shows what was typed in it (to keep), with why it went nowhere.
        questions = operations.follow_up_round(submission)
        if request.method != "POST" or not questions:
            return redirect(url_for("submissions.status", token=token))
    form = with_follow_ups([q.id for q in questions])(round=questions[0].asked_event_id)
    if closed:
        flash(operations.NO_LONGER_WAITING, "warning")
        return _follow_ups_page(form, submission, token, questions, closed=True), 409
    if request.method == "GET":
        for q in questions:
            form[f"answer{q.id}"].data = q.answer
            form[f"decline{q.id}"].data = q.declined
    sending = "send" in request.form
    if form.validate_on_submit():
        replies = {
            q.id: operations.Reply(form[f"answer{q.id}"].data or "", form[f"decline{q.id}"].data)
            for q in questions
        }
        if not sending:
            operations.save_follow_up_answers(submission, replies)
            flash("Saved. Come back to this page to finish: nothing is sent yet.", "success")
            return redirect(url_for("submissions.follow_ups", token=token))
        unanswered = [r for r in questions if not replies[r.id].text and not replies[r.id].declined]
        for q in unanswered:
            form[f"answer{q.id}"].errors.append(
                "Answer this question, or tick “I'd rather not say”."
            )
        if not unanswered:
            try:
                operations.answer_follow_ups(
                    submission, replies, round_id=_id_or_none(form.round.data)
                )
            except operations.Conflict:
                # An editor changed the application in the same instant.
                flash(NOT_SENT_YET, "error")
                return _follow_ups_page(form, submission, token, questions), 409
            flash("Thank you: your answers are with the editors.", "success")
            return redirect(url_for("submissions.status", token=token))
    return _follow_ups_page(form, submission, token, questions), _form_status(form)


NOT_SENT_YET = (
    "Your answers were not sent: the editors changed something on your application at "
    "the same moment. Everything you typed is still here: please send it again."
)


def _id_or_none(value) -> int | None:
    text = str(value or "")
    return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else None


def _follow_ups_page(form, submission, token, questions, closed=False) -> str:
    return render_template(
        "submissions/follow_ups.html",
        form=form,
        submission=submission,
        token=token,
        questions=questions,
        asked=asked(questions),
        own_answers={a.key: a for r in submission.revisions for a in r.answers},
        note=questions[0].asked_event.message,
        closed=closed,
    )


@bp.route("/privacy")
def privacy_notice():
    """What we keep about applicants, why, for how long, and their rights."""
    return render_template(
        "submissions/privacy.html", response_days=current_app.config["RESPONSE_DAYS"]
    )


@bp.route("/status/resend", methods=["GET", "POST"])
def resend():
    """Email the status link(s) again; the answer never says if the address is known."""
    form = ResendForm()
    if form.validate_on_submit():
        if limits.may_email(form.email.data):
            operations.request_status_links(form.email.data)
        # The same answer whether the address is known, and whether it is over its limit.
        flash(
            "If we have an application from that address, a message with its status link "
            "is on its way (unless we emailed it several times in the last hour: then "
            "please try again later).",
            "success",
        )
        return redirect(url_for("submissions.resend"))
    return render_template("submissions/resend.html", form=form)
