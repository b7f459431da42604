// The model panel: what the machine offers, which model the planner picks
// for each task and why, a picture of the fit, and the installed models.
// Pure DOM building from plain data, tested without a window.
import type { DownloadProgress, Estimate, HardwareProfile, InstalledModel, MachineFit, Plan } from "./api";
import { el } from "./dom";
import { formatBytes } from "./format";

export interface Segment {
  kind: "weights" | "cache" | "work" | "app" | "margin" | "free";
  label: string;
  bytes: number;
  /** Share of the usable memory, 0–100. */
  percent: number;
}

const LABELS: Record<Segment["kind"], string> = {
  weights: "Model weights",
  cache: "Context cache",
  work: "Compute and runtime",
  app: "Pith app",
  margin: "Kept free (safety margin)",
  free: "Free",
};

/**
 * The machine's usable memory split into what the chosen model takes in
 * RAM and what stays free. Layers on a discrete GPU are not in RAM.
 */
export function fitSegments(e: Estimate, usable: number, budget: number): Segment[] {
  const onGpu = e.vram_bytes > 0;
  const model = onGpu ? Math.max(0, e.ram_bytes - e.app_bytes - e.runtime_bytes) : 0;
  const parts: [Segment["kind"], number][] = onGpu
    ? [
        ["weights", model],
        ["work", e.runtime_bytes],
      ]
    : [
        ["weights", e.weights_bytes],
        ["cache", e.kv_cache_bytes],
        ["work", e.compute_bytes + e.runtime_bytes],
      ];
  parts.push(["app", e.app_bytes]);
  const used = parts.reduce((s, [, b]) => s + b, 0);
  parts.push(["margin", Math.max(0, usable - budget)]);
  parts.push(["free", Math.max(0, budget - used)]);
  const total = Math.max(usable, parts.reduce((s, [, b]) => s + b, 0));
  return parts
    .filter(([, b]) => b > 0)
    .map(([kind, bytes]) => ({ kind, label: LABELS[kind], bytes, percent: (bytes / total) * 100 }));
}

function fitBar(segments: Segment[], caption: string): HTMLElement {
  const bar = el("div", { class: "fit-bar", role: "img", "aria-label": caption });
  for (const s of segments) {
    const part = el("span", { class: `fit fit-${s.kind}`, title: `${s.label}: ${formatBytes(s.bytes)}` });
    part.style.width = `${s.percent.toFixed(2)}%`;
    bar.append(part);
  }
  const legend = el(
    "ul",
    { class: "fit-legend" },
    ...segments.map((s) => el("li", {}, el("span", { class: `swatch fit-${s.kind}` }), `${s.label} ${formatBytes(s.bytes)}`)),
  );
  return el("div", { class: "fit-figure" }, bar, legend);
}

const TASK_TITLES: Record<Plan["task"], string> = {
  rephrase: "Rephrase (hotkey)",
  summarize: "Summarize documents",
  chat: "Chat",
};

/** The installed file of a catalog model, if it is installed. */
function installedFile(installed: InstalledModel[], id: string, file: string): InstalledModel | undefined {
  return installed.find((m) => m.catalog_id === id || m.path.endsWith(`/${file}`));
}

/** Download, Use, or "In use" for a plan's model. */
function planAction(plan: Plan, installed: InstalledModel[], currentPath: string | null): HTMLElement | null {
  const c = plan.choice;
  if (!c) return null;
  const have = installedFile(installed, c.id, c.file);
  if (have && have.path === currentPath) return el("p", { class: "plan-action muted" }, "In use");
  if (have) return el("p", { class: "plan-action" }, el("button", { type: "button", class: "use-model", "data-use": have.path }, "Use this model"));
  return el(
    "p",
    { class: "plan-action" },
    el("button", { type: "button", class: "download-model primary", "data-download": c.id, "data-name": `${c.name} ${c.quant}` }, `Download (${formatBytes(c.size_bytes)})`),
  );
}

export function planCard(plan: Plan, installed: InstalledModel[] = [], currentPath: string | null = null): HTMLElement {
  const title = el("h3", {}, TASK_TITLES[plan.task]);
  if (!plan.choice) {
    return el("section", { class: "plan plan-none", "data-task": plan.task }, title, el("p", { class: "reason" }, plan.reason));
  }
  const e = plan.choice.estimate;
  const b = plan.budget;
  const facts = `${e.context.toLocaleString("en")} tokens of context · about ${Math.round(e.gen_tps)} tokens/s · ${
    e.gpu_layers > 0 ? `${e.gpu_layers} layers on the GPU` : "on the CPU"
  }`;
  const caption = `${plan.choice.name} ${plan.choice.quant} uses ${formatBytes(e.ram_bytes)} of ${formatBytes(
    b.ram_usable_bytes,
  )} usable memory`;
  const card = el(
    "section",
    { class: "plan", "data-task": plan.task },
    title,
    el("p", { class: "choice" }, el("strong", {}, `${plan.choice.name} ${plan.choice.quant}`), " — ", facts),
    fitBar(fitSegments(e, b.ram_usable_bytes, b.ram_budget_bytes), caption),
    el("p", { class: "reason" }, plan.reason),
  );
  const action = planAction(plan, installed, currentPath);
  if (action) card.append(action);
  if (e.vram_bytes > 0 && b.vram_budget_bytes !== null) {
    card.append(el("p", { class: "muted" }, `GPU memory: ${formatBytes(e.vram_bytes)} of ${formatBytes(b.vram_budget_bytes)} free`));
  }
  const rejected = el(
    "details",
    { class: "rejected" },
    el("summary", {}, `${plan.rejected.length} other models and why not`),
    el("ul", {}, ...plan.rejected.map((r) => el("li", {}, r.reason))),
  );
  card.append(rejected);
  return card;
}

export function hardwareCard(hw: HardwareProfile, gpuOffload: boolean): HTMLElement {
  const unknown = "unknown";
  const bytes = (n: number | null) => (n === null ? unknown : formatBytes(n));
  const rows: [string, string][] = [
    [
      "Processor",
      `${hw.cpu.model ?? unknown} · ${hw.cpu.physical_cores ?? unknown} cores (${hw.cpu.logical_cores} threads)`,
    ],
    ["Vector units", hw.cpu.features.join(" ") || "none found"],
    ["Memory", `${bytes(hw.memory.total_bytes)} total, ${bytes(hw.memory.available_bytes)} available`],
  ];
  if (hw.memory.cgroup_limit_bytes !== null) {
    rows.push(["Container limit", bytes(hw.memory.cgroup_limit_bytes)]);
  }
  if (hw.memory_bandwidth_gbs !== null) rows.push(["Memory bandwidth", `${hw.memory_bandwidth_gbs} GB/s (measured)`]);
  const gpus = hw.gpus.map((g) =>
    g.unified_memory ? `${g.name} (shares system memory)` : `${g.name}, ${bytes(g.total_vram_bytes)} (${bytes(g.free_vram_bytes)} free)`,
  );
  rows.push(["Graphics", gpus.length ? gpus.join("; ") : "none found"]);
  if (gpus.length && !gpuOffload) rows.push(["", "This build runs models on the CPU."]);
  if (hw.disk) rows.push(["Disk", `${bytes(hw.disk.free_bytes)} free for models`]);
  const dl = el("dl", { class: "facts" });
  for (const [k, v] of rows) dl.append(el("dt", {}, k), el("dd", {}, v));
  return el("section", { class: "card hw" }, el("h2", {}, "This computer"), dl);
}

export function installedList(models: InstalledModel[], currentPath: string | null): HTMLElement {
  const items = models.map((m) => {
    const facts = m.summary
      ? `${formatBytes(m.size_bytes)} · ${m.summary.architecture ?? "?"} · ${m.summary.has_chat_template ? "instruct" : "base model"}`
      : `${formatBytes(m.size_bytes)} · unusable: ${m.problem ?? "unknown problem"}`;
    const inUse = currentPath !== null && m.path === currentPath;
    const item = el(
      "li",
      { class: inUse ? "installed in-use" : "installed" },
      el("span", { class: "installed-name" }, m.id),
      el(
        "span",
        { class: "muted" },
        facts +
          (m.found_in ? ` · from ${m.found_in}, used where it is` : "") +
          (m.adapters.length ? ` · adapters for ${m.adapters.join(", ")}` : "") +
          (inUse ? " · in use" : ""),
      ),
    );
    if (!inUse && m.summary) item.append(el("button", { type: "button", class: "use-model", "data-use": m.path }, "Use"));
    return item;
  });
  return el(
    "section",
    { class: "card" },
    el("h2", {}, "Installed models"),
    items.length ? el("ul", { class: "installed-list" }, ...items) : el("p", { class: "muted" }, "No models installed."),
    el(
      "p",
      { class: "installed-foot" },
      el("button", { type: "button", class: "import-model" }, "Import a GGUF file…"),
      el("span", { class: "muted" }, " Any GGUF model file; it is checked, then copied into the models folder."),
    ),
  );
}

export interface DownloadRow {
  node: HTMLElement;
  update(p: DownloadProgress): void;
}

/** What takes a Download button's place while the file comes in. */
export function downloadRow(name: string, onCancel: () => void): DownloadRow {
  const bar = el("progress", { class: "download-progress", max: "1", "aria-label": `Downloading ${name}` });
  const line = el("span", { class: "muted download-line", role: "status" }, "Starting…");
  const cancel = el("button", { type: "button", class: "cancel-download" }, "Cancel");
  cancel.addEventListener("click", onCancel);
  return {
    node: el("div", { class: "download" }, bar, el("div", { class: "download-foot" }, line, cancel)),
    update(p) {
      if (p.total) {
        bar.value = p.downloaded / p.total;
        line.textContent = `${formatBytes(p.downloaded)} of ${formatBytes(p.total)} · ${Math.floor((100 * p.downloaded) / p.total)}%`;
      } else {
        bar.removeAttribute("value");
        line.textContent = `${formatBytes(p.downloaded)}`;
      }
    },
  };
}

export function modelPanel(fit: MachineFit, currentPath: string | null): HTMLElement {
  const notes = [...new Set(fit.plans.flatMap((p) => p.notes))];
  return el(
    "div",
    { class: "model-panel" },
    hardwareCard(fit.hardware, fit.gpu_offload),
    el(
      "section",
      { class: "card" },
      el("h2", {}, "Recommended for this computer"),
      ...notes.map((n) => el("p", { class: "note" }, n)),
      ...fit.plans.map((p) => planCard(p, fit.installed, currentPath)),
    ),
    installedList(fit.installed, currentPath),
  );
}
