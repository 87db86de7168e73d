"""Data source bodies: `config` is validated per type (a discriminated union)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from app.schemas.common import NOT_SENT, ORMModel

MAPPING_HELP = "Canonical field -> column name, when the names are not recognised (date, value, uf, category)"


class SqlConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["sql"] = "sql"
    sqlalchemy_url: str = Field(
        min_length=1, max_length=2000, examples=["postgresql+psycopg2://user:pass@db.example.com:5432/sales"]
    )
    query: str = Field(min_length=1, max_length=20_000, examples=["SELECT data, valor, uf FROM vendas"])
    incremental_column: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
    mapping: dict[str, str] | None = Field(default=None, description=MAPPING_HELP)


class SheetsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["google_sheets"] = "google_sheets"
    spreadsheet_id: str = Field(min_length=10, max_length=200, pattern=r"^[A-Za-z0-9_-]+$")
    range: str = Field(default="A:ZZ", min_length=1, max_length=200)
    mapping: dict[str, str] | None = Field(default=None, description=MAPPING_HELP)


class CsvConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["csv_upload"] = "csv_upload"


class XlsxConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["xlsx_upload"] = "xlsx_upload"


SourceConfig = Annotated[SqlConfig | SheetsConfig | CsvConfig | XlsxConfig, Field(discriminator="type")]
_CONFIG_ADAPTER: TypeAdapter = TypeAdapter(SourceConfig)
SourceTypeName = Literal["sql", "google_sheets", "csv_upload", "xlsx_upload"]


class DataSourceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    type: SourceTypeName
    config: dict[str, Any] = Field(default_factory=dict)
    is_recurring: bool = False
    interval_minutes: int | None = Field(default=None, ge=1, le=60 * 24 * 31)

    @model_validator(mode="after")
    def _check(self):
        self.typed_config()
        if self.is_recurring and self.type in ("csv_upload", "xlsx_upload"):
            raise ValueError("file upload sources cannot be recurring; upload new files instead")
        return self

    def typed_config(self) -> SqlConfig | SheetsConfig | CsvConfig | XlsxConfig:
        try:
            return _CONFIG_ADAPTER.validate_python({**self.config, "type": self.type})
        except ValidationError as exc:
            problems = "; ".join(
                f"config.{'.'.join(str(p) for p in err['loc'][1:])}: {err['msg']}" for err in exc.errors()
            )
            raise ValueError(f"invalid {self.type} config: {problems}") from None


class DataSourceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(default=NOT_SENT, min_length=1, max_length=200)
    config: dict[str, Any] = NOT_SENT
    is_recurring: bool = NOT_SENT
    interval_minutes: int | None = Field(default=None, ge=1, le=60 * 24 * 31)


class DataSourceRead(BaseModel):
    id: int
    name: str
    type: str
    config: dict[str, Any]
    is_recurring: bool
    interval_minutes: int | None
    created_by: int | None
    created_at: datetime
    updated_at: datetime


class ConnectionTestRequest(BaseModel):
    sqlalchemy_url: str = Field(
        min_length=1, max_length=2000, examples=["postgresql+psycopg2://user:pass@db.example.com:5432/sales"]
    )


class ConnectionTestRead(BaseModel):
    ok: bool
    dialect: str
    driver: str | None = None
    server_version: str | None
    latency_ms: float = Field(description="Time to answer SELECT 1 once connected")
    connect_ms: float | None = Field(default=None, description="Time to connect")


class GoogleCredentialUpdate(BaseModel):
    credentials: dict[str, Any] = Field(description="A service-account JSON or an authorized-user token JSON")


class GoogleCredentialRead(ORMModel):
    kind: str
    client_email: str | None
    updated_at: datetime
