"""Date ranges, filters and number formatting shared by every indicator."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from app.core.config import get_settings
from app.core.errors import Unprocessable

CENT = Decimal("0.01")
EARLIEST, LATEST = date(1900, 1, 1), date(2199, 12, 31)  # facts hold 1900-2100; previous periods stay valid


@dataclass(frozen=True)
class DateRange:
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> DateRange:
        """The period of the same length just before this one."""
        return DateRange(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def months(self) -> list[tuple[int, int]]:
        """Every (year, month) the range touches, in order."""
        out, year, month = [], self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            out.append((year, month))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return out

    def split_by_month(self) -> tuple[DateRange | None, list[DateRange]]:
        """(the whole months inside the range, from the first day of the first to the first day of the last;
        the days left over at either end), so sums can read monthly rollups for the months and daily ones for the
        rest."""
        first = self.start if self.start.day == 1 else next_month(self.start)
        after = (
            next_month(self.end) if self.end == next_month(self.end) - timedelta(days=1) else self.end.replace(day=1)
        )
        if first >= after:
            return None, [self]
        edges = []
        if self.start < first:
            edges.append(DateRange(self.start, first - timedelta(days=1)))
        if after <= self.end:
            edges.append(DateRange(after, self.end))
        last_month = (after - timedelta(days=1)).replace(day=1)
        return DateRange(first, last_month), edges


def next_month(day: date) -> date:
    """The first day of the month after day's."""
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


@dataclass(frozen=True)
class Filters:
    """Validated filters: a data source of the caller's org, a category (matched by its key: case and accents do
    not matter) and a UF code."""

    data_source_id: int | None = None
    category: str | None = None
    uf: str | None = None


def make_range(start: date, end: date) -> DateRange:
    """A validated range: from <= to and at most MAX_RANGE_DAYS long (422 otherwise)."""
    if start > end:
        raise Unprocessable(f"'from' ({start}) is after 'to' ({end})", code="invalid_range")
    if start < EARLIEST or end > LATEST:
        raise Unprocessable(f"Dates must be between {EARLIEST} and {LATEST}", code="invalid_range")
    limit = get_settings().MAX_RANGE_DAYS
    rng = DateRange(start, end)
    if rng.days > limit:
        raise Unprocessable(
            f"The range spans {rng.days} days; the maximum is {limit} (MAX_RANGE_DAYS)", code="range_too_long"
        )
    return rng


def money(value: Decimal | int | None) -> float:
    """An exact sum rounded to 2 decimals, as a JSON number."""
    return float(Decimal(value or 0).quantize(CENT, rounding=ROUND_HALF_UP))


def change_pct(current: Decimal | int | None, previous: Decimal | int | None) -> float | None:
    """Percent change against the previous value; None when the previous value is 0."""
    current, previous = Decimal(current or 0), Decimal(previous or 0)
    if previous == 0:
        return None
    return money((current - previous) / abs(previous) * 100)


def share_pct(part: Decimal | int | None, total: Decimal | int | None) -> float:
    """Percent share of the total; 0 when the total is 0 (charts get a number, not a gap)."""
    total = Decimal(total or 0)
    if total == 0:
        return 0.0
    return money(Decimal(part or 0) / total * 100)
