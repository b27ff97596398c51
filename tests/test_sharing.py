"""Share links on an interview: plain links to each network, no third-party
script; Mastodon through a page of ours that asks for the reader's server."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from portal.publishing.sharing import NotAServer, mastodon_server
from portal.workflow import Action, State
from tests.factories import actor_for, submission_in

PUBLIC_URL = "http://portal.test"


def _published(app, title="Kiln & Kettle: “pots” <b>sold</b> out") -> str:
    from portal import operations

    with app.app_context():
        submission = submission_in(State.READY, draft=lambda i: setattr(i, "title", title))
        operations.publish(submission, actor_for(Action.PUBLISH))
        return submission.interview.slug


def _hrefs(page: str) -> list[str]:
    import html
    import re

    section = page[page.index('class="share"') :]
    section = section[: section.index("</section>")]
    return [html.unescape(h) for h in re.findall(r'href="([^"]+)"', section)]


def test_the_interview_page_links_each_network_with_its_address_and_title(app, client):
    title = "Kiln & Kettle: “pots” <b>sold</b> out"
    slug = _published(app, title)
    page = client.get(f"/interviews/{slug}").get_data(as_text=True)
    assert "<b>sold</b>" not in page
    address = f"{PUBLIC_URL}/interviews/{slug}"
    hrefs = _hrefs(page)
    by_host = {urlsplit(h).netloc or urlsplit(h).scheme: h for h in hrefs}
    x = parse_qs(urlsplit(by_host["x.com"]).query)
    assert x == {"text": [title], "url": [address]}
    assert parse_qs(urlsplit(by_host["www.linkedin.com"]).query) == {"url": [address]}
    assert parse_qs(urlsplit(by_host["www.facebook.com"]).query) == {"u": [address]}
    mail = parse_qs(urlsplit(by_host["mailto"]).query)
    assert mail["subject"] == [title] and address in mail["body"][0]
    assert f"/interviews/{slug}/share/mastodon" in hrefs
    assert 'src="/static/share.js"' in page and '<script src="http' not in page
    assert f'data-copy="{address}"' in page


def test_mastodon_asks_for_the_server_then_sends_the_reader_there(app, client):
    slug = _published(app)
    asked = client.get(f"/interviews/{slug}/share/mastodon")
    assert asked.status_code == 200 and 'name="server"' in asked.get_data(as_text=True)
    sent = client.get(
        f"/interviews/{slug}/share/mastodon?server=@me@Fosstodon.org",
        headers={"Sec-Fetch-Site": "same-origin"},  # from the page's own form
    )
    assert sent.status_code == 303
    target = urlsplit(sent.headers["Location"])
    assert (target.scheme, target.netloc, target.path) == ("https", "fosstodon.org", "/share")
    text = parse_qs(target.query)["text"][0]
    assert text.endswith(f"{PUBLIC_URL}/interviews/{slug}") and "Kiln & Kettle" in text
    assert "private" in sent.headers["Cache-Control"]
    again = client.get(f"/interviews/{slug}/share/mastodon").get_data(as_text=True)
    assert 'value="fosstodon.org"' in again  # remembered


def test_a_link_from_elsewhere_gets_the_form_not_a_redirect(app, client):
    slug = _published(app)
    for site in ("cross-site", None):
        headers = {"Sec-Fetch-Site": site} if site else {}
        response = client.get(
            f"/interviews/{slug}/share/mastodon?server=phish.example.com", headers=headers
        )
        assert response.status_code == 200
        assert 'value="phish.example.com"' in response.get_data(as_text=True)
        assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "javascript:alert(1)",
        "localhost",
        "127.0.0.1",
        "http://10.0.0.1/",
        "mastodon",
        "mastodon.social:8080",
        "https://user:pass@mastodon.social",
        "<script>x</script>.social",
        "a" * 400 + ".social",
    ],
)
def test_a_server_that_is_not_one_gets_a_message_not_a_redirect(app, client, typed):
    slug = _published(app)
    response = client.get(f"/interviews/{slug}/share/mastodon", query_string={"server": typed})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'class="error"' in page and "<script>x" not in page


@pytest.mark.parametrize(
    ("typed", "server"),
    [
        ("mastodon.social", "mastodon.social"),
        (" https://Mastodon.Social/about ", "mastodon.social"),
        ("@someone@hachyderm.io", "hachyderm.io"),
        ("someone@mas.to", "mas.to"),
        ("social.example.co.uk.", "social.example.co.uk"),
        ("@me@mastodon.social/", "mastodon.social"),
        ("мастодон.рф", "xn--80aiwgdbsi.xn--p1ai"),
        ("xn--80aiwgdbsi.xn--p1ai", "xn--80aiwgdbsi.xn--p1ai"),
    ],
)
def test_what_readers_type_for_their_server(typed, server):
    assert mastodon_server(typed) == server


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("127.0.0.1", "not an IP address"),
        ("[::1]", "not an IP address"),
        ("mastodon.social:8080", "Leave out the port"),
        ("metadata.google.internal", "not a server on the internet"),
        ("printer.local", "not a server on the internet"),
    ],
)
def test_a_refusal_says_why(typed, says):
    with pytest.raises(NotAServer, match=says):
        mastodon_server(typed)


def test_no_share_page_for_an_interview_that_is_not_live(app, client):
    with app.app_context():
        slug = submission_in(State.APPROVED).interview.slug
    assert (
        client.get(f"/interviews/{slug}/share/mastodon?server=mastodon.social").status_code == 404
    )
