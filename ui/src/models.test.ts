import { afterEach, describe, expect, it } from "vitest";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { machineFit, type Estimate, type MachineFit, type Plan } from "./api";
import { downloadRow, fitSegments, modelPanel, planCard } from "./models";
import { vi } from "vitest";

afterEach(() => clearMocks());

const MB = 1_000_000;

function estimate(over: Partial<Estimate> = {}): Estimate {
  return {
    context: 4096,
    gpu_layers: 0,
    weights_bytes: 850 * MB,
    kv_cache_bytes: 134 * MB,
    compute_bytes: 30 * MB,
    runtime_bytes: 20 * MB,
    app_bytes: 300 * MB,
    ram_bytes: 1334 * MB,
    vram_bytes: 0,
    gen_tps: 14.2,
    prompt_tps: 60,
    first_token_s: 2.9,
    ...over,
  };
}

function plan(task: Plan["task"], est: Estimate | null): Plan {
  return {
    task,
    choice: est && { id: "llama-3.2-1b-instruct-q4_k_m", name: "Llama 3.2 1B Instruct", file: "x.gguf", quant: "Q4_K_M", size_bytes: 808 * MB, estimate: est },
    reason: est ? "the best-ranked model that fits" : "no catalog model suits chat on this machine",
    budget: {
      ram_usable_bytes: 4000 * MB,
      ram_budget_bytes: 3600 * MB,
      vram_budget_bytes: null,
      gpu: null,
      bandwidth_gbs: 17,
      bandwidth_source: "measured",
    },
    rejected: [{ id: "qwen", reason: "Qwen2.5 3B Instruct Q8_0: needs 3.9 GB, 2.4 GB free" }],
    notes: ["GeForce GTX 1060 found, but this build runs models on the CPU only"],
  };
}

const FIT: MachineFit = {
  hardware: {
    os: "linux",
    arch: "x86_64",
    cpu: { model: "AMD EPYC", physical_cores: 2, logical_cores: 2, features: ["AVX2", "FMA"] },
    memory: { total_bytes: 8000 * MB, available_bytes: 4000 * MB, cgroup_limit_bytes: null, cgroup_usage_bytes: null },
    gpus: [
      {
        vendor: "nvidia",
        name: "GeForce GTX 1060",
        total_vram_bytes: 6000 * MB,
        free_vram_bytes: 5800 * MB,
        unified_memory: false,
        memory_bandwidth_gbs: 192,
        source: "nvml",
      },
    ],
    disk: { path: "/data/models", free_bytes: 70_000 * MB },
    memory_bandwidth_gbs: 17.1,
  },
  plans: [plan("rephrase", estimate()), plan("summarize", null), plan("chat", estimate())],
  installed: [
    {
      id: "SmolLM2-135M-Instruct.Q4_1",
      path: "/m/SmolLM2-135M-Instruct.Q4_1.gguf",
      size_bytes: 98 * MB,
      catalog_id: "smollm2-135m-instruct-q4_1",
      summary: {
        version: 3, tensor_count: 272, kv_count: 37, architecture: "llama", name: "SmolLM2 135M Instruct",
        context_length: 8192, block_count: 30, embedding_length: 576, head_count: 9, head_count_kv: 3,
        key_length: null, sliding_window: null, vocab_size: 49152, has_chat_template: true, is_adapter: false, file_size: 98 * MB,
      },
      problem: null,
      found_in: null,
      adapters: ["proofread"],
    },
    { id: "broken", path: "/m/broken.gguf", size_bytes: 40, catalog_id: null, summary: null, problem: "the file is truncated", found_in: null, adapters: [] },
  ],
  gpu_offload: false,
};

describe("fit picture", () => {
  it("splits usable memory into the model's parts, the app, the margin and what stays free", () => {
    const s = fitSegments(estimate(), 4000 * MB, 3600 * MB);
    expect(s.map((x) => x.kind)).toEqual(["weights", "cache", "work", "app", "margin", "free"]);
    expect(s.find((x) => x.kind === "work")?.bytes).toBe(50 * MB);
    expect(s.find((x) => x.kind === "margin")?.bytes).toBe(400 * MB);
    expect(s.find((x) => x.kind === "free")?.bytes).toBe(3600 * MB - 1334 * MB);
    const total = s.reduce((sum, x) => sum + x.percent, 0);
    expect(total).toBeCloseTo(100, 5);
  });

  it("leaves weights on a discrete GPU out of RAM", () => {
    const onGpu = estimate({ gpu_layers: 17, vram_bytes: 1014 * MB, ram_bytes: 320 * MB });
    const s = fitSegments(onGpu, 4000 * MB, 3600 * MB);
    expect(s.find((x) => x.kind === "cache")).toBeUndefined();
    expect(s.find((x) => x.kind === "weights")).toBeUndefined();
    expect(s.find((x) => x.kind === "app")?.bytes).toBe(300 * MB);
  });

  it("never draws more than the whole bar when a forced model overflows", () => {
    const s = fitSegments(estimate({ weights_bytes: 9000 * MB }), 4000 * MB, 3600 * MB);
    expect(s.reduce((sum, x) => sum + x.percent, 0)).toBeCloseTo(100, 5);
    expect(s.find((x) => x.kind === "free")).toBeUndefined();
  });
});

describe("model panel", () => {
  it("shows the machine, each task's pick with its reason and bar, and the installed models", () => {
    const panel = modelPanel(FIT, "/m/SmolLM2-135M-Instruct.Q4_1.gguf");
    expect(panel.textContent).toContain("AMD EPYC · 2 cores");
    expect(panel.textContent).toContain("GeForce GTX 1060, 6.00 GB (5.80 GB free)");
    expect(panel.textContent).toContain("This build runs models on the CPU.");
    expect(panel.querySelectorAll(".plan")).toHaveLength(3);
    expect(panel.querySelectorAll(".fit-bar")).toHaveLength(2);
    const chat = panel.querySelector('[data-task="chat"]');
    expect(chat?.textContent).toContain("Llama 3.2 1B Instruct Q4_K_M");
    expect(chat?.textContent).toContain("about 14 tokens/s");
    expect(chat?.querySelector(".fit-bar")?.getAttribute("aria-label")).toContain("1.33 GB of 4.00 GB usable");
    expect(panel.querySelector('[data-task="summarize"]')?.textContent).toContain("no catalog model suits");
    // A note shared by all plans is shown once.
    expect(panel.querySelectorAll(".note")).toHaveLength(1);
    expect(panel.querySelector(".in-use")?.textContent).toContain("SmolLM2-135M-Instruct.Q4_1");
    expect(panel.querySelector(".in-use")?.textContent).toContain("adapters for proofread");
    expect(panel.textContent).toContain("unusable: the file is truncated");
  });

  it("lists every rejected model with its reason", () => {
    const card = planCard(plan("chat", estimate()));
    expect(card.querySelector(".rejected summary")?.textContent).toBe("1 other models and why not");
    expect(card.querySelector(".rejected li")?.textContent).toContain("needs 3.9 GB");
  });

  it("offers Download for a pick not installed, Use for one installed, and nothing for the one in use", () => {
    const pick = plan("chat", estimate());
    const download = planCard(pick, [], null).querySelector<HTMLElement>(".download-model");
    expect(download?.dataset.download).toBe("llama-3.2-1b-instruct-q4_k_m");
    // The file's size, not what its weights take in memory.
    expect(download?.textContent).toBe("Download (808 MB)");
    const have = { ...FIT.installed[0], path: "/m/x.gguf", catalog_id: "llama-3.2-1b-instruct-q4_k_m" };
    expect(planCard(pick, [have], null).querySelector<HTMLElement>(".use-model")?.dataset.use).toBe("/m/x.gguf");
    expect(planCard(pick, [have], "/m/x.gguf").querySelector(".plan-action")?.textContent).toBe("In use");
  });

  it("offers Use on every usable installed model but the one in use, and an import", () => {
    const panel = modelPanel(FIT, "/m/SmolLM2-135M-Instruct.Q4_1.gguf");
    const uses = Array.from(panel.querySelectorAll<HTMLElement>(".installed .use-model"), (b) => b.dataset.use);
    expect(uses).toEqual([]);
    expect(panel.querySelector(".import-model")?.textContent).toBe("Import a GGUF file…");
    const other = modelPanel(FIT, null);
    expect(other.querySelectorAll(".installed .use-model")).toHaveLength(1);
  });

  it("shows a download's progress and cancels it", () => {
    const cancel = vi.fn();
    const row = downloadRow("SmolLM2 360M Instruct Q4_K_M", cancel);
    row.update({ downloaded: 68 * MB, total: 271 * MB });
    expect(row.node.querySelector(".download-line")?.textContent).toBe("68 MB of 271 MB · 25%");
    expect(row.node.querySelector("progress")?.value).toBeCloseTo(0.251, 3);
    row.node.querySelector<HTMLButtonElement>(".cancel-download")?.click();
    expect(cancel).toHaveBeenCalledOnce();
  });

  it("puts model and file names in as text", () => {
    const evil = { ...FIT, installed: [{ ...FIT.installed[1], id: "<img src=x onerror=alert(1)>" }] };
    const panel = modelPanel(evil, null);
    expect(panel.querySelector("img")).toBeNull();
    expect(panel.textContent).toContain("<img src=x onerror=alert(1)>");
  });

  it("asks Rust for the fit through machine_fit", async () => {
    mockIPC((cmd) => (cmd === "machine_fit" ? FIT : undefined));
    const fit = await machineFit();
    expect(fit.plans.map((p) => p.task)).toEqual(["rephrase", "summarize", "chat"]);
  });
});
