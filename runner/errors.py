"""User-facing errors.

Anything raised as :class:`UserError` is a problem with the user's input (a file, a column, a
config key or value). The CLI prints its message on one line and exits with code 2; every other
exception is a bug and keeps its traceback.
"""

from __future__ import annotations


class UserError(Exception):
    """Bad input that the user can fix; the message names the file, column, key or value."""
