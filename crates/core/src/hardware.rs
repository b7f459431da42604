//! What the machine offers: memory, cores, SIMD, GPUs, disk.
//!
//! [`probe`] returns a plain, serializable [`HardwareProfile`]; every decision
//! about it (which model fits, how many layers go to a GPU) is made by pure
//! functions in [`crate::models::plan`], tested over a table of machines.
//! What cannot be known is `None`, never a guess shown as a fact; probing
//! never fails, on machines without a GPU or without `/sys` alike.

mod bandwidth;
mod gpu;
mod linux;

pub use bandwidth::measure_memory_bandwidth;
pub use gpu::{parse_drm_card, DrmCard};
pub use linux::{cgroup_memory, parse_meminfo, physical_cores_from_cpuinfo, CgroupMemory};

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default, ts_rs::TS)]
pub struct HardwareProfile {
    /// `linux`, `macos`, `windows`…
    pub os: String,
    /// `x86_64`, `aarch64`…
    pub arch: String,
    pub cpu: Cpu,
    pub memory: Memory,
    /// Every GPU found; empty when none was found.
    pub gpus: Vec<Gpu>,
    /// The models folder and the free space on its disk.
    pub disk: Option<Disk>,
    /// Measured read bandwidth of main memory (GB/s, all physical cores),
    /// when [`measure_memory_bandwidth`] was run.
    pub memory_bandwidth_gbs: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default, ts_rs::TS)]
pub struct Cpu {
    pub model: Option<String>,
    pub physical_cores: Option<usize>,
    /// CPUs this process may run on (cgroup quotas and affinity included).
    pub logical_cores: usize,
    /// SIMD extensions this CPU has, as llama.cpp names them (`AVX2`, `NEON`…).
    pub features: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default, ts_rs::TS)]
pub struct Memory {
    pub total_bytes: Option<u64>,
    /// What the OS could give without swapping (`MemAvailable`).
    pub available_bytes: Option<u64>,
    /// The container's memory limit (cgroup v2 `memory.max` or v1
    /// `memory.limit_in_bytes`); `None` when unlimited or not in one.
    pub cgroup_limit_bytes: Option<u64>,
    /// What the container already uses, counted against its limit.
    pub cgroup_usage_bytes: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
pub enum GpuVendor {
    Nvidia,
    Amd,
    Intel,
    Apple,
    Other,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Gpu {
    pub vendor: GpuVendor,
    pub name: String,
    /// Dedicated video memory; `None` for a GPU that shares system RAM.
    pub total_vram_bytes: Option<u64>,
    pub free_vram_bytes: Option<u64>,
    /// Shares system RAM (Apple silicon, integrated GPUs): one pool, never
    /// counted twice.
    pub unified_memory: bool,
    /// From the memory clock and bus width where the driver reports them.
    pub memory_bandwidth_gbs: Option<f64>,
    /// Where the facts came from: `nvml`, `sysfs`, `sysinfo`.
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Disk {
    pub path: PathBuf,
    pub free_bytes: Option<u64>,
}

impl HardwareProfile {
    /// Memory a model may use: what is available, and no more than what the
    /// container has left under its limit.
    pub fn usable_ram_bytes(&self) -> Option<u64> {
        let m = &self.memory;
        let cgroup_left = m
            .cgroup_limit_bytes
            .map(|limit| limit.saturating_sub(m.cgroup_usage_bytes.unwrap_or(0)));
        match (m.available_bytes, cgroup_left) {
            (Some(a), Some(c)) => Some(a.min(c)),
            (a, c) => a.or(c),
        }
    }

    /// Physical cores, or the logical count when the physical one is unknown.
    pub fn cores(&self) -> usize {
        self.cpu
            .physical_cores
            .unwrap_or(self.cpu.logical_cores)
            .clamp(1, self.cpu.logical_cores.max(1))
    }

    /// True when a GPU shares system RAM with the CPU.
    pub fn unified_memory(&self) -> bool {
        self.gpus.iter().any(|g| g.unified_memory)
    }
}

/// Probes this machine (fast: files under /proc and /sys, the GPU driver).
/// `models_dir` is where free disk space is measured.
pub fn probe(models_dir: Option<&Path>) -> HardwareProfile {
    let logical = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").ok();
    // sysinfo is asked only where /proc has no answer (another OS), and a
    // system it cannot read leaves the fact unknown.
    let system = || {
        sysinfo::System::new().ok().map(|mut s| {
            s.refresh_cpu_list(sysinfo::CpuRefreshKind::nothing());
            s
        })
    };
    let memory = memory();
    let model = cpuinfo
        .as_deref()
        .and_then(linux::cpu_model_from_cpuinfo)
        .or_else(|| {
            system()?
                .cpus()
                .first()
                .map(|c| c.brand().trim().to_string())
                .filter(|b| !b.is_empty())
        });
    let physical = cpuinfo
        .as_deref()
        .and_then(physical_cores_from_cpuinfo)
        .or_else(|| sysinfo::System::physical_core_count().ok())
        .map(|p| p.min(logical));
    let mut gpus = gpu::nvidia();
    gpus.extend(gpu::drm(Path::new("/sys/class/drm"), !gpus.is_empty()));
    gpus.extend(gpu::apple(memory.total_bytes));

    HardwareProfile {
        os: std::env::consts::OS.to_string(),
        arch: std::env::consts::ARCH.to_string(),
        cpu: Cpu {
            model,
            physical_cores: physical,
            logical_cores: logical,
            features: cpu_features(),
        },
        memory,
        gpus,
        disk: models_dir.map(|d| Disk {
            path: d.to_path_buf(),
            free_bytes: free_disk_bytes(d),
        }),
        memory_bandwidth_gbs: None,
    }
}

/// Only what a memory check needs (RAM, the container's limit, cores):
/// /proc reads, no GPU driver, no disk scan. Used before every model load.
pub fn probe_memory() -> HardwareProfile {
    HardwareProfile {
        os: std::env::consts::OS.to_string(),
        arch: std::env::consts::ARCH.to_string(),
        cpu: Cpu {
            physical_cores: Some(physical_cores()),
            logical_cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            ..Cpu::default()
        },
        memory: memory(),
        ..HardwareProfile::default()
    }
}

/// RAM from /proc/meminfo (elsewhere: what the OS reports through sysinfo)
/// and the container's limit.
fn memory() -> Memory {
    let (total, available) = match std::fs::read_to_string("/proc/meminfo") {
        Ok(text) => parse_meminfo(&text),
        Err(_) => match sysinfo::System::new() {
            Ok(mut system) => {
                system.refresh_memory();
                (
                    Some(system.total_memory()).filter(|&b| b > 0),
                    Some(system.available_memory()).filter(|&b| b > 0),
                )
            }
            Err(_) => (None, None),
        },
    };
    let cgroup = cgroup_memory();
    Memory {
        total_bytes: total,
        available_bytes: available,
        cgroup_limit_bytes: cgroup.limit_bytes,
        cgroup_usage_bytes: cgroup.usage_bytes,
    }
}

/// Physical cores of this machine, bounded by the CPUs this process may use
/// (cgroup quotas and affinity show up in `available_parallelism`). This
/// sets llama.cpp's thread count.
pub fn physical_cores() -> usize {
    let logical = std::thread::available_parallelism().map_or(1, |n| n.get());
    let physical = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| physical_cores_from_cpuinfo(&t));
    physical.unwrap_or(logical).min(logical).max(1)
}

/// Free bytes on the disk holding `path` (or its nearest existing parent).
pub fn free_disk_bytes(path: &Path) -> Option<u64> {
    let mut existing = path;
    while !existing.exists() {
        existing = existing.parent()?;
    }
    let target = existing.canonicalize().ok()?;
    let disks = sysinfo::Disks::new_with_refreshed_list().ok()?;
    disks
        .iter()
        .filter(|d| target.starts_with(d.mount_point()))
        .max_by_key(|d| d.mount_point().as_os_str().len())
        .map(|d| d.available_space())
}

/// The names in a (name, present) table that are present.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
fn enabled(table: &[(&str, bool)]) -> Vec<String> {
    table
        .iter()
        .filter(|(_, on)| *on)
        .map(|(n, _)| n.to_string())
        .collect()
}

/// SIMD extensions of this CPU, named as llama.cpp's system info names them.
pub fn cpu_features() -> Vec<String> {
    let mut found = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        let table = [
            ("SSE3", has!("sse3")),
            ("SSSE3", has!("ssse3")),
            ("SSE4.2", has!("sse4.2")),
            ("AVX", has!("avx")),
            ("AVX2", has!("avx2")),
            ("F16C", has!("f16c")),
            ("FMA", has!("fma")),
            ("BMI2", has!("bmi2")),
            ("AVX_VNNI", has!("avxvnni")),
            ("AVX512", has!("avx512f")),
            ("AVX512_BW", has!("avx512bw")),
            ("AVX512_VNNI", has!("avx512vnni")),
            ("AVX512_BF16", has!("avx512bf16")),
        ];
        found.extend(enabled(&table));
    }
    #[cfg(target_arch = "aarch64")]
    {
        use std::arch::is_aarch64_feature_detected as has;
        let table = [
            ("NEON", has!("neon")),
            ("DOTPROD", has!("dotprod")),
            ("MATMUL_INT8", has!("i8mm")),
            ("SVE", has!("sve")),
            ("FP16_VA", has!("fp16")),
        ];
        found.extend(enabled(&table));
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usable_ram_is_bounded_by_what_the_container_has_left() {
        let mut p = HardwareProfile::default();
        p.memory.available_bytes = Some(20 << 30);
        assert_eq!(p.usable_ram_bytes(), Some(20 << 30));
        p.memory.cgroup_limit_bytes = Some(2 << 30);
        p.memory.cgroup_usage_bytes = Some(512 << 20);
        assert_eq!(p.usable_ram_bytes(), Some((2 << 30) - (512 << 20)));
        p.memory.available_bytes = None;
        assert_eq!(p.usable_ram_bytes(), Some((2 << 30) - (512 << 20)));
        p.memory.cgroup_limit_bytes = None;
        assert_eq!(p.usable_ram_bytes(), None);
    }

    #[test]
    fn probing_this_machine_never_fails_and_fills_what_linux_knows() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = probe(Some(&dir.path().join("not/yet/created")));
        assert!(p.cpu.logical_cores >= 1);
        assert!(p.cores() >= 1 && p.cores() <= p.cpu.logical_cores);
        if cfg!(target_os = "linux") {
            let total = p.memory.total_bytes.expect("MemTotal");
            let available = p.memory.available_bytes.expect("MemAvailable");
            assert!(available <= total);
            assert!(p.disk.and_then(|d| d.free_bytes).is_some());
        }
        // Serializes both ways: the app caches it and the UI shows it.
        let json = serde_json::to_string(&probe(None)).expect("json");
        let back: HardwareProfile = serde_json::from_str(&json).expect("parse");
        assert_eq!(back.os, std::env::consts::OS);
    }

    #[test]
    fn the_memory_probe_agrees_with_the_full_one() {
        let full = probe(None);
        let quick = probe_memory();
        assert_eq!(quick.memory.total_bytes, full.memory.total_bytes);
        assert_eq!(
            quick.memory.cgroup_limit_bytes,
            full.memory.cgroup_limit_bytes
        );
        assert!(quick.gpus.is_empty());
    }

    #[test]
    fn this_machine_has_at_least_one_core() {
        assert!(physical_cores() >= 1);
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn simd_names_match_what_the_cpu_reports() {
        let f = cpu_features();
        assert_eq!(
            f.iter().any(|x| x == "AVX2"),
            std::arch::is_x86_feature_detected!("avx2")
        );
    }
}
