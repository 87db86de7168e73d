"""Uploading a Brazilian CSV in the browser: drag and drop, the progress bar, the report and every rejected row."""

from __future__ import annotations

import base64
import json
import random
import re

from tests.e2e.conftest import shot, sign_in

PAGE_SIZE = 50

# Each kind of bad row, with the column the pipeline blames and the value it quotes.
BAD_ROWS = [
    ("31/02/2026", "10,00", "SP", "Livros", "Data", "31/02/2026"),
    ("06/01/2026", "abc", "RJ", "Livros", "Valor", "abc"),
    ("07/01/2026", "99,90", "XX", "Móveis", "UF", "XX"),
    ("08/01/2026", "", "MG", "Alimentos", "Valor", ""),
]

RECORD_PROGRESS = """() => {
  window.__progress = [];
  const bar = document.querySelector('[data-testid=upload-progress]');
  const record = () => window.__progress.push([bar.dataset.state, bar.hasAttribute('value') ? bar.value : null]);
  new MutationObserver(record).observe(bar, { attributes: true, attributeFilter: ['value', 'data-state'] });
}"""

DROP_FILE = """({ name, b64 }) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const file = new File([bytes], name, { type: 'text/csv' });
  const transfer = new DataTransfer();
  transfer.items.add(file);
  const zone = document.querySelector('[data-testid=upload-dropzone]');
  for (const type of ['dragenter', 'dragover', 'drop']) {
    zone.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: transfer }));
  }
}"""


def brazilian_csv(good: int, bad_every: int) -> tuple[bytes, list[tuple[int, str, str]]]:
    """A `;`-separated cp1252 CSV as an ERP exports it (1.234,56 and dd/mm/yyyy), with a bad row every
    `bad_every` lines; answers the bytes and the (line, column, value) of every bad row (the header is line 1)."""
    rng = random.Random(7)
    lines = ["Data;Valor;UF;Categoria"]
    rejected = []
    while len(lines) - 1 - len(rejected) < good:
        line_no = len(lines) + 1
        if line_no % bad_every == 0:
            date, value, uf, category, column, quoted = BAD_ROWS[len(rejected) % len(BAD_ROWS)]
            rejected.append((line_no, column, quoted))
        else:
            day, cents = rng.randint(1, 28), rng.randint(100, 900_000)
            whole = f"{cents // 100:,}".replace(",", ".")
            date, value = f"{day:02d}/0{rng.randint(1, 9)}/2026", f"{whole},{cents % 100:02d}"
            uf, category = rng.choice(["SP", "RJ", "MG", "BA"]), rng.choice(["Eletrônicos", "Móveis", "Livros"])
        lines.append(f"{date};{value};{uf};{category}")
    return ("\r\n".join(lines) + "\r\n").encode("cp1252"), rejected


def rejected_rows(page) -> list[tuple[str, str, str, str]]:
    """(line, column, value, the API's reason) of each row shown."""
    rows = []
    for row in page.get_by_test_id("rejected-table").locator("tbody tr").all():
        cells = row.locator("td")
        reason = cells.nth(3).get_attribute("data-reason")
        rows.append((cells.nth(0).inner_text(), cells.nth(1).inner_text(), cells.nth(2).inner_text(), reason))
    return rows


def test_upload_shows_progress_then_the_report_and_every_rejected_row(demo, page):
    content, expected = brazilian_csv(good=6000, bad_every=97)
    assert len(expected) > PAGE_SIZE  # the rejected rows take two pages
    sign_in(page, demo.base_url)
    page.goto(f"{demo.base_url}/#/upload")
    page.get_by_test_id("upload-dropzone").wait_for()
    page.get_by_test_id("upload-name").fill("Vendas e2e")
    page.evaluate(RECORD_PROGRESS)

    # A slow uplink (about 3 s for the file), so the progress bar has something to show.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 20, "downloadThroughput": -1, "uploadThroughput": len(content) // 3},
    )
    page.evaluate(DROP_FILE, {"name": "vendas-2026.csv", "b64": base64.b64encode(content).decode()})
    page.get_by_test_id("upload-progress").wait_for()
    shot(page, "upload-progress")
    report = page.get_by_test_id("upload-report")
    report.wait_for(timeout=120_000)
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )

    # The bar went up while the bytes were sent, was indeterminate while the server worked, then full.
    progress = page.evaluate("window.__progress")
    states = [state for state, _ in progress]
    assert states[0] == "uploading" and states[-1] == "done", progress
    assert any(state == "uploading" and 0 < value < 100 for state, value in progress), progress
    first_processing = states.index("processing")
    assert first_processing > states.index("uploading") and progress[first_processing][1] is None, progress
    assert progress[-1][1] == 100

    # The report: counts, detected format and mapping, as the API stored them.
    batch_id = int(report.get_attribute("data-batch-id"))
    batch = demo.api.get(f"/ingest/batches/{batch_id}")
    assert batch["rows_rejected"] == len(expected) and batch["rows_loaded"] == 6000
    for testid, key in (
        ("rows-received", "rows_received"),
        ("rows-loaded", "rows_loaded"),
        ("rows-rejected", "rows_rejected"),
    ):
        assert int(page.get_by_test_id(testid).get_attribute("data-value")) == batch[key]
    assert page.get_by_test_id("rows-loaded").inner_text() == "6.000"
    detected = page.get_by_test_id("detected").inner_text()
    assert "cp1252" in detected and "ponto e vírgula (;)" in detected
    assert "vírgula decimal (1.234,56)" in detected and "dd/mm/aaaa" in detected
    mapping = {
        row.get_attribute("data-field"): row.locator("td").nth(1).inner_text()
        for row in page.get_by_test_id("mapping").locator("tbody tr").all()
    }
    assert (
        mapping
        == batch["details"]["mapping"]
        == {"date": "Data", "value": "Valor", "uf": "UF", "category": "Categoria"}
    )

    # The rejected rows: exactly the lines the test made bad, with the API's reasons, two pages of them.
    errors = demo.api.get(f"/ingest/batches/{batch_id}/errors", limit=1000)["items"]
    # An empty cell's value is "" on SQLite and null on Postgres (COPY); the page shows both as an empty cell.
    assert [(e["line"], e["column"], e["value"] or "") for e in errors] == expected
    api_rows = [(str(e["line"]), e["column"], e["value"] or "", e["reason"]) for e in errors]
    assert rejected_rows(page) == api_rows[:PAGE_SIZE]
    assert f"1\u201350 de {len(expected)}" in page.get_by_test_id("rejected-pager").inner_text()
    shown_reasons = {cell.inner_text() for cell in page.locator("[data-testid=rejected-row] td:nth-child(4)").all()}
    assert shown_reasons == {
        "não é uma data no formato dd/mm/aaaa",
        "não é um número",
        "UF desconhecida",
        "valor vazio",
    }
    shot(page, "upload-report")
    page.get_by_test_id("rejected-next").click()
    page.wait_for_function(
        "(count) => document.querySelectorAll('[data-testid=rejected-row]').length === count",
        arg=len(expected) - PAGE_SIZE,
    )
    assert rejected_rows(page) == api_rows[PAGE_SIZE:]

    # The same report is at #/batches/<id>, and the source is listed with this upload as its last load.
    page.goto(f"{demo.base_url}/#/batches/{batch_id}")
    page.get_by_test_id("rejected-table").wait_for()
    assert rejected_rows(page) == api_rows[:PAGE_SIZE]
    page.goto(f"{demo.base_url}/#/datasources")
    row = page.locator(f"[data-testid=source-row][data-id='{batch['data_source_id']}']")
    row.get_by_text("6.000 linhas").wait_for()
    assert "Vendas e2e" in row.inner_text()


def test_file_input_upload_of_a_wrong_file_says_why(demo, page):
    sign_in(page, demo.base_url)
    page.goto(f"{demo.base_url}/#/upload")
    page.get_by_test_id("upload-input").set_input_files(
        files=[{"name": "vazio.csv", "mimeType": "text/csv", "buffer": b"Data;Valor\r\n"}]
    )
    error = page.locator(".upload-result .notice-error")
    error.wait_for()
    assert "O arquivo foi recusado" in error.inner_text()
    assert page.get_by_test_id("upload-progress").get_attribute("data-state") == "error"
    page.get_by_test_id("upload-input").set_input_files(
        files=[{"name": "notas.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4"}]
    )
    page.get_by_text('"notas.pdf" não é um arquivo .csv ou .xlsx.').wait_for()


RECORD_PROCESSING = """() => {
  window.__processing = [];
  const bar = document.querySelector('[data-testid=upload-progress]');
  const label = document.querySelector('[data-testid=upload-progress-label]');
  const record = () => window.__processing.push(
    [bar.dataset.state, bar.hasAttribute('value') ? bar.value : null, label.textContent]);
  const attributeFilter = ['value', 'data-state', 'data-rows-processed'];
  new MutationObserver(record).observe(bar, { attributes: true, attributeFilter });
}"""


def test_async_upload_polls_the_batch_and_shows_rows_processed(demo, page):
    """The page's side of the 202 path, step by step: the browser's network layer turns the server's answers into a
    background load seen mid-way (the upload's 201 becomes a 202 with the batch id and a Location header, and the
    first polls of the batch say 'processing' with a quarter more rows each time), so each progress step is exact.
    The real 202 path is test_a_large_file_loads_in_the_background."""
    content, expected = brazilian_csv(good=400, bad_every=50)
    seen = {"prefer": None, "polls": 0, "received": 0}

    def accept_async(route):
        seen["prefer"] = route.request.headers.get("prefer")
        report = route.fetch().json()  # the real upload, loaded synchronously
        seen["received"] = report["rows_received"]
        route.fulfill(
            status=202,
            headers={"Location": f"/ingest/batches/{report['batch_id']}", "Retry-After": "1"},
            content_type="application/json",
            body=json.dumps({"batch_id": report["batch_id"], "status": "processing"}),
        )

    def batch_while_loading(route):
        batch = route.fetch().json()
        seen["polls"] += 1
        if seen["polls"] <= 3:  # a quarter more of the rows each time
            processed = batch["rows_received"] * seen["polls"] // 4
            batch.update(status="processing", rows_processed=processed, rows_loaded=0, finished_at=None)
        else:
            batch["rows_processed"] = batch["rows_received"]
        route.fulfill(status=200, content_type="application/json", body=json.dumps(batch))

    sign_in(page, demo.base_url)
    page.goto(f"{demo.base_url}/#/upload")
    page.get_by_test_id("upload-dropzone").wait_for()
    page.route("**/ingest/csv", accept_async)
    page.route(re.compile(r"/ingest/batches/\d+(\?.*)?$"), batch_while_loading)
    page.evaluate(RECORD_PROCESSING)
    page.get_by_test_id("upload-input").set_input_files(
        files=[{"name": "vendas-async.csv", "mimeType": "text/csv", "buffer": content}]
    )
    report = page.get_by_test_id("upload-report")
    report.wait_for()

    assert seen["prefer"] is None  # a small file: the page asks for no background load
    assert seen["polls"] == 4  # it stopped polling once the batch was loaded
    received = seen["received"]
    steps = [
        (value, text) for state, value, text in page.evaluate("window.__processing") if state == "processing" and value
    ]
    for quarter in (1, 2, 3):
        processed = received * quarter // 4
        label = f"Processando… {processed:,} de {received:,} linhas".replace(",", ".")
        assert any(abs(value - 100 * processed / received) < 0.01 and text == label for value, text in steps), steps
    assert page.get_by_test_id("upload-progress").get_attribute("data-state") == "done"

    # The report is the finished batch's, with its rejected rows.
    batch = demo.api.get(f"/ingest/batches/{report.get_attribute('data-batch-id')}")
    assert batch["rows_loaded"] == 400 and batch["rows_rejected"] == len(expected)
    assert int(page.get_by_test_id("rows-loaded").get_attribute("data-value")) == 400
    assert int(page.get_by_test_id("rows-rejected").get_attribute("data-value")) == len(expected)
    page.get_by_test_id("rejected-row").first.wait_for()
    assert [int(r.get_attribute("data-line")) for r in page.get_by_test_id("rejected-row").all()] == [
        line for line, _, _ in expected
    ]
    assert "Data" in page.get_by_test_id("mapping").inner_text()


def test_a_large_file_loads_in_the_background(demo, page):
    """A file over 2 MB: the page asks for a background load (Prefer: respond-async), the server answers 202, the
    page follows the batch until it is loaded and shows the finished batch's report."""
    content, expected = brazilian_csv(good=70_000, bad_every=997)
    assert len(content) > 2 * 1024 * 1024
    answers: list[tuple[str, int, str | None]] = []
    page.on(
        "response",
        lambda r: answers.append((r.url, r.status, r.request.headers.get("prefer"))) if "/ingest/" in r.url else None,
    )
    sign_in(page, demo.base_url)
    page.goto(f"{demo.base_url}/#/upload")
    page.get_by_test_id("upload-dropzone").wait_for()
    page.get_by_test_id("upload-name").fill("Vendas grandes")
    page.evaluate(RECORD_PROCESSING)
    page.get_by_test_id("upload-input").set_input_files(
        files=[{"name": "vendas-grandes.csv", "mimeType": "text/csv", "buffer": content}]
    )
    report = page.get_by_test_id("upload-report")
    report.wait_for(timeout=120_000)

    upload = [a for a in answers if a[0].endswith("/ingest/csv")]
    assert [(status, prefer) for _, status, prefer in upload] == [(202, "respond-async")]
    polls = [a for a in answers if re.search(r"/ingest/batches/\d+$", a[0])]
    assert polls and all(status == 200 for _, status, _ in polls)
    assert "processing" in [state for state, *_ in page.evaluate("window.__processing")]
    assert page.get_by_test_id("upload-progress").get_attribute("data-state") == "done"

    batch = demo.api.get(f"/ingest/batches/{report.get_attribute('data-batch-id')}")
    assert batch["status"] == "loaded"
    assert (batch["rows_loaded"], batch["rows_rejected"]) == (70_000, len(expected))
    assert batch["rows_processed"] == batch["rows_received"] == 70_000 + len(expected)
    assert int(page.get_by_test_id("rows-loaded").get_attribute("data-value")) == 70_000
    assert int(page.get_by_test_id("rows-rejected").get_attribute("data-value")) == len(expected)


def test_async_upload_that_fails_shows_the_batch_error(demo, page):
    """A batch that ends 'failed' (asynchronous contract, simulated as above) shows its error in the report."""

    def accept_async(route):
        report = route.fetch().json()
        route.fulfill(
            status=202,
            headers={"Location": f"/ingest/batches/{report['batch_id']}"},
            content_type="application/json",
            body=json.dumps({"batch_id": report["batch_id"], "status": "processing"}),
        )

    def failed_batch(route):
        batch = route.fetch().json()
        batch.update(status="failed", error="O banco recusou a carga (teste).", rows_loaded=0, rows_processed=2)
        route.fulfill(status=200, content_type="application/json", body=json.dumps(batch))

    sign_in(page, demo.base_url)
    page.goto(f"{demo.base_url}/#/upload")
    page.get_by_test_id("upload-dropzone").wait_for()
    page.route("**/ingest/csv", accept_async)
    page.route(re.compile(r"/ingest/batches/\d+(\?.*)?$"), failed_batch)
    page.get_by_test_id("upload-input").set_input_files(
        files=[{"name": "falha.csv", "mimeType": "text/csv", "buffer": b"Data;Valor\r\n05/01/2026;1,00\r\n"}]
    )
    report = page.get_by_test_id("upload-report")
    report.wait_for()
    assert "A carga falhou. O banco recusou a carga (teste)." in report.inner_text()
    assert page.get_by_test_id("upload-progress").get_attribute("data-state") == "failed"
    assert page.get_by_test_id("upload-progress-label").inner_text() == "A carga falhou."
