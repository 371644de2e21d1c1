"""The digest's renderings: the short e-mail (HTML and text) and the full web edition. Pure.

Templates are autoescaped (titles from the web are text, never markup); links to the web
edition, the commitments' timeline pages and readers' "¿Error?" replies are built here from
``DigestSettings`` (``archive_url``: where the digests folder is published; unset, the links are
relative to it; ``feedback_to``: the analysts' address).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape as html_escape
from typing import TYPE_CHECKING
from urllib.parse import quote

from markupsafe import Markup, escape

from agenda.reports.chart import region_chart
from agenda.reports.highlight import Segment
from agenda.reports.spanish import count_words, spanish_list, spanish_number
from agenda.reports.templating import safe_url, template_environment
from agenda.settings import DigestSettings

if TYPE_CHECKING:
    from agenda.reports.digest import Digest, Story

FEEDBACK_TITLE_CHARS = 60  # the subject names the article; a whole headline makes it unreadable
WEB_CARDS = 10  # stories of a web section shown in full; the rest one line each, every link kept


def rich(pieces: Sequence[Segment]) -> Markup:
    """Segments as HTML: matched words in <b>, everything escaped."""
    bold_text = Markup("<b>{}</b>")
    return Markup("").join(bold_text.format(t) if bold else escape(t) for t, bold in pieces)


def story_lines(stories: Sequence[Story]) -> Markup:
    """The web edition's compact list: one line per story (its headline, outlets and its other
    articles' links), escaped here with the standard library's html.escape rather than by the
    template: a day has thousands of them."""
    lines = []
    for story in stories:
        others = [
            f'<a href="{html_escape(safe_url(a.url))}">{html_escape(", ".join(a.outlets))}</a>'
            for a in story.articles
            if a.url != story.url
        ]
        also = f" · También: {', '.join(others)}" if others else ""
        lines.append(
            f'<li id="tema-{story.id}"><a href="{html_escape(safe_url(story.url))}">'
            f"{html_escape(story.title)}</a> <span>— {html_escape(', '.join(story.outlets))}"
            f"{also}</span></li>"
        )
    return Markup("\n".join(lines))


def outlets(names: Sequence[str], shown: int = 2) -> str:
    """A story's outlets, the first two by name.

    >>> outlets(["A", "B", "C", "D"])
    'A, B y 2 más'
    """
    if len(names) <= shown + 1:
        return spanish_list(list(names))
    return f"{', '.join(names[:shown])} y {len(names) - shown} más"


def plain(pieces: Sequence[Segment]) -> str:
    return "".join(text for text, _ in pieces)


def feedback_command(story: Story, code: str | None) -> str:
    """The correction an analyst would run for a story's "¿Error?" reply.

    >>> feedback_command(type("S", (), {"id": 123})(), "05101")
    'agenda feedback 123 --not 05101'
    """
    return f"agenda feedback {story.id} --not {code or 'CÓDIGO'}"


def feedback_link(story: Story, code: str | None, address: str) -> str:
    """A mailto: the subject names the article and the command an analyst would run."""
    title = " ".join(story.title.split())
    if len(title) > FEEDBACK_TITLE_CHARS:
        title = title[:FEEDBACK_TITLE_CHARS].rsplit(" ", 1)[0] + "…"
    command = feedback_command(story, code)
    subject = f"Error en la nota {story.id}: {title} — {command}"
    body = (
        f"Nota {story.id}: {' '.join(story.title.split())}\n{story.url}\n\n"
        "¿Qué está mal? Si la nota no trata del lugar indicado, envíe este correo tal "
        "cual; si es otro error, descríbalo aquí.\n\nPara corregir: {command}\n"
    )
    return f"mailto:{address}?subject={quote(subject, safe='')}&body={quote(body, safe='')}"


class Links:
    """The addresses a rendering points to, relative to the digests folder unless published."""

    def __init__(self, digest: Digest, settings: DigestSettings) -> None:
        self.digest = digest
        self.settings = settings

    def web(self, anchor: str = "") -> str:
        return self.settings.archive_link(self.digest.web_file + (f"#{anchor}" if anchor else ""))

    def timeline(self, commitment_id: str) -> str:
        return self.settings.archive_link(f"compromisos/{commitment_id}.html")

    def feedback(self, story: Story) -> str | None:
        if not self.settings.feedback_to:
            return None
        note = self.digest.notes.get(story.id)
        return feedback_link(story, note.place_code if note else None, self.settings.feedback_to)


_environment = template_environment()
_environment.filters.update(
    rich=rich,
    plain=plain,
    num=spanish_number,
    count=count_words,
    outlets=outlets,
    story_lines=story_lines,
)


def render_email(digest: Digest, settings: DigestSettings | None = None) -> str:
    """The e-mail's HTML part: short, each article link at most once, the detail one tap away."""
    links = Links(digest, settings or DigestSettings())
    return _environment.get_template("email.html.j2").render(d=digest, links=links)


def render_text(digest: Digest, settings: DigestSettings | None = None) -> str:
    """The e-mail's plain-text part (and digests/YYYY-MM-DD.txt): the same short edition."""
    links = Links(digest, settings or DigestSettings())
    return _environment.get_template("email.txt.j2").render(d=digest, links=links) + "\n"


def render_html(digest: Digest, settings: DigestSettings | None = None) -> str:
    """The web edition (digests/YYYY-MM-DD.html): everything, every article of the day linked,
    and the chart of notes per region drawn inline."""
    links = Links(digest, settings or DigestSettings())
    template = _environment.get_template("web.html.j2")
    return template.render(d=digest, links=links, chart=region_chart(digest), cards=WEB_CARDS)


def render_index(entries: list[tuple[str, str, str]]) -> str:
    """digests/index.html: (file name, date in words, summary line), newest first."""
    return _environment.get_template("index.html.j2").render(entries=entries)
