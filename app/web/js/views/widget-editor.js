// The dialog that adds or edits one widget: indicator, title, fixed parameters and size.

import { h, options } from "../dom.js";
import { GRAIN_LABELS } from "../format.js";
import { COLUMNS, MAX_HEIGHT } from "../layout.js";
import { openDialog } from "../ui.js";
import { UF_CODES, ufLabel } from "../ufs.js";
import { INDICATOR_LABELS } from "../widgets/index.js";

const RANGE_PARAMS = new Set(["from", "to", "start", "end"]); // the dashboard's range fills these

const DEFAULT_SIZES = {
  kpis: { w: 12, h: 2 }, "mapa-por-uf": { w: 5, h: 5 }, "valor-mes-a-mes": { w: 7, h: 5 },
  "top-categorias": { w: 6, h: 4 }, "acumulado-ano": { w: 6, h: 4 }, "serie-temporal": { w: 12, h: 4 },
};

function field(label, input, hint) {
  return h("label", { class: "field" }, h("span", {}, label), input, hint ? h("small", { class: "hint" }, hint) : null);
}

function toValue(type, raw) {
  if (raw === "" || raw === null || raw === undefined) return undefined;
  if (type === "integer") return Number.parseInt(raw, 10);
  if (type === "number") return Number(String(raw).replace(/\./g, "").replace(",", "."));
  if (type === "boolean") return raw === true || raw === "true";
  return String(raw);
}

/**
 * Open the editor. ctx: {catalog (GET /indicators), customs (GET /indicators/custom), sources (GET /datasources),
 * categories (GET /indicators/dimensions, the category field's suggestions)}.
 * save(widgetIn) does the PATCH (its errors show in the dialog). Resolves true when saved.
 */
export async function editWidget(widget, ctx, save) {
  const current = widget || { title: "", indicator: "valor-mes-a-mes", params: {}, position: null };
  const kindValue = current.custom_indicator_id ? `custom:${current.custom_indicator_id}` : current.indicator;
  const kind = h("select", { name: "indicator", required: true, "data-testid": "widget-indicator" },
    h("optgroup", { label: "Indicadores prontos" },
      options(ctx.catalog.map((i) => [i.key, INDICATOR_LABELS[i.key] || i.title]), kindValue)),
    ctx.customs.length
      ? h("optgroup", { label: "Indicadores personalizados (SQL, tabela)" },
        options(ctx.customs.map((c) => [`custom:${c.id}`, c.name]), kindValue))
      : null);
  const title = h("input", { type: "text", name: "title", required: true, maxlength: 200, value: current.title, "data-testid": "widget-title" });
  const width = h("input", { type: "number", min: 1, max: COLUMNS, required: true, value: current.position?.w ?? "" });
  const height = h("input", { type: "number", min: 1, max: MAX_HEIGHT, required: true, value: current.position?.h ?? "" });
  const paramBox = h("fieldset", { class: "params" });
  let readParams = () => ({});

  function chosen() {
    const v = kind.value;
    return v.startsWith("custom:") ? { custom: ctx.customs.find((c) => `custom:${c.id}` === v) } : { key: v };
  }

  function buildParams() {
    const { key, custom } = chosen();
    const params = current.params || {};
    const inputs = {};
    paramBox.replaceChildren(h("legend", {}, "Filtros fixos deste widget (opcionais)"));
    if (key) {
      inputs.uf = h("select", { name: "uf" }, options([["", "Todas as UFs"], ...UF_CODES.map((uf) => [uf, ufLabel(uf)])], params.uf));
      const categories = h("datalist", { id: "widget-categories" }, (ctx.categories || []).map((name) => h("option", { value: name })));
      inputs.category = h("input", { type: "text", name: "category", maxlength: 255, value: params.category ?? "", list: categories.id });
      inputs.data_source_id = h("select", { name: "data_source_id" },
        options([["", "Todas as fontes"], ...ctx.sources.map((s) => [s.id, s.name])], params.data_source_id));
      paramBox.append(field("UF", inputs.uf), field("Categoria", inputs.category), categories,
        field("Fonte de dados", inputs.data_source_id));
      if (key === "top-categorias") {
        inputs.limit = h("input", { type: "number", name: "limit", min: 1, max: 100, value: params.limit ?? 10 });
        paramBox.append(field("Quantas categorias", inputs.limit));
      }
      if (key === "serie-temporal") {
        inputs.grain = h("select", { name: "grain", "data-testid": "widget-grain-param" },
          options(Object.entries(GRAIN_LABELS), params.grain ?? "month"));
        paramBox.append(field("Agrupar por", inputs.grain));
      }
      readParams = () => {
        const out = {};
        if (inputs.uf.value) out.uf = inputs.uf.value;
        if (inputs.category.value.trim()) out.category = inputs.category.value.trim();
        if (inputs.data_source_id.value) out.data_source_id = Number(inputs.data_source_id.value);
        if (inputs.limit?.value) out.limit = Number(inputs.limit.value);
        if (inputs.grain?.value) out.grain = inputs.grain.value;
        return out;
      };
    } else if (custom) {
      const specs = custom.parameters.filter((p) => !RANGE_PARAMS.has(p.name));
      if (!specs.length) paramBox.append(h("p", { class: "hint" }, "Este indicador não tem parâmetros além do período."));
      for (const spec of specs) {
        const value = params[spec.name] ?? spec.default ?? "";
        inputs[spec.name] = spec.type === "boolean"
          ? h("input", { type: "checkbox", name: spec.name, checked: value === true })
          : h("input", { type: spec.type === "date" ? "date" : "text", name: spec.name, value, required: spec.required && spec.default === null });
        paramBox.append(field(`${spec.name} (${spec.type})`, inputs[spec.name]));
      }
      readParams = () => {
        const out = {};
        for (const spec of specs) {
          const input = inputs[spec.name];
          const value = toValue(spec.type, spec.type === "boolean" ? input.checked : input.value.trim());
          if (value !== undefined) out[spec.name] = value;
        }
        return out;
      };
    }
    const size = DEFAULT_SIZES[key] || { w: 6, h: 4 };
    if (!current.position) {
      width.value = size.w;
      height.value = size.h;
    }
    if (!title.value || title.dataset.auto === "true") {
      title.value = custom ? custom.name : (ctx.catalog.find((i) => i.key === key)?.title ?? "");
      title.dataset.auto = "true";
    }
  }
  title.addEventListener("input", () => { title.dataset.auto = "false"; });
  kind.addEventListener("change", buildParams);
  buildParams();

  const result = await openDialog({
    title: widget ? "Editar widget" : "Adicionar widget",
    testid: "widget-dialog",
    body: [
      field("Indicador", kind),
      field("Título", title),
      paramBox,
      h("div", { class: "field-row" },
        field("Largura (colunas de 12)", width), field("Altura (linhas)", height)),
    ],
    actions: [{ label: "Cancelar", value: null }, { label: "Salvar", value: "save", primary: true }],
    onSubmit: () => {
      const { key, custom } = chosen();
      const out = { title: title.value.trim(), params: readParams() };
      if (custom) out.custom_indicator_id = custom.id;
      else out.indicator = key;
      const base = current.position || ctx.nextSlot;
      out.position = { ...base, w: Number(width.value), h: Number(height.value) };
      return save(out);
    },
  });
  return result === "save";
}
