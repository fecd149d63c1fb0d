//! Per-kernel counts over the process's launches, written as JSON on request
//! (`CUDA_EMU_PROFILE`): launches, threads, executed instructions by class, bytes read and
//! written in global and shared memory. Counts of the emulated PTX, not of a GPU's
//! machine code, and no times.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::exec::LaunchStats;
use crate::exec::compile::{CLASS_NAMES, CLASSES};

/// Totals of one kernel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KernelProfile {
    pub launches: u64,
    pub stats: LaunchStats,
}

static PROFILE: Mutex<BTreeMap<String, KernelProfile>> = Mutex::new(BTreeMap::new());

/// Adds one launch.
pub fn record(kernel: &str, s: &LaunchStats) {
    let mut p = PROFILE.lock().unwrap_or_else(|e| e.into_inner());
    let k = p.entry(kernel.to_string()).or_default();
    k.launches += 1;
    let t = &mut k.stats;
    for c in 0..CLASSES {
        t.instructions[c] += s.instructions[c];
    }
    t.threads += s.threads;
    t.global_read += s.global_read;
    t.global_written += s.global_written;
    t.shared_read += s.shared_read;
    t.shared_written += s.shared_written;
}

/// Every kernel's totals so far.
pub fn snapshot() -> BTreeMap<String, KernelProfile> {
    PROFILE.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// The totals as JSON: `{"emulated": true, "kernels": {"name": {...}}}`.
pub fn to_json(p: &BTreeMap<String, KernelProfile>) -> String {
    let mut out = String::from("{\n  \"emulated\": true,\n  \"kernels\": {");
    for (i, (name, k)) in p.iter().enumerate() {
        let s = &k.stats;
        let total: u64 = s.instructions.iter().sum();
        let classes: Vec<String> = (0..CLASSES)
            .map(|c| format!("\"{}\": {}", CLASS_NAMES[c], s.instructions[c]))
            .collect();
        out += &format!(
            "{}\n    \"{}\": {{\"launches\": {}, \"threads\": {}, \"instructions\": {}, \"by_class\": {{{}}}, \"global_read_bytes\": {}, \"global_written_bytes\": {}, \"shared_read_bytes\": {}, \"shared_written_bytes\": {}}}",
            if i == 0 { "" } else { "," },
            name.replace('"', "\\\""),
            k.launches,
            s.threads,
            total,
            classes.join(", "),
            s.global_read,
            s.global_written,
            s.shared_read,
            s.shared_written
        );
    }
    out += "\n  }\n}\n";
    out
}

/// Writes the totals to `path`.
pub fn write(path: &str) -> std::io::Result<()> {
    std::fs::write(path, to_json(&snapshot()))
}
