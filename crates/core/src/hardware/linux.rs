//! Linux sources: /proc/cpuinfo, /proc/meminfo, cgroup v1 and v2. Parsers
//! are pure functions over the files' text, tested on samples.

use std::path::{Path, PathBuf};

/// Physical cores from `/proc/cpuinfo` text: distinct (physical id, core id)
/// pairs. `None` when the text does not say (non-Linux, some VMs).
pub fn physical_cores_from_cpuinfo(cpuinfo: &str) -> Option<usize> {
    let mut pairs = std::collections::BTreeSet::new();
    let mut physical = None;
    for (key, value) in fields(cpuinfo) {
        match key {
            "physical id" => physical = value.parse::<u32>().ok(),
            "core id" => {
                if let Ok(core) = value.parse::<u32>() {
                    pairs.insert((physical.unwrap_or(0), core));
                }
            }
            _ => {}
        }
    }
    (!pairs.is_empty()).then_some(pairs.len())
}

/// The CPU's marketing name (`model name` on x86, `Model` on some ARM boards).
pub fn cpu_model_from_cpuinfo(cpuinfo: &str) -> Option<String> {
    fields(cpuinfo)
        .find(|(k, v)| matches!(*k, "model name" | "Model" | "cpu model") && !v.is_empty())
        .map(|(_, v)| v.to_string())
}

fn fields(text: &str) -> impl Iterator<Item = (&str, &str)> {
    text.lines().filter_map(|l| {
        let (k, v) = l.split_once(':')?;
        Some((k.trim(), v.trim()))
    })
}

/// `(MemTotal, MemAvailable)` in bytes from `/proc/meminfo` text.
pub fn parse_meminfo(meminfo: &str) -> (Option<u64>, Option<u64>) {
    let kib = |name: &str| {
        fields(meminfo)
            .find(|(k, _)| *k == name)
            .and_then(|(_, v)| v.split_whitespace().next()?.parse::<u64>().ok())
            .map(|k| k * 1024)
    };
    (kib("MemTotal"), kib("MemAvailable"))
}

/// The memory limit of the container this process runs in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CgroupMemory {
    pub limit_bytes: Option<u64>,
    pub usage_bytes: Option<u64>,
}

/// Reads this process's cgroup memory limit (v2, else v1). The tightest
/// limit on the path from the process's group up to the root counts.
pub fn cgroup_memory() -> CgroupMemory {
    let Ok(self_cgroup) = std::fs::read_to_string("/proc/self/cgroup") else {
        return CgroupMemory::default();
    };
    cgroup_memory_at(Path::new("/sys/fs/cgroup"), &self_cgroup)
}

/// [`cgroup_memory`] over a cgroup filesystem mounted at `root` (a test
/// builds one in a temporary folder).
pub fn cgroup_memory_at(root: &Path, self_cgroup: &str) -> CgroupMemory {
    let read = |p: PathBuf| std::fs::read_to_string(p).ok();
    let number = |text: Option<String>| -> Option<u64> { text?.trim().parse().ok() };
    // "Unlimited" in v1 is a huge number rounded to the page size.
    let real_limit = |v: u64| (v < 1 << 60).then_some(v);

    for line in self_cgroup.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(_), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let rel = path.trim_start_matches('/');
        if controllers.is_empty() {
            // cgroup v2: the unified hierarchy.
            let mut limit: Option<u64> = None;
            let mut dir = root.join(rel);
            loop {
                let here = read(dir.join("memory.max"))
                    .filter(|t| t.trim() != "max")
                    .and_then(|t| t.trim().parse::<u64>().ok());
                limit = match (limit, here) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                if dir == root || !dir.pop() || !dir.starts_with(root) {
                    break;
                }
            }
            if limit.is_some() {
                return CgroupMemory {
                    limit_bytes: limit,
                    usage_bytes: number(read(root.join(rel).join("memory.current"))),
                };
            }
        } else if controllers.split(',').any(|c| c == "memory") {
            for base in [root.join("memory").join(rel), root.join("memory")] {
                if let Some(limit) = number(read(base.join("memory.limit_in_bytes"))) {
                    let Some(limit) = real_limit(limit) else {
                        return CgroupMemory::default();
                    };
                    return CgroupMemory {
                        limit_bytes: Some(limit),
                        usage_bytes: number(read(base.join("memory.usage_in_bytes"))),
                    };
                }
            }
        }
    }
    CgroupMemory::default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_cores_not_hyperthreads() {
        let text = "processor: 0\nphysical id: 0\ncore id: 0\n\nprocessor: 1\nphysical id: 0\ncore id: 0\n\n\
                    processor: 2\nphysical id: 0\ncore id: 1\n\nprocessor: 3\nphysical id: 0\ncore id: 1\n";
        assert_eq!(physical_cores_from_cpuinfo(text), Some(2));
    }

    #[test]
    fn two_sockets_with_the_same_core_ids_count_twice() {
        let text = "physical id: 0\ncore id: 0\nphysical id: 1\ncore id: 0\n";
        assert_eq!(physical_cores_from_cpuinfo(text), Some(2));
    }

    #[test]
    fn cpuinfo_without_core_ids_is_unknown() {
        assert_eq!(
            physical_cores_from_cpuinfo("processor: 0\nBogoMIPS: 50\n"),
            None
        );
        assert_eq!(cpu_model_from_cpuinfo("processor: 0\n"), None);
    }

    #[test]
    fn cpu_model_and_meminfo_are_read() {
        let cpu = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n";
        assert_eq!(
            cpu_model_from_cpuinfo(cpu).as_deref(),
            Some("AMD EPYC 7B13")
        );
        let mem =
            "MemTotal:       24570000 kB\nMemFree:         1000 kB\nMemAvailable:   20000000 kB\n";
        assert_eq!(
            parse_meminfo(mem),
            (Some(24_570_000 * 1024), Some(20_000_000 * 1024))
        );
        assert_eq!(parse_meminfo("garbage"), (None, None));
    }

    fn write(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }

    #[test]
    fn cgroup_v2_takes_the_tightest_limit_up_the_tree() {
        let root = tempfile::tempdir().expect("tmp");
        let r = root.path();
        write(r, "pod/app/memory.max", "max\n");
        write(r, "pod/app/memory.current", "104857600\n");
        write(r, "pod/memory.max", "2147483648\n");
        let got = cgroup_memory_at(r, "0::/pod/app\n");
        assert_eq!(got.limit_bytes, Some(2 << 30));
        assert_eq!(got.usage_bytes, Some(100 << 20));
    }

    #[test]
    fn cgroup_v2_without_a_limit_and_v1_unlimited_are_none() {
        let root = tempfile::tempdir().expect("tmp");
        let r = root.path();
        write(r, "user.slice/memory.max", "max\n");
        assert_eq!(
            cgroup_memory_at(r, "0::/user.slice\n"),
            CgroupMemory::default()
        );
        write(
            r,
            "memory/docker/abc/memory.limit_in_bytes",
            "9223372036854771712\n",
        );
        let v1 = cgroup_memory_at(r, "4:memory:/docker/abc\n");
        assert_eq!(v1.limit_bytes, None);
        write(r, "memory/docker/abc/memory.limit_in_bytes", "1073741824\n");
        write(r, "memory/docker/abc/memory.usage_in_bytes", "1048576\n");
        let v1 = cgroup_memory_at(r, "4:memory:/docker/abc\n");
        assert_eq!(v1.limit_bytes, Some(1 << 30));
        assert_eq!(v1.usage_bytes, Some(1 << 20));
    }

    #[test]
    fn no_cgroup_files_at_all_is_no_limit() {
        let root = tempfile::tempdir().expect("tmp");
        assert_eq!(
            cgroup_memory_at(&root.path().join("absent"), "0::/x\ngarbage\n"),
            CgroupMemory::default()
        );
    }
}
