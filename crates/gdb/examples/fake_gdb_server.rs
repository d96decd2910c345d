//! Serve the FakeTarget for manual experiments:
//! `cargo run -p mimic-gdb --features test-utils --example fake_gdb_server -- tcp:127.0.0.1:1234 [HARTS]`
//! then `gdb-multiarch -ex 'target remote :1234'`.

use mimic_gdb::mock::FakeTarget;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let spec = args.next().unwrap_or_else(|| "tcp:127.0.0.1:1234".to_string());
    let harts = args.next().map_or(Ok(2), |s| s.parse())?;
    let listener = mimic_gdb::listen(&spec)?;
    eprintln!("fake RISC-V machine ({harts} harts) waiting for gdb on {}", listener.local_addr()?);
    let outcome = mimic_gdb::serve(listener, FakeTarget::new(harts))?;
    eprintln!("session ended: {outcome:?}");
    Ok(())
}
