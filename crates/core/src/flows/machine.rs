//! The machine-fit report: this computer as probed, the planner's pick per
//! task with its reasons, and the installed models. The model panel shows
//! it whole; `pith models recommend` prints its plans.

use crate::hardware::HardwareProfile;
use crate::models::catalog::Catalog;
use crate::models::estimate::Preferences;
use crate::models::plan::{self, Plan};
use crate::models::store::InstalledModel;
use crate::tasks::Task;
use serde::Serialize;

/// The tasks a report plans for when none is named.
pub const TASKS: [Task; 3] = [Task::Rephrase, Task::Summarize, Task::Chat];

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct MachineFit {
    pub hardware: HardwareProfile,
    pub plans: Vec<Plan>,
    pub installed: Vec<InstalledModel>,
    pub gpu_offload: bool,
}

/// The planner's choice for each of `tasks` on `hardware`.
pub fn plans(
    hardware: &HardwareProfile,
    catalog: &Catalog,
    tasks: &[Task],
    prefs: &Preferences,
) -> Vec<Plan> {
    tasks
        .iter()
        .map(|&t| plan::plan(hardware, catalog, t, prefs))
        .collect()
}

/// The whole report, from the machine's profile (probed by the caller:
/// only `pith-llama` knows the build's GPU backends).
pub fn machine_fit(
    hardware: HardwareProfile,
    catalog: &Catalog,
    prefs: &Preferences,
    installed: Vec<InstalledModel>,
) -> MachineFit {
    MachineFit {
        plans: plans(&hardware, catalog, &TASKS, prefs),
        hardware,
        installed,
        gpu_offload: prefs.gpu_offload,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_plans_every_task_for_the_machine_it_was_given() {
        let hw = HardwareProfile {
            os: "linux".into(),
            arch: "x86_64".into(),
            cpu: crate::hardware::Cpu {
                model: None,
                physical_cores: Some(4),
                logical_cores: 8,
                features: vec!["AVX2".into()],
            },
            memory: crate::hardware::Memory {
                total_bytes: Some(8_000_000_000),
                available_bytes: Some(5_000_000_000),
                cgroup_limit_bytes: None,
                cgroup_usage_bytes: None,
            },
            gpus: Vec::new(),
            disk: None,
            memory_bandwidth_gbs: Some(20.0),
        };
        let fit = machine_fit(hw, &Catalog::builtin(), &Preferences::default(), Vec::new());
        let tasks: Vec<Task> = fit.plans.iter().map(|p| p.task).collect();
        assert_eq!(tasks, TASKS.to_vec());
        assert!(
            fit.plans.iter().all(|p| p.choice.is_some()),
            "{:?}",
            fit.plans
        );
        assert!(!fit.gpu_offload);
    }
}
