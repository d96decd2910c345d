//! `mimic`: parse a QEMU-style command line, build the machine, run it, and exit with the
//! guest's status. All logic lives in the library crates; this is glue.
#![forbid(unsafe_code)]

mod args;
mod console;

use args::{Command, Options};
use mimic_machine::{ExitStatus, VirtMachine};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let opts = match args::parse(&argv) {
        Ok(Command::Run(o)) => o,
        Ok(Command::Help) => {
            print!("{}", args::HELP);
            return ExitCode::SUCCESS;
        }
        Ok(Command::Version) => {
            println!("mimic {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Err(e) => return fail(&e.to_string()),
    };
    if let Err(e) = init_logging(&opts) {
        return fail(&e);
    }
    match run(&opts) {
        Ok(code) => ExitCode::from(code),
        Err(e) => fail(&e),
    }
}

fn fail(msg: &str) -> ExitCode {
    eprintln!("mimic: {msg}");
    ExitCode::FAILURE
}

fn init_logging(o: &Options) -> Result<(), String> {
    use tracing_subscriber::EnvFilter;
    let mut filter = String::from("warn,guest_error=off");
    if o.config.log.in_asm {
        filter.push_str(",in_asm=info");
    }
    if o.config.log.exec {
        filter.push_str(",exec=info");
    }
    if o.log_int {
        filter.push_str(",int=info");
    }
    if o.log_guest_errors {
        filter.push_str(",guest_error=warn");
    }
    let filter = std::env::var("MIMIC_LOG").unwrap_or(filter);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new(filter))
        .without_time()
        .with_level(false)
        .with_target(true)
        .with_ansi(false);
    match &o.logfile {
        Some(path) => {
            let f = std::fs::File::create(path).map_err(|e| format!("-D {}: {e}", path.display()))?;
            builder.with_writer(std::sync::Mutex::new(f)).init();
        }
        None => builder.with_writer(std::io::stderr).init(),
    }
    Ok(())
}

fn run(o: &Options) -> Result<u8, String> {
    if let Some(path) = &o.dumpdtb {
        let dtb = mimic_machine::dump_dtb(&o.config).map_err(|e| e.to_string())?;
        std::fs::write(path, dtb).map_err(|e| format!("dumpdtb={}: {e}", path.display()))?;
        return Ok(0);
    }
    if o.config.kernel.is_none() && o.config.bios == mimic_machine::Bios::None {
        return Err("nothing to run: give -kernel FILE or -bios FILE".into());
    }
    // Build the first machine before touching the terminal, so a bad option or file leaves it
    // as it was.
    let new_machine = || VirtMachine::new(&o.config, Box::new(std::io::stdout())).map_err(|e| error_chain(&e));
    let mut m = new_machine()?;
    let _raw = console::RawTerminal::enable();
    let quit = Arc::new(AtomicBool::new(false));
    let (host_tx, host_rx) = std::sync::mpsc::channel();
    console::spawn_stdin(host_tx, quit.clone());
    loop {
        match m.run(Some(&host_rx), &quit) {
            ExitStatus::PowerOff(status) => return Ok(status.clamp(0, 255) as u8),
            ExitStatus::Quit => {
                eprint!("\r\nmimic: terminated by C-a x\r\n");
                return Ok(0);
            }
            ExitStatus::Reset => m = new_machine()?,
        }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}
