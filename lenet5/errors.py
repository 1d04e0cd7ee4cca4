"""The one exception type that reaches a person: what went wrong and what to do about it."""


class Lenet5Error(Exception):
    """A user-facing error. The CLI prints its message on one line and exits non-zero."""
