"""The generator's own exception: bad parameters or an output folder it cannot write."""

from __future__ import annotations

from jobmetrics.core.errors import UserError


class GeneratorError(UserError):
    """Bad input to the generator; the message names the bad value in one line."""
