"""agenda: the Regional Agenda news-monitoring pipeline.

collect (httpx + feedparser) -> link (spaCy matchers) -> store (SQLite) -> digest (jinja2)
-> deliver (SMTP).
"""

from agenda import compiled_linker

# Before any other agenda module: the linker's modules load compiled when built for these sources.
compiled_linker.install()

__version__ = "0.1.0"
