// Uploading a file into the pipeline, in phases the page can show:
//   "uploading" (bytes sent, from XMLHttpRequest's upload progress events)
//   "processing" (the server reads, checks and loads the rows)
//   "done" with the report, or an error.
// A file over ASYNC_FROM_BYTES asks for background processing (`Prefer: respond-async`; the server also does it by
// itself for files over its ASYNC_UPLOAD_MB). Smaller files load within the request, so a refusal (an empty or
// unreadable file) comes back at once as a 4xx. A background load answers
// 202 Accepted with the batch id (body `batch_id` or `id`, and a Location header), and the page polls
// GET /ingest/batches/{id} every 500 ms: `status` is "processing" (with rows_processed of rows_received) until it
// is "loaded" or "failed" (with `error`). A server that does not answers 201/200 with the finished report.

import { api, ApiError, uploadWithProgress } from "./api.js";

export const ASYNC_FROM_BYTES = 2 * 1024 * 1024;

export const ACCEPTED_TYPES = ".csv,.txt,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/** "csv" | "xlsx" from the file name (or type); null when it is neither. */
export function fileKind(file) {
  const name = (file?.name || "").toLowerCase();
  if (name.endsWith(".xlsx") || file?.type === "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet") return "xlsx";
  if (name.endsWith(".csv") || name.endsWith(".txt") || file?.type === "text/csv") return "csv";
  return null;
}

const FINISHED = new Set(["loaded", "superseded", "failed"]);
const POLL_MS = 500;
const MAX_POLL_FAILURES = 5; // consecutive network or 5xx failures before giving up on a batch

const sleep = (ms, signal) => new Promise((resolve, reject) => {
  if (signal?.aborted) return reject(new DOMException("aborted", "AbortError"));
  const timer = setTimeout(resolve, ms);
  signal?.addEventListener("abort", () => { clearTimeout(timer); reject(new DOMException("aborted", "AbortError")); }, { once: true });
});

/**
 * Poll a batch every `interval` ms until it is finished (loaded, superseded or failed).
 * onProgress(batch) on every answer. A network error or a 5xx is retried (up to MAX_POLL_FAILURES in a row);
 * a 4xx (gone, no access) ends it. Resolves to the finished batch.
 */
export async function waitForBatch(batchId, { onProgress, signal, interval = POLL_MS } = {}) {
  let failures = 0;
  for (;;) {
    let batch = null;
    try {
      batch = await api.get(`/ingest/batches/${batchId}`, undefined, { signal });
      failures = 0;
    } catch (err) {
      const transient = err instanceof ApiError && (err.status === 0 || err.status >= 500);
      if (!transient || ++failures >= MAX_POLL_FAILURES) throw err;
    }
    if (batch) {
      onProgress?.(batch);
      if (FINISHED.has(batch.status)) return batch;
    }
    await sleep(interval, signal);
  }
}

/** The batch id of a 202 answer: its body (`batch_id`, or `id`), else the Location header (/ingest/batches/{id}). */
export function acceptedBatchId(body, location) {
  const id = body?.batch_id ?? body?.id;
  if (Number.isInteger(id)) return id;
  const m = /\/ingest\/batches\/(\d+)\/?(?:[?#].*)?$/.exec(location || "");
  return m ? Number(m[1]) : null;
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
 * onPhase(phase, detail): "uploading" {loaded, total} | "processing" {rows_processed?, rows_received?} |
 * "done" {report}.
 */
export async function uploadFile(file, { name, dryRun, onPhase, signal } = {}) {
  const kind = fileKind(file);
  if (!kind) throw new ApiError(415, { detail: "Envie um arquivo .csv ou .xlsx.", code: "unsupported_file" });
  const form = new FormData();
  form.append("file", file, file.name);
  if (name) form.append("name", name);
  if (dryRun) form.append("dry_run", "true");
  onPhase?.("uploading", { loaded: 0, total: file.size });
  const { status, body, location } = await uploadWithProgress(`/ingest/${kind}`, form, {
    signal,
    headers: file.size > ASYNC_FROM_BYTES ? { Prefer: "respond-async" } : {},
    onProgress: (p) => onPhase?.("uploading", p),
    onSent: () => onPhase?.("processing", {}),
  });
  let report = body;
  if (status === 202) {
    // Accepted: the server loads the rows in the background; follow the batch until it is finished.
    const batchId = acceptedBatchId(body, location);
    if (batchId === null) throw new ApiError(502, { detail: "O servidor aceitou o arquivo mas não informou o lote." });
    onPhase?.("processing", { rows_processed: body?.rows_processed ?? 0, rows_received: body?.rows_received ?? 0 });
    const batch = await waitForBatch(batchId, {
      signal,
      onProgress: (b) => {
        if (!FINISHED.has(b.status)) onPhase?.("processing", { rows_processed: b.rows_processed ?? 0, rows_received: b.rows_received ?? 0 });
      },
    });
    report = { ...reportFromBatch(batch), ...pick(body, ["dry_run", "duplicate"]) };
  }
  onPhase?.("done", { report });
  return report;
}

function pick(obj, keys) {
  return Object.fromEntries(keys.filter((k) => obj && k in obj).map((k) => [k, obj[k]]));
}
