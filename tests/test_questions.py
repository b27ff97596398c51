"""The questionnaire is data that admins manage; old answers keep their wording."""

from __future__ import annotations

from sqlalchemy import select

from portal.extensions import db
from portal.models import Answer, Question
from portal.workflow import State
from tests.conftest import login, post_form
from tests.factories import submission_in


def active_texts(app) -> list[str]:
    with app.app_context():
        return [q.text for q in db.session.scalars(Question.active_query())]


def test_admin_adds_rewords_reorders_and_retires(app, client, admin):
    with app.app_context():
        old = submission_in(State.SUBMITTED)
        first_q = db.session.scalars(Question.active_query()).first()
        first_id, first_text = first_q.id, first_q.text
        old_id = old.id
    login(client, email="admin@portal.test")
    new = {"text": "Which tool saves you the most time?", "help_text": "Any app.", "required": ""}
    assert post_form(client, "/editor/questions", new).status_code == 302
    assert active_texts(app)[-1] == "Which tool saves you the most time?"
    reword = {"text": "In two lines: what do you sell?", "help_text": "", "required": "y"}
    assert post_form(client, f"/editor/questions/{first_id}", reword).status_code == 302
    post_form(client, "/editor/questions", {}, action=f"/editor/questions/{first_id}/move/down")
    texts = active_texts(app)
    assert texts[1] == "In two lines: what do you sell?"
    post_form(client, "/editor/questions", {}, action=f"/editor/questions/{first_id}/retire")
    assert "In two lines: what do you sell?" not in active_texts(app)
    apply_page = client.get("/apply").get_data(as_text=True)
    assert "what do you sell" not in apply_page
    assert "Which tool saves you the most time?" in apply_page
    # The application that answered it before keeps the wording it was asked under.
    with app.app_context():
        answer = db.session.scalar(select(Answer).where(Answer.question_id == first_id))
        assert answer.question_text == first_text
        assert answer.revision.submission_id == old_id
    editor_page = client.get(f"/editor/submissions/{old_id}").get_data(as_text=True)
    assert first_text.replace("'", "&#39;") in editor_page
    post_form(client, "/editor/questions", {}, action=f"/editor/questions/{first_id}/restore")
    assert active_texts(app)[-1] == "In two lines: what do you sell?"


def test_a_question_needs_words(app, client, admin):
    login(client, email="admin@portal.test")
    response = post_form(client, "/editor/questions", {"text": "  ", "help_text": ""})
    assert response.status_code == 200
    assert "This field is required." in response.get_data(as_text=True)
