//! Starting the monitors the command line asks for: QMP servers (`-qmp`, `-chardev` + `-mon
//! mode=control`), HMP on sockets (`-mon mode=readline`, `-monitor unix:...`), and the HMP that
//! Ctrl-A c reaches on the serial console.

use crate::args::Options;
use crate::control::{qmp_event, MachineHandle, MonitorVm};
use mimic_machine::{Board, MachineEvent};
use mimic_monitor::{parse_chardev_socket, parse_qmp_spec, BlockInfo, ChardevInfo, EventSink, Listener, QmpServer, Vm};
use std::io::BufReader;
use std::sync::Arc;

pub struct Monitors {
    events: EventSink,
    vm: Arc<dyn Vm>,
    _servers: Vec<QmpServer>,
}

impl Monitors {
    /// Where the machine's events go: every QMP client.
    pub fn event_hook(&self) -> Option<Box<dyn Fn(MachineEvent) + Send>> {
        let sink = self.events.clone();
        Some(Box::new(move |e| sink.emit(qmp_event(&e))))
    }

    /// Let queued events (the final SHUTDOWN) reach the clients before the process exits.
    pub fn flush(&self) {
        self.events.flush(std::time::Duration::from_millis(500));
    }

    /// The monitor the serial console's Ctrl-A c switches to.
    pub fn console_vm(&self) -> Arc<dyn Vm> {
        self.vm.clone()
    }
}

/// HMP over a socket: each client gets its own session.
fn serve_hmp(listener: Listener, vm: Arc<dyn Vm>) {
    std::thread::spawn(move || {
        while let Ok(stream) = listener.accept() {
            let vm = vm.clone();
            std::thread::spawn(move || {
                let Ok(reader) = stream.try_clone() else { return };
                let _ = mimic_monitor::serve_stdio(&*vm, BufReader::new(reader), stream);
            });
        }
    });
}

pub fn start<B: Board>(o: &Options, handle: MachineHandle<B>, blocks: Vec<BlockInfo>) -> Result<Monitors, String> {
    let events = EventSink::new();
    let mut chardevs = vec![ChardevInfo { label: "serial0".into(), filename: "stdio".into(), frontend_open: true }];
    let mut qmp = Vec::new();
    let mut hmp = Vec::new();
    for spec in &o.qmp {
        let (addr, wait) = parse_qmp_spec(spec).map_err(|e| format!("-qmp {spec}: {e}"))?;
        let l = addr.bind().map_err(|e| format!("-qmp {spec}: {e}"))?;
        chardevs.push(ChardevInfo {
            label: format!("compat_monitor{}", qmp.len()),
            filename: addr.to_string(),
            frontend_open: true,
        });
        qmp.push((l, wait));
    }
    for (id, control) in &o.mons {
        let spec = o
            .chardevs
            .iter()
            .find(|(cid, _)| cid == id)
            .map(|(_, s)| s)
            .ok_or_else(|| format!("-mon chardev={id}: no -chardev with id '{id}'"))?;
        let c = parse_chardev_socket(spec).map_err(|e| format!("-chardev {spec}: {e}"))?;
        let l = c.address.bind().map_err(|e| format!("-chardev {spec}: {e}"))?;
        chardevs.push(ChardevInfo { label: c.id.clone(), filename: c.address.to_string(), frontend_open: true });
        if *control {
            qmp.push((l, c.wait));
        } else {
            hmp.push(l);
        }
    }
    // The other chardevs are virtio console ports' backends.
    for (id, spec) in &o.chardevs {
        if o.mons.iter().any(|(m, _)| m == id) {
            continue;
        }
        let filename = match parse_chardev_socket(spec) {
            Ok(c) => c.address.to_string(),
            Err(_) => spec.split(',').next().unwrap_or_default().to_string(),
        };
        chardevs.push(ChardevInfo { label: id.clone(), filename, frontend_open: true });
    }
    match o.monitor.as_deref() {
        None | Some("stdio") | Some("none") => {}
        Some(spec) => {
            let (addr, _) = parse_qmp_spec(spec).map_err(|e| format!("-monitor {spec}: {e}"))?;
            hmp.push(addr.bind().map_err(|e| format!("-monitor {spec}: {e}"))?);
        }
    }
    let vm: Arc<dyn Vm> = Arc::new(MonitorVm { handle, name: o.name.clone(), chardevs, blocks });
    let mut servers = Vec::new();
    for (l, wait) in qmp {
        let s = QmpServer::spawn(l, vm.clone(), events.clone()).map_err(|e| format!("QMP server: {e}"))?;
        if wait {
            s.wait_for_client();
        }
        servers.push(s);
    }
    for l in hmp {
        serve_hmp(l, vm.clone());
    }
    Ok(Monitors { events, vm, _servers: servers })
}
