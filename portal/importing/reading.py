"""A post's paragraphs read as an interview: the interviewer's note, the pairs,
the person's name, business and profiles, and the blog's own footer left out.

The rules, as old blogs wrote their interviews:
- a question is a paragraph that ends with a question mark (even when it opens
  with a remark: "I should say- 8,000 people- wow! How did you…?"), or, in a
  WordPress post, a heading or a paragraph all in bold;
- its answer is everything up to the next question;
- what comes before the first question is the interviewer's note;
- "Follow Jesper on Twitter" closes the interview and names a profile; the
  blog's footer ("would you like to be featured", "follow my updates via RSS")
  is recognised and left out.
Whatever the rules can't be sure of is said in `Found.doubts`, for the report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .. import socials
from ..models import QUESTION_MAX
from ..sanitize import TooLong, clean_html, plain_to_html
from . import Found, Pair


@dataclass
class Block:
    """One paragraph (or list, or heading) of a post."""

    text: str  # its plain text, spaces collapsed
    html: str = ""  # its HTML as the post had it ("" for plain text)
    emphasised: bool = False  # a heading, or all in bold
    answer: bool = False  # marked as one ("A: …"): never a question


# A question mark at the end, perhaps inside quotes or brackets.
_QUESTION_END = re.compile(r"\?[\s\"'”’)\]*_]*$")
_NOTE_LABEL = re.compile(
    r"^(?:the\s+)?(?:interviewer|editor)(?:[’']s|s[’']?)?\s+note\s*[:.–—-]?\s*", re.IGNORECASE
)
_APOSTROPHE = r"(?:[’']|&#8217;|&rsquo;|&#39;|&#039;)"
_NOTE_LABEL_HTML = re.compile(
    r"^(?P<open>\s*(?:<p\b[^>]*>)?)\s*(?:<(?P<tag>strong|b|em|i)>\s*)?"
    rf"(?:the\s+)?(?:interviewer|editor)(?:{_APOSTROPHE}s|s{_APOSTROPHE}?)?\s+note"
    r"\s*[:.–—-]?\s*(?:</(?P=tag)>)?\s*[:.–—-]?\s*",
    re.IGNORECASE,
)
_Q_PREFIX = re.compile(r"^(?:Q|Question)\s*\d*\s*[:.)–—-]\s*", re.IGNORECASE)
_A_PREFIX = re.compile(r"^(?:A|Answer)\s*[:.)–—-]\s*", re.IGNORECASE)
_NETWORKS = {
    "twitter": "x",
    "x": "x",
    "instagram": "instagram",
    "facebook": "facebook",
    "linkedin": "linkedin",
    "youtube": "youtube",
    "tiktok": "tiktok",
    "mastodon": "mastodon",
}
# "Follow Jesper on Twitter here", "Follow Ana Lima on Instagram: @ana": a
# name of a few words, and never a question ("Follow up on that: …?").
_FOLLOW = re.compile(
    r"^follow\s+(?P<who>[^\s.!?:;,]+(?:\s+[^\s.!?:;,]+){0,3}?)\s+on\s+(?P<network>"
    + "|".join(_NETWORKS)
    + r")\b(?P<rest>(?:(?!\?\s*$).)*)$",
    re.IGNORECASE,
)
_NOT_A_PERSON = {"us", "me", "my updates", "our updates", "this blog", "the blog"}
_ADDRESS = re.compile(
    r"https?://[^\s\"'<>]+"
    r"|\b(?:www\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}/[^\s\"'<>]+"  # linkedin.com/in/x
    r"|(?<![\w@])@[A-Za-z0-9_.]+(?:@[A-Za-z0-9.-]+\.[A-Za-z]{2,})?",
    re.IGNORECASE,
)
_HREF = re.compile(r"""href=["']([^"']+)["']""", re.IGNORECASE)
# "1. What do you…?", "3) How…?": a number the old blog put before its question.
_NUMBERED = re.compile(r"^\d{1,2}[.)]\s+(?=\S)")
# "INTERVIEWER: …", "JOE: …": a transcript's speaker, in capitals.
_SPEAKER = re.compile(r"^[A-Z][A-Z .’'-]{1,30}:\s+(?=\S)")
# The blog's own lines: an invitation to be featured, "follow us", "subscribe".
_FOOTER = [
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        r"\bwould you like to be (?:featured|interviewed)\b",
        r"\bbe featured in (?:one of )?our\b",
        r"\bbecome a (?:follower|fan|subscriber|reader) of (?:us|me|this blog)\b",
        r"\bfollow (?:us|me|my updates|our updates|this blog)\b",
        r"\b(?:via|by) RSS\b",
        r"\bsubscribe (?:to|via|by) (?:our|my|this|the|RSS|email)\b",
        r"^(?:share this|related posts?|filed under|posted (?:in|by|on)|tags?:)",
        r"\bleave a (?:comment|reply)\b",
    )
]
# Where a post says who it is with, and what they run.
_GREETING = re.compile(
    r"\b(?:Hello|Hi|Hey|Welcome|Dear|Good (?:morning|afternoon|evening)),?\s+"
    r"(?P<name>[A-Z][\w’'-]+(?:\s+[A-Z][\w’'-]+)?)\s*[;,!.:]"
)
_SAYS_WHO = re.compile(
    r"\b(?:I['’]m|I am|My name is|my name's)\s+(?P<name>[A-Z][\w’'-]+(?:\s+[A-Z][\w’'-]+)?)"
)
_SPOKE_WITH = re.compile(
    r"\b(?:spoke|talked|chatted|sat down) (?:with|to) (?P<name>[A-Z][\w’'-]+(?:\s+[A-Z][\w’'-]+)?)"
)
_BUSINESS = re.compile(
    r"\b(?:I|We)\s+(?:run|own|founded|co-founded|started|manage|lead|set up)\s+"
    r"|\b(?:I am|I’m|I'm)\s+the\s+(?:founder|co-founder|owner|director|CEO)\s+of\s+"
)
_JOINING = {"of", "and", "the", "&", "de", "la", "du", "von", "van"}
LONG_QUESTION = 300
_EXCERPT = 70


def excerpt(text: str) -> str:
    return f"“{text[:_EXCERPT]}…”" if len(text) > _EXCERPT else f"“{text}”"


def is_footer(text: str, extra: tuple[str, ...] = ()) -> bool:
    lowered = text.lower()
    return any(p.search(text) for p in _FOOTER) or any(e.lower() in lowered for e in extra)


_QA = re.compile(
    r"^(?P<q>(?:Q|Question)\s*\d*\s*[:.)–—-]\s*.+?\?)\s*(?:A|Answer)\s*[:.)–—-]\s*(?P<a>.+)$",
    re.IGNORECASE,
)
_YOU = re.compile(r"\b(?:you|your|yours|you['’](?:re|ve|d|ll))\b", re.IGNORECASE)
# The interviewee speaking of themselves ("let me", "tell us" are the
# interviewer's, so not these).
_FIRST_PERSON = re.compile(r"\b(?:I|I['’](?:m|ve|d|ll)|(?i:my|we|our))\b")
_SENTENCE_END = re.compile(r"[.!?]+(?=\s+[A-Z“\"'‘]|\s*$)")
QUESTION_SENTENCES = 4  # a remark or two, then the question


def _split_qa(blocks: list[Block]) -> list[Block]:
    """ "Q: …? A: …" in one paragraph: the question, then the answer."""
    out = []
    for block in blocks:
        match = _QA.match(block.text)
        if match is None:
            out.append(block)
            continue
        out += [Block(match["q"].strip(), "", True), Block(match["a"].strip(), answer=True)]
    return out


def _asks(text: str) -> str:
    """Whether a paragraph is the interviewer's question: "yes", "no", or
    "maybe" (a question, said in the report). One that ends in "?" and is a
    few sentences at most is, unless the interviewee speaks of themselves in
    it: "…and I said why not?" is no question; "I love the name. Where does it
    come from?" may be the interviewer's remark, then a question."""
    if not _QUESTION_END.search(text):
        return "no"
    if _Q_PREFIX.match(text) or _YOU.search(text):
        return "yes"
    if len(text) > QUESTION_MAX or len(_SENTENCE_END.findall(text)) > QUESTION_SENTENCES:
        return "no"
    last = re.split(r"(?<=[.!?])\s+(?=[A-Z“\"'‘])", text)[-1]
    if _FIRST_PERSON.search(last):
        return "no"
    return "maybe" if _FIRST_PERSON.search(text) else "yes"


def _is_question(block: Block, strict: bool, marked: bool, found: Found) -> bool:
    """A question: in bold or a heading (only those ending in “?” when the post
    has such: "About Kim" is then a heading, not a question); marked "Q:" when
    the post marks its questions so; else `_asks`."""
    if block.answer:
        return False
    if block.emphasised:
        return bool(_QUESTION_END.search(block.text)) or not strict
    if marked:
        return bool(_Q_PREFIX.match(block.text))
    asks = _asks(block.text)
    if asks == "maybe":
        found.doubts.append(
            f"read as a question (check it is not the answer's): {excerpt(block.text)}"
        )
    return asks != "no"


@dataclass
class _Pair:
    questions: list[str]
    answer: list[Block]


def read(
    blocks: list[Block],
    found: Found,
    *,
    footers: tuple[str, ...] = (),
    name: str = "",
    business: str = "",
    profiles: dict[str, str] | None = None,
    hints: bool = False,
) -> Found:
    """Fill `found` from the post's `blocks` (its title is already there).
    `hints`: the doubts name the command's options that would settle them."""
    blocks = _split_qa(blocks)
    strict = any(b.emphasised and _QUESTION_END.search(b.text) for b in blocks)
    marked = sum(1 for b in blocks if _Q_PREFIX.match(b.text)) >= 2  # a "Q: … A: …" post
    intro: list[Block] = []
    pairs: list[_Pair] = []
    follows: list[tuple[str, str, str, str]] = []  # (who, network, its word, the rest)
    ended = False  # past the closing "Follow <name> on <network>"
    held: list[Block] = []  # footer-like lines: the footer, unless text follows them
    for block in blocks:
        follow = _follow_line(block)
        if follow is not None:
            _keep(held, intro, pairs, found)  # what came before it was the interview
            held = []
            follows.append(follow)
            ended = True
            continue
        if ended:
            if not is_footer(block.text, footers):
                found.doubts.append(
                    f"left out text after the closing follow line: {excerpt(block.text)}"
                )
            continue
        if is_footer(block.text, footers):
            held.append(block)
            continue
        _keep(held, intro, pairs, found)  # not the footer after all: text went on
        held = []
        if _is_question(block, strict, marked, found):
            if pairs and not pairs[-1].answer:
                pairs[-1].questions.append(block.text)
                found.doubts.append(
                    "two paragraphs that end in “?” in a row were read as one question: "
                    + excerpt(" ".join(pairs[-1].questions))
                )
            else:
                pairs.append(_Pair([block.text], []))
        else:
            _place(block, intro, pairs)
    if held and pairs and not pairs[-1].answer:
        _keep(held, intro, pairs, found)  # a question's only answer is no footer
    found.intro_html = _intro(intro, found)
    found.pairs = [p for p in (_finish(pair, found) for pair in pairs) if p is not None]
    texts = [b.text for b in blocks]
    found.name = name or _name(texts, follows)
    found.business = business or _business(texts)
    found.socials = _profiles(follows, profiles or {}, found)
    if not found.pairs:
        found.skipped = "no question found"
    if not found.name:
        found.doubts.append("no name found in the text" + (": pass --name" if hints else ""))
    if not found.business:
        found.doubts.append(
            "no business found in the text" + (": pass --business" if hints else "")
        )
    found.doubts = list(dict.fromkeys(found.doubts))
    return found


def _keep(held: list[Block], intro, pairs, found: Found) -> None:
    for block in held:
        found.doubts.append(f"an answer that looks like a footer: {excerpt(block.text)}")
        _place(block, intro, pairs)


def _place(block: Block, intro: list[Block], pairs: list[_Pair]) -> None:
    (pairs[-1].answer if pairs else intro).append(block)


def _follow_line(block: Block) -> tuple[str, str, str, str] | None:
    """(who, network, the word for it, what follows), from "Follow Ana on
    Instagram: @ana" (the address may be a link's: "…on LinkedIn <a href>here</a>")."""
    match = _FOLLOW.match(block.text.strip())
    if match is None or match["who"].strip().lower() in _NOT_A_PERSON:
        return None
    word, rest = match["network"], match["rest"]
    link = _HREF.search(block.html)
    if not _ADDRESS.search(rest) and link:
        rest = f"{rest} {link.group(1)}"
    return match["who"].strip(), _NETWORKS[word.lower()], word, rest


def _html(blocks: list[Block]) -> str:
    """The blocks as HTML, through the one sanitizer."""
    return "\n".join(b.html if b.html else str(plain_to_html(b.text)) for b in blocks)


def _cleaned(blocks: list[Block], what: str, found: Found) -> str:
    try:
        return clean_html(_html(blocks))
    except TooLong:
        found.doubts.append(f"{what}: too long to keep its formatting; kept as plain text")
        return str(plain_to_html("\n\n".join(b.text for b in blocks)))


def _intro(blocks: list[Block], found: Found) -> str:
    if not blocks:
        return ""
    first = blocks[0]
    label = _NOTE_LABEL.match(first.text)
    if label:
        text = first.text[label.end() :]
        blocks = [Block(text, _strip_label(first.html), first.emphasised), *blocks[1:]]
        if not text:
            blocks = blocks[1:]
    return _cleaned(blocks, "the interviewer's note", found) if blocks else ""


def _strip_label(html: str) -> str:
    """The block's HTML without its "Interviewer's Note:" (bold or not)."""
    return _NOTE_LABEL_HTML.sub(r"\g<open>", html, count=1) if html else ""


def _finish(pair: _Pair, found: Found) -> Pair | None:
    question = _Q_PREFIX.sub("", " ".join(pair.questions)).strip()
    question = _SPEAKER.sub("", _NUMBERED.sub("", question))
    if not pair.answer:
        found.doubts.append(f"a question with no answer was left out: {excerpt(question)}")
        return None
    if len(question) > QUESTION_MAX:
        question = _last_sentences(question, QUESTION_MAX)
        found.doubts.append(
            f"a question over {QUESTION_MAX} characters was cut to its end: {excerpt(question)}"
        )
    elif len(question) > LONG_QUESTION:
        found.doubts.append(f"a very long question: {excerpt(question)}")
    first = pair.answer[0]
    if _SPEAKER.match(first.text) and not first.html:
        pair.answer[0] = first = Block(_SPEAKER.sub("", first.text), answer=True)
    if _A_PREFIX.match(first.text):
        pair.answer[0] = Block(_A_PREFIX.sub("", first.text), _strip_a(first.html), answer=True)
    html = _cleaned(pair.answer, f"the answer to {excerpt(question)}", found)
    text = "\n\n".join(b.text for b in pair.answer)
    return Pair(question=question, answer_text=text, answer_html=html)


def _strip_a(html: str) -> str:
    if not html:
        return ""
    return re.sub(
        r"^((?:\s*<[^>]+>)*)\s*(?:A|Answer)\s*[:.)–—-]\s*(?:</(?:strong|b)>\s*)?",
        r"\1",
        html,
        count=1,
        flags=re.IGNORECASE,
    )


def _last_sentences(text: str, limit: int) -> str:
    """The end of `text` that fits in `limit`, from a sentence's start."""
    tail = text[-limit:]
    start = re.search(r"[.!?]\s+(?=[A-Z“\"'])", tail)
    return tail[start.end() :] if start else tail.split(" ", 1)[-1]


def _name(texts: list[str], follows) -> str:
    for text in texts[:6]:
        match = _GREETING.search(text) or _SPOKE_WITH.search(text)
        if match:
            return match["name"]
    if follows:
        return follows[0][0]
    for text in texts[:6]:
        match = _SAYS_WHO.search(text)
        if match and match["name"] not in {"The", "A", "In", "On", "So"}:
            return match["name"]
    return ""


def _business(texts: list[str]) -> str:
    """What "I run JEC International, which…" names: its capitalised words."""
    for text in texts:
        for lead in _BUSINESS.finditer(text):
            found = _name_at(text[lead.end() :])
            if found:
                return found
    return ""


def _name_at(rest: str) -> str:
    """The capitalised words `rest` opens with ("Chéz Renée", "Wick & Wax"),
    up to the punctuation or the lower-case word that ends the name."""
    words: list[str] = []
    for word in rest.split()[:8]:
        core = word.rstrip(",;:!?)”’\"'")
        closes = core != word or core.endswith(".")
        core = core.rstrip(".")
        if not core:
            break
        if core[0].isupper() or core[0].isdigit() or (words and core.lower() in _JOINING):
            words.append(core)
        else:
            break
        if closes:
            break
    while words and words[-1].lower() in _JOINING:
        words.pop()
    found = " ".join(words)
    return "" if found.lower() in {"i", "it", "a", "the", "my", "our"} else found


def _profiles(follows, given: dict[str, str], found: Found) -> dict[str, str]:
    """The person's profiles: from the follow lines where they give an address,
    else from --social; a line with neither is said in the report."""
    profiles: dict[str, str] = {}
    for who, network, word, rest in follows:
        address = _ADDRESS.search(rest)
        value = address.group(0).rstrip(".,;)") if address else given.get(network, "")
        if not value:
            found.doubts.append(
                f"“Follow {who} on {word}” gives no address: pass "
                f"--social {network}=@handle, or add it in the draft"
            )
            continue
        try:
            profiles[network] = socials.canonical(network, value)
        except socials.NotAProfile as error:
            found.doubts.append(f"the {network} profile {value!r} was left out: {error}")
    for network, value in given.items():
        if network not in profiles:
            profiles[network] = socials.canonical(network, value)
    return profiles
