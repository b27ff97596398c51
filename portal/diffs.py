"""Word-level differences between two texts, for revisions and proofs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from markupsafe import Markup, escape

_TOKENS = re.compile(r"\s+|[^\s]+")
# Past this size a word diff gets slow; show the two texts whole instead.
MAX_TOKENS = 6000
# Texts sharing fewer of their words than this were rewritten: shown whole, old then new.
REWRITTEN = 0.3


def _tokens(text: str) -> list[str]:
    return _TOKENS.findall(text or "")


def word_diff(old: str, new: str) -> Markup:
    """`new` with removed words in <del> and added words in <ins>, all escaped."""
    a, b = _tokens(old), _tokens(new)
    if len(a) + len(b) > MAX_TOKENS:
        if old == new:
            return escape(new)
        return Markup(f"<del>{escape(old)}</del><ins>{escape(new)}</ins>")  # noqa: S704
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    words_a, words_b = [t for t in a if not t.isspace()], [t for t in b if not t.isspace()]
    if words_a and words_b and SequenceMatcher(None, words_a, words_b).ratio() < REWRITTEN:
        # Rewritten rather than edited: word by word would interleave two texts.
        return Markup(f"<del>{escape(old)}</del> <ins>{escape(new)}</ins>")  # noqa: S704
    out = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            out.append(str(escape("".join(a[i1:i2]))))
            continue
        if op in ("delete", "replace"):
            out.append(f"<del>{escape(''.join(a[i1:i2]))}</del>")
        if op in ("insert", "replace"):
            out.append(f"<ins>{escape(''.join(b[j1:j2]))}</ins>")
    return Markup("".join(out))  # noqa: S704 (every piece escaped above)


@dataclass
class AnswerChange:
    question: str
    old: str
    new: str
    # Not in the older revision at all (an answer to a follow-up question).
    added: bool = False

    @property
    def changed(self) -> bool:
        return self.old.strip() != self.new.strip()

    @property
    def diff(self) -> Markup:
        return word_diff(self.old, self.new)


def compare_answers(old_answers, new_answers) -> list[AnswerChange]:
    """Pair two revisions' answers by question and say what changed in each."""

    old = {a.key: a for a in old_answers}
    changes = []
    for answer in new_answers:
        before = old.pop(answer.key, None)
        changes.append(
            AnswerChange(
                answer.question_text,
                before.body if before else "",
                answer.body,
                added=before is None and answer.follow_up_id is not None,
            )
        )
    for answer in old.values():  # questions answered before but not now
        changes.append(AnswerChange(answer.question_text, answer.body, ""))
    return changes
