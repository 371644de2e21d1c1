"""Reading the commitments' mentions back: every article linked to a commitment, with its risk
flags, for the follow-up report and the timelines. A mixin that ``Store`` inherits."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlite_utils import Database

from agenda.store.chunks import in_chunks


class CommitmentReaders:
    """SQL of the commitment follow-up (``agenda/reports/commitments.py``)."""

    db: Database

    def commitment_mentions(
        self,
        commitment_ids: Iterable[str] | None = None,
        until: date | None = None,
    ) -> list[dict[str, Any]]:
        """Every (article, commitment) link up to ``until`` (America/Santiago day, inclusive),
        oldest first, with the article's title, address, day, outlets and text.

        ``risk_sentences`` are the sentences that flagged it; ``resolved`` is 1/0 when the linker
        judged whether the article reports the trouble over, None when it did not (older links);
        ``story_id`` is None where the store does not group articles into stories.
        """
        where, params = ["l.kind = 'commitment'"], []
        if commitment_ids is not None:
            ids = list(commitment_ids)
            if not ids:
                return []
            where.append(f"l.code in ({','.join('?' * len(ids))})")
            params.extend(ids)
        if until is not None:
            where.append("a.local_date <= ?")
            params.append(until.isoformat())
        story = "a.story_id" if "story_id" in self.db["articles"].columns_dict else "null"
        rows = list(
            self.db.query(
                "select l.code as commitment_id, l.at_risk, l.risk_evidence, l.risk_kind,"
                " l.resolved, a.id as article_id, a.title, a.summary, a.text, a.url, a.outlet,"
                f" a.published_at_utc, a.local_date, {story} as story_id"
                f" from links l join articles a on a.id = l.article_id where {' and '.join(where)}"
                f" order by a.local_date, coalesce(a.published_at_utc, a.first_seen_at_utc), a.id",
                params,
            )
        )
        outlets = self._outlets_of({row["article_id"] for row in rows})
        for row in rows:
            row["at_risk"] = bool(row["at_risk"])
            row["risk_sentences"] = [
                e["text"] for e in json.loads(row.pop("risk_evidence") or "[]")
            ]
            row["outlets"] = outlets.get(row["article_id"]) or [row["outlet"]]
        return rows

    def _outlets_of(self, article_ids: set[int]) -> dict[int, list[str]]:
        found: dict[int, list[str]] = {}
        for chunk, placeholders in in_chunks(sorted(article_ids)):
            for row in self.db.query(
                "select a.article_id, coalesce(s.name, a.source_id) as name from article_sources a"
                f" left join sources s on s.id = a.source_id where a.article_id in ({placeholders})"
                " order by a.first_seen_at_utc",
                chunk,
            ):
                found.setdefault(row["article_id"], []).append(row["name"])
        return found
