mod common;
use common::*;
use mimic_arch_aarch64::decode::decode32;
use mimic_arch_aarch64::Fault;
#[test]
fn cov() {
    let text = std::fs::read_to_string("/tmp/a64apt/fpwords.txt").unwrap();
    let (mut total, mut dec, mut ok) = (0, 0, 0);
    let mut bad = std::collections::BTreeMap::new();
    for line in text.lines() {
        let mut it = line.split(' ');
        let w = u32::from_str_radix(it.next().unwrap(), 16).unwrap();
        let m = it.next().unwrap_or("").to_string();
        total += 1;
        let Some(i) = decode32(w) else {
            *bad.entry(format!("nodecode {m}")).or_insert(0) += 1;
            continue;
        };
        dec += 1;
        let name = format!("{:?}", i);
        if name.starts_with("Vld") {
            ok += 1;
            continue;
        }
        // Data processing: run with registers pointing at DATA.
        let mut s = Snippet::of(&[w]);
        for r in 0..31 {
            s = s.x(r, DATA + 0x100);
        }
        for r in 0..32 {
            s = s.v(r, 0x0123_4567_89ab_cdef_0fed_cba9_8765_4321 ^ (r as u128) << 3);
        }
        let f = s.run_on(TIERS[0]);
        match f.taken {
            Some((Fault::Undefined { .. }, _)) => {
                *bad.entry(format!("undef {m} {w:08x}")).or_insert(0) += 1;
            }
            _ => ok += 1,
        }
    }
    println!("total {total} decoded {dec} executes {ok}");
    for (k, v) in bad {
        println!("{v:5} {k}");
    }
}
