//! The emulated machine, from environment variables read once, at `cuInit`:
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `CUDA_EMU_DEVICES` | 1 | number of devices, each its own primary context |
//! | `CUDA_EMU_CC` | 9.0 | compute capability reported |
//! | `CUDA_EMU_MEMORY` | 16G | memory per device (`K`, `M`, `G` suffixes): allocations beyond it fail with `CUDA_ERROR_OUT_OF_MEMORY` |
//! | `CUDA_EMU_DRIVER` | 13.0 | driver version (`12.4` or `12040`): PTX newer than it accepts fails to load with `CUDA_ERROR_UNSUPPORTED_PTX_VERSION` |
//! | `CUDA_EMU_CHECKS` | all | `all`, `none`, or a list of `memcheck,racecheck,initcheck,hazard` |
//! | `CUDA_EMU_JITTER` | off | a seed: each stream operation waits a random 0 to `CUDA_EMU_JITTER_US` (500) microseconds first |
//! | `CUDA_EMU_PROFILE` | off | a path: per-kernel counts written there as JSON when the process exits |
//! | `CUDA_EMU_THREADS` | cores | worker threads per launch |
//! | `CUDA_EMU_REPORT` | off | a path: every report is appended there too |

use crate::exec::Checks;

/// The emulated machine.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub devices: usize,
    pub compute_capability: (i32, i32),
    pub memory: u64,
    /// As `cuDriverGetVersion` reports it: 1000 * major + 10 * minor.
    pub driver_version: i32,
    pub checks: Checks,
    pub hazards: bool,
    pub jitter: Option<u64>,
    pub jitter_us: u64,
    pub profile: Option<String>,
    pub workers: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            devices: 1,
            compute_capability: (9, 0),
            memory: 16 << 30,
            driver_version: 13000,
            checks: Checks::ALL,
            hazards: true,
            jitter: None,
            jitter_us: 500,
            profile: None,
            workers: 0,
        }
    }
}

fn bytes(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, shift) = match s.as_bytes().last()? {
        b'K' | b'k' => (&s[..s.len() - 1], 10),
        b'M' | b'm' => (&s[..s.len() - 1], 20),
        b'G' | b'g' => (&s[..s.len() - 1], 30),
        _ => (s, 0),
    };
    num.trim().parse::<u64>().ok()?.checked_mul(1 << shift)
}

/// `12.4` -> 12040, `13000` -> 13000.
fn driver_version(s: &str) -> Option<i32> {
    let s = s.trim();
    if let Some((major, minor)) = s.split_once('.') {
        let (major, minor): (i32, i32) = (major.parse().ok()?, minor.parse().ok()?);
        return (major > 0 && (0..100).contains(&minor)).then_some(major * 1000 + minor * 10);
    }
    s.parse().ok().filter(|&v: &i32| v >= 1000)
}

impl Config {
    /// Reads the environment; an unusable value is an error naming the variable.
    pub fn from_env() -> Result<Config, String> {
        Config::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads settings through `get` (the environment, or a test's map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, String> {
        let mut c = Config::default();
        let bad = |k: &str, v: &str, want: &str| format!("{k}={v:?} is not {want}");
        if let Some(v) = get("CUDA_EMU_DEVICES") {
            c.devices = v
                .trim()
                .parse()
                .ok()
                .filter(|n| (1..=64).contains(n))
                .ok_or_else(|| bad("CUDA_EMU_DEVICES", &v, "a count from 1 to 64"))?;
        }
        if let Some(v) = get("CUDA_EMU_CC") {
            let parsed = v
                .trim()
                .split_once('.')
                .and_then(|(a, b)| Some((a.parse::<i32>().ok()?, b.parse::<i32>().ok()?)));
            c.compute_capability = parsed
                .filter(|&(a, b)| (3..=20).contains(&a) && (0..10).contains(&b))
                .ok_or_else(|| bad("CUDA_EMU_CC", &v, "a compute capability such as 8.6"))?;
        }
        if let Some(v) = get("CUDA_EMU_MEMORY") {
            c.memory = bytes(&v)
                .filter(|&b| b > 0)
                .ok_or_else(|| bad("CUDA_EMU_MEMORY", &v, "a size such as 512M or 16G"))?;
        }
        if let Some(v) = get("CUDA_EMU_DRIVER") {
            c.driver_version = driver_version(&v).ok_or_else(|| {
                bad(
                    "CUDA_EMU_DRIVER",
                    &v,
                    "a driver version such as 12.4 or 13000",
                )
            })?;
        }
        if let Some(v) = get("CUDA_EMU_CHECKS") {
            let mut checks = Checks {
                memcheck: false,
                racecheck: false,
                initcheck: false,
            };
            let mut hazards = false;
            for part in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                match part {
                    "all" => {
                        checks = Checks::ALL;
                        hazards = true;
                    }
                    "none" => {}
                    "memcheck" => checks.memcheck = true,
                    "racecheck" => checks.racecheck = true,
                    "initcheck" => checks.initcheck = true,
                    "hazard" => hazards = true,
                    _ => {
                        return Err(bad(
                            "CUDA_EMU_CHECKS",
                            &v,
                            "all, none, or a list of memcheck, racecheck, initcheck, hazard",
                        ));
                    }
                }
            }
            c.checks = checks;
            c.hazards = hazards;
        }
        if let Some(v) = get("CUDA_EMU_JITTER") {
            c.jitter = Some(
                v.trim()
                    .parse()
                    .map_err(|_| bad("CUDA_EMU_JITTER", &v, "a seed (an unsigned integer)"))?,
            );
        }
        if let Some(v) = get("CUDA_EMU_JITTER_US") {
            c.jitter_us = v
                .trim()
                .parse()
                .ok()
                .filter(|&u| u <= 1_000_000)
                .ok_or_else(|| bad("CUDA_EMU_JITTER_US", &v, "microseconds up to 1000000"))?;
        }
        if let Some(v) = get("CUDA_EMU_PROFILE")
            && !v.trim().is_empty()
        {
            c.profile = Some(v);
        }
        if let Some(v) = get("CUDA_EMU_THREADS") {
            c.workers = v
                .trim()
                .parse()
                .ok()
                .filter(|n| (1..=1024).contains(n))
                .ok_or_else(|| bad("CUDA_EMU_THREADS", &v, "a count from 1 to 1024"))?;
        }
        Ok(c)
    }

    /// The newest PTX ISA version this driver version loads (CUDA 12.0: 8.0, ..., 13.0:
    /// 9.0), as (major, minor).
    pub fn max_ptx_version(&self) -> (u32, u32) {
        let v = self.driver_version;
        match v {
            v if v >= 13000 => (9, 0),
            v if v >= 12090 => (8, 8),
            v if v >= 12080 => (8, 7),
            v if v >= 12050 => (8, 5),
            v if v >= 12040 => (8, 4),
            v if v >= 12030 => (8, 3),
            v if v >= 12020 => (8, 2),
            v if v >= 12010 => (8, 1),
            v if v >= 12000 => (8, 0),
            v if v >= 11080 => (7, 8),
            _ => (7, 0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(pairs: &[(&str, &str)]) -> Result<Config, String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| m.get(k).cloned())
    }

    #[test]
    fn defaults_and_overrides() {
        assert_eq!(from(&[]).unwrap(), Config::default());
        let c = from(&[
            ("CUDA_EMU_DEVICES", "2"),
            ("CUDA_EMU_CC", "8.6"),
            ("CUDA_EMU_MEMORY", "512M"),
            ("CUDA_EMU_DRIVER", "12.4"),
            ("CUDA_EMU_CHECKS", "memcheck,hazard"),
            ("CUDA_EMU_JITTER", "7"),
        ])
        .unwrap();
        assert_eq!(c.devices, 2);
        assert_eq!(c.compute_capability, (8, 6));
        assert_eq!(c.memory, 512 << 20);
        assert_eq!(c.driver_version, 12040);
        assert_eq!(c.max_ptx_version(), (8, 4));
        assert!(c.checks.memcheck && !c.checks.racecheck && c.hazards);
        assert_eq!(c.jitter, Some(7));
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (k, v) in [
            ("CUDA_EMU_DEVICES", "0"),
            ("CUDA_EMU_CC", "eight"),
            ("CUDA_EMU_MEMORY", "lots"),
            ("CUDA_EMU_DRIVER", "12"),
            ("CUDA_EMU_CHECKS", "everything"),
            ("CUDA_EMU_THREADS", "-1"),
        ] {
            let e = from(&[(k, v)]).unwrap_err();
            assert!(e.contains(k), "{e}");
        }
    }
}
