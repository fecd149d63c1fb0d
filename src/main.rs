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
    }
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
