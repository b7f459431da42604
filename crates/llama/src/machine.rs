//! The machine as the engine sees it: the core's hardware probe plus what
//! only llama.cpp knows (its GPU backends), and the measured bandwidth.

use pith_core::hardware::{self, HardwareProfile};
use std::path::Path;

/// True when the linked llama.cpp has a GPU backend (CUDA, Metal, Vulkan).
pub fn gpu_offload_supported() -> bool {
    crate::engine::backend().is_ok_and(|b| b.supports_gpu_offload())
}

/// GPUs as llama.cpp's backends see them (empty in a CPU-only build).
pub fn gpu_devices() -> Vec<pith_core::hardware::Gpu> {
    use llama_cpp_2::LlamaBackendDeviceType as Kind;
    use pith_core::hardware::{Gpu, GpuVendor};
    if crate::engine::backend().is_err() {
        return Vec::new();
    }
    llama_cpp_2::list_llama_ggml_backend_devices()
        .into_iter()
        .filter(|d| matches!(d.device_type, Kind::Gpu | Kind::IntegratedGpu))
        .map(|d| {
            let unified = d.device_type == Kind::IntegratedGpu || d.backend == "Metal";
            let lower = d.description.to_lowercase();
            let vendor = if lower.contains("nvidia") {
                GpuVendor::Nvidia
            } else if lower.contains("amd") || lower.contains("radeon") {
                GpuVendor::Amd
            } else if lower.contains("intel") {
                GpuVendor::Intel
            } else if lower.contains("apple") {
                GpuVendor::Apple
            } else {
                GpuVendor::Other
            };
            Gpu {
                vendor,
                name: d.description,
                total_vram_bytes: (!unified && d.memory_total > 0).then_some(d.memory_total as u64),
                free_vram_bytes: (!unified && d.memory_total > 0).then_some(d.memory_free as u64),
                unified_memory: unified,
                memory_bandwidth_gbs: None,
                source: format!("llama.cpp {}", d.backend),
            }
        })
        .collect()
}

/// The full profile the planner needs: the probe, llama.cpp's GPU devices
/// when the probe found no discrete GPU, and the memory bandwidth measured
/// on the physical cores (about half a second).
pub fn machine_profile(models_dir: Option<&Path>) -> HardwareProfile {
    let mut hw = hardware::probe(models_dir);
    if hw.gpus.iter().all(|g| g.unified_memory) {
        for g in gpu_devices() {
            if !hw.gpus.iter().any(|h| h.name == g.name) {
                hw.gpus.push(g);
            }
        }
    }
    hw.memory_bandwidth_gbs = hardware::measure_memory_bandwidth(hw.cores());
    hw
}

/// Planner preferences for this build and machine: GPU offload when the
/// build has a backend, and the speed `pith bench` last measured here.
pub fn preferences() -> pith_core::models::estimate::Preferences {
    pith_core::models::estimate::Preferences {
        gpu_offload: gpu_offload_supported(),
        calibration: pith_core::models::estimate::load_calibration(),
        ..Default::default()
    }
}
