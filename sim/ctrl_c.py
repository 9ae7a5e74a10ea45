"""Ctrl-C that is acted on at the first press, wherever the press lands.

Python's own SIGINT handler raises ``KeyboardInterrupt`` in the main thread at the next point
where the interpreter looks for signals. When that point is inside a finalizer (a ``__del__``
method such as pyarrow's ``ParquetWriter.__del__``, which runs for every run file a batch
writes, a weakref callback, or a garbage-collection pass) the exception cannot propagate:
Python prints "Exception ignored in ..." and drops it, and the press is lost. A batch then
went on to finish every run and exited 0 after one Ctrl-C.

``CtrlC`` records each press before raising, so a ``KeyboardInterrupt`` that was dropped is
raised again by ``check()``, which the engines call after every result and at least every
``WAKE`` seconds while they wait for one; the dropped one is not printed (the command's
message stays one line).
"""

import signal
import sys
import threading

WAKE = 0.2  # seconds between checks while an engine waits for a result

_active: list["CtrlC"] = []  # the blocks in force, innermost last


class CtrlC:
    """Within the block, a Ctrl-C is recorded, then raised as ``KeyboardInterrupt``.

    With ``raising`` false the handler only records the press, and the code raises it at its
    next ``check()`` (a calibration holds Ctrl-C off while pyabc writes its database). Outside
    the main thread, where Python allows no signal handler, the block does nothing.
    """

    def __init__(self, raising: bool = True):
        self.raising = raising
        self.pressed = False
        self.previous = None
        self.previous_hook = None

    def __enter__(self) -> "CtrlC":
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._handle)
            self.previous_hook, sys.unraisablehook = sys.unraisablehook, self._unraisable
        _active.append(self)
        return self

    def __exit__(self, *exc) -> None:
        _active.remove(self)
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
            sys.unraisablehook = self.previous_hook
            self.previous = self.previous_hook = None

    def _handle(self, signum, frame) -> None:
        self.pressed = True
        if self.raising:
            raise KeyboardInterrupt

    def _unraisable(self, unraisable) -> None:
        """A press dropped in a finalizer is not news (``check`` raises it); the rest is."""
        if not (self.pressed and isinstance(unraisable.exc_value, KeyboardInterrupt)):
            self.previous_hook(unraisable)

    def check(self) -> None:
        """Raise ``KeyboardInterrupt`` if Ctrl-C was pressed in this block."""
        if self.pressed:
            raise KeyboardInterrupt


def check() -> None:
    """Raise ``KeyboardInterrupt`` if Ctrl-C was pressed in a block in force.

    The engines call it at safe points: after each result, and between waits for one.
    """
    if any(block.pressed for block in _active):
        raise KeyboardInterrupt
