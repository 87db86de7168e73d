// A batch's report: rows loaded and rejected, what was detected, the column mapping, and every rejected row
// (line, column, value, reason) page by page from GET /ingest/batches/{id}/errors.

import { api, listPage } from "../api.js";
import { h, replace } from "../dom.js";
import { DETECTED_LABELS, FIELD_LABELS, formatDateTime, formatDetected, formatInteger, formatReason } from "../format.js";
import { reportFromBatch } from "../ingest.js";
import { errorNotice, loading, notice } from "../ui.js";

const PAGE_SIZE = 50;

function stat(label, value, testid, kind = "") {
  return h("div", { class: `stat ${kind}` }, h("div", { class: "stat-value", "data-testid": testid, "data-value": value }, formatInteger(value)),
    h("div", { class: "stat-label" }, label));
}

function rejectedTable(rows) {
  return h("div", { class: "table-scroll" }, h("table", { class: "grid-table", "data-testid": "rejected-table" },
    h("thead", {}, h("tr", {}, ["Linha", "Coluna", "Valor", "Motivo"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, rows.map((r) => h("tr", { "data-testid": "rejected-row", "data-line": r.line },
      h("td", { class: "num" }, String(r.line)), h("td", {}, r.column ?? "—"),
      h("td", { class: "mono" }, r.value ?? ""),
      h("td", { "data-reason": r.reason, title: r.reason }, formatReason(r.reason)))))));
}

/** The rejected rows, paginated from the API (or the report's sample for a dry run, which stores nothing). */
function rejectedSection(report, signal) {
  const box = h("section", { class: "rejected", "data-testid": "rejected" });
  if (!report.rows_rejected) return box;
  const body = h("div", {});
  box.append(h("h3", {}, "Linhas rejeitadas"), body);
  if (!report.batch_id) {
    body.append(rejectedTable(report.rejected_sample || []),
      h("p", { class: "hint" }, "Simulação: uma amostra das linhas rejeitadas (nada foi gravado)."));
    return box;
  }
  async function show(offset) {
    body.replaceChildren(loading());
    try {
      const page = await listPage(`/ingest/batches/${report.batch_id}/errors`, { limit: PAGE_SIZE, offset, signal });
      const last = Math.min(page.offset + page.items.length, page.total);
      replace(body,
        rejectedTable(page.items),
        h("div", { class: "pager", "data-testid": "rejected-pager" },
          h("button", { type: "button", class: "btn btn-small", disabled: offset === 0, onclick: () => show(Math.max(0, offset - PAGE_SIZE)) }, "← Anteriores"),
          h("span", {}, `Linhas rejeitadas ${formatInteger(page.offset + 1)}–${formatInteger(last)} de ${formatInteger(page.total)}`),
          h("button", { type: "button", class: "btn btn-small", disabled: last >= page.total, onclick: () => show(offset + PAGE_SIZE), "data-testid": "rejected-next" }, "Próximas →")));
    } catch (err) {
      if (err.name !== "AbortError") replace(body, errorNotice(err));
    }
  }
  show(0);
  return box;
}

/** The report of an upload (POST /ingest/csv|xlsx answer) or of a stored batch (see reportFromBatch). */
export function renderReport(report, { signal } = {}) {
  const detected = Object.entries(report.detected || {}).filter(([, v]) => v !== null && v !== undefined);
  const mapping = Object.entries(report.mapping || {});
  const headline = report.dry_run ? "Simulação concluída: nada foi gravado."
    : report.duplicate ? "Este arquivo já tinha sido enviado para esta fonte: nada mudou."
      : report.status === "failed" ? "A carga falhou."
        : report.rows_loaded ? "Dados carregados." : "Nenhuma linha pôde ser carregada.";
  const kind = report.status === "failed" || (!report.rows_loaded && !report.dry_run) ? "warning" : "info";
  return h("section", { class: "report", "data-testid": "upload-report", "data-batch-id": report.batch_id },
    h("h2", {}, report.batch_id ? `Lote nº ${report.batch_id}` : "Relatório"),
    notice(kind, headline, report.error ? ` ${report.error}` : ""),
    h("div", { class: "stats" },
      stat("linhas recebidas", report.rows_received, "rows-received"),
      stat("linhas carregadas", report.rows_loaded, "rows-loaded", "ok"),
      stat("linhas rejeitadas", report.rows_rejected, "rows-rejected", report.rows_rejected ? "bad" : "")),
    h("div", { class: "report-columns" },
      h("div", {}, h("h3", {}, "Formato detectado"),
        h("dl", { class: "detected", "data-testid": "detected" }, detected.map(([k, v]) => [
          h("dt", {}, DETECTED_LABELS[k] || k), h("dd", { "data-key": k }, formatDetected(k, v))]))),
      h("div", {}, h("h3", {}, "Colunas usadas"),
        h("table", { class: "grid-table", "data-testid": "mapping" },
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Campo"), h("th", { scope: "col" }, "Coluna do arquivo"))),
          h("tbody", {}, mapping.map(([field, column]) => h("tr", { "data-field": field },
            h("td", {}, FIELD_LABELS[field] || field), h("td", {}, column))))))),
    rejectedSection(report, signal),
    report.rows_loaded && !report.dry_run ? h("p", {}, h("a", { class: "btn btn-primary", href: "#/dashboards" }, "Ver os painéis")) : null);
}

/** #/batches/:id */
export async function batchView(container, { params, signal }) {
  document.title = `Lote ${params.id} · Painel`;
  container.append(loading());
  const batch = await api.get(`/ingest/batches/${Number(params.id)}`, undefined, { signal });
  replace(container,
    h("div", { class: "page-head" }, h("div", {}, h("a", { href: "#/upload", class: "back" }, "← Enviar dados"),
      h("h1", {}, batch.file_name || `Lote ${batch.id}`))),
    h("p", { class: "meta" }, `Iniciado em ${formatDateTime(batch.started_at)}`,
      batch.finished_at ? ` · concluído em ${formatDateTime(batch.finished_at)}` : ""),
    renderReport(reportFromBatch(batch), { signal }));
}
