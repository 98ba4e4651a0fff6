"""The generator's version; a build refuses raw data written by a different major version."""

GENERATOR_VERSION = "2.0.0"
"""2.0: raw_invoices gained attempt_count and paid_at, and status 'open' (payment retries)."""
GENERATOR_MAJOR = GENERATOR_VERSION.split(".", 1)[0]
"""Data sets with this major version can be built and extended by this generator."""


def is_compatible(version: object) -> bool:
    """Whether a data set written by generator `version` can be built and extended here."""
    return str(version).split(".", 1)[0] == GENERATOR_MAJOR
