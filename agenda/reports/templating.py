"""The one jinja2 set-up every report renders with: the package's templates, HTML autoescaped
(titles from the web are text, never markup), undefined names an error, and the filters every
report uses. Each report adds its own filters to the environment it gets. Pure.
"""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from agenda.common import is_web_url
from agenda.reports.spanish import spanish_list


def safe_url(url: str) -> str:
    """Only http(s) links reach a reader: a feed's "javascript:" link becomes a dead one."""
    return url if is_web_url(url) else "#"


def template_environment() -> Environment:
    """A new environment over agenda/reports/templates with the shared filters."""
    environment = Environment(
        loader=PackageLoader("agenda.reports", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(spanish_list=spanish_list, safe_url=safe_url)
    return environment
