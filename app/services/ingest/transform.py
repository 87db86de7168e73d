"""Turn one chunk of raw rows into staging columns and rejected-row records (vectorized, per column)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from app.services.ingest import values
from app.services.ingest.readers.base import Chunk
from app.services.ingest.staging import StagingChunk

CATEGORY_MAX = 255  # facts.category's length: longer names are cut, not refused
CountedCells = tuple[list[str], list[int]]  # distinct cells of a column and how often each occurs


@dataclass
class ColumnProfile:
    """What the first pass learned from the whole file, decided per column."""

    number_style: str = "comma"
    date_format: str | None = None


@dataclass
class Profiler:
    """First pass: feed every chunk; read the per-column decisions at the end."""

    mapping: dict[str, str]
    rows: int = 0
    _numbers: values.NumberStyleDetector = field(default_factory=values.NumberStyleDetector)
    _dates: values.DateFormatDetector = field(default_factory=values.DateFormatDetector)

    def feed(self, header: list[str], chunk: Chunk) -> None:
        self.rows += len(chunk.rows) + len(chunk.bad_rows)
        if not chunk.rows:
            return
        frame = pd.DataFrame(chunk.rows, columns=header, dtype=object)
        self._numbers.feed(frame[self.mapping["value"]])
        self._dates.feed(frame[self.mapping["date"]])

    def feed_distinct(self, rows: int, values: CountedCells, dates: CountedCells) -> None:
        """The same decisions from the distinct cells of the value and date columns with their counts (a database
        grouped them): every value counts as many times as it occurs."""
        self.rows += rows
        for detector, (cells, counts) in ((self._numbers, values), (self._dates, dates)):
            if cells:
                detector.feed(pd.Series(cells, dtype=object), np.asarray(counts, dtype=np.int64))

    def profile(self) -> ColumnProfile:
        return ColumnProfile(number_style=self._numbers.style, date_format=self._dates.label)


def _json_lines(frame: pd.DataFrame) -> list[str | None]:
    if frame.shape[1] == 0:
        return [None] * len(frame)
    text = frame.to_json(orient="records", lines=True, force_ascii=False, date_format="iso", default_handler=str)
    # JSON escapes real newlines inside values, so splitting on "\n" is exact.
    lines = text.split("\n")
    return lines[: len(frame)]


def _preview(value: object) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return text[:500]


def transform_chunk(
    header: list[str], mapping: dict[str, str], profile: ColumnProfile, chunk: Chunk
) -> tuple[StagingChunk, list[tuple[int, str | None, str | None, str]]]:
    """Parse the mapped columns of one chunk; every row is staged, invalid ones flagged and explained."""
    rejected: list[tuple[int, str | None, str | None, str]] = [
        (line, None, preview, reason) for line, preview, reason in chunk.bad_rows
    ]
    if not chunk.rows:
        return StagingChunk([], [], [], [], [], [], [], []), rejected
    frame = pd.DataFrame(chunk.rows, columns=header, dtype=object)
    lines = pd.Series(chunk.line_numbers, dtype="int64")
    parsed_values, value_errors = values.parse_numbers(frame[mapping["value"]], profile.number_style)
    parsed_dates, date_errors = values.parse_dates(frame[mapping["date"]], profile.date_format)
    checks = [(mapping["value"], value_errors), (mapping["date"], date_errors)]
    if "uf" in mapping:
        ufs, uf_errors = values.parse_ufs(frame[mapping["uf"]])
        checks.append((mapping["uf"], uf_errors))
    else:
        ufs = pd.Series([None] * len(frame), dtype=object)
    categories: list[str | None] = [None] * len(frame)
    if "category" in mapping:
        categories = [
            c[:CATEGORY_MAX] if isinstance(c, str) else None for c in values.clean_text(frame[mapping["category"]])
        ]
    invalid = pd.Series(False, index=frame.index)
    for column, errors in checks:
        failed = errors.notna().to_numpy()
        if failed.any():
            invalid |= failed
            for line, value, reason in zip(lines[failed], frame[column][failed], errors[failed], strict=True):
                rejected.append((int(line), column, _preview(value), reason))
    rejected.sort(key=lambda item: item[0])
    mapped = set(mapping.values())
    others = frame[[c for c in header if c not in mapped]]
    staged = StagingChunk(
        line_no=lines.tolist(),
        raw=_json_lines(frame),
        is_valid=(~invalid).tolist(),
        date=parsed_dates.tolist(),
        value=parsed_values.tolist(),
        uf=ufs.tolist(),
        category=categories,
        attributes=_json_lines(others),
    )
    return staged, rejected
