//! Reading a user-supplied flattened device tree (`-dtb`) and writing it back with `/chosen`
//! updated, as QEMU does: the kernel command line and the initrd location belong to this boot,
//! not to the file. The input is untrusted: every offset and length is checked.

use vm_fdt::{FdtReserveEntry, FdtWriter};

const FDT_MAGIC: u32 = 0xd00d_feed;
const FDT_BEGIN_NODE: u32 = 1;
const FDT_END_NODE: u32 = 2;
const FDT_PROP: u32 = 3;
const FDT_NOP: u32 = 4;
const FDT_END: u32 = 9;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Node {
    pub name: String,
    pub props: Vec<(String, Vec<u8>)>,
    pub children: Vec<Node>,
}

impl Node {
    fn set(&mut self, name: &str, value: Vec<u8>) {
        match self.props.iter_mut().find(|(n, _)| n == name) {
            Some(p) => p.1 = value,
            None => self.props.push((name.to_string(), value)),
        }
    }
}

pub struct Tree {
    pub reserved: Vec<(u64, u64)>,
    pub root: Node,
}

fn be32(b: &[u8], at: usize) -> Result<u32, String> {
    b.get(at..at + 4)
        .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or_else(|| format!("truncated at {at:#x}"))
}

fn be64(b: &[u8], at: usize) -> Result<u64, String> {
    Ok((be32(b, at)? as u64) << 32 | be32(b, at + 4)? as u64)
}

fn cstr(b: &[u8], at: usize) -> Result<&str, String> {
    let rest = b.get(at..).ok_or_else(|| format!("string offset {at:#x} out of range"))?;
    let end = rest.iter().position(|&c| c == 0).ok_or("unterminated string")?;
    std::str::from_utf8(&rest[..end]).map_err(|_| "string is not UTF-8".to_string())
}

pub fn parse(b: &[u8]) -> Result<Tree, String> {
    if be32(b, 0)? != FDT_MAGIC {
        return Err("bad magic".into());
    }
    let total = be32(b, 4)? as usize;
    if total > b.len() {
        return Err(format!("header says {total} bytes, file has {}", b.len()));
    }
    let b = &b[..total];
    let off_struct = be32(b, 8)? as usize;
    let off_strings = be32(b, 12)? as usize;
    let off_rsv = be32(b, 16)? as usize;
    let mut reserved = Vec::new();
    for i in 0..1024 {
        let (addr, size) = (be64(b, off_rsv + 16 * i)?, be64(b, off_rsv + 16 * i + 8)?);
        if addr == 0 && size == 0 {
            break;
        }
        reserved.push((addr, size));
    }
    let mut pos = off_struct;
    let mut stack: Vec<Node> = Vec::new();
    let mut root = None;
    loop {
        let token = be32(b, pos)?;
        pos += 4;
        match token {
            FDT_BEGIN_NODE => {
                let name = cstr(b, pos)?.to_string();
                pos = (pos + name.len() + 1).next_multiple_of(4);
                if stack.len() > 64 {
                    return Err("nodes nested too deeply".into());
                }
                stack.push(Node { name, ..Default::default() });
            }
            FDT_END_NODE => {
                let node = stack.pop().ok_or("unbalanced end of node")?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            FDT_PROP => {
                let len = be32(b, pos)? as usize;
                let name_off = be32(b, pos + 4)? as usize;
                let value = b.get(pos + 8..pos + 8 + len).ok_or("property value out of range")?.to_vec();
                let name = cstr(b, off_strings + name_off)?.to_string();
                pos = (pos + 8 + len).next_multiple_of(4);
                stack.last_mut().ok_or("property outside a node")?.props.push((name, value));
            }
            FDT_NOP => {}
            FDT_END => break,
            t => return Err(format!("unknown token {t:#x} at {:#x}", pos - 4)),
        }
    }
    let root = root.ok_or("no root node")?;
    if !stack.is_empty() {
        return Err("unterminated node".into());
    }
    Ok(Tree { reserved, root })
}

fn write_node(w: &mut FdtWriter, n: &Node) -> Result<(), vm_fdt::Error> {
    let h = w.begin_node(&n.name)?;
    for (name, value) in &n.props {
        w.property(name, value)?;
    }
    for c in &n.children {
        write_node(w, c)?;
    }
    w.end_node(h)
}

pub fn write(t: &Tree) -> Result<Vec<u8>, String> {
    let rsv: Vec<FdtReserveEntry> = t
        .reserved
        .iter()
        .map(|&(a, s)| FdtReserveEntry::new(a, s))
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    let mut w = FdtWriter::new_with_mem_reserv(&rsv).map_err(|e| e.to_string())?;
    write_node(&mut w, &t.root).map_err(|e| e.to_string())?;
    w.finish().map_err(|e| e.to_string())
}

/// Set `/chosen` bootargs and initrd location (creating the node if needed).
pub fn patch_chosen(dtb: &[u8], bootargs: Option<&str>, initrd: Option<(u64, u64)>) -> Result<Vec<u8>, String> {
    let mut t = parse(dtb)?;
    if t.root.children.iter().all(|c| c.name != "chosen") {
        t.root.children.push(Node { name: "chosen".into(), ..Default::default() });
    }
    let chosen = t.root.children.iter_mut().find(|c| c.name == "chosen").expect("just ensured");
    if let Some(args) = bootargs {
        let mut v = args.as_bytes().to_vec();
        v.push(0);
        chosen.set("bootargs", v);
    }
    if let Some((start, end)) = initrd {
        chosen.set("linux,initrd-start", start.to_be_bytes().to_vec());
        chosen.set("linux,initrd-end", end.to_be_bytes().to_vec());
    }
    write(&t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let mut w = FdtWriter::new_with_mem_reserv(&[FdtReserveEntry::new(0x8000_0000, 0x1000).unwrap()]).unwrap();
        let root = w.begin_node("").unwrap();
        w.property_string("compatible", "test").unwrap();
        let c = w.begin_node("cpus").unwrap();
        w.property_u32("#address-cells", 1).unwrap();
        w.end_node(c).unwrap();
        w.end_node(root).unwrap();
        w.finish().unwrap()
    }

    #[test]
    fn parse_then_write_round_trips() {
        let d = sample();
        assert_eq!(write(&parse(&d).unwrap()).unwrap(), d);
    }

    #[test]
    fn patch_adds_chosen_with_bootargs_and_initrd() {
        let out = patch_chosen(&sample(), Some("console=ttyS0"), Some((0x9000_0000, 0x9010_0000))).unwrap();
        let t = parse(&out).unwrap();
        let chosen = t.root.children.iter().find(|c| c.name == "chosen").unwrap();
        assert!(chosen.props.contains(&("bootargs".into(), b"console=ttyS0\0".to_vec())));
        assert!(chosen.props.contains(&("linux,initrd-end".into(), 0x9010_0000u64.to_be_bytes().to_vec())));
        assert_eq!(t.reserved, vec![(0x8000_0000, 0x1000)]);
    }

    #[test]
    fn truncated_tree_is_an_error_not_a_panic() {
        let d = sample();
        for len in [0, 3, 40, d.len() / 2, d.len() - 1] {
            let mut cut = d[..len].to_vec();
            if cut.len() >= 8 {
                cut[4..8].copy_from_slice(&(len as u32).to_be_bytes());
            }
            assert!(parse(&cut).is_err(), "length {len}");
        }
    }

    #[test]
    fn garbage_offsets_are_errors() {
        let mut d = sample();
        d[8..12].copy_from_slice(&0xffff_fff0u32.to_be_bytes());
        assert!(parse(&d).is_err());
    }
}
