"""The behavioural assumptions of the synthetic business, in one place.

Rates are per visitor, per signup or per billing period; the README's generator section
quotes them. Channels and plans themselves come from the dbt seeds (jobmetrics.generator.reference).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChannelProfile:
    """How one acquisition channel behaves."""

    signup_share: float
    """Share of all signups that arrive through this channel."""
    visit_to_signup: float
    """Share of first-time visitors from this channel who sign up."""
    signup_to_paid: float
    """Share of signups from this channel who ever subscribe."""
    mobile_share: float
    """Share of visitors on a phone."""
    cost_per_visit_usd: float
    """Marketing cost per visitor (paid channels only)."""
    landing_pages: tuple[str, ...]


CHANNELS: dict[str, ChannelProfile] = {
    "organic_search": ChannelProfile(
        0.27, 0.12, 0.14, 0.40, 0.0, ("/", "/resume-scanner", "/ats-checker", "/blog/ats-keywords")
    ),
    "paid_search": ChannelProfile(
        0.18, 0.15, 0.12, 0.38, 2.40, ("/resume-scanner", "/lp/search-resume-check")
    ),
    "paid_social": ChannelProfile(0.15, 0.07, 0.07, 0.68, 1.60, ("/lp/social-offer", "/")),
    "referral": ChannelProfile(0.09, 0.35, 0.19, 0.45, 0.0, ("/invite", "/")),
    "content": ChannelProfile(
        0.09, 0.09, 0.11, 0.42, 0.0, ("/blog/ats-keywords", "/blog/cover-letters", "/guides")
    ),
    "partnerships": ChannelProfile(0.07, 0.25, 0.17, 0.30, 2.80, ("/partners", "/universities")),
    "direct": ChannelProfile(0.15, 0.30, 0.15, 0.35, 0.0, ("/", "/pricing")),
}
DEFAULT_CHANNEL = ChannelProfile(0.05, 0.10, 0.08, 0.40, 1.50, ("/",))
"""Used for a channel added to seeds/channels.csv that the generator does not know yet."""

SEGMENTS = ("job_seeker", "career_changer", "recent_graduate", "executive")
SEGMENT_SHARE = (0.50, 0.20, 0.22, 0.08)
SEGMENT_PAID_MULTIPLIER = (1.0, 1.1, 0.7, 1.7)
# Plan choice (basic, professional, premium) at the first subscription, by segment.
SEGMENT_PLAN_SHARE = (
    (0.52, 0.37, 0.11),
    (0.45, 0.42, 0.13),
    (0.68, 0.27, 0.05),
    (0.25, 0.40, 0.35),
)
SEGMENT_ANNUAL_SHARE = (0.20, 0.24, 0.12, 0.38)

COUNTRIES = (
    "US", "GB", "IN", "CA", "DE", "AU", "FR", "NL", "BR", "NG",
    "PH", "ES", "IT", "MX", "IE", "SG", "ZA", "PL", "SE", "KE",
)  # fmt: skip
COUNTRY_WEIGHT = (
    38, 9, 9, 6, 5, 4, 3, 2, 3, 2,
    2, 2, 2, 2, 1, 1, 1, 1, 1, 1,
)  # fmt: skip
DEVICES = ("desktop", "mobile")
EMAIL_DOMAINS = ("gmail.com", "outlook.com", "yahoo.com", "icloud.com", "proton.me", "hotmail.com")
EMAIL_DOMAIN_WEIGHT = (48, 18, 10, 10, 6, 8)

# Visits: extra sessions of a visitor, and the lead time of the visits before signing up.
EXTRA_ANONYMOUS_SESSIONS = 0.25
EXTRA_PRESIGNUP_SESSIONS = 0.6
PRESIGNUP_LEAD_DAYS = 4.0
APP_LANDING_PAGES = ("/app", "/app/scans/new", "/app/history", "/pricing")
RETURN_CHANNEL_SHARE = {"direct": 0.55, "organic_search": 0.15}
"""Channel of a signed-up user's later sessions; the rest come back through their own channel."""

# Subscriptions. Time from signup to the first payment: same day or about a month later.
PAID_SAME_DAY_SHARE = 0.35
PAID_DELAY_MEAN_DAYS = 25.0
DISCOUNT_SHARE = 0.15
DISCOUNT_PCT = 20
# Per billing period hazards, by billing cycle (monthly, annual).
CANCEL = (0.055, 0.26)
# Renewal payments (payments.py). The first charge of a renewal fails for a few per cent of
# invoices (expired or declined cards); retries recover most of them within a week, as card
# updaters and smart retries do; the rest end the subscription at the last retry (involuntary
# churn at about the rate of 1.5 % a month the data had before retries were modelled).
PAYMENT_FIRST_ATTEMPT_FAIL = (0.04, 0.08)
"""Share of renewal invoices whose first charge attempt fails, by billing cycle."""
PAYMENT_RECOVERY = 0.62
"""Share of those failed renewals that a retry collects."""
PAYMENT_RETRY_DAYS = (2, 4, 7, 12, 21)
"""Days after the first attempt of each retry (each at its own time of day, within 20 hours)."""
PAYMENT_RECOVERED_AT_RETRY = (0.40, 0.25, 0.15, 0.12, 0.08)
"""Of the recovered failures, the share collected at each retry: 80 % within a week."""
PAYMENT_FAIL = tuple(fail * (1 - PAYMENT_RECOVERY) for fail in PAYMENT_FIRST_ATTEMPT_FAIL)
"""Per-period hazard of a failure no retry recovers (the row ends with 'payment_failed')."""
UPGRADE = (0.022, 0.10)
DOWNGRADE = (0.012, 0.05)
REFUND_CANCEL = (0.004, 0.04)
"""Cancel within days of a renewal and get that invoice refunded."""
REFUND_WINDOW_DAYS = (3, 14)
UPGRADE_TO_ANNUAL = 0.15
REACTIVATION = 0.22
REACTIVATION_MIN_GAP_DAYS = 14.0
REACTIVATION_MEAN_EXTRA_DAYS = 45.0

# Visits of signed-up users (sessions) and the scans in them.
ONBOARDING_VISITS = 2.2
"""Visits in the first days after signing up (mean days after signup: ONBOARDING_MEAN_DAYS)."""
ONBOARDING_MEAN_DAYS = 5.0
FREE_VISITS_PER_MONTH = 0.8
PAID_VISITS_PER_MONTH = (3.0, 5.0, 8.0)  # by plan rank 1, 2, 3, on top of the free visits
SCANS_PER_VISIT = 1.35
"""Poisson mean: some visits have no scan, some several."""
SECONDS_BETWEEN_SCANS = (60, 600)
SCAN_FAILURE_RATE = 0.03
MATCH_RATE_BETA = (5.0, 3.5)
PROCESSING_MEDIAN_MS = 1800.0
PROCESSING_SIGMA = 0.75
RESUME_FORMATS = ("pdf", "docx", "txt")
RESUME_FORMAT_SHARE = (0.68, 0.27, 0.05)
RESUME_FORMAT_SPEED = (1.0, 0.8, 0.5)
JOB_CATEGORIES = (
    "software_engineering", "data_analytics", "product_management", "marketing", "sales",
    "finance", "healthcare", "education", "design", "operations", "customer_support",
)  # fmt: skip
JOB_CATEGORY_WEIGHT = (18, 10, 6, 9, 10, 8, 9, 7, 6, 9, 8)
JOB_CATEGORY_KEYWORDS = (32, 28, 24, 22, 20, 26, 27, 21, 19, 23, 17)
"""Mean keywords extracted per scan (Poisson) by job category."""

# Marketing spend noise around cost-per-visit × visitors.
SPEND_NOISE_SIGMA = 0.06
# Day-to-day noise of signup volumes per channel (log scale).
SIGNUP_NOISE_SIGMA = 0.10
