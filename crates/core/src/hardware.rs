//! What the machine offers. For now: the core count that sets llama.cpp's
//! threads. (The full probe — RAM, cgroups, GPUs — grows here.)

/// Physical cores from `/proc/cpuinfo` text: distinct (physical id, core id)
/// pairs. `None` when the text does not say (non-Linux, some VMs).
pub fn physical_cores_from_cpuinfo(cpuinfo: &str) -> Option<usize> {
    let mut pairs = std::collections::BTreeSet::new();
    let mut physical = None;
    for line in cpuinfo.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        match key.trim() {
            "physical id" => physical = value.trim().parse::<u32>().ok(),
            "core id" => {
                if let Ok(core) = value.trim().parse::<u32>() {
                    pairs.insert((physical.unwrap_or(0), core));
                }
            }
            _ => {}
        }
    }
    (!pairs.is_empty()).then_some(pairs.len())
}

/// Physical cores of this machine, bounded by the CPUs this process may use
/// (cgroup quotas and affinity show up in `available_parallelism`).
pub fn physical_cores() -> usize {
    let logical = std::thread::available_parallelism().map_or(1, |n| n.get());
    let physical = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| physical_cores_from_cpuinfo(&t));
    physical.unwrap_or(logical).min(logical).max(1)
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
    }

    #[test]
    fn this_machine_has_at_least_one_core() {
        assert!(physical_cores() >= 1);
    }
}
