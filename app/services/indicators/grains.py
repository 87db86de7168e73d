"""Time grains of serie-temporal: the buckets a range touches, their labels and first days (ISO weeks start on
Monday; quarters and years are calendar ones)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from app.schemas.indicators import Grain
from app.services.indicators.ranges import DateRange, next_month

GRAINS: tuple[Grain, ...] = ("day", "week", "month", "quarter", "year")


@dataclass(frozen=True)
class Bucket:
    period: str
    start: date
    end: date


def bucket_start(day: date, grain: Grain) -> date:
    """The first day of the bucket holding day."""
    if grain == "day":
        return day
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    if grain == "quarter":
        return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    return date(day.year, 1, 1)


def _next_start(start: date, grain: Grain) -> date:
    if grain == "day":
        return start + timedelta(days=1)
    if grain == "week":
        return start + timedelta(days=7)
    if grain == "month":
        return next_month(start)
    if grain == "quarter":
        return next_month(next_month(next_month(start)))
    return date(start.year + 1, 1, 1)


def _label(start: date, grain: Grain) -> str:
    if grain == "day":
        return start.isoformat()
    if grain == "week":
        year, week, _ = start.isocalendar()
        return f"{year:04d}-W{week:02d}"
    if grain == "month":
        return f"{start.year:04d}-{start.month:02d}"
    if grain == "quarter":
        return f"{start.year:04d}-Q{(start.month - 1) // 3 + 1}"
    return f"{start.year:04d}"


def buckets(rng: DateRange, grain: Grain) -> list[Bucket]:
    """Every bucket the range touches, in order (the first and last may reach outside the range)."""
    out, start = [], bucket_start(rng.start, grain)
    while start <= rng.end:
        following = _next_start(start, grain)
        out.append(Bucket(_label(start, grain), start, following - timedelta(days=1)))
        start = following
    return out
