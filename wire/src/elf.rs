//! Just enough ELF64 to load tcpmssd's own eBPF objects: a section's bytes by name, the
//! relocations of a program's section with the symbols they name, the legacy map
//! definitions, and the `ld_imm64` patch that puts a map's fd into an instruction.
//!
//! The layouts are the System V gABI's (`Elf64_Ehdr`, `Elf64_Shdr`, `Elf64_Sym`,
//! `Elf64_Rel`), in the object's byte order (`EI_DATA`); the BPF specifics are the kernel's
//! Documentation/bpf/llvm_reloc.rst (`R_BPF_64_64` on `ld_imm64`) and libbpf's
//! `struct bpf_map_def`. Untrusted bytes as elsewhere in this crate: every offset is checked
//! before a range is built from it.

use core::ops::Range;

/// `e_machine` of eBPF objects.
pub const EM_BPF: u16 = 247;
/// `R_BPF_64_64`: the 64-bit immediate of an `ld_imm64` instruction names a symbol.
pub const R_BPF_64_64: u32 = 1;
/// The `src_reg` of an `ld_imm64` whose immediate is a map fd.
pub const BPF_PSEUDO_MAP_FD: u8 = 1;
/// Bytes of one BPF instruction.
pub const INSN_LEN: usize = 8;
/// The opcode of `ld_imm64` (BPF_LD | BPF_IMM | BPF_DW).
const LD_IMM64: u8 = 0x18;

const SHT_SYMTAB: u32 = 2;
const SHT_REL: u32 = 9;

mod field {
    use core::ops::Range;
    // Elf64_Ehdr.
    pub const MAGIC: Range<usize> = 0..4;
    pub const CLASS: usize = 4;
    pub const DATA: usize = 5;
    pub const MACHINE: Range<usize> = 18..20;
    pub const SHOFF: Range<usize> = 40..48;
    pub const SHENTSIZE: Range<usize> = 58..60;
    pub const SHNUM: Range<usize> = 60..62;
    pub const SHSTRNDX: Range<usize> = 62..64;
    // Elf64_Shdr.
    pub const SH_NAME: Range<usize> = 0..4;
    pub const SH_TYPE: Range<usize> = 4..8;
    pub const SH_OFFSET: Range<usize> = 24..32;
    pub const SH_SIZE: Range<usize> = 32..40;
    pub const SH_LINK: Range<usize> = 40..44;
    pub const SH_INFO: Range<usize> = 44..48;
    pub const SHDR_LEN: usize = 64;
    // Elf64_Sym.
    pub const ST_NAME: Range<usize> = 0..4;
    pub const ST_SHNDX: Range<usize> = 6..8;
    pub const ST_VALUE: Range<usize> = 8..16;
    pub const SYM_LEN: usize = 24;
    // Elf64_Rel.
    pub const R_OFFSET: Range<usize> = 0..8;
    pub const R_INFO: Range<usize> = 8..16;
    pub const REL_LEN: usize = 16;
    // struct bpf_map_def.
    pub const MAP_TYPE: Range<usize> = 0..4;
    pub const KEY_SIZE: Range<usize> = 4..8;
    pub const VALUE_SIZE: Range<usize> = 8..12;
    pub const MAX_ENTRIES: Range<usize> = 12..16;
    pub const MAP_FLAGS: Range<usize> = 16..20;
}
const EHDR_LEN: usize = field::SHSTRNDX.end;
/// Bytes of a `struct bpf_map_def` in the `maps` section.
pub const MAP_DEF_LEN: usize = field::MAP_FLAGS.end;

/// An ELF64 eBPF object, checked as far as its header.
#[derive(Clone, Debug)]
pub struct Object<'a> {
    data: &'a [u8],
    big_endian: bool,
    sections: &'a [u8],
    names: Range<usize>,
}

/// One section header, as far as this module reads it.
#[derive(Clone, Debug)]
struct Section {
    name: u32,
    kind: u32,
    range: Range<usize>,
    link: u32,
    info: u32,
}

/// One relocation of a program section: the instruction at byte `at` names `symbol`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Relocation<'a> {
    /// Byte offset of the instruction in the program's section.
    pub at: usize,
    /// The relocation type (`R_BPF_64_64` for a map reference).
    pub kind: u32,
    /// The symbol's name.
    pub symbol: &'a str,
    /// The section the symbol is defined in (its index).
    pub symbol_section: u16,
    /// The symbol's offset in that section.
    pub symbol_value: u64,
}

/// A legacy map definition (`struct bpf_map_def`), in host order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapDef {
    /// `BPF_MAP_TYPE_*`.
    pub map_type: u32,
    /// Bytes of a key.
    pub key_size: u32,
    /// Bytes of a value.
    pub value_size: u32,
    /// Entries.
    pub max_entries: u32,
    /// `BPF_F_*` creation flags.
    pub map_flags: u32,
}

impl<'a> Object<'a> {
    /// Checks the ELF header (64-bit, eBPF) and finds the section headers; `None` when the
    /// bytes are not such an object.
    pub fn parse(data: &'a [u8]) -> Option<Object<'a>> {
        let header = data.get(..EHDR_LEN)?;
        if header.get(field::MAGIC)? != b"\x7fELF" || *header.get(field::CLASS)? != 2 {
            return None;
        }
        let big_endian = match header.get(field::DATA)? {
            1 => false,
            2 => true,
            _ => return None,
        };
        let mut object = Object {
            data,
            big_endian,
            sections: &[],
            names: 0..0,
        };
        if object.u16_at(header, field::MACHINE)? != EM_BPF
            || usize::from(object.u16_at(header, field::SHENTSIZE)?) != field::SHDR_LEN
        {
            return None;
        }
        let start = usize::try_from(object.u64_at(header, field::SHOFF)?).ok()?;
        let count = usize::from(object.u16_at(header, field::SHNUM)?);
        let end = start.checked_add(count.checked_mul(field::SHDR_LEN)?)?;
        object.sections = data.get(start..end)?;
        let names = object.section(usize::from(object.u16_at(header, field::SHSTRNDX)?))?;
        object.names = names.range;
        Some(object)
    }

    /// Returns whether the object is big-endian (`bpfeb`).
    pub fn big_endian(&self) -> bool {
        self.big_endian
    }

    /// Returns the bytes of the section `name`.
    pub fn section_data(&self, name: &str) -> Option<&'a [u8]> {
        let (_, section) = self.find(name)?;
        self.data.get(section.range)
    }

    /// Returns the index of the section `name`.
    pub fn section_index(&self, name: &str) -> Option<u16> {
        u16::try_from(self.find(name)?.0).ok()
    }

    /// Returns the relocations that apply to the section `name` (none when it has no
    /// relocation section); `None` when a relocation or its symbol cannot be read.
    pub fn relocations(&self, name: &str) -> Option<heapless::Vec<Relocation<'a>, 32>> {
        let (target, _) = self.find(name)?;
        let mut found = heapless::Vec::new();
        for index in 0..self.section_count() {
            let section = self.section(index)?;
            if section.kind != SHT_REL || usize::try_from(section.info).ok()? != target {
                continue;
            }
            let symbols = self.section(usize::try_from(section.link).ok()?)?;
            if symbols.kind != SHT_SYMTAB {
                return None;
            }
            let strings = self.section(usize::try_from(symbols.link).ok()?)?;
            let rels = self.data.get(section.range)?;
            for rel in rels.chunks(field::REL_LEN) {
                let info = self.u64_at(rel, field::R_INFO)?;
                let symbol = usize::try_from(info >> 32).ok()?;
                let sym_start = symbols
                    .range
                    .start
                    .checked_add(symbol.checked_mul(field::SYM_LEN)?)?;
                let sym_end = sym_start.checked_add(field::SYM_LEN)?;
                if sym_end > symbols.range.end {
                    return None;
                }
                let sym = self.data.get(sym_start..sym_end)?;
                let name_at = usize::try_from(self.u32_at(sym, field::ST_NAME)?).ok()?;
                let relocation = Relocation {
                    at: usize::try_from(self.u64_at(rel, field::R_OFFSET)?).ok()?,
                    kind: u32::try_from(info & 0xffff_ffff).ok()?,
                    symbol: self.string(strings.range.clone(), name_at)?,
                    symbol_section: self.u16_at(sym, field::ST_SHNDX)?,
                    symbol_value: self.u64_at(sym, field::ST_VALUE)?,
                };
                found.push(relocation).ok()?;
            }
        }
        Some(found)
    }

    /// Reads the map definition at `offset` in the `maps` section.
    pub fn map_def(&self, offset: u64) -> Option<MapDef> {
        let maps = self.section_data("maps")?;
        let start = usize::try_from(offset).ok()?;
        let def = maps.get(start..start.checked_add(MAP_DEF_LEN)?)?;
        Some(MapDef {
            map_type: self.u32_at(def, field::MAP_TYPE)?,
            key_size: self.u32_at(def, field::KEY_SIZE)?,
            value_size: self.u32_at(def, field::VALUE_SIZE)?,
            max_entries: self.u32_at(def, field::MAX_ENTRIES)?,
            map_flags: self.u32_at(def, field::MAP_FLAGS)?,
        })
    }

    fn section_count(&self) -> usize {
        self.sections.len() / field::SHDR_LEN
    }

    fn find(&self, name: &str) -> Option<(usize, Section)> {
        (0..self.section_count()).find_map(|index| {
            let section = self.section(index)?;
            let at = usize::try_from(section.name).ok()?;
            (self.string(self.names.clone(), at)? == name).then_some((index, section))
        })
    }

    fn section(&self, index: usize) -> Option<Section> {
        let start = index.checked_mul(field::SHDR_LEN)?;
        let header = self
            .sections
            .get(start..start.checked_add(field::SHDR_LEN)?)?;
        let offset = usize::try_from(self.u64_at(header, field::SH_OFFSET)?).ok()?;
        let size = usize::try_from(self.u64_at(header, field::SH_SIZE)?).ok()?;
        let kind = self.u32_at(header, field::SH_TYPE)?;
        // SHT_NOBITS (8) occupies no bytes of the file.
        let end = if kind == 8 {
            offset
        } else {
            offset.checked_add(size)?
        };
        if end > self.data.len() {
            return None;
        }
        Some(Section {
            name: self.u32_at(header, field::SH_NAME)?,
            kind,
            range: offset..end,
            link: self.u32_at(header, field::SH_LINK)?,
            info: self.u32_at(header, field::SH_INFO)?,
        })
    }

    /// The NUL-terminated string at `at` in the string table `table`.
    fn string(&self, table: Range<usize>, at: usize) -> Option<&'a str> {
        let table = self.data.get(table)?;
        let rest = table.get(at..)?;
        let len = rest.iter().position(|&byte| byte == 0)?;
        core::str::from_utf8(rest.get(..len)?).ok()
    }

    fn u16_at(&self, bytes: &[u8], range: Range<usize>) -> Option<u16> {
        let bytes: [u8; 2] = bytes.get(range)?.try_into().ok()?;
        Some(if self.big_endian {
            u16::from_be_bytes(bytes)
        } else {
            u16::from_le_bytes(bytes)
        })
    }

    fn u32_at(&self, bytes: &[u8], range: Range<usize>) -> Option<u32> {
        let bytes: [u8; 4] = bytes.get(range)?.try_into().ok()?;
        Some(if self.big_endian {
            u32::from_be_bytes(bytes)
        } else {
            u32::from_le_bytes(bytes)
        })
    }

    fn u64_at(&self, bytes: &[u8], range: Range<usize>) -> Option<u64> {
        let bytes: [u8; 8] = bytes.get(range)?.try_into().ok()?;
        Some(if self.big_endian {
            u64::from_be_bytes(bytes)
        } else {
            u64::from_le_bytes(bytes)
        })
    }
}

/// Makes the `ld_imm64` instruction at byte `at` of `insns` load the map `fd`: `src_reg`
/// becomes `BPF_PSEUDO_MAP_FD` and the immediate the fd, in the object's byte order.
/// `None` when there is no `ld_imm64` there.
pub fn patch_map_fd(insns: &mut [u8], at: usize, fd: u32, big_endian: bool) -> Option<()> {
    let insn = insns.get_mut(at..at.checked_add(INSN_LEN)?)?;
    let [code, regs, _, _, imm @ ..] = insn else {
        return None;
    };
    if *code != LD_IMM64 {
        return None;
    }
    // The register byte holds dst_reg and src_reg, in the order of the object's bit fields.
    *regs = if big_endian {
        (*regs & 0xf0) | BPF_PSEUDO_MAP_FD
    } else {
        (*regs & 0x0f) | (BPF_PSEUDO_MAP_FD << 4)
    };
    imm.copy_from_slice(&if big_endian {
        fd.to_be_bytes()
    } else {
        fd.to_le_bytes()
    });
    Some(())
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn patch_sets_src_reg_and_immediate_little_endian() {
        // ld_imm64 r1, 0 (two instructions: the second carries the upper half).
        let mut insns = [0x18, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        patch_map_fd(&mut insns, 0, 0x0102_0304, false).unwrap();
        assert_eq!(insns[..8], [0x18, 0x11, 0, 0, 0x04, 0x03, 0x02, 0x01]);
        assert_eq!(insns[8..], [0; 8]);
    }

    #[test]
    fn patch_sets_src_reg_and_immediate_big_endian() {
        let mut insns = [0x18, 0x10, 0, 0, 0, 0, 0, 0];
        patch_map_fd(&mut insns, 0, 7, true).unwrap();
        assert_eq!(insns, [0x18, 0x11, 0, 0, 0, 0, 0, 7]);
    }

    #[test]
    fn patch_refuses_other_instructions_and_offsets() {
        let mut insns = [0xb7, 0x01, 0, 0, 0, 0, 0, 0]; // mov r1, 0
        assert_eq!(patch_map_fd(&mut insns, 0, 3, false), None);
        assert_eq!(patch_map_fd(&mut insns, 4, 3, false), None);
        assert_eq!(insns, [0xb7, 0x01, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn parse_refuses_non_elf_and_other_machines() {
        assert!(Object::parse(&[]).is_none());
        assert!(Object::parse(&[0u8; 64]).is_none());
        let mut header = [0u8; 64];
        header[..6].copy_from_slice(b"\x7fELF\x02\x01");
        header[18..20].copy_from_slice(&62u16.to_le_bytes()); // x86-64
        header[58..60].copy_from_slice(&64u16.to_le_bytes());
        assert!(Object::parse(&header).is_none());
    }
}
