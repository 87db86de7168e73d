// The vendored libraries, imported from one place (scripts/refresh-web-vendor.sh rewrites these paths).
export * as echarts from "../vendor/echarts-6.1.0/echarts.esm.min.js";
export { default as brazilMap } from "../vendor/svg-maps-brazil-2.0.0/brazil.js";

// The map's license (CC BY 4.0 asks for credit): linked under every map.
export const BRAZIL_MAP_LICENSE = new URL("../vendor/svg-maps-brazil-2.0.0/LICENSE.md", import.meta.url).pathname;
