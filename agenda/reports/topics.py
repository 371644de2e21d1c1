"""The digest's "Temas solicitados": for each standing topic (keywords/topics.yaml), the day's
stories with at least one matching article (at most ``TOPIC_STORIES``, then "y N más" linking to
the web edition), or "sin noticias hoy".

``topic_matches`` reads the store (one FTS query per topic over the day); ``topic_sections`` is
pure over the day's ranked stories, so every edition shows the same topics.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from agenda.store.briefs import ArticleFilter

if TYPE_CHECKING:
    from agenda.reports.digest import Story
    from agenda.store import Store
    from agenda.topics import Topic

TOPIC_STORIES = 5


@dataclass
class TopicSection:
    id: str
    title: str
    requested_by: str | None
    all_stories: list[Story] = field(default_factory=list)  # best first (the web edition)
    # the e-mail shows each story once: those already shown above it are only counted
    fresh: list[Story] = field(default_factory=list)

    @property
    def stories(self) -> list[Story]:
        """The first ``TOPIC_STORIES`` not shown above: what the e-mail lists."""
        return self.fresh[:TOPIC_STORIES]

    @property
    def story_count(self) -> int:
        return len(self.all_stories)

    @property
    def above(self) -> int:
        """Matching stories the e-mail already shows above this section."""
        return len(self.all_stories) - len(self.fresh)

    @property
    def more(self) -> int:
        return len(self.fresh) - len(self.stories)


def topic_matches(store: Store, topics: Iterable[Topic], day: date) -> dict[str, set[int]]:
    """Topic id -> ids of the day's articles its query (and regions) match."""
    return {
        topic.id: store.matching_article_ids(
            ArticleFilter(day, day, topic.region_codes, queries=(topic.query,))
        )
        for topic in topics
    }


def topic_sections(
    stories: list[Story],
    topics: Iterable[Topic],
    matches: dict[str, set[int]],
    shown: set[int] | None = None,
) -> list[TopicSection]:
    """One section per topic, in the file's order; ``stories`` are the day's, ranked.

    ``shown``: ids of the stories the e-mail shows above the section; the stories the section
    lists are added to it, so that no story appears twice in the e-mail.
    """
    shown = set() if shown is None else shown
    sections = []
    for topic in topics:
        matched = matches.get(topic.id, set())
        found = [s for s in stories if any(a.id in matched for a in s.articles)] if matched else []
        section = TopicSection(
            topic.id,
            topic.title,
            topic.requested_by,
            found,
            [s for s in found if s.id not in shown],
        )
        sections.append(section)
    for section in sections:
        shown.update(s.id for s in section.stories)
    return sections
