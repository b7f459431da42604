//! GPUs: NVIDIA through NVML (loaded at run time, so machines without the
//! driver need nothing), others through the kernel's DRM entries in sysfs,
//! Apple silicon from the platform. A GPU that shares system RAM is marked
//! `unified_memory`, so its memory is never counted a second time.

use super::{Gpu, GpuVendor};
use std::path::Path;

/// NVIDIA GPUs with their free and total VRAM, from NVML.
pub fn nvidia() -> Vec<Gpu> {
    // NVML is a C library loaded at run time; a broken install must not take
    // the app down with it.
    std::panic::catch_unwind(nvidia_inner).unwrap_or_default()
}

fn nvidia_inner() -> Vec<Gpu> {
    use nvml_wrapper::enum_wrappers::device::Clock;
    use nvml_wrapper::Nvml;
    // Drivers install libnvidia-ml.so.1; the unversioned name only comes
    // with development packages.
    let nvml = ["libnvidia-ml.so.1", "libnvidia-ml.so", "nvml.dll"]
        .iter()
        .find_map(|lib| {
            Nvml::builder()
                .lib_path(std::ffi::OsStr::new(lib))
                .init()
                .ok()
        });
    let Some(nvml) = nvml else {
        return Vec::new();
    };
    let count = nvml.device_count().unwrap_or(0);
    (0..count)
        .filter_map(|i| nvml.device_by_index(i).ok())
        .map(|d| {
            let memory = d.memory_info().ok();
            // Double data rate: two transfers per memory clock per bus bit.
            let bandwidth = match (d.max_clock_info(Clock::Memory), d.memory_bus_width()) {
                (Ok(mhz), Ok(bits)) if mhz > 0 && bits > 0 => {
                    Some(f64::from(mhz) * 1e6 * 2.0 * f64::from(bits) / 8.0 / 1e9)
                }
                _ => None,
            };
            Gpu {
                vendor: GpuVendor::Nvidia,
                name: d.name().unwrap_or_else(|_| "NVIDIA GPU".into()),
                total_vram_bytes: memory.as_ref().map(|m| m.total),
                free_vram_bytes: memory.as_ref().map(|m| m.free),
                unified_memory: false,
                memory_bandwidth_gbs: bandwidth.map(|b| (b * 10.0).round() / 10.0),
                source: "nvml".into(),
            }
        })
        .collect()
}

/// One `/sys/class/drm/cardN/device` folder, as the kernel describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrmCard {
    pub vendor_id: u32,
    pub device_id: Option<u32>,
    pub vram_total: Option<u64>,
    pub vram_used: Option<u64>,
}

/// Reads a DRM card's `device` folder; `None` when it has no vendor id.
pub fn parse_drm_card(device_dir: &Path) -> Option<DrmCard> {
    let read = |name: &str| std::fs::read_to_string(device_dir.join(name)).ok();
    let hex = |name: &str| {
        let text = read(name)?;
        u32::from_str_radix(text.trim().trim_start_matches("0x"), 16).ok()
    };
    let dec = |name: &str| read(name)?.trim().parse::<u64>().ok();
    Some(DrmCard {
        vendor_id: hex("vendor")?,
        device_id: hex("device"),
        vram_total: dec("mem_info_vram_total"),
        vram_used: dec("mem_info_vram_used"),
    })
}

/// GPUs listed under a DRM class folder (`/sys/class/drm`). NVIDIA cards are
/// skipped when NVML already reported them.
pub fn drm(class_dir: &Path, skip_nvidia: bool) -> Vec<Gpu> {
    let Ok(entries) = std::fs::read_dir(class_dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| {
            n.strip_prefix("card")
                .is_some_and(|rest| rest.parse::<u32>().is_ok())
        })
        .collect();
    names.sort();
    names
        .iter()
        .filter_map(|n| parse_drm_card(&class_dir.join(n).join("device")))
        .filter_map(|card| drm_gpu(&card, skip_nvidia))
        .collect()
}

fn drm_gpu(card: &DrmCard, skip_nvidia: bool) -> Option<Gpu> {
    let device = card
        .device_id
        .map(|d| format!(" (device {d:04x})"))
        .unwrap_or_default();
    let (vendor, name, unified) = match card.vendor_id {
        0x10de if skip_nvidia => return None,
        0x10de => (GpuVendor::Nvidia, "NVIDIA GPU", false),
        // amdgpu reports a small VRAM carve-out for APUs (integrated GPUs
        // that use system RAM); discrete cards have gigabytes.
        0x1002 => {
            let apu = card.vram_total.is_none_or(|v| v < 1 << 30);
            let name = if apu { "AMD integrated GPU" } else { "AMD GPU" };
            (GpuVendor::Amd, name, apu)
        }
        // i915 exposes no VRAM figures; Intel's integrated GPUs share RAM.
        0x8086 => {
            let discrete = card.vram_total.is_some_and(|v| v >= 1 << 30);
            let name = if discrete {
                "Intel GPU"
            } else {
                "Intel integrated GPU"
            };
            (GpuVendor::Intel, name, !discrete)
        }
        // Virtual displays (QEMU, VirtualBox, VMware) are not compute GPUs.
        0x1234 | 0x1af4 | 0x80ee | 0x15ad | 0x1b36 => return None,
        _ => (GpuVendor::Other, "GPU", false),
    };
    let (total, free) = if unified {
        (None, None)
    } else {
        let free = card
            .vram_total
            .zip(card.vram_used)
            .map(|(t, u)| t.saturating_sub(u));
        (card.vram_total, free)
    };
    Some(Gpu {
        vendor,
        name: format!("{name}{device}"),
        total_vram_bytes: total,
        free_vram_bytes: free,
        unified_memory: unified,
        memory_bandwidth_gbs: None,
        source: "sysfs".into(),
    })
}

/// Apple silicon: the GPU shares the one memory pool.
pub fn apple(_total_ram: Option<u64>) -> Vec<Gpu> {
    if cfg!(all(target_os = "macos", target_arch = "aarch64")) {
        vec![Gpu {
            vendor: GpuVendor::Apple,
            name: "Apple silicon GPU".into(),
            total_vram_bytes: None,
            free_vram_bytes: None,
            unified_memory: true,
            memory_bandwidth_gbs: None,
            source: "platform".into(),
        }]
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(root: &Path, n: &str, files: &[(&str, &str)]) {
        let dir = root.join(n).join("device");
        std::fs::create_dir_all(&dir).expect("mkdir");
        for (name, text) in files {
            std::fs::write(dir.join(name), text).expect("write");
        }
    }

    #[test]
    fn sysfs_cards_become_gpus_with_the_right_memory_kind() {
        let root = tempfile::tempdir().expect("tmp");
        let r = root.path();
        card(
            r,
            "card0",
            &[
                ("vendor", "0x1002\n"),
                ("device", "0x73bf\n"),
                ("mem_info_vram_total", "17163091968\n"),
                ("mem_info_vram_used", "1073741824\n"),
            ],
        );
        card(
            r,
            "card1",
            &[("vendor", "0x8086\n"), ("device", "0x9a49\n")],
        );
        card(r, "card2", &[("vendor", "0x1234\n")]); // QEMU display
        card(r, "card0-DP-1", &[("vendor", "0x1002\n")]); // a connector
        card(r, "card3", &[("vendor", "0x10de\n")]);
        std::fs::create_dir_all(r.join("renderD128")).expect("mkdir");

        let gpus = drm(r, false);
        assert_eq!(gpus.len(), 3, "{gpus:?}");
        assert_eq!(gpus[0].vendor, GpuVendor::Amd);
        assert_eq!(gpus[0].total_vram_bytes, Some(17_163_091_968));
        assert_eq!(gpus[0].free_vram_bytes, Some(17_163_091_968 - (1 << 30)));
        assert!(!gpus[0].unified_memory);
        assert_eq!(gpus[1].vendor, GpuVendor::Intel);
        assert!(gpus[1].unified_memory);
        assert_eq!(gpus[1].total_vram_bytes, None);
        assert_eq!(gpus[2].vendor, GpuVendor::Nvidia);
        assert_eq!(gpus[2].total_vram_bytes, None, "unknown without NVML");
        // With NVML present, the sysfs NVIDIA entry is not counted again.
        assert_eq!(drm(r, true).len(), 2);
    }

    #[test]
    fn an_amd_apu_shares_system_ram() {
        let root = tempfile::tempdir().expect("tmp");
        card(
            root.path(),
            "card0",
            &[
                ("vendor", "0x1002"),
                ("mem_info_vram_total", "536870912"),
                ("mem_info_vram_used", "100"),
            ],
        );
        let gpus = drm(root.path(), false);
        assert!(gpus[0].unified_memory);
        assert_eq!(gpus[0].total_vram_bytes, None);
    }

    #[test]
    fn no_drm_folder_or_garbage_files_mean_no_gpu_and_no_panic() {
        let root = tempfile::tempdir().expect("tmp");
        assert!(drm(&root.path().join("absent"), false).is_empty());
        card(root.path(), "card0", &[("vendor", "not hex")]);
        assert!(drm(root.path(), false).is_empty());
    }

    #[test]
    fn nvml_absent_or_present_never_panics() {
        for g in nvidia() {
            assert_eq!(g.vendor, GpuVendor::Nvidia);
            assert!(g.free_vram_bytes <= g.total_vram_bytes);
        }
    }
}
