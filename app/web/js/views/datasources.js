// #/datasources: the org's data sources with their last run (or last upload), "run now", and each source's
// job history (#/datasources/:id).

import { api, listAll, listPage } from "../api.js";
import { can } from "../auth.js";
import { h, replace } from "../dom.js";
import { formatDateTime, formatInteger } from "../format.js";
import { emptyState, errorNotice, loading, toast } from "../ui.js";

const TYPE_LABELS = { csv_upload: "Arquivo CSV", xlsx_upload: "Arquivo XLSX", sql: "Banco de dados (SQL)", google_sheets: "Google Sheets" };
const FILE_TYPES = new Set(["csv_upload", "xlsx_upload"]);
const RUN_STATUS = { running: "executando", success: "sucesso", failed: "falhou", skipped: "ignorada" };
const BATCH_STATUS = { loaded: "carregado", superseded: "substituído", failed: "falhou" };
const TRIGGERS = { manual: "manual", schedule: "agendada" };

const badge = (status, labels) => h("span", { class: `badge badge-${status}`, "data-status": status }, labels[status] || status);

function lastRunCell(run) {
  if (!run) return h("span", { class: "hint" }, "nunca executada");
  return h("span", {}, badge(run.status, RUN_STATUS), " ", formatDateTime(run.started_at),
    run.error ? h("small", { class: "error-text", title: run.error }, ` ${run.error.slice(0, 120)}`) : null);
}

function lastBatchCell(batch) {
  if (!batch) return h("span", { class: "hint" }, "nenhum envio");
  return h("span", {}, badge(batch.status, BATCH_STATUS), " ", h("a", { href: `#/batches/${batch.id}` }, formatDateTime(batch.started_at)),
    ` · ${formatInteger(batch.rows_loaded)} linhas`);
}

export async function datasourcesView(container, { signal }) {
  document.title = "Fontes de dados · Painel";
  container.append(loading());
  const sources = await listAll("/datasources", { signal });
  const rows = h("tbody", {});

  async function fillRow(source, cells) {
    try {
      // File sources have uploads (batches), not job runs; the others have runs.
      if (FILE_TYPES.has(source.type)) {
        const page = await listPage("/ingest/batches", { limit: 1, query: { data_source_id: source.id }, signal });
        replace(cells.last, lastBatchCell(page.items[0]));
      } else {
        const page = await listPage("/jobs/runs", { limit: 1, query: { data_source_id: source.id }, signal });
        replace(cells.last, lastRunCell(page.items[0]));
      }
    } catch (err) {
      if (err.name !== "AbortError") replace(cells.last, errorNotice(err));
    }
  }

  async function runNow(source, button, cells) {
    button.disabled = true;
    replace(cells.last, h("span", {}, badge("running", RUN_STATUS), " agora…"));
    try {
      const run = await api.post(`/datasources/${source.id}/run`, undefined, { signal });
      replace(cells.last, lastRunCell(run));
      toast(run.status === "success" ? `"${source.name}": ${formatInteger(run.rows_loaded ?? 0)} linhas carregadas.` : `"${source.name}": ${RUN_STATUS[run.status] || run.status}.`,
        run.status === "failed" ? "error" : "info");
    } catch (err) {
      if (err.name !== "AbortError") {
        toast(err.detail || err.message, "error");
        fillRow(source, cells);
      }
    } finally {
      button.disabled = false;
    }
  }

  for (const source of sources) {
    const cells = { last: h("td", { "data-testid": "source-last" }, loading("…")) };
    const runButton = !FILE_TYPES.has(source.type) && can("Editor")
      ? h("button", { type: "button", class: "btn btn-small", "data-testid": "source-run", onclick: (e) => runNow(source, e.currentTarget, cells) }, "Executar agora")
      : null;
    rows.append(h("tr", { "data-testid": "source-row", "data-id": source.id },
      h("td", {}, h("strong", {}, source.name)),
      h("td", {}, TYPE_LABELS[source.type] || source.type),
      h("td", {}, source.is_recurring ? `a cada ${formatInteger(source.interval_minutes ?? 60)} min` : "não"),
      cells.last,
      h("td", {}, h("div", { class: "actions" }, runButton,
        FILE_TYPES.has(source.type)
          ? h("a", { class: "btn btn-small", href: "#/upload" }, "Enviar novo arquivo")
          : h("a", { class: "btn btn-small", href: `#/datasources/${source.id}`, "data-testid": "source-history" }, "Histórico")))));
    fillRow(source, cells);
  }

  replace(container,
    h("div", { class: "page-head" }, h("h1", {}, "Fontes de dados")),
    sources.length
      ? h("table", { class: "grid-table", "data-testid": "sources-table" },
        h("thead", {}, h("tr", {}, ["Nome", "Tipo", "Recorrente", "Última execução / carga", ""].map((t) => h("th", { scope: "col" }, t)))),
        rows)
      : emptyState("Nenhuma fonte de dados ainda. Envie um arquivo para criar a primeira.",
        h("a", { class: "btn btn-primary", href: "#/upload" }, "Enviar arquivo")),
    h("p", { class: "hint" }, "Fontes SQL e Google Sheets são criadas pela API (POST /datasources); veja ",
      h("a", { href: "/docs#/datasources" }, "a documentação"), "."));
}

const PAGE_SIZE = 25;

/** #/datasources/:id: the source's job history, newest first. */
export async function datasourceHistoryView(container, { params, signal }) {
  const id = Number(params.id);
  container.append(loading());
  const source = await api.get(`/datasources/${id}`, undefined, { signal });
  document.title = `${source.name} · Painel`;
  const table = h("div", {}, loading());

  async function show(offset) {
    try {
      const page = await listPage("/jobs/runs", { limit: PAGE_SIZE, offset, query: { data_source_id: id }, signal });
      const last = Math.min(offset + page.items.length, page.total);
      replace(table, page.items.length ? [
        h("table", { class: "grid-table", "data-testid": "runs-table" },
          h("thead", {}, h("tr", {}, ["Início", "Fim", "Gatilho", "Situação", "Linhas", "Tentativa", "Lote", "Erro"].map((t) => h("th", { scope: "col" }, t)))),
          h("tbody", {}, page.items.map((r) => h("tr", { "data-testid": "run-row" },
            h("td", {}, formatDateTime(r.started_at)), h("td", {}, formatDateTime(r.finished_at)),
            h("td", {}, TRIGGERS[r.trigger] || r.trigger), h("td", {}, badge(r.status, RUN_STATUS)),
            h("td", { class: "num" }, r.rows_loaded === null ? "—" : formatInteger(r.rows_loaded)),
            h("td", { class: "num" }, String(r.attempt)),
            h("td", {}, r.batch_id ? h("a", { href: `#/batches/${r.batch_id}` }, `nº ${r.batch_id}`) : "—"),
            h("td", { class: "error-text" }, r.error || ""))))),
        h("div", { class: "pager" },
          h("button", { type: "button", class: "btn btn-small", disabled: offset === 0, onclick: () => show(Math.max(0, offset - PAGE_SIZE)) }, "← Mais recentes"),
          h("span", {}, `${formatInteger(offset + 1)}–${formatInteger(last)} de ${formatInteger(page.total)}`),
          h("button", { type: "button", class: "btn btn-small", disabled: last >= page.total, onclick: () => show(offset + PAGE_SIZE) }, "Mais antigas →")),
      ] : emptyState("Esta fonte ainda não foi executada."));
    } catch (err) {
      if (err.name !== "AbortError") replace(table, errorNotice(err));
    }
  }

  replace(container,
    h("div", { class: "page-head" }, h("div", {}, h("a", { href: "#/datasources", class: "back" }, "← Fontes de dados"), h("h1", {}, source.name))),
    h("p", { class: "meta" }, `${TYPE_LABELS[source.type] || source.type}`,
      source.is_recurring ? ` · atualizada a cada ${formatInteger(source.interval_minutes ?? 60)} min` : ""),
    h("h2", {}, "Histórico de execuções"),
    table);
  show(0);
}
