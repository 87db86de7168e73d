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


@dataclass(frozen=True)
class Filters:
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
