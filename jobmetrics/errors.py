"""Exceptions a user can cause; the CLI turns each into one line on stderr and exit code 2."""


class UserError(Exception):
    """Bad input or environment the user can fix: the message says what is wrong and where."""


class BuildFailed(UserError):
    """dbt build reported errors; the previous warehouse was kept."""


class BuildLocked(UserError):
    """Another build holds the warehouse lock."""


class WarehouseInUse(UserError):
    """Another process has the live warehouse open for writing."""
