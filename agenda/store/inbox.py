"""The store's side of readers' "¿Error?" e-mails: which messages were already read."""

from __future__ import annotations

from collections.abc import Iterable

from sqlite_utils import Database

from agenda.store.chunks import in_chunks


class FeedbackInboxMixin:
    """Mixed into ``Store``: one row per e-mail read by ``agenda feedback inbox``."""

    db: Database

    def processed_feedback_messages(self, message_ids: Iterable[str]) -> set[str]:
        """Which of these Message-IDs were read before (applied or not)."""
        found: set[str] = set()
        for chunk, placeholders in in_chunks(message_ids):
            found.update(
                row["message_id"]
                for row in self.db.query(
                    "select message_id from feedback_messages"
                    f" where message_id in ({placeholders})",
                    chunk,
                )
            )
        return found

    def record_feedback_message(
        self,
        message_id: str,
        article_id: int | None,
        action: str | None,
        code: str | None,
        status: str,
        detail: str,
        sender: str,
        processed_at_utc: str,
    ) -> None:
        """Remember a message as read; call inside the transaction that applied it."""
        self.db.table("feedback_messages").insert(
            {
                "message_id": message_id,
                "article_id": article_id,
                "action": action,
                "code": code,
                "status": status,
                "detail": detail,
                "sender": sender,
                "processed_at_utc": processed_at_utc,
            },
            pk="message_id",
        )
