// #/upload: drop (or choose) a CSV/XLSX, watch it upload and process, then read its report.

import { listPage } from "../api.js";
import { can } from "../auth.js";
import { h, replace } from "../dom.js";
import { formatDateTime, formatInteger, formatPercent } from "../format.js";
import { ACCEPTED_TYPES, fileKind, uploadFile } from "../ingest.js";
import { errorNotice, loading, notice } from "../ui.js";
import { renderReport } from "./batch.js";

const BATCH_STATUS = { loaded: "carregado", superseded: "substituído", failed: "falhou" };

function progressView() {
  const bar = h("progress", { max: 100, value: 0, "data-testid": "upload-progress", "aria-label": "Progresso do envio" });
  const label = h("span", { class: "progress-label", "data-testid": "upload-progress-label" });
  const box = h("div", { class: "progress", hidden: true }, bar, label);
  return {
    box,
    set(phase, detail = {}) {
      box.hidden = false;
      bar.dataset.state = phase;
      if (phase === "uploading") {
        const pct = detail.total ? (100 * detail.loaded) / detail.total : 0;
        bar.value = pct;
        label.textContent = `Enviando… ${formatPercent(Math.round(pct))}`;
      } else if (phase === "processing") {
        // Indeterminate until the server reports rows (an asynchronous upload's batch does, while it loads).
        const processed = detail.rows_processed || 0;
        bar.dataset.rowsProcessed = processed;
        if (detail.rows_received) {
          bar.value = Math.min(100, (100 * processed) / detail.rows_received);
          label.textContent = `Processando… ${formatInteger(processed)} de ${formatInteger(detail.rows_received)} linhas`;
        } else {
          bar.removeAttribute("value");
          label.textContent = processed
            ? `Processando… ${formatInteger(processed)} linhas`
            : "Processando: lendo, validando e carregando as linhas…";
        }
      } else if (phase === "done" && detail.report?.status === "failed") {
        bar.dataset.state = "failed";
        bar.value = 100;
        label.textContent = "A carga falhou.";
      } else if (phase === "done") {
        bar.value = 100;
        label.textContent = "Concluído.";
      } else {
        bar.value = 0;
        label.textContent = "O envio falhou.";
      }
    },
  };
}

async function recentBatches(box, signal) {
  try {
    const page = await listPage("/ingest/batches", { limit: 10, signal });
    replace(box, page.items.length ? h("div", { class: "table-scroll" }, h("table", { class: "grid-table", "data-testid": "recent-batches" },
      h("thead", {}, h("tr", {}, ["Lote", "Arquivo", "Quando", "Situação", "Carregadas", "Rejeitadas"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, page.items.map((b) => h("tr", {},
        h("td", {}, h("a", { href: `#/batches/${b.id}` }, `nº ${b.id}`)),
        h("td", {}, b.file_name || "—"),
        h("td", {}, formatDateTime(b.started_at)),
        h("td", {}, BATCH_STATUS[b.status] || b.status),
        h("td", { class: "num" }, formatInteger(b.rows_loaded)),
        h("td", { class: "num" }, formatInteger(b.rows_rejected)))))))
      : h("p", { class: "hint" }, "Nenhum envio ainda."));
  } catch (err) {
    if (err.name !== "AbortError") replace(box, errorNotice(err));
  }
}

export async function uploadView(container, { signal }) {
  document.title = "Enviar dados · Painel";
  if (!can("Editor")) {
    container.append(h("h1", {}, "Enviar dados"), notice("info", "Enviar arquivos exige o papel Editor (ou superior)."));
    return;
  }
  const input = h("input", { type: "file", accept: ACCEPTED_TYPES, "data-testid": "upload-input", class: "file-input", id: "upload-file" });
  const nameInput = h("input", { type: "text", name: "name", maxlength: 200, placeholder: "o nome do arquivo", "data-testid": "upload-name" });
  const dryRun = h("input", { type: "checkbox", name: "dry_run", "data-testid": "upload-dry-run" });
  const drop = h("label", { class: "dropzone", for: "upload-file", "data-testid": "upload-dropzone", tabindex: 0 },
    h("strong", {}, "Arraste um arquivo CSV ou XLSX para cá"),
    h("span", {}, "ou clique para escolher"),
    h("small", { class: "hint" }, "Arquivos como os ERPs exportam: separador ; ou , ou tabulação, UTF-8 ou Windows-1252, valores 1.234,56, datas dd/mm/aaaa."));
  const progress = progressView();
  const result = h("div", { class: "upload-result" });
  const recent = h("div", {}, loading());
  let busy = false;
  let controller = null;

  async function send(file) {
    if (busy || !file) return;
    if (!fileKind(file)) {
      replace(result, notice("error", `"${file.name}" não é um arquivo .csv ou .xlsx.`));
      return;
    }
    busy = true;
    drop.classList.add("busy");
    input.disabled = true;
    result.replaceChildren(h("p", { class: "meta" }, `Arquivo: ${file.name} (${formatInteger(Math.ceil(file.size / 1024))} KB)`));
    controller = new AbortController();
    signal.addEventListener("abort", () => controller.abort());
    try {
      const report = await uploadFile(file, {
        name: nameInput.value.trim() || undefined,
        dryRun: dryRun.checked,
        signal: controller.signal,
        onPhase: (phase, detail) => progress.set(phase, detail),
      });
      result.append(renderReport(report, { signal }));
      recentBatches(recent, signal);
    } catch (err) {
      if (err.name === "AbortError") return;
      progress.set("error");
      result.append(errorNotice(err, "O arquivo foi recusado"));
    } finally {
      busy = false;
      drop.classList.remove("busy");
      input.disabled = false;
      input.value = "";
    }
  }

  input.addEventListener("change", () => send(input.files[0]));
  // A file dropped beside the drop zone must not make the browser leave the app to open it.
  const keepPage = (e) => { if (!drop.contains(e.target)) e.preventDefault(); };
  window.addEventListener("dragover", keepPage);
  window.addEventListener("drop", keepPage);
  drop.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); input.click(); } });
  for (const type of ["dragenter", "dragover"]) {
    drop.addEventListener(type, (e) => { e.preventDefault(); drop.classList.add("over"); });
  }
  for (const type of ["dragleave", "drop"]) {
    drop.addEventListener(type, () => drop.classList.remove("over"));
  }
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    send(e.dataTransfer?.files?.[0]);
  });

  container.append(
    h("div", { class: "page-head" }, h("h1", {}, "Enviar dados")),
    h("div", { class: "upload-form" },
      drop, input,
      h("div", { class: "upload-options" },
        h("label", { class: "field" }, h("span", {}, "Nome da fonte (opcional)"), nameInput,
          h("small", { class: "hint" }, "Um novo envio com o mesmo nome substitui os dados anteriores dessa fonte.")),
        h("label", { class: "check" }, dryRun, " Apenas validar (simulação, nada é gravado)"))),
    progress.box,
    result,
    h("h2", {}, "Envios recentes"),
    recent);
  recentBatches(recent, signal);
  return () => {
    window.removeEventListener("dragover", keepPage);
    window.removeEventListener("drop", keepPage);
    controller?.abort();
  };
}
