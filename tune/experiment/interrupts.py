"""Ctrl-C and SIGTERM during a search: stop the trials, save the run, exit 130 / 143.

Ray Tune stops a search gracefully on SIGUSR1 (and on SIGINT, with a handler
that hides the signal from us, so it is turned off with
TUNE_DISABLE_SIGINT_HANDLER, set by tune/experiment/environment.py). Ray's own SIGTERM handler exits at once with a
C++ stack dump. This module takes both signals, says what is happening,
and hands Ray Tune its graceful stop; a second signal stops at once.
"""

from __future__ import annotations

import signal
import sys


class Interrupted(KeyboardInterrupt):
    """Raised when a signal arrives outside the search loop, or a second time."""


class Interrupts:
    """Which stop signal arrived, if any; `install` again after `ray.init` (it sets its own)."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.searching = False
        self._previous: dict[int, object] = {}

    def install(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1):
            self._previous.setdefault(signum, signal.getsignal(signum))
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._handle)
        # Until Ray Tune installs its handler, SIGUSR1 would kill the process.
        signal.signal(signal.SIGUSR1, self._before_search)

    def uninstall(self) -> None:
        """The handlers from before `install` (tests call tune.run's main in-process)."""
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _before_search(self, signum: int, frame) -> None:
        raise Interrupted

    @property
    def name(self) -> str | None:
        return None if self.signum is None else signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        return 128 + (self.signum or 0)

    def _handle(self, signum: int, frame) -> None:
        if self.signum is not None:
            raise Interrupted  # the second signal: stop now
        self.signum = signum
        if not self.searching:
            raise Interrupted
        print(
            f"\n{self.name}: stopping the trials and saving the run (send it again to stop at once)",
            file=sys.stderr,
            flush=True,
        )
        signal.raise_signal(signal.SIGUSR1)  # Ray Tune's graceful stop
