"""JobMetrics: an analytics warehouse for a subscription SaaS."""

__version__ = "0.1.0"
