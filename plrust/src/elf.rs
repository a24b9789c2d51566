//! Reading a section out of a 64-bit little-endian ELF shared object (x86_64 and
//! aarch64 Linux): enough to inspect a stored artifact without loading it.

/// The contents of the section called `name`, if `object` is an ELF64 LE file that has it.
pub fn section<'a>(object: &'a [u8], name: &str) -> Option<&'a [u8]> {
    const ELFCLASS64: u8 = 2;
    const ELFDATA2LSB: u8 = 1;
    if object.get(..4)? != b"\x7fELF" || object[4] != ELFCLASS64 || object[5] != ELFDATA2LSB {
        return None;
    }
    let u16_at = |at: usize| {
        object
            .get(at..at + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
    };
    let u32_at = |at: usize| {
        object
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes(b.try_into().unwrap()))
    };
    let u64_at = |at: usize| {
        object
            .get(at..at + 8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
    };

    let shoff = usize::try_from(u64_at(0x28)?).ok()?;
    let shentsize = usize::from(u16_at(0x3a)?);
    let shnum = usize::from(u16_at(0x3c)?);
    let shstrndx = usize::from(u16_at(0x3e)?);
    // (offset, size) of section header `i`'s contents, and its name offset.
    let header = |i: usize| -> Option<(u32, usize, usize)> {
        let at = shoff.checked_add(i.checked_mul(shentsize)?)?;
        let name = u32_at(at)?;
        let offset = usize::try_from(u64_at(at + 0x18)?).ok()?;
        let size = usize::try_from(u64_at(at + 0x20)?).ok()?;
        Some((name, offset, size))
    };
    let (_, strtab_off, strtab_size) = header(shstrndx)?;
    let strtab = object.get(strtab_off..strtab_off.checked_add(strtab_size)?)?;
    (0..shnum).find_map(|i| {
        let (name_off, offset, size) = header(i)?;
        let rest = strtab.get(name_off as usize..)?;
        let end = rest.iter().position(|&b| b == 0)?;
        if &rest[..end] == name.as_bytes() {
            object.get(offset..offset.checked_add(size)?)
        } else {
            None
        }
    })
}

/// The largest stack frame listed in a `.stack_sizes` section (rustc's
/// `-Z emit-stack-sizes`: for each function of the crate, its address as a u64 and its
/// frame size as ULEB128). `None` if the section is malformed.
pub fn largest_stack_frame(section: &[u8]) -> Option<u64> {
    let mut rest = section;
    let mut largest = 0u64;
    while !rest.is_empty() {
        rest = rest.get(8..)?;
        let mut size = 0u64;
        let mut shift = 0u32;
        loop {
            let (&byte, tail) = rest.split_first()?;
            rest = tail;
            if shift >= 64 {
                return None;
            }
            size |= u64::from(byte & 0x7f) << shift;
            shift += 7;
            if byte & 0x80 == 0 {
                break;
            }
        }
        largest = largest.max(size);
    }
    Some(largest)
}

#[cfg(test)]
mod unit_tests {
    use super::*;

    /// A minimal ELF64 LE image: null section, `.shstrtab`, and `.note.x` with contents.
    fn image() -> Vec<u8> {
        let strtab = b"\0.shstrtab\0.note.x\0";
        let data = b"hello";
        let mut img = vec![0u8; 64];
        img[..4].copy_from_slice(b"\x7fELF");
        img[4] = 2;
        img[5] = 1;
        let strtab_off = img.len();
        img.extend_from_slice(strtab);
        let data_off = img.len();
        img.extend_from_slice(data);
        let shoff = img.len();
        img[0x28..0x30].copy_from_slice(&(shoff as u64).to_le_bytes());
        img[0x3a..0x3c].copy_from_slice(&64u16.to_le_bytes());
        img[0x3c..0x3e].copy_from_slice(&3u16.to_le_bytes());
        img[0x3e..0x40].copy_from_slice(&1u16.to_le_bytes());
        let mut sh = |name: u32, off: usize, size: usize| {
            let mut h = vec![0u8; 64];
            h[..4].copy_from_slice(&name.to_le_bytes());
            h[0x18..0x20].copy_from_slice(&(off as u64).to_le_bytes());
            h[0x20..0x28].copy_from_slice(&(size as u64).to_le_bytes());
            img.extend_from_slice(&h);
        };
        sh(0, 0, 0);
        sh(1, strtab_off, strtab.len());
        sh(11, data_off, data.len());
        img
    }

    #[test]
    fn finds_a_named_section() {
        assert_eq!(section(&image(), ".note.x"), Some(&b"hello"[..]));
        assert_eq!(section(&image(), ".missing"), None);
    }

    #[test]
    fn rejects_non_elf_and_truncated_input() {
        assert_eq!(section(b"not an elf at all", ".note.x"), None);
        let img = image();
        assert_eq!(section(&img[..100], ".note.x"), None);
    }

    #[test]
    fn stack_sizes_are_read_as_address_and_uleb128() {
        let mut section = Vec::new();
        section.extend_from_slice(&0x1000u64.to_le_bytes());
        section.push(0x30); // 48
        section.extend_from_slice(&0x2000u64.to_le_bytes());
        section.extend_from_slice(&[0x80, 0x80, 0x80, 0x02]); // 4 MiB
        assert_eq!(largest_stack_frame(&section), Some(4 << 20));
        assert_eq!(
            largest_stack_frame(&section[..12]),
            None,
            "cut in the middle"
        );
        assert_eq!(largest_stack_frame(&[]), Some(0));
    }
}
