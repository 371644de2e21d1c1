"""agenda: the Regional Agenda news-monitoring pipeline.

collect (httpx + feedparser) -> link (spaCy matchers) -> store (SQLite) -> digest (jinja2)
-> deliver (SMTP).
"""

__version__ = "0.1.0"
