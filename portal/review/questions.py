"""Admins: the questionnaire. Questions are added, re-worded, reordered and
retired, never deleted; answers keep the wording they were given under."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select

from .. import questionnaire
from ..auth import admin_required
from ..extensions import db
from ..models import Question
from . import bp
from .forms import QuestionForm


@bp.route("/questions", methods=["GET", "POST"])
@admin_required
def questions():
    """The questionnaire, and a form to add a question."""
    form = QuestionForm()
    if form.validate_on_submit():
        questionnaire.add_question(form.text.data, form.help_text.data, form.required.data)
        flash("Question added at the end.", "success")
        return redirect(url_for("review.questions"))
    retired = db.session.scalars(
        select(Question).where(Question.retired_at.is_not(None)).order_by(Question.retired_at)
    ).all()
    return render_template(
        "review/questions.html",
        form=form,
        active=db.session.scalars(Question.active_query()).all(),
        retired=retired,
        small=FlaskForm(),
    )


@bp.route("/questions/<int:question_id>", methods=["GET", "POST"])
@admin_required
def question(question_id: int):
    """Re-word a question or change whether it is required."""
    found = db.get_or_404(Question, question_id)
    form = QuestionForm(obj=found)
    if form.validate_on_submit():
        questionnaire.edit_question(found, form.text.data, form.help_text.data, form.required.data)
        flash("Saved. Answers already given keep the wording they were asked under.", "success")
        return redirect(url_for("review.questions"))
    return render_template("review/question.html", form=form, question=found)


@bp.route("/questions/<int:question_id>/move/<direction>", methods=["POST"])
@admin_required
def question_reorder(question_id: int, direction: str):
    """Move a question up or down the questionnaire."""
    found = db.get_or_404(Question, question_id)
    if direction not in ("up", "down") or not FlaskForm().validate_on_submit():
        abort(400)
    questionnaire.move_question(found, direction)
    return redirect(url_for("review.questions"))


@bp.route("/questions/<int:question_id>/retire", methods=["POST"])
@admin_required
def question_retire(question_id: int):
    """Stop asking a question; interviews that used it keep it."""
    found = db.get_or_404(Question, question_id)
    if FlaskForm().validate_on_submit():
        questionnaire.retire_question(found)
        flash("Retired. New applications won't be asked it.", "success")
    return redirect(url_for("review.questions"))


@bp.route("/questions/<int:question_id>/restore", methods=["POST"])
@admin_required
def question_restore(question_id: int):
    """Ask a retired question again, at the end."""
    found = db.get_or_404(Question, question_id)
    if FlaskForm().validate_on_submit():
        questionnaire.restore_question(found)
        flash("Restored at the end of the questionnaire.", "success")
    return redirect(url_for("review.questions"))
