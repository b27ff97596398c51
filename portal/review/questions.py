"""Admins: the questionnaire. Questions are added, re-worded, reordered and
retired, never deleted; answers keep the wording they were given under."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from sqlalchemy import func, select

from ..auth import admin_required
from ..clock import utcnow
from ..extensions import db
from ..models import Question
from . import bp
from .forms import QuestionForm


def _question(question_id: int) -> Question:
    question = db.session.get(Question, question_id)
    if question is None:
        abort(404)
    return question


def _active() -> list[Question]:
    return list(db.session.scalars(Question.active_query()))


@bp.route("/questions", methods=["GET", "POST"])
@admin_required
def questions():
    """The questionnaire, and a form to add a question."""
    form = QuestionForm()
    if form.validate_on_submit():
        last = db.session.scalar(select(func.max(Question.position))) or 0
        db.session.add(
            Question(
                text=form.text.data,
                help_text=form.help_text.data or "",
                required=form.required.data,
                position=last + 1,
            )
        )
        db.session.commit()
        flash("Question added at the end.", "success")
        return redirect(url_for("review.questions"))
    retired = db.session.scalars(
        select(Question).where(Question.retired_at.is_not(None)).order_by(Question.retired_at)
    ).all()
    return render_template(
        "review/questions.html", form=form, active=_active(), retired=retired, small=FlaskForm()
    )


@bp.route("/questions/<int:question_id>", methods=["GET", "POST"])
@admin_required
def question(question_id: int):
    """Re-word a question or change whether it is required."""
    found = _question(question_id)
    form = QuestionForm(obj=found)
    if form.validate_on_submit():
        found.text = form.text.data
        found.help_text = form.help_text.data or ""
        found.required = form.required.data
        db.session.commit()
        flash("Saved. Answers already given keep the wording they were asked under.", "success")
        return redirect(url_for("review.questions"))
    return render_template("review/question.html", form=form, question=found)


@bp.route("/questions/<int:question_id>/move/<direction>", methods=["POST"])
@admin_required
def question_move(question_id: int, direction: str):
    """Move a question up or down the questionnaire."""
    found = _question(question_id)
    if direction not in ("up", "down") or not FlaskForm().validate_on_submit():
        abort(400)
    order = _active()
    if found in order:
        i = order.index(found)
        j = i - 1 if direction == "up" else i + 1
        if 0 <= j < len(order):
            order[i], order[j] = order[j], order[i]
        for position, q in enumerate(order):
            q.position = position
        db.session.commit()
    return redirect(url_for("review.questions"))


@bp.route("/questions/<int:question_id>/retire", methods=["POST"])
@admin_required
def question_retire(question_id: int):
    """Stop asking a question; interviews that used it keep it."""
    found = _question(question_id)
    if FlaskForm().validate_on_submit():
        found.retired_at = utcnow()
        db.session.commit()
        flash("Retired. New applications won't be asked it.", "success")
    return redirect(url_for("review.questions"))


@bp.route("/questions/<int:question_id>/restore", methods=["POST"])
@admin_required
def question_restore(question_id: int):
    """Ask a retired question again, at the end."""
    found = _question(question_id)
    if FlaskForm().validate_on_submit():
        found.retired_at = None
        found.position = (db.session.scalar(select(func.max(Question.position))) or 0) + 1
        db.session.commit()
        flash("Restored at the end of the questionnaire.", "success")
    return redirect(url_for("review.questions"))
