//! `mimic`: parse a QEMU-style command line, build the machine, run it, and exit with the
//! guest's status. All logic lives in the library crates; this is glue.
#![forbid(unsafe_code)]

mod args;
mod arm;
mod chardev;
mod console;
mod control;
mod devices;
mod gdb_regs;
mod monitor;

use args::{Command, Options};
use control::{GdbTarget, MachineHandle};
use gdb_regs::GdbBoard;
use mimic_machine::{ExitStatus, Machine, VirtConfig, VirtMachine};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

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
    if let Some(model) = arm::board_model(o)? {
        return arm::run(o, model);
    }
    if let Some(path) = &o.dumpdtb {
        let dtb = mimic_machine::dump_dtb(&o.config).map_err(|e| e.to_string())?;
        std::fs::write(path, dtb).map_err(|e| format!("dumpdtb={}: {e}", path.display()))?;
        return Ok(0);
    }
    if o.config.kernel.is_none() && o.config.bios == mimic_machine::Bios::None {
        return Err("nothing to run: give -kernel FILE or -bios FILE".into());
    }
    let mut cfg = o.config.clone();
    let devices = devices::build(o)?;
    if devices.pflash.iter().any(Option::is_some) {
        return Err("-drive if=pflash: only the AArch64 virt board (-cpu cortex-a57) has flash banks".into());
    }
    cfg.virtio = devices.virtio;
    cfg.ahci = devices.ahci;
    let build = |cfg: &VirtConfig, _old: Option<&VirtMachine>| {
        VirtMachine::new(cfg, Box::new(std::io::stdout())).map_err(|e| error_chain(&e))
    };
    run_machine(o, cfg, devices.drives, build)
}

/// Run a board with its control planes: build the first machine and bind every socket before
/// touching the terminal (so a bad option, file or address leaves it as it was), then run the
/// guest until it powers off or the user quits. A reset builds the machine again with `build`
/// (given the old one, for what survives a reset), keeping the debugger's and monitors' view.
fn run_machine<B: GdbBoard>(
    o: &Options,
    mut cfg: VirtConfig,
    drives: Vec<mimic_monitor::BlockInfo>,
    mut build: impl FnMut(&VirtConfig, Option<&Machine<B>>) -> Result<Machine<B>, String>,
) -> Result<u8, String> {
    let mut m = build(&cfg, None)?;
    let (host_tx, host_rx) = std::sync::mpsc::channel();
    let handle = MachineHandle::new(host_tx.clone());
    let gdb = match &o.gdb {
        Some(spec) => Some(mimic_gdb::listen(spec).map_err(|e| format!("-gdb {spec}: {e}"))?),
        None => None,
    };
    let monitors = monitor::start(o, handle.clone(), drives)?;
    m.events = monitors.event_hook();
    let debugger = gdb.map(|listener| spawn_gdb(listener, handle.clone()));

    let _raw = console::RawTerminal::enable();
    let quit = Arc::new(AtomicBool::new(false));
    let signalled = catch_termination_signals(&quit)?;
    let send = Box::new(move |bytes: Vec<u8>| host_tx.send(mimic_machine::HostEvent::Input(bytes)).is_ok());
    console::spawn_stdin(send, quit.clone(), Some(monitors.console_vm()), o.monitor.as_deref() == Some("stdio"));
    loop {
        match m.run(Some(&host_rx), &quit) {
            ExitStatus::PowerOff(status) => {
                monitors.flush();
                if let Some(d) = &debugger {
                    d.wait_until_told(Duration::from_secs(2));
                }
                return Ok(status.clamp(0, 255) as u8);
            }
            ExitStatus::Quit => {
                monitors.flush();
                let signal = signalled.load(Ordering::Acquire);
                if signal != 0 {
                    eprint!("\r\nmimic: terminating on signal {signal}\r\n");
                } else if quit.load(Ordering::Acquire) {
                    eprint!("\r\nmimic: terminated by C-a x\r\n");
                }
                return Ok(0);
            }
            ExitStatus::Reset => {
                // A reset keeps the debugger's and monitors' view; the CPUs do not wait for
                // `cont` again.
                cfg.start_paused = false;
                let mut new = build(&cfg, Some(&m))?;
                let debug = std::mem::take(&mut m.debug);
                new.events = m.events.take();
                let watch = debug.watchpoints.clone();
                new.debug = debug;
                new.set_watchpoints(watch);
                m = new;
            }
        }
    }
}

/// SIGTERM, SIGINT and SIGHUP end the run as C-a x does, so that the machine is dropped (disk
/// threads finish the writes they answered, the terminal is restored); a second one while that
/// happens exits at once. Returns where the number of the signal that came is kept (0: none).
fn catch_termination_signals(quit: &Arc<AtomicBool>) -> Result<Arc<AtomicUsize>, String> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    use signal_hook::flag;
    let signalled = Arc::new(AtomicUsize::new(0));
    for sig in [SIGTERM, SIGINT, SIGHUP] {
        let err = |e: std::io::Error| format!("cannot catch signal {sig}: {e}");
        flag::register_conditional_shutdown(sig, 1, quit.clone()).map_err(err)?;
        flag::register_usize(sig, signalled.clone(), sig as usize).map_err(err)?;
        flag::register(sig, quit.clone()).map_err(err)?;
    }
    Ok(signalled)
}

/// Serve GDB connections one at a time, as QEMU does; after a detach the guest runs on, after
/// `kill` mimic quits.
fn spawn_gdb<B: GdbBoard>(listener: std::net::TcpListener, handle: MachineHandle<B>) -> Debugger {
    let debugger = Debugger { in_session: Arc::new(AtomicBool::new(false)) };
    let in_session = debugger.in_session.clone();
    std::thread::spawn(move || {
        while let Ok((stream, _)) = listener.accept() {
            let Some(target) = GdbTarget::attach(handle.clone()) else { break };
            in_session.store(true, Ordering::Release);
            let outcome = mimic_gdb::serve_connection(stream, target);
            in_session.store(false, Ordering::Release);
            match outcome {
                Ok(mimic_gdb::StopOutcome::Detached | mimic_gdb::StopOutcome::Disconnected) => {
                    handle.call(|m| m.resume());
                }
                Ok(mimic_gdb::StopOutcome::Killed) => {
                    handle.call(|m| m.request_exit(ExitStatus::Quit));
                    break;
                }
                Ok(mimic_gdb::StopOutcome::Exited(_)) => break,
                Err(e) => tracing::warn!("gdb session ended: {e}"),
            }
        }
    });
    debugger
}

/// The GDB connection thread, as the machine's owner sees it.
struct Debugger {
    /// A debugger is connected (its session has not ended).
    in_session: Arc<AtomicBool>,
}

impl Debugger {
    /// The guest powered off: give a connected debugger the time to be told (`W` packet)
    /// before the process ends and closes its socket.
    fn wait_until_told(&self, timeout: Duration) {
        let end = std::time::Instant::now() + timeout;
        while self.in_session.load(Ordering::Acquire) && std::time::Instant::now() < end {
            std::thread::sleep(Duration::from_millis(5));
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
