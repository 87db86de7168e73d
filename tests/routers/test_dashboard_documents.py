"""Dashboards trust no ids: another org's and missing ids answer alike, documents are typed, export round-trips."""

from __future__ import annotations

import pytest

PER_UF = {
    "name": "Por UF",
    "description": "Total por UF num período",
    "sql": "SELECT uf, SUM(value) AS total FROM facts WHERE date BETWEEN :start AND :end AND uf = :uf GROUP BY uf",
    "parameters": [
        {"name": "start", "type": "date"},
        {"name": "end", "type": "date"},
        {"name": "uf", "type": "string", "required": False, "default": "SP"},
    ],
}
DEFAULT_POSITION = {"x": 0, "y": 0, "w": 4, "h": 3}


def create_custom(client, org, body=PER_UF):
    r = client.post("/indicators/custom", headers=org.headers("Admin"), json=body)
    assert r.status_code == 201, r.text
    return r.json()


def document(widgets, name="Importado"):
    return {"format": "painel.dashboard", "version": 1, "name": name, "description": None, "widgets": widgets}


def custom_widget(indicator_id, **kw):
    return {"title": "Custom", "custom_indicator_id": indicator_id, "params": {"uf": "RJ"}, **kw}


def dashboards_of(client, org):
    return client.get("/dashboards", headers=org.headers()).json()


def test_other_orgs_custom_indicator_id_is_refused_on_create_patch_and_import(client, org_a, org_b):
    theirs = create_custom(client, org_a)
    editor_b = org_b.headers("Editor")
    r = client.post("/dashboards", headers=editor_b, json={"name": "x", "widgets": [custom_widget(theirs["id"])]})
    assert r.status_code == 422 and r.json()["code"] == "unknown_indicator", r.text
    assert r.json()["detail"] == f"widgets[0]: unknown custom indicator {theirs['id']}"

    own = client.post("/dashboards", headers=editor_b, json={"name": "B", "widgets": []}).json()
    r = client.patch(f"/dashboards/{own['id']}", headers=editor_b, json={"widgets": [custom_widget(theirs["id"])]})
    assert r.status_code == 422 and r.json()["code"] == "unknown_indicator", r.text
    assert client.get(f"/dashboards/{own['id']}", headers=editor_b).json()["widgets"] == []

    # The original attack: a ready-made widget that also carries another org's custom_indicator_id.
    smuggled = {"title": "KPIs", "indicator": "kpis", "custom_indicator_id": theirs["id"]}
    r = client.post("/dashboards/import", headers=editor_b, json=document([smuggled]))
    assert r.status_code == 422 and r.json()["code"] == "validation_error", r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in r.json()["errors"]] == ["widgets.0.custom_indicator_id"]
    by_id = {"title": "Custom", "custom_indicator_id": theirs["id"]}
    r = client.post("/dashboards/import", headers=org_b.headers("Admin"), json=document([by_id]))
    assert r.status_code == 422 and "widgets.0.custom_indicator_id" in r.json()["detail"]

    assert dashboards_of(client, org_b)["total"] == 1  # only "B", unchanged
    assert client.delete(f"/indicators/custom/{theirs['id']}", headers=org_a.headers("Admin")).status_code == 204


def test_missing_id_and_other_orgs_id_answer_the_same(client, org_a, org_b):
    theirs = create_custom(client, org_a)
    missing = theirs["id"] + 1000
    answers = []
    for indicator_id in (theirs["id"], missing):
        r = client.post(
            "/dashboards", headers=org_b.headers("Editor"), json={"name": "x", "widgets": [custom_widget(indicator_id)]}
        )
        body = r.json()
        answers.append((r.status_code, body["code"], sorted(body), body["detail"].replace(str(indicator_id), "<id>")))
    assert (
        answers[0]
        == answers[1]
        == (
            422,
            "unknown_indicator",
            sorted(answers[0][2]),
            "widgets[0]: unknown custom indicator <id>",
        )
    )

    source_a = client.post(
        "/datasources", headers=org_a.headers("Admin"), json={"name": "fonte", "type": "csv_upload", "config": {}}
    )
    assert source_a.status_code == 201, source_a.text
    source_id = source_a.json()["id"]
    answers = []
    for sid in (source_id, source_id + 1000):
        widget = {"title": "KPIs", "indicator": "kpis", "params": {"data_source_id": sid}}
        r = client.post("/dashboards", headers=org_b.headers("Editor"), json={"name": "x", "widgets": [widget]})
        answers.append((r.status_code, r.json()["code"], r.json()["detail"].replace(str(sid), "<id>")))
    assert answers[0] == answers[1] == (422, "unknown_data_source", "widgets[0]: unknown data source <id>")
    assert dashboards_of(client, org_b)["total"] == 0


@pytest.mark.parametrize(
    ("where", "field"),
    [("custom_indicator", "widgets.0.custom_indicator.id"), ("widget", "widgets.0.id"), ("document", "id")],
)
def test_ids_inside_documents_are_refused(client, org_a, org_b, where, field):
    widget = {"title": "Custom", "custom_indicator": {**PER_UF, "name": "Com id"}, "params": {"uf": "RJ"}}
    doc = document([widget])
    target = {"custom_indicator": widget["custom_indicator"], "widget": widget, "document": doc}[where]
    target["id"] = 999
    r = client.post("/dashboards/import", headers=org_a.headers("Admin"), json=doc)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "validation_error" and [e["field"] for e in r.json()["errors"]] == [field]
    assert client.get("/indicators/custom", headers=org_a.headers()).json()["items"] == []
    # Nothing was stored and the id sequences are untouched: normal creations work in both orgs.
    for org in (org_a, org_b):
        created = create_custom(client, org)
        r = client.post(
            "/dashboards",
            headers=org.headers("Editor"),
            json={"name": "Normal", "widgets": [custom_widget(created["id"])]},
        )
        assert r.status_code == 201, r.text
        assert r.json()["widgets"][0]["custom_indicator_id"] == created["id"]


def test_widget_without_position_gets_the_default_in_post_patch_and_import(client, org_a):
    headers = org_a.headers("Editor")
    bare = {"title": "KPIs", "indicator": "kpis"}
    created = client.post("/dashboards", headers=headers, json={"name": "x", "widgets": [bare]})
    assert created.status_code == 201, created.text
    assert created.json()["widgets"][0]["position"] == DEFAULT_POSITION
    patched = client.patch(f"/dashboards/{created.json()['id']}", headers=headers, json={"widgets": [bare, bare]})
    assert patched.status_code == 200, patched.text
    assert [w["position"] for w in patched.json()["widgets"]] == [DEFAULT_POSITION, DEFAULT_POSITION]
    imported = client.post("/dashboards/import", headers=headers, json=document([bare]))
    assert imported.status_code == 201, imported.text
    assert imported.json()["widgets"][0]["position"] == DEFAULT_POSITION


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (lambda d: d.update(name=None), "name", "valid string"),
        (lambda d: d["widgets"][0].update(title="t" * 5000), "widgets.0.title", "at most 200 characters"),
        (
            lambda d: d["widgets"][1]["custom_indicator"]["parameters"][0].update(type="banana"),
            "widgets.1.custom_indicator.parameters.0.type",
            "'string', 'integer', 'number', 'date' or 'boolean'",
        ),
        (lambda d: d["widgets"][0].update(position={"x": 0}), "widgets.0.position.y", "Field required"),
        (
            lambda d: d["widgets"][0].update(params={"uf": {"nested": 1}}),
            "widgets.0.params.uf",
            "a string, a number, a boolean or null",
        ),
        (lambda d: d.update(format="other"), "format", "'painel.dashboard'"),
        (lambda d: d.update(version=2), "version", "1"),
        (lambda d: d["widgets"][0].update(custom_indicator=PER_UF), "widgets.0", "exactly one"),
    ],
)
def test_bad_documents_answer_422_naming_the_field(client, org_a, change, field, message):
    doc = document(
        [
            {"title": "KPIs", "indicator": "kpis", "position": {"x": 0, "y": 0, "w": 6, "h": 4}},
            {"title": "Custom", "custom_indicator": {**PER_UF, "parameters": [dict(p) for p in PER_UF["parameters"]]}},
        ]
    )
    change(doc)
    r = client.post("/dashboards/import", headers=org_a.headers("Admin"), json=doc)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["code"] == "validation_error"
    fields = [e["field"] for e in body["errors"]]
    assert field in fields, fields
    assert message in next(e["message"] for e in body["errors"] if e["field"] == field)
    assert dashboards_of(client, org_a)["total"] == 0
    assert client.get("/indicators/custom", headers=org_a.headers()).json()["items"] == []


def test_bad_widget_param_values_are_refused_at_save(client, org_a):
    ours = create_custom(client, org_a)
    r = client.post(
        "/dashboards",
        headers=org_a.headers("Editor"),
        json={"name": "x", "widgets": [custom_widget(ours["id"], params={"start": "ontem"})]},
    )
    assert r.status_code == 422 and r.json()["code"] == "invalid_parameter"
    assert r.json()["detail"] == "widgets[0]: Parameter 'start' must be a date"
    r = client.post(
        "/dashboards",
        headers=org_a.headers("Editor"),
        json={"name": "x", "widgets": [{"title": "t", "indicator": "kpis", "params": {"category": 5}}]},
    )
    assert r.status_code == 422 and r.json()["code"] == "invalid_parameter"


def test_export_import_round_trip_in_another_org(client, org_a, org_b):
    ours = create_custom(client, org_a)
    widgets = [
        {
            "title": "Top 3",
            "indicator": "top-categorias",
            "params": {"limit": 3, "uf": "SP"},
            "position": DEFAULT_POSITION,
        },
        {
            "title": "Só RJ",
            "custom_indicator_id": ours["id"],
            "params": {"uf": "RJ"},
            "position": {"x": 4, "y": 3, "w": 8, "h": 5},
        },
        {"title": "Mapa", "indicator": "mapa-por-uf", "params": {}, "position": {"x": 0, "y": 8, "w": 12, "h": 6}},
    ]
    source = client.post(
        "/dashboards", headers=org_a.headers("Editor"), json={"name": "Vendas", "description": "d", "widgets": widgets}
    ).json()
    exported = client.get(f"/dashboards/{source['id']}/export", headers=org_a.headers("Viewer"))
    assert exported.status_code == 200, exported.text
    doc = exported.json()
    assert doc == {
        "format": "painel.dashboard",
        "version": 1,
        "name": "Vendas",
        "description": "d",
        "widgets": [
            {
                "title": w["title"],
                "params": w["params"],
                "position": w["position"],
                "indicator": w.get("indicator"),
                "custom_indicator": None
                if "indicator" in w
                else {key: PER_UF[key] for key in ("name", "description", "sql")}
                | {"parameters": [{"required": True, "default": None} | p for p in PER_UF["parameters"]]},
            }
            for w in widgets
        ],
    }

    # An Editor of org B cannot create the custom indicator it needs...
    r = client.post("/dashboards/import", headers=org_b.headers("Editor"), json=doc)
    assert r.status_code == 403 and r.json()["code"] == "insufficient_role"
    assert dashboards_of(client, org_b)["total"] == 0
    # ...an Admin can; the copy is equal to the original in everything but ids.
    imported = client.post("/dashboards/import", headers=org_b.headers("Admin"), json=doc)
    assert imported.status_code == 201, imported.text
    copy = imported.json()
    theirs = client.get("/indicators/custom", headers=org_b.headers()).json()["items"]
    assert [(c["name"], c["sql"], c["parameters"]) for c in theirs] == [(ours["name"], ours["sql"], ours["parameters"])]
    assert theirs[0]["id"] != ours["id"]

    def shape(dashboard, custom_id):
        return [
            (w["title"], w["indicator"], w["custom_indicator_id"] == custom_id, w["params"], w["position"])
            for w in dashboard["widgets"]
        ]

    assert shape(copy, theirs[0]["id"]) == shape(source, ours["id"])
    assert (copy["name"], copy["description"]) == (source["name"], source["description"])
    again = client.get(f"/dashboards/{copy['id']}/export", headers=org_b.headers()).json()
    assert again == doc
    # Importing the same document again (now as an Editor) reuses the indicator of the same name.
    second = client.post("/dashboards/import", headers=org_b.headers("Editor"), json=doc)
    assert second.status_code == 201 and second.json()["widgets"][1]["custom_indicator_id"] == theirs[0]["id"]


def test_a_failing_import_stores_nothing(client, org_a):
    doc = document(
        [
            {"title": "Custom", "custom_indicator": PER_UF, "params": {"uf": "RJ"}},
            {"title": "Nope", "indicator": "nope"},
        ]
    )
    r = client.post("/dashboards/import", headers=org_a.headers("Admin"), json=doc)
    assert r.status_code == 422 and r.json()["code"] == "unknown_indicator"
    assert r.json()["detail"].startswith("widgets[1]: unknown indicator 'nope'")
    assert client.get("/indicators/custom", headers=org_a.headers()).json()["items"] == []
    assert dashboards_of(client, org_a)["total"] == 0
    unsafe = document([{"title": "Evil", "custom_indicator": {**PER_UF, "sql": "SELECT email FROM users"}}])
    r = client.post("/dashboards/import", headers=org_a.headers("Admin"), json=unsafe)
    assert r.status_code == 422 and r.json()["code"] == "unsafe_sql"
    assert r.json()["detail"].startswith("widgets[0].custom_indicator: ")
    assert client.get("/indicators/custom", headers=org_a.headers()).json()["items"] == []
