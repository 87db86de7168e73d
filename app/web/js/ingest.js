// Uploading a file into the pipeline, in phases the page can show:
//   "uploading" (bytes sent, from XMLHttpRequest's upload progress events)
//   "processing" (the server reads, checks and loads the rows; today the POST answers when that is done)
//   "done" with the report, or "error".
// When the API moves to 202 Accepted + a batch `status`/`rows_processed`, waitForBatch() below polls
// GET /ingest/batches/{id} until the batch is finished; nothing else here has to change.

import { api, ApiError, uploadWithProgress } from "./api.js";

export const ACCEPTED_TYPES = ".csv,.txt,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/** "csv" | "xlsx" from the file name (or type); null when it is neither. */
export function fileKind(file) {
  const name = (file?.name || "").toLowerCase();
  if (name.endsWith(".xlsx") || file?.type === "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet") return "xlsx";
  if (name.endsWith(".csv") || name.endsWith(".txt") || file?.type === "text/csv") return "csv";
  return null;
}

const FINISHED = new Set(["loaded", "superseded", "failed"]);
const sleep = (ms, signal) => new Promise((resolve, reject) => {
  const timer = setTimeout(resolve, ms);
  signal?.addEventListener("abort", () => { clearTimeout(timer); reject(new DOMException("aborted", "AbortError")); });
});

/**
 * Poll a batch until it is finished (for the asynchronous uploads the API will answer with 202).
 * onProgress({status, rows_processed, rows_received}) on every poll. Resolves to the finished batch.
 */
export async function waitForBatch(batchId, { onProgress, signal, interval = 500, maxInterval = 3000 } = {}) {
  let wait = interval;
  for (;;) {
    const batch = await api.get(`/ingest/batches/${batchId}`, undefined, { signal });
    onProgress?.(batch);
    if (FINISHED.has(batch.status)) return batch;
    await sleep(wait, signal);
    wait = Math.min(maxInterval, Math.round(wait * 1.5));
  }
}

/** A finished batch (GET /ingest/batches/{id}) in the shape of an upload report. */
export function reportFromBatch(batch) {
  return {
    batch_id: batch.id,
    data_source_id: batch.data_source_id,
    status: batch.status,
    dry_run: false,
    duplicate: false,
    rows_received: batch.rows_received,
    rows_loaded: batch.rows_loaded,
    rows_rejected: batch.rows_rejected,
    detected: batch.details?.detected || {},
    mapping: batch.details?.mapping || {},
    rejected_sample: [],
    file_name: batch.file_name,
    error: batch.error,
    finished_at: batch.finished_at,
  };
}

/**
 * Upload `file` (options: name, dry_run) and follow it to its report.
 * onPhase(phase, detail): "uploading" {loaded, total} | "processing" {rows_processed?} | "done" {report}.
 */
export async function uploadFile(file, { name, dryRun, onPhase, signal } = {}) {
  const kind = fileKind(file);
  if (!kind) throw new ApiError(415, { detail: "Envie um arquivo .csv ou .xlsx.", code: "unsupported_file" });
  const form = new FormData();
  form.append("file", file, file.name);
  if (name) form.append("name", name);
  if (dryRun) form.append("dry_run", "true");
  onPhase?.("uploading", { loaded: 0, total: file.size });
  const { status, body } = await uploadWithProgress(`/ingest/${kind}`, form, {
    signal,
    onProgress: (p) => onPhase?.("uploading", p),
    onSent: () => onPhase?.("processing", {}),
  });
  let report = body;
  if (status === 202 && body?.batch_id) {
    // Asynchronous processing: follow the batch until it is finished.
    onPhase?.("processing", { rows_processed: 0, rows_received: body.rows_received });
    const batch = await waitForBatch(body.batch_id, {
      signal,
      onProgress: (b) => onPhase?.("processing", { rows_processed: b.rows_processed, rows_received: b.rows_received }),
    });
    report = { ...reportFromBatch(batch), ...pick(body, ["dry_run", "duplicate"]) };
  }
  onPhase?.("done", { report });
  return report;
}

function pick(obj, keys) {
  return Object.fromEntries(keys.filter((k) => obj && k in obj).map((k) => [k, obj[k]]));
}
