"""The static report site: Markdown + SQL pages rendered against the warehouse (Evidence-style)."""

from jobmetrics.core.errors import PageError, ReportError
from jobmetrics.reports.build import SiteResult, build_site

__all__ = ["PageError", "ReportError", "SiteResult", "build_site"]
