//! What the checks found: one [`Report`] per violation, kept in a process-wide log (read
//! by tests through [`drain_reports`]) and printed to standard error as it happens.

use std::fmt;
use std::sync::Mutex;

/// The check that fired.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// Out of bounds, use after free, misaligned, a bad address space.
    Memcheck,
    /// Two threads touch the same bytes between barriers, at least one writing.
    Racecheck,
    /// A load of device memory never written.
    Initcheck,
    /// Stream operations ordered by nothing touch the same bytes; pinned memory reused
    /// under a queued copy.
    Hazard,
    /// An instruction the emulator cannot execute at run time (a bad barrier, a trap).
    Execution,
}

impl Check {
    /// The report prefix: `memcheck`, `racecheck`, ...
    pub fn name(self) -> &'static str {
        match self {
            Check::Memcheck => "memcheck",
            Check::Racecheck => "racecheck",
            Check::Initcheck => "initcheck",
            Check::Hazard => "hazard",
            Check::Execution => "execution",
        }
    }
}

/// One violation, with everything needed to find it in the source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub check: Check,
    /// One line: what happened.
    pub summary: String,
    /// Further lines: kernel, PTX line, block, thread, address, allocation, ...
    pub details: Vec<String>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.check.name(), self.summary)?;
        for d in &self.details {
            write!(f, "\n    {d}")?;
        }
        Ok(())
    }
}

static LOG: Mutex<Vec<Report>> = Mutex::new(Vec::new());
static COUNT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Reports recorded since the process started (draining does not lower it).
pub fn report_count() -> u64 {
    COUNT.load(std::sync::atomic::Ordering::Acquire)
}

/// Records a report and prints it to standard error.
pub fn record(report: Report) {
    eprintln!("cuda-emu {report}");
    if let Ok(path) = std::env::var("CUDA_EMU_REPORT") {
        use std::io::Write;
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
        {
            let _ = writeln!(f, "{report}");
        }
    }
    LOG.lock().unwrap_or_else(|e| e.into_inner()).push(report);
    COUNT.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
}

/// Takes every report recorded so far.
pub fn drain_reports() -> Vec<Report> {
    std::mem::take(&mut *LOG.lock().unwrap_or_else(|e| e.into_inner()))
}
