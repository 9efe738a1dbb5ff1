"""Rich progress display for long steps; silent when quiet."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

ProgressCallback = Callable[[str, float], None]


@contextmanager
def progress_bar(title: str, quiet: bool, console: Console | None = None) -> Iterator[ProgressCallback]:
    """Yield a ``callback(step, fraction)`` that drives one progress bar (or does nothing if quiet)."""
    if quiet:
        yield lambda step, fraction: None
        return
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TextColumn("{task.fields[step]}"),
        TimeElapsedColumn(),
        console=console or Console(stderr=True),
        transient=False,
    ) as bar:
        task = bar.add_task(title, total=1.0, step="")

        def update(step: str, fraction: float) -> None:
            bar.update(task, completed=min(1.0, max(0.0, fraction)), step=step)

        yield update
        bar.update(task, completed=1.0, step="")
