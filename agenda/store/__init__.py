"""Store: SQLite through sqlite-utils; all SQL of the project lives in this package.

``schema``  the migrations and ``open_database``
``base``    ``Store``: sources, articles and links (one source's results in one transaction),
            feedback, runs, deliveries
``stories``, ``commitments``, ``briefs``, ``inbox``   readers and writers by concern (mixins)
``chunks``  long ``in (?, …)`` lists a chunk at a time
"""

from agenda.common import SANTIAGO, iso, santiago_date, utc_now  # re-exported for the stages
from agenda.store.base import MAX_WARNING_CHARS, Store, StoredCounts, StoredLink
from agenda.store.schema import migrations, open_database

__all__ = [
    "MAX_WARNING_CHARS",
    "SANTIAGO",
    "Store",
    "StoredCounts",
    "StoredLink",
    "iso",
    "migrations",
    "open_database",
    "santiago_date",
    "utc_now",
]
