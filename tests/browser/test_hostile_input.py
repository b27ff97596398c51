"""Stored XSS, proven in the browser: hostile payloads go in through every field
an outsider or an editor can write, and every page that shows them is opened in
Chromium with the Content-Security-Policy switched off (`bypass_csp`), so that
escaping and sanitising alone must hold. A test fails if a dialog opens, a
payload's script sets its flag, or the page's DOM holds an event-handler
attribute, a javascript:/data: address or a script that is not the site's."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from portal.models import SOCIAL_NETWORKS as SOCIALS
from tests.browser.conftest import ADMIN, DESKTOP, PHONE, Portal, act, log_in

# Escaping and markup are the templates' work: the database makes no difference,
# so CI runs this module once, on SQLite (see .ci/run).
pytestmark = pytest.mark.database_independent

# Each payload, if it ever ran, would call alert() (a dialog) or set window.__xss.
PAYLOADS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    "<svg onload=alert(3)>",
    "<svg><script>alert(4)</script></svg>",
    '"><script>alert(5)</script>',
    "'><img src=x onerror=alert(6)>",
    '<a href="javascript:alert(7)">seven</a>',
    '<iframe src="javascript:alert(8)"></iframe>',
    '<iframe srcdoc="<script>parent.alert(9)</script>"></iframe>',
    "<body onload=alert(10)>",
    "<details open ontoggle=alert(11)>",
    "<input autofocus onfocus=alert(12)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(13)>",
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxNCk8L3NjcmlwdD4=">fourteen</a>',
    '<object data="javascript:alert(15)"></object>',
    '<embed src="javascript:alert(16)">',
    '<form action="javascript:alert(17)"><button>seventeen</button></form>',
    "<style>@import 'javascript:alert(18)';</style>",
    '<div style="background:url(javascript:alert(19))">nineteen</div>',
    "<scr<script>ipt>alert(20)</scr</script>ipt>",
    "&lt;script&gt;alert(21)&lt;/script&gt;",
    '<img src="x" onerror="&#97;&#108;&#101;&#114;&#116;(22)">',
    '<a href="jav&#x09;ascript:alert(23)">twenty-three</a>',
    '<a href="&#106;avascript:alert(24)">twenty-four</a>',
    '<svg><a xlink:href="javascript:alert(25)"><text x="9" y="9">25</text></a></svg>',
    "<img src=x:alert(26) onerror=eval(src)>",
    '<video><source onerror="alert(27)"></video>',
    "<audio src=x onerror=alert(28)>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(29)">',
    '<base href="javascript:alert(30)//">',
    "</textarea><script>alert(31)</script>",
    "</title><script>alert(32)</script>",
    '" onmouseover="alert(33)" x="',
    "</script><script>alert(34)</script>",
    '<noscript><p title="</noscript><img src=x onerror=alert(35)>">',
    "<svg><style><img src=x onerror=alert(36)></style></svg>",
    "<a href=javascript&colon;alert(37)>thirty-seven</a>",
    '<img src=x onerror="window.__xss=38">',
    "<x onclick=alert(39) style=display:block;width:99vw;height:99vh>click</x>",
    "javascript:alert(40)",
]
ALL = " ".join(PAYLOADS)

# Attributes and elements that mean a payload got through as markup.
DOM_CHECK = """() => {
  const bad = [];
  const urls = ['href', 'src', 'action', 'formaction', 'xlink:href', 'data', 'poster'];
  for (const el of document.querySelectorAll('*')) {
    for (const a of el.attributes) {
      const name = a.name.toLowerCase();
      const value = a.value.replace(/[\\s\\u0000-\\u001f]/g, '').toLowerCase();
      if (name.startsWith('on')) bad.push(`${el.tagName} ${name}`);
      if (urls.includes(name) && (value.startsWith('javascript:') || value.startsWith('data:text')))
        bad.push(`${el.tagName} ${name}=${value.slice(0, 40)}`);
      if (name === 'srcdoc') bad.push(`${el.tagName} srcdoc`);
      if (name === 'style' && value.includes('javascript:')) bad.push(`${el.tagName} style`);
    }
    const tag = el.tagName.toLowerCase();
    if (tag === 'script' && el.type !== 'application/ld+json'
        && !(el.src && el.src.startsWith(location.origin)))
      bad.push(`script ${el.outerHTML.slice(0, 60)}`);
    if (['base', 'object', 'embed'].includes(tag)) bad.push(tag);
    if (tag === 'iframe' && !(el.hasAttribute('sandbox') && el.src.startsWith(location.origin)))
      bad.push(`iframe ${el.outerHTML.slice(0, 60)}`);
    if (tag === 'meta' && el.httpEquiv) bad.push(`meta http-equiv=${el.httpEquiv}`);
  }
  return {bad, flag: window.__xss || null};
}"""


def group(start: int, count: int = 3) -> str:
    """`count` payloads from the start-th on: few enough open tags for the
    sanitiser's nesting limit, which refuses (with a message) all of them at once."""
    return " ".join(PAYLOADS[(start + k) % len(PAYLOADS)] for k in range(count))


def literally(text: str) -> str:
    """`text` as Markdown that reads as those very characters."""
    return re.sub(r"([\\`*_\[\]<>&!#()-])", r"\\\1", text)


def fits(limit: int, start: int) -> str:
    """As many payloads as fit in `limit` characters, starting from the start-th."""
    chosen, length = [], 0
    for n in range(len(PAYLOADS)):
        payload = PAYLOADS[(start + n) % len(PAYLOADS)]
        if length + len(payload) + 1 > limit:
            break
        chosen.append(payload)
        length += len(payload) + 1
    return " ".join(chosen)


class Inspector:
    """Opens pages and checks each one; remembers what it saw."""

    def __init__(self, watch):
        self.watch = watch
        self.seen: list[str] = []

    def check(self, page: Page, label: str) -> None:
        page.wait_for_load_state("load")
        page.wait_for_timeout(50)  # autofocus, ontoggle and the like fire right away
        result = page.evaluate(DOM_CHECK)
        assert not result["bad"], f"{label}: {result['bad']}"
        assert result["flag"] is None, f"{label}: a payload set window.__xss"
        assert not self.watch.dialogs, f"{label}: {self.watch.dialogs}"
        assert not self.watch.failures, f"{label}: {self.watch.failures}"
        self.seen.append(label)

    def visit(self, page: Page, url: str, label: str) -> None:
        response = page.goto(url)
        assert response is not None and response.status < 500, (label, response and response.status)
        self.check(page, label)


def apply_with(page: Page, portal: Portal, n: int, email: str) -> list[str]:
    """Apply with a payload in every field; return the fields that refused theirs."""
    page.goto(portal.url("/apply"))
    page.fill("#name", fits(120, n * 3))
    page.fill("#email", email)
    page.fill("#business", fits(160, n * 3 + 1))
    page.fill("#website", f'https://example.com/?q="><svg/onload=alert({n})>')
    page.fill("#location", fits(120, n * 3 + 2))
    page.select_option("#industry", "other")
    page.fill("#industry_other", fits(80, n * 5))
    page.fill("#pitch", fits(600, n * 7))
    for k, social in enumerate(page.locator("input[id^=social_]").all()):
        social.fill(PAYLOADS[(n + k) % len(PAYLOADS)][:100])
    for box in page.locator("textarea[id^=q]").all():
        box.fill(ALL)
    page.check("#consent")
    page.check("#privacy")
    page.get_by_role("button", name="Send my application").click()
    page.wait_for_load_state()
    refused = []
    if page.locator(".error-summary").count():
        # A field that refuses its payload (an address that is not a URL, a
        # handle that is not one) is the safe outcome for that field; it gets a
        # plain value and the rest go through.
        for invalid in page.locator("[aria-invalid=true]").all():
            name = invalid.get_attribute("id")
            refused.append(name)
            invalid.fill("https://example.com/" if name == "website" else "")
        page.check("#consent")
        page.check("#privacy")
        page.get_by_role("button", name="Send my application").click()
        page.wait_for_load_state()
    expect(page.locator(".receipt")).to_be_visible()
    return refused


def test_payloads_through_every_field_run_nowhere(portal: Portal, browser, open_page, watch):
    assert len(PAYLOADS) >= 30
    inspect = Inspector(watch)
    admin = open_page(DESKTOP, bypass_csp=True)
    log_in(admin, portal, ADMIN)

    # Admin-written text that outsiders see: a question, a saved message.
    admin.goto(portal.url("/editor/questions"))
    admin.fill("#text", fits(500, 0))
    admin.fill("#help_text", ALL[:1000])
    admin.locator("main form.stack button[type=submit]").last.click()
    inspect.check(admin, "questions")
    admin.goto(portal.url("/editor/presets"))
    admin.select_option("#action", "request_changes")
    admin.fill("#title", fits(120, 5))
    admin.fill("#body", ALL)
    admin.locator("main form.stack button[type=submit]").last.click()
    inspect.check(admin, "presets")

    submissions = []
    for n in range(4):
        phone = open_page(PHONE, bypass_csp=True)
        email = f"hostile{n}@example.com"
        refused = apply_with(phone, portal, n, email)
        # Only the fields with a format of their own may refuse: the free text
        # fields take every payload and must show it back as text.
        assert set(refused) <= {"website"} | {f"social_{k}" for k in SOCIALS}, refused
        inspect.check(phone, f"status page {n}")
        # What was typed comes back as text, not lost and not markup.
        expect(phone.locator("main")).to_contain_text(PAYLOADS[(n * 3 + 1) % len(PAYLOADS)])
        status = portal.link_in(portal.mail(email, "We received your application"), "/status/")
        submissions.append((email, status))

        # The editor: queue, note, request for changes with every answer pointed at.
        inspect.visit(admin, portal.url("/editor/?q=hostile"), f"queue {n}")
        admin.locator(f"a:has-text('{email}'), tr:has-text('{email}') a").first.click()
        page_of_submission = admin.url
        inspect.check(admin, f"submission {n}")
        admin.fill("#note-body", ALL)
        admin.get_by_role("button", name="Add note").click()
        inspect.check(admin, f"submission with note {n}")
        act(admin, "start_review")
        form = admin.locator("form[action$='/actions/request_changes']")
        form.locator("textarea[name=message]").fill(ALL)
        form.locator("summary").click()
        for box in form.locator("textarea[id^=req]").all():
            box.fill(fits(1000, n))
        form.locator("button[type=submit]").click()
        inspect.check(admin, f"changes requested {n}")

        # The applicant revises with the payloads in another order (a diff of them).
        inspect.visit(phone, status, f"status with request {n}")
        phone.get_by_role("link", name="Revise my application").click()
        inspect.check(phone, f"revise page {n}")
        for box in phone.locator("textarea[id^=q]").all():
            box.fill(" ".join(reversed(PAYLOADS)))
        phone.get_by_role("button", name="Send my revised answers").click()
        inspect.check(phone, f"status after revision {n}")

        inspect.visit(admin, page_of_submission + "?from=1&to=2#changes", f"diff {n}")
        if admin.locator("form[action$='/actions/start_review']").count():
            act(admin, "start_review")
        act(admin, "approve")
        admin.get_by_role("link", name="Edit the draft").click()
        inspect.check(admin, f"draft editor {n}")
        admin.fill("#title", fits(200, n * 2))
        admin.fill("#intro_md", group(n * 3 + 20))
        admin.fill(
            "#tags", ", ".join(["Hostile"] + [p[:50].replace(",", " ") for p in PAYLOADS[n::8]])
        )
        admin.fill("#pull_quote", fits(300, n * 4))
        for box in admin.locator("input[id^=q]").all():
            box.fill(fits(500, n))
        answers = admin.locator("textarea[id^=a]").all()
        for k, box in enumerate(answers):
            box.fill(group(k * 3 + n))  # together, the answers carry every payload
        # As markup, the sanitizer would strip them: refused, by name, nothing lost.
        admin.get_by_role("button", name="Save the draft").click()
        expect(admin.locator(".error-summary")).to_contain_text("would be removed")
        inspect.check(admin, f"draft refused {n}")
        # Written as text (Markdown's backslashes), they are words readers see.
        admin.fill("#intro_md", literally(group(n * 3 + 20)))
        for k, box in enumerate(answers):
            expect(box).to_have_value(group(k * 3 + n))
            box.fill(literally(group(k * 3 + n)))
        admin.get_by_role("button", name="Save the draft").click()
        expect(admin.locator(".error-summary")).to_have_count(0)
        inspect.check(admin, f"draft saved {n}")
        admin.goto(page_of_submission + "/preview")
        inspect.check(admin, f"preview {n}")
        admin.goto(page_of_submission)
        act(admin, "skip_signoff", ALL)
        act(admin, "publish")
        inspect.check(admin, f"published submission {n}")
        admin.get_by_role("link", name="Public page").click()
        inspect.check(admin, f"public interview {n}")
        inspect.visit(phone, status, f"status when live {n}")

    # Readers' pages, the outbox, and the searches that echo what was typed.
    reader = open_page(DESKTOP, bypass_csp=True)
    inspect.visit(reader, portal.url("/"), "home")
    reader.locator(".tags a").first.click()
    inspect.check(reader, "tag page")
    for payload in PAYLOADS[:10] + ["alert", "script onerror"]:
        inspect.visit(reader, portal.url("/search?q=") + re.sub("#", "%23", payload), "search")
    inspect.visit(reader, portal.url("/feed.atom"), "feed")
    inspect.visit(reader, portal.url("/sitemap.xml"), "sitemap")
    inspect.visit(admin, portal.url("/editor/outbox"), "outbox")
    for link in admin.locator("main a[href*='/editor/outbox/']").all()[:12]:
        href = link.get_attribute("href")
        if re.search(r"/outbox/\d+$", href):
            inspect.visit(open_page(DESKTOP, bypass_csp=True), portal.url(href), "outbox email")

    # Every email as HTML, outside any CSP and outside the sandboxed frame.
    emails = [m for m in portal.inbox.messages if m.html]
    assert len(emails) >= 20
    mail_page = open_page(DESKTOP, bypass_csp=True)
    for message in emails:
        mail_page.set_content(message.html)
        inspect.check(mail_page, f"email {message.subject}")
    # The payloads did reach the emails, as text.
    shown = " ".join(m.html for m in emails)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown

    watch.assert_clean()
    # The pages checked, for the record.
    labels = {re.sub(r" \d+$", "", label) for label in inspect.seen}
    assert {"status page", "queue", "submission", "diff", "draft editor", "preview"} <= labels
    assert {"public interview", "home", "tag page", "search", "feed", "outbox"} <= labels
    assert len(inspect.seen) > 60
