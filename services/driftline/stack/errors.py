"""Errors raised by the local stack."""

from __future__ import annotations


class StackError(RuntimeError):
    """A local-stack server could not be started, reached or stopped."""


class ServerExitedError(StackError):
    """A server process exited before it became ready."""

    def __init__(self, message: str, log_tail: str) -> None:
        super().__init__(message)
        self.log_tail = log_tail

    @property
    def port_in_use(self) -> bool:
        """True when the log says the listen address was taken."""
        return "in use" in self.log_tail.lower()
