"""The /stats chart: reviews per day (last 30 days) and the due forecast (next 14 days) as a PNG.

matplotlib is imported on first use (it costs ~0.3 s) and drawn through the object API with the
Agg canvas, so no global pyplot state is shared between concurrent requests.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def progress_chart(reviews_per_day: Sequence[tuple[date, int]], due_forecast: Sequence[tuple[date, int]]) -> bytes:
    """PNG bytes of two bar charts; CPU-bound, so callers run it in a thread."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 5), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    past, future = figure.subplots(2, 1)
    _bars(past, reviews_per_day, "Reviews per day (last 30 days)", "#3b7dd8")
    _bars(future, due_forecast, "Cards due (next 14 days)", "#e08a2c")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _bars(axes: Axes, series: Sequence[tuple[date, int]], title: str, colour: str) -> None:
    from matplotlib.ticker import MaxNLocator

    labels = [day.strftime("%d %b") for day, _ in series]
    values = [count for _, count in series]
    axes.bar(range(len(values)), values, color=colour)
    axes.set_title(title, fontsize=10)
    step = max(1, len(labels) // 10)
    axes.set_xticks(range(0, len(labels), step), labels[::step], fontsize=8)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylim(bottom=0)
