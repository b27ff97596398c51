"""The application form under hostile input: a clear answer, never a 500, never
a lost or duplicated application, never a script that comes back unescaped."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Answer, Submission
from tests.conftest import application, login, post_form

SCRIPT = "<script>alert('owned')</script>"


def count_submissions(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Submission))


def test_the_form_lists_every_question_with_help_and_required_marks(client):
    page = client.get("/apply").get_data(as_text=True)
    assert "What does your business do, and who is it for?" in page
    assert "Two or three sentences a stranger would understand." in page
    assert page.count("(required)") >= 3 + 7  # name, email, business + required questions


def test_missing_required_fields_come_back_with_messages_and_keep_the_rest(app, client):
    data = application(app, name="", email="not-an-email")
    response = post_form(client, "/apply", data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Tell us your name." in page
    assert "doesn&#39;t look like an email address" in page
    assert 'href="#name"' in page  # the summary links to the field
    assert "Tidewater Kayaks" in page  # what was typed is kept
    assert "we paddle, we post, people come." in page
    assert count_submissions(app) == 0


def test_a_100_kb_answer_gets_a_message_not_a_500(app, client):
    data = application(app)
    first_q = next(k for k in data if k.startswith("q"))
    data[first_q] = "x" * 100_000
    data["name"] = "y" * 100_000
    response = post_form(client, "/apply", data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Field cannot be longer than 5000 characters." in page
    assert "Field cannot be longer than 120 characters." in page
    assert count_submissions(app) == 0


@pytest.mark.parametrize("field", ["name", "business", "location", "q", "pitch"])
def test_a_nul_byte_is_refused_with_a_message(app, client, field):
    data = application(app)
    key = next(k for k in data if k.startswith("q")) if field == "q" else field
    data[key] = "Tide\x00water"
    response = post_form(client, "/apply", data)
    assert response.status_code == 200
    assert "invisible control character" in response.get_data(as_text=True)
    assert count_submissions(app) == 0


def test_a_line_break_in_a_name_is_refused(app, client):
    data = application(app, name="Rosa\r\nBcc: victim@example.com")
    response = post_form(client, "/apply", data)
    assert "Please keep this on one line." in response.get_data(as_text=True)
    assert count_submissions(app) == 0


def test_missing_or_wrong_csrf_token_gets_the_form_back_with_400(app, client):
    data = application(app)
    response = client.post("/apply", data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "The form expired" in page
    assert "Tidewater Kayaks" in page  # nothing typed is lost
    assert 'name="csrf_token"' in page  # with a fresh token to send it again
    response = client.post("/apply", data=dict(data, csrf_token="forged"))
    assert response.status_code == 400
    assert count_submissions(app) == 0


def test_csrf_is_enforced_on_editor_and_status_posts(app, client, editor):
    login(client)
    assert client.post("/editor/submissions/1/actions/approve", data={}).status_code == 400
    assert client.post("/editor/logout").status_code == 400


def test_script_in_every_field_comes_back_escaped(app, client, editor):
    data = application(app)
    for key in list(data):
        if key in ("email", "consent", "privacy", "website", "industry") or key.startswith(
            "social_"
        ):
            continue
        data[key] = f"{key} {SCRIPT}"
    data["industry"], data["industry_other"] = "other", f"industry {SCRIPT}"
    data["website"] = "javascript:alert(1)"
    response = post_form(client, "/apply", data)
    page = response.get_data(as_text=True)
    assert "Enter a web address starting with http:// or https://." in page
    assert SCRIPT not in page
    assert "&lt;script&gt;" in page

    data["website"] = "https://tidewater.example"
    response = post_form(client, "/apply", data)
    assert response.status_code == 302
    status = client.get(response.headers["Location"]).get_data(as_text=True)
    assert SCRIPT not in status
    assert "&lt;script&gt;" in status

    editors = app.test_client()
    login(editors)
    for path in ("/editor/?state=submitted", "/editor/submissions/1"):
        page = editors.get(path).get_data(as_text=True)
        assert "<script>" not in page
        assert "&lt;script&gt;" in page
    # Stored as typed: escaping happens on the way out, nothing is lost.
    with app.app_context():
        bodies = db.session.scalars(select(Answer.body)).all()
        assert all(SCRIPT in body for body in bodies)


def test_plain_text_answers_keep_paragraphs_and_link_addresses(app, client, editor):
    data = application(app)
    first_q = next(k for k in data if k.startswith("q"))
    data[first_q] = "First paragraph.\n\nSecond, see https://tidewaterkayaks.co.uk/trips today."
    response = post_form(client, "/apply", data)
    editors = app.test_client()
    login(editors)
    page = editors.get("/editor/submissions/1").get_data(as_text=True)
    assert "<p>First paragraph.</p>" in page
    assert (
        '<a href="https://tidewaterkayaks.co.uk/trips" rel="nofollow ugc noopener">'
        "https://tidewaterkayaks.co.uk/trips</a>" in page
    )
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("@tidewaterkayaks", "https://www.instagram.com/tidewaterkayaks"),
        ("tidewaterkayaks", "https://www.instagram.com/tidewaterkayaks"),
        ("https://instagram.com/tidewaterkayaks/", "https://instagram.com/tidewaterkayaks"),
    ],
)
def test_social_handles_are_stored_as_profile_urls(app, client, value, stored):
    response = post_form(client, "/apply", application(app, social_instagram=value))
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Submission)).socials == {"instagram": stored}


def test_a_social_address_on_another_host_is_refused(app, client):
    response = post_form(
        client, "/apply", application(app, social_instagram="https://evil.example/x")
    )
    assert "That address is not on instagram.com." in response.get_data(as_text=True)
    assert count_submissions(app) == 0


def test_a_social_address_with_markup_in_it_is_refused(app, client):
    response = post_form(
        client,
        "/apply",
        application(app, social_instagram='https://instagram.com/eve"><script>x</script>'),
    )
    assert "That address has characters no profile address has." in response.get_data(as_text=True)
    assert count_submissions(app) == 0


def test_consent_is_required(app, client):
    data = application(app)
    data.pop("consent")
    response = post_form(client, "/apply", data)
    assert "We can only publish with your agreement." in response.get_data(as_text=True)
    assert count_submissions(app) == 0


def test_a_body_over_the_size_limit_gets_413_not_500(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 50_000
    data = application(app)
    data["pitch"] = "z" * 60_000
    response = post_form(client, "/apply", data)
    assert response.status_code == 413
    assert "Social Owners" in response.get_data(as_text=True)


def test_industry_from_the_list_or_in_their_own_words(app, client):
    post_form(client, "/apply", application(app, industry="Retail"))
    post_form(
        client,
        "/apply",
        application(app, email="b@x.example", industry="other", industry_other="Beekeeping"),
    )
    response = post_form(
        client, "/apply", application(app, email="c@x.example", industry="Not on the list")
    )
    assert "Not a valid choice" in response.get_data(as_text=True)
    with app.app_context():
        industries = db.session.scalars(select(Submission.industry).order_by(Submission.id)).all()
    assert industries == ["Retail", "Beekeeping"]


def test_both_consents_are_required_and_the_notice_is_there(app, client):
    data = application(app)
    data.pop("privacy")
    response = post_form(client, "/apply", data)
    assert "Please read the privacy notice and tick this box." in response.get_data(as_text=True)
    assert count_submissions(app) == 0
    assert "Your rights" in client.get("/privacy").get_data(as_text=True)


def test_the_error_summary_follows_the_page_with_the_expired_form_first(app, client):
    client.get("/apply")
    data = application(app, name="", privacy="", csrf_token="stale")
    first_question = next(k for k in data if k.startswith("q"))
    data[first_question] = ""
    data.pop("consent")
    page = client.post("/apply", data=data).get_data(as_text=True)
    summary = page[
        page.index('class="error-summary"') : page.index("</ul>", page.index("error-summary"))
    ]
    items = re.findall(r"<li>(.*?)</li>", summary, re.S)
    assert "The form expired" in items[0]
    order = [
        next(i for i, item in enumerate(items) if marker in item)
        for marker in (
            'href="#name"',
            f'href="#{first_question}"',
            'href="#consent"',
            'href="#privacy"',
        )
    ]
    assert order == sorted(order)
    assert ".:" not in summary and "?:" not in summary
