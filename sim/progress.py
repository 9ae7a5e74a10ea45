r"""Progress bars for long commands (rich), on a terminal only.

A bar that a library draws clears its line on every redraw, so a shorter line never leaves
characters of a longer one behind (a bare ``\\r`` did: "ETA 1:5449"). When stderr is not a
terminal (a pipe, a log file, a test) nothing is drawn at all.
"""

import sys


class ProgressBar:
    """``label [bar] done/total unit, failed, elapsed, remaining`` on stderr.

    Args:
        label: what is running (an experiment or scenario name).
        total: steps in all (runs, months).
        unit: the steps' name, shown after the count.
        already: steps finished before this session (``--resume``).
        console: where to draw (default: stderr); tests pass a recording console.
        enabled: draw or not (default: only when stderr is a terminal).
    """

    def __init__(
        self,
        label: str,
        total: int,
        unit: str = "runs",
        already: int = 0,
        console=None,
        enabled: bool | None = None,
    ):
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.already = already
        self.failed = 0
        if not self.enabled:
            return
        # rich loads only when a bar is drawn: ``innosim --help`` stays quick.
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn(unit + "{task.fields[failed]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console or Console(file=sys.stderr),
            transient=False,
        )
        self.progress.start()
        self.task = self.progress.add_task(label, total=total, completed=already, failed="")

    def update(self, done: int, failed: int = 0) -> None:
        """Show ``done`` successes and ``failed`` failures in this session."""
        if not self.enabled:
            return
        note = f", {failed} failed" if failed else ""
        self.progress.update(self.task, completed=self.already + done + failed, failed=note)

    def describe(self, label: str) -> None:
        """Change the label (a calibration's generation and threshold)."""
        if self.enabled:
            self.progress.update(self.task, description=label)

    def months(self, done: int, total: int) -> None:
        """``on_month`` callback of ``run_scenario``: ``done`` of ``total`` months."""
        self.update(done)

    def close(self) -> None:
        """Draw the final state and end the line."""
        if self.enabled:
            self.progress.stop()

    def __enter__(self) -> "ProgressBar":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def BatchProgress(label: str, total: int, already: int) -> ProgressBar:  # noqa: N802
    """The bar of ``innosim batch``: runs done and failed (created on a terminal only)."""
    return ProgressBar(label, total, "runs", already=already, enabled=True)
