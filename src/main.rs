//! The `pixmix` command line.

mod cli;

use clap::Parser;

fn main() -> std::process::ExitCode {
    // Output piped into `head` ends the program quietly, as other Unix tools do, instead of
    // a panic at the next print.
    #[cfg(unix)]
    // SAFETY: restores the default disposition of one signal before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        // A file-size limit (ulimit -f) makes writes fail with EFBIG, reported with the
        // file's path, instead of killing the process.
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            match e.downcast_ref::<cli::Interrupted>() {
                Some(i) => std::process::ExitCode::from((128 + i.signal).clamp(1, 255) as u8),
                None => std::process::ExitCode::FAILURE,
            }
        }
    }
}
