// pt-BR formatting: numbers as 1.234,56, money as R$ 1.234,56, dates as dd/mm/aaaa.

const LOCALE = "pt-BR";
const currency = new Intl.NumberFormat(LOCALE, { style: "currency", currency: "BRL" });
const currencyCompact = new Intl.NumberFormat(LOCALE, {
  style: "currency", currency: "BRL", notation: "compact", maximumFractionDigits: 1,
});
const number = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 2 });
const integer = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat(LOCALE, { minimumFractionDigits: 2, maximumFractionDigits: 4 });
const percent = new Intl.NumberFormat(LOCALE, { minimumFractionDigits: 0, maximumFractionDigits: 2 });
const dateTime = new Intl.DateTimeFormat(LOCALE, { dateStyle: "short", timeStyle: "short" });

const MONTHS = ["jan", "fev", "mar", "abr", "mai", "jun", "jul", "ago", "set", "out", "nov", "dez"];

const isNumber = (v) => typeof v === "number" && Number.isFinite(v);

/** R$ 1.234,56 */
export const formatCurrency = (v) => (isNumber(v) ? currency.format(v) : "—");
/** R$ 1,2 mi (axes and tight places) */
export const formatCurrencyCompact = (v) => (isNumber(v) ? currencyCompact.format(v) : "—");
/** 1.234,56 */
export const formatNumber = (v) => (isNumber(v) ? number.format(v) : "—");
/** 1.235 */
export const formatInteger = (v) => (isNumber(v) ? integer.format(v) : "—");
/** 25,48% (the API sends percents, not fractions) */
export const formatPercent = (v) => (isNumber(v) ? `${percent.format(v)}%` : "—");
/** +15,1% / −13,37% */
export function formatChange(v) {
  if (!isNumber(v)) return "—";
  return `${v > 0 ? "+" : v < 0 ? "−" : ""}${percent.format(Math.abs(v))}%`;
}

/** "2026-03-31" -> "31/03/2026" */
export function formatDate(iso) {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso || "");
  return m ? `${m[3]}/${m[2]}/${m[1]}` : "—";
}

/** "2026-03" -> "mar/2026" */
export function formatMonth(ym) {
  const m = /^(\d{4})-(\d{2})/.exec(ym || "");
  return m ? `${MONTHS[Number(m[2]) - 1]}/${m[1]}` : String(ym ?? "");
}

/** The pt-BR words for serie-temporal's grains (the API's values are English). */
export const GRAIN_LABELS = { day: "dia", week: "semana", month: "mês", quarter: "trimestre", year: "ano" };

/**
 * A serie-temporal bucket's label ("2025-01-13" -> "13/01/2025", "2025-W03" -> "sem. 03/2025",
 * "2025-01" -> "jan/2025", "2025-Q1" -> "1º tri/2025", "2025" -> "2025").
 */
export function formatPeriod(period, grain) {
  const text = String(period ?? "");
  if (grain === "day") return formatDate(text);
  if (grain === "month") return formatMonth(text);
  const week = /^(\d{4})-W(\d{2})$/.exec(text);
  if (week) return `sem. ${week[2]}/${week[1]}`;
  const quarter = /^(\d{4})-Q([1-4])$/.exec(text);
  if (quarter) return `${quarter[2]}º tri/${quarter[1]}`;
  return text;
}

/** An ISO timestamp in the browser's time zone: "01/12/2026, 23:32" */
export function formatDateTime(iso) {
  const d = iso ? new Date(iso) : null;
  return d && !Number.isNaN(d.getTime()) ? dateTime.format(d) : "—";
}

/** "31/03/2026" -> "2026-03-31"; null when it is not a real date. */
export function parseDate(text) {
  const m = /^\s*(\d{1,2})\/(\d{1,2})\/(\d{4})\s*$/.exec(text || "");
  if (!m) return null;
  const [day, month, year] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const d = new Date(Date.UTC(year, month - 1, day));
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return null;
  return `${year}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
}

/** A value of unknown type from a custom query, formatted for a table cell. */
export function formatCell(v) {
  if (v === null || v === undefined) return "";
  if (isNumber(v)) return Number.isInteger(v) ? formatInteger(v) : decimal.format(v);
  if (typeof v === "string" && /^\d{4}-\d{2}-\d{2}$/.test(v)) return formatDate(v);
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

/** Human words for what the upload pipeline detected. */
export const DETECTED_LABELS = {
  encoding: "Codificação",
  delimiter: "Separador",
  header_line: "Linha do cabeçalho",
  decimal_style: "Números",
  date_format: "Datas",
  sheet: "Planilha",
};

export function formatDetected(key, value) {
  if (key === "delimiter") {
    return { ";": "ponto e vírgula (;)", ",": "vírgula (,)", "\t": "tabulação", "|": "barra vertical (|)" }[value]
      ?? String(value);
  }
  if (key === "decimal_style") {
    return { comma: "vírgula decimal (1.234,56)", point: "ponto decimal (1,234.56)", dot: "ponto decimal (1,234.56)" }[value]
      ?? String(value);
  }
  if (key === "date_format" && typeof value === "string") {
    if (value === "excel") return "datas do Excel";
    if (value === "iso-datetime") return "data e hora ISO (aaaa-mm-ddThh:mm)";
    return value.replace("yyyy", "aaaa").replace("yy", "aa");
  }
  if (value && typeof value === "object") return JSON.stringify(value);
  return String(value ?? "—");
}

export const FIELD_LABELS = { date: "Data", value: "Valor", uf: "UF", category: "Categoria" };

// The pipeline's reasons for rejecting a cell, in Portuguese; an unknown reason is shown as the API wrote it.
const REASONS = [
  [/^not a date in format (.+)$/, (m) => `não é uma data no formato ${formatDetected("date_format", m[1])}`],
  [/^not a date$/, () => "não é uma data"],
  [/^date out of range$/, () => "data fora do intervalo aceito"],
  [/^not a number$/, () => "não é um número"],
  [/^empty value$/, () => "valor vazio"],
  [/^out of range$/, () => "valor fora do intervalo aceito"],
  [/^unknown UF$/, () => "UF desconhecida"],
];

export function formatReason(reason) {
  for (const [pattern, say] of REASONS) {
    const m = pattern.exec(reason || "");
    if (m) return say(m);
  }
  return String(reason ?? "");
}
