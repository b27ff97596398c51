"""Admins: the team (invite, roles, deactivation) and the reply presets."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from .. import accounts, two_factor
from ..auth import admin_required
from ..extensions import db
from ..forms import expected_version
from ..models import ReplyPreset, User
from . import bp
from .forms import InviteForm, MemberForm, PresetForm, RequireForm


@bp.route("/team", methods=["GET", "POST"])
@admin_required
def team():
    """The team, and a form to invite someone."""
    form = InviteForm()
    if form.validate_on_submit():
        try:
            user = accounts.invite(form.email.data, form.name.data, form.role.data)
        except accounts.TeamError as error:
            form.email.errors.append(str(error))
        else:
            flash(f"{user.name} is invited: a link to set their password is on its way.", "success")
            return redirect(url_for("review.team"))
    return _team_page(form)


def _team_page(form=None, status: int = 200):
    members = db.session.scalars(select(User).order_by(User.active.desc(), User.name)).all()
    page = render_template(
        "review/team.html",
        form=form or InviteForm(formdata=None),
        members=members,
        member_form=MemberForm(formdata=None),
        require_form=RequireForm(formdata=None, required=two_factor.required()),
    )
    return page, status


def _refused(error: accounts.TeamError):
    """A team change that can't be made: the team page again, saying why (409)."""
    db.session.rollback()
    flash(str(error), "error")
    return _team_page(status=409)


@bp.route("/team/<int:user_id>/role", methods=["POST"])
@admin_required
def member_role(user_id: int):
    """Make a team member an editor or an admin."""
    user = db.get_or_404(User, user_id)
    form = MemberForm()
    if form.validate_on_submit():
        try:
            accounts.change_role(user, form.role.data, current_user)
        except accounts.TeamError as error:
            return _refused(error)
        flash(f"{user.name} is now an {user.role}.", "success")
    return redirect(url_for("review.team"))


@bp.route("/team/<int:user_id>/deactivate", methods=["POST"])
@admin_required
def member_deactivate(user_id: int):
    """No more logins; sessions end; their history stays."""
    user = db.get_or_404(User, user_id)
    if FlaskForm().validate_on_submit():
        try:
            accounts.set_active(user, False, current_user)
        except accounts.TeamError as error:
            return _refused(error)
        flash(f"{user.name} is deactivated.", "success")
    return redirect(url_for("review.team"))


@bp.route("/team/<int:user_id>/reactivate", methods=["POST"])
@admin_required
def member_reactivate(user_id: int):
    """Let a deactivated member log in again."""
    user = db.get_or_404(User, user_id)
    if FlaskForm().validate_on_submit():
        accounts.set_active(user, True, current_user)
        flash(f"{user.name} can log in again.", "success")
    return redirect(url_for("review.team"))


@bp.route("/team/<int:user_id>/password-link", methods=["POST"])
@admin_required
def member_password_link(user_id: int):
    """Email a member a fresh set-password link."""
    user = db.get_or_404(User, user_id)
    if FlaskForm().validate_on_submit():
        accounts.send_set_password_link(user, welcome=False)
        db.session.commit()
        flash(f"A set-password link is on its way to {user.email}.", "success")
    return redirect(url_for("review.team"))


@bp.route("/team/<int:user_id>/two-factor-reset", methods=["POST"])
@admin_required
def member_two_factor_reset(user_id: int):
    """Take two-factor sign-in off a member who lost their phone and codes."""
    user = db.get_or_404(User, user_id)
    if FlaskForm().validate_on_submit():
        two_factor.reset(user, current_user)
        flash(f"Two-factor sign-in is reset for {user.name}; their sessions have ended.", "success")
    return redirect(url_for("review.team"))


@bp.route("/team/two-factor", methods=["POST"])
@admin_required
def team_two_factor():
    """Require two-factor sign-in of every editor, or not."""
    form = RequireForm()
    if form.validate_on_submit():
        try:
            two_factor.set_required(form.required.data, current_user)
        except two_factor.TwoFactorError as error:
            flash(str(error), "error")
            return _team_page(status=409)
        flash(
            "Two-factor sign-in is now required of every editor."
            if form.required.data
            else "Two-factor sign-in is now each editor's choice.",
            "success",
        )
    return redirect(url_for("review.team"))


@bp.route("/presets", methods=["GET", "POST"])
@admin_required
def presets():
    """Saved messages for requesting changes or rejecting."""
    form = PresetForm()
    if form.validate_on_submit():
        accounts.save_preset(form.action.data, form.title.data, form.body.data, current_user)
        flash("Preset saved.", "success")
        return redirect(url_for("review.presets"))
    rows = db.session.scalars(
        select(ReplyPreset).order_by(ReplyPreset.action, ReplyPreset.title)
    ).all()
    return render_template("review/presets.html", form=form, presets=rows, delete_form=FlaskForm())


@bp.route("/presets/<int:preset_id>/edit", methods=["GET", "POST"])
@admin_required
def preset_edit(preset_id: int):
    """Change a saved message's name, use or words."""
    preset = db.get_or_404(ReplyPreset, preset_id)
    form = PresetForm(obj=preset if request.method == "GET" else None)
    status = 200
    if form.validate_on_submit():
        try:
            accounts.update_preset(
                preset,
                form.action.data,
                form.title.data,
                form.body.data,
                current_user,
                expected_version=expected_version(form),
            )
        except accounts.PresetChanged as error:
            flash(str(error), "error")
            status = 409
        else:
            flash("Saved message changed.", "success")
            return redirect(url_for("review.presets"))
    return render_template("review/preset_edit.html", form=form, preset=preset), status


@bp.route("/presets/<int:preset_id>/delete", methods=["POST"])
@admin_required
def preset_delete(preset_id: int):
    """Remove a preset (messages already sent keep their words)."""
    preset = db.get_or_404(ReplyPreset, preset_id)
    if FlaskForm().validate_on_submit():
        accounts.delete_preset(preset)
        flash("Preset removed.", "success")
    return redirect(url_for("review.presets"))
