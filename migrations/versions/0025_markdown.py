"""Editors write Markdown: intro_md and answer_md beside the HTML readers get;
versions the editor's page saved as they typed are marked autosaved

Revision ID: 0025
Revises: 0024

The HTML stays as it is (readers see exactly what they saw); the Markdown
written here from it is what the draft editor shows from now on, and renders
to the same text (tests/test_markdown.py renders every demo interview both
ways). Saved versions get the Markdown of their HTML too, so any two compare
and restore alike.
"""

import re
from html import escape, unescape
from html.parser import HTMLParser

import sqlalchemy as sa
from alembic import op
from bleach.linkifier import Linker

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


# HTML to Markdown as portal/markup.py's `from_html` does it on the day of this
# migration (a migration imports nothing of the package).

_BLOCKS = frozenset({"p", "ul", "ol", "li", "blockquote"})
_STRONG, _EM = frozenset({"strong", "b"}), frozenset({"em", "i"})
_ESCAPE = re.compile(
    r"[\\`\[\]]|(?<=\S)\*|\*(?=\S)|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])"
    r"|<(?=[A-Za-z/!?])|&(?=#?[A-Za-z0-9]+;)"
)
_LINE_START = re.compile(
    r"^(?:(?P<mark>[#>+=~-]|\*(?=\s|$))|(?P<digits>\d{1,9})(?P<dot>[.)])(?=\s|$))"
)
_linker = Linker(skip_tags={"pre", "code"})


class _Node:
    def __init__(self, tag, attrs=None):
        self.tag, self.attrs, self.children = tag, attrs or {}, []


class _Tree(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = _Node("root")
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = _Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag != "br":
            self.stack.append(node)

    def handle_endtag(self, tag):
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def from_html(html):
    parser = _Tree()
    parser.feed(html or "")
    parser.close()
    return "\n\n".join(_blocks(parser.root.children)).strip()


def _blocks(children):
    out, inline = [], []

    def flush():
        text = _lines(inline)
        if text:
            out.append(text)
        inline.clear()

    for child in children:
        if isinstance(child, _Node) and child.tag in _BLOCKS:
            flush()
            block = _block(child)
            if block:
                out.append(block)
        else:
            inline.append(child)
    flush()
    return out


def _block(node):
    if node.tag in ("p", "li"):
        return "\n\n".join(_blocks(node.children))
    if node.tag == "blockquote":
        inner = "\n\n".join(_blocks(node.children))
        return "\n".join(f"> {line}" if line else ">" for line in inner.split("\n"))
    items = [c for c in node.children if isinstance(c, _Node) and c.tag == "li"]
    start = int(node.attrs["start"]) if node.attrs.get("start", "").isdigit() else 1
    lines = []
    for n, item in enumerate(items):
        marker = f"{start + n}. " if node.tag == "ol" else "- "
        body = _block(item) or ""
        pad = " " * len(marker)
        first, *rest = body.split("\n") if body else [""]
        lines.append(marker + first + "".join(f"\n{pad}{r}" if r else "\n" for r in rest))
    return "\n".join(lines)


def _lines(nodes):
    text = "".join(_inline(n) for n in nodes)
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return "\n".join(_line_start(line) for line in lines if line).strip()


def _inline(node):
    if isinstance(node, str):
        return _ESCAPE.sub(lambda m: "\\" + m.group(0), re.sub(r"\s+", " ", node))
    if node.tag == "br":
        return "\n"
    inner = "".join(_inline(c) for c in node.children)
    if node.tag in _STRONG or node.tag in _EM:
        mark = "**" if node.tag in _STRONG else "*"
        core = inner.strip()
        if not core:
            return inner
        lead, trail = inner[: len(inner) - len(inner.lstrip())], inner[len(inner.rstrip()) :]
        return f"{lead}{mark}{core}{mark}{trail}"
    if node.tag == "a" and node.attrs.get("href"):
        href = node.attrs["href"]
        plain = "".join(_text(c) for c in node.children)
        if plain == href and _links_itself(href):
            return plain
        target = f"<{href}>" if re.search(r"[\s()<>]", href) else href
        title = node.attrs.get("title")
        title = ' "{}"'.format(title.replace('"', '\\"')) if title else ""
        return f"[{inner}]({target}{title})"
    return inner


def _text(node):
    return node if isinstance(node, str) else "".join(_text(c) for c in node.children)


def _links_itself(text):
    made = re.fullmatch(r'<a href="([^"]*)"[^>]*>(.*)</a>', _linker.linkify(escape(text, False)))
    return made is not None and unescape(made.group(1)) == text == unescape(made.group(2))


def _line_start(line):
    match = _LINE_START.match(line)
    if match is None:
        return line
    if match.group("mark"):
        return "\\" + line
    return match.group("digits") + "\\" + line[match.end("digits") :]


def upgrade():
    with op.batch_alter_table("interviews") as batch:
        batch.add_column(sa.Column("intro_md", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("interview_items") as batch:
        batch.add_column(sa.Column("answer_md", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("interview_versions") as batch:
        batch.add_column(
            sa.Column("autosaved", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    bind = op.get_bind()
    for row in bind.execute(sa.text("SELECT id, intro_html FROM interviews")).all():
        bind.execute(
            sa.text("UPDATE interviews SET intro_md = :md WHERE id = :id"),
            {"md": from_html(row.intro_html), "id": row.id},
        )
    for row in bind.execute(sa.text("SELECT id, answer_html FROM interview_items")).all():
        bind.execute(
            sa.text("UPDATE interview_items SET answer_md = :md WHERE id = :id"),
            {"md": from_html(row.answer_html), "id": row.id},
        )
    versions = sa.table(
        "interview_versions", sa.column("id", sa.Integer), sa.column("content", sa.JSON)
    )
    for row in bind.execute(sa.select(versions.c.id, versions.c.content)).all():
        content = dict(row.content)
        content["intro_md"] = from_html(content.get("intro_html", ""))
        for item in content.get("items", []):
            item["answer_md"] = from_html(item.get("answer_html", ""))
        bind.execute(versions.update().where(versions.c.id == row.id).values(content=content))


def downgrade():
    with op.batch_alter_table("interview_versions") as batch:
        batch.drop_column("autosaved")
    with op.batch_alter_table("interview_items") as batch:
        batch.drop_column("answer_md")
    with op.batch_alter_table("interviews") as batch:
        batch.drop_column("intro_md")
