"""Analysts' feedback: "article 12 is not about 09211" (or "is also about 05").

``agenda feedback ARTICLE_ID --not CODE`` removes the link (a region takes its provinces and
communes with it) from that article at once, records the correction in the database so a later
re-link keeps it, and appends exclusion rules to ``keywords/feedback.yaml``: one per name that
produced the wrong link, with the word that stood before it, for a person to review. The linker
applies those rules to every article from then on; deleting a rule undoes it.

``agenda feedback inbox PATH`` reads readers' "¿Error?" e-mails (the digest pre-fills the
command in their subject) from an mbox file or a Maildir folder and applies each one once.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import mailbox
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from agenda.common import link_text
from agenda.errors import AgendaError
from agenda.keywords import Keywords
from agenda.store import Store
from agenda.textnorm import fold

FEEDBACK_FILE = "feedback.yaml"
HEADER = """\
# Exclusion rules from analysts' feedback (`agenda feedback ARTICLE_ID --not CODE`).
# Each rule stops the linker from linking NAME to CODE when the word right before the name is
# BEFORE (no `before`: anywhere). Review them: edit or delete a rule to change or undo it.
exclusions:
"""


@dataclass(frozen=True)
class ExclusionRule:
    name: str
    code: str
    before: str | None
    article: int
    example: str


def kind_of(code: str, keywords: Keywords) -> str:
    for kind in ("region", "province", "commune"):
        if f"{kind}:{code}" in keywords.places:
            return kind
    raise AgendaError(f"'{code}' is not a region (2 digits), province (3) or commune (5) code")


def plan_removal(links: list[dict[str, Any]], kind: str, code: str) -> list[tuple[str, str]]:
    """Which (kind, code) links go when an analyst says an article is not about ``code``.

    A region takes its provinces and communes with it; a commune leaves its province and region
    only when nothing else in the article supports them.
    """
    place_links = [link for link in links if link["kind"] in ("region", "province", "commune")]
    if kind == "region":
        return [(link["kind"], link["code"]) for link in place_links if link["code"][:2] == code]
    remove = [(kind, code)]
    removed_spans = {
        (e["start"], e["end"])
        for link in place_links
        if (link["kind"], link["code"]) == (kind, code)
        for e in link["evidence"]
    }
    for link in place_links:
        if (
            (link["kind"], link["code"]) in remove
            or link["kind"] == "commune"
            or not link["code"].startswith(code[: len(link["code"])])
        ):
            continue
        # a province or region whose every evidence span was the removed name goes too
        if {(e["start"], e["end"]) for e in link["evidence"]} <= removed_spans:
            remove.append((link["kind"], link["code"]))
    return remove


def exclusion_rules(article: dict[str, Any], remove: list[tuple[str, str]]) -> list[ExclusionRule]:
    """One rule per wrongly linked name, with the word before it as context."""
    text = link_text(article["title"], article["summary"], article["text"])
    rules: dict[tuple[str, str, str | None], ExclusionRule] = {}
    removed = set(remove)
    for link in article["links"]:
        if (
            (link["kind"], link["code"]) not in removed
            or link["kind"] == "region"
            and any(k == "commune" for k, _ in remove)
        ):
            continue
        for evidence in link["evidence"]:
            start, end = evidence.get("start"), evidence.get("end")
            if start is None or text[start:end] != evidence["text"]:
                continue
            words = fold(text[max(0, start - 40) : start]).split()
            before = words[-1] if words and text[start - 1 : start].isspace() else None
            example = " ".join(text[max(0, start - 40) : end + 30].split())
            key = (evidence["text"], link["code"], before)
            rules.setdefault(
                key,
                ExclusionRule(
                    evidence["text"], link["code"], before, article["id"], f"…{example}…"
                ),
            )
    return list(rules.values())


def append_rules(directory: Path, rules: list[ExclusionRule], today: date) -> Path:
    """Append rules to keywords/feedback.yaml, creating it with its explanation if needed."""
    path = directory / FEEDBACK_FILE
    if not path.exists():
        path.write_text(HEADER, encoding="utf-8")
    text = path.read_text(encoding="utf-8")
    if not text.endswith("\n"):
        text += "\n"
    for rule in rules:
        entry = {
            "name": rule.name,
            "code": rule.code,
            "before": rule.before,
            "article": rule.article,
            "added": today.isoformat(),
            "example": rule.example,
        }
        if rule.before is None:
            del entry["before"]
        text += (
            "  - "
            + yaml.safe_dump(entry, allow_unicode=True, sort_keys=False, width=200)
            .replace("\n", "\n    ")
            .rstrip()
            + "\n"
        )
    path.write_text(text, encoding="utf-8")
    return path


def apply_feedback(
    store: Store,
    keywords: Keywords,
    article_id: int,
    not_code: str | None,
    add_code: str | None,
    today: date,
) -> tuple[list[tuple[str, str]], list[ExclusionRule], Path | None]:
    article = store.article(article_id)
    if article is None:
        raise AgendaError(f"no article with id {article_id} (see `agenda search`)")
    removed: list[tuple[str, str]] = []
    rules: list[ExclusionRule] = []
    path = None
    # The same correction again changes nothing (no second row, no second rule): idempotent.
    recorded = {(row["action"], row["code"]) for row in store.feedback_for(article_id)}
    if ("not", not_code) in recorded:
        not_code = None
    if ("add", add_code) in recorded:
        add_code = None
    if not_code:
        kind = kind_of(not_code, keywords)
        removed = plan_removal(article["links"], kind, not_code)
        if not any(code == not_code for _, code in removed) or not any(
            link["code"] == not_code for link in article["links"]
        ):
            raise AgendaError(f"article {article_id} is not linked to {not_code}")
        rules = exclusion_rules(article, removed)
        store.record_feedback(
            article_id, "not", kind, not_code, keywords.place(kind, not_code).name, removed, []
        )
        if rules:
            path = append_rules(keywords.directory, rules, today)
    if add_code:
        kind = kind_of(add_code, keywords)
        place = keywords.place(kind, add_code)
        additions = [(kind, add_code, place.name)]
        if kind != "region":
            additions.append(
                ("region", place.region_code, keywords.place("region", place.region_code).name)
            )
        store.record_feedback(article_id, "add", kind, add_code, place.name, [], additions)
    return removed, rules, path


# -- readers' replies ---------------------------------------------------------------------
# The digest's "¿Error?" link pre-fills this command in the subject (and the body).
COMMAND = re.compile(r"agenda\s+feedback\s+(\d+)\s+--(not|add)\s+(\d{2,5})(?!\d)")


@dataclass(frozen=True)
class InboxRequest:
    """One e-mail of the feedback mailbox and the correction it asks for (if any)."""

    message_id: str
    sender: str
    subject: str
    article_id: int | None
    action: str | None  # "not" | "add"
    code: str | None


@dataclass(frozen=True)
class InboxResult:
    request: InboxRequest
    status: str  # applied | would apply | already read | no command | error
    detail: str


def read_mailbox(path: Path) -> list[InboxRequest]:
    """The messages of an mbox file or a Maildir folder, oldest first as stored."""
    if path.is_dir():
        box: mailbox.Mailbox = mailbox.Maildir(path, create=False)
    elif path.is_file():
        box = mailbox.mbox(path, create=False)
    else:
        raise AgendaError(f"{path}: no such mbox file or Maildir folder")
    requests = []
    for key in sorted(box.keys()) if isinstance(box, mailbox.Maildir) else box.keys():
        raw = box.get_bytes(key)
        message = email.message_from_bytes(raw, policy=email.policy.default)
        message_id = str(message.get("Message-ID") or "").strip()
        if not message_id:  # a hand-made file without one: its content identifies it
            message_id = "sha256:" + hashlib.sha256(raw).hexdigest()
        subject = " ".join(str(message.get("Subject") or "").split())
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        found = COMMAND.search(subject) or COMMAND.search(text)
        requests.append(
            InboxRequest(
                message_id,
                str(message.get("From") or ""),
                subject,
                int(found.group(1)) if found else None,
                found.group(2) if found else None,
                found.group(3) if found else None,
            )
        )
    return requests


def describe(store: Store, keywords: Keywords, request: InboxRequest) -> str:
    """What applying the request would do; AgendaError when it cannot be applied."""
    assert request.article_id is not None and request.code is not None
    article = store.article(request.article_id)
    if article is None:
        raise AgendaError(f"no article with id {request.article_id}")
    kind = kind_of(request.code, keywords)
    if request.action == "add":
        return f"article {request.article_id}: add {kind} {request.code}"
    removed = plan_removal(article["links"], kind, request.code)
    if not any(link["code"] == request.code for link in article["links"]):
        raise AgendaError(f"article {request.article_id} is not linked to {request.code}")
    return f"article {request.article_id}: remove " + ", ".join(f"{k} {c}" for k, c in removed)


def apply_inbox(
    store: Store, keywords: Keywords, path: Path, today: date, now: str, dry_run: bool = False
) -> list[InboxResult]:
    """Apply each new message's correction through ``apply_feedback`` and remember its
    Message-ID in the same transaction, so no message is ever applied twice. ``dry_run``: say
    what would be applied and remember nothing."""
    requests = read_mailbox(path)
    seen = store.processed_feedback_messages(r.message_id for r in requests)
    results = []
    for request in requests:
        if request.message_id in seen:
            results.append(InboxResult(request, "already read", ""))
            continue
        seen.add(request.message_id)  # the same message twice in one mailbox counts once
        if request.article_id is None:
            status, detail = "no command", "no 'agenda feedback ID --not CODE' in subject or body"
        else:
            try:
                detail = describe(store, keywords, request)
                status = "would apply" if dry_run else "applied"
            except AgendaError as exc:
                status, detail = "error", str(exc)
        if not dry_run:
            with store.db.atomic():
                if status == "applied":
                    assert request.article_id is not None
                    apply_feedback(
                        store,
                        keywords,
                        request.article_id,
                        request.code if request.action == "not" else None,
                        request.code if request.action == "add" else None,
                        today,
                    )
                store.record_feedback_message(
                    request.message_id,
                    request.article_id,
                    request.action,
                    request.code,
                    status,
                    detail,
                    request.sender,
                    now,
                )
        results.append(InboxResult(request, status, detail))
    return results
