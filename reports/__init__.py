"""The static report site: Markdown + SQL pages rendered against the warehouse (Evidence-style)."""

from reports.build import SiteResult, build_site
from reports.errors import PageError, ReportError

__all__ = ["PageError", "ReportError", "SiteResult", "build_site"]
