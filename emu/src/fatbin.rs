//! Reads the module images that `cuModuleLoadData` and friends receive: a pointer with no
//! length, to a fatbin, to cudart's fatbin wrapper, to NUL-terminated PTX text, or to an ELF
//! cubin. The emulator runs PTX only, so this returns the PTX texts an image holds and says
//! exactly why when it holds none.
//!
//! The fatbin layout, little-endian, as nvcc 13 writes it (NVIDIA documents none; this is
//! what its files and cuobjdump show):
//!
//! | offset | size | container header                                   |
//! | ------ | ---- | -------------------------------------------------- |
//! | 0      | 4    | magic `0xBA55ED50`                                 |
//! | 4      | 2    | version, 1                                         |
//! | 6      | 2    | header size, 16: the offset of the first entry     |
//! | 8      | 8    | size of the entries that follow the header         |
//!
//! Entries follow one another with no terminator; each is a header then its payload:
//!
//! | offset | size | entry header                                                   |
//! | ------ | ---- | -------------------------------------------------------------- |
//! | 0x00   | 2    | kind: 1 PTX, 2 ELF                                             |
//! | 0x02   | 2    | attributes, 0x0101                                             |
//! | 0x04   | 4    | header size, the payload's offset: 0x40, more with options     |
//! | 0x08   | 8    | payload size, padded to 8: the next entry follows the payload  |
//! | 0x10   | 4    | compressed payload size, 0 when stored uncompressed            |
//! | 0x14   | 4    | offset in this header of the ptxas options' {offset, length} |
//! | 0x18   | 4    | code version: minor u16, major u16 (PTX ISA 9.0, ELF 1.8)      |
//! | 0x1c   | 4    | SM architecture: 80 for `sm_80` and `compute_80`               |
//! | 0x28   | 8    | flags: 0x1 64-bit, 0x10 Linux, 0x2000 LZ4, 0x8000 zstd         |
//! | 0x38   | 8    | uncompressed payload size, 0 when stored uncompressed          |
//!
//! LZ4 payloads (`nvcc --compress-mode=speed`) are raw LZ4 blocks, zstd ones (the default)
//! zstd frames. Decompressed and stored PTX alike end in NULs.

use std::ffi::CStr;
use std::fmt;
use std::io::Read as _;

/// `fatBinaryHeader::magic`, at offset 0 of a fatbin (bytes `50 ed 55 ba`).
const FATBIN_MAGIC: u32 = 0xBA55_ED50;
/// `__fatBinC_Wrapper_t::magic`, the struct cudart registers (bytes `b1 43 62 46`).
const WRAPPER_MAGIC: u32 = 0x4662_43B1;
/// `\x7fELF`.
const ELF_MAGIC: u32 = u32::from_le_bytes(*b"\x7fELF");
/// Container header size; entries start at the size the header declares (at least this).
const FATBIN_HEADER: usize = 16;
/// The fixed part of an entry header.
const ENTRY_HEADER: usize = 0x40;
/// Entry kind of PTX text.
const KIND_PTX: u16 = 1;
/// Entry flag: the payload is a raw LZ4 block.
const FLAG_LZ4: u64 = 0x2000;
/// Entry flag: the payload is a zstd frame.
const FLAG_ZSTD: u64 = 0x8000;

/// One PTX text found in a module image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PtxEntry {
    /// The PTX source, without the NUL terminator or padding.
    pub text: String,
    /// The target architecture, e.g. 80 for `compute_80`: from the fatbin entry, or from the
    /// `.target sm_XX` directive of plain text; `None` when neither says.
    pub arch: Option<u32>,
    /// Plain PTX text rather than an entry of a fatbin (a driver JIT-compiles text for the
    /// device whatever its target, and fails on a newer one; from a fatbin it picks).
    pub plain_text: bool,
}

/// Why a module image yields no PTX: each says what was seen, so a failing
/// `cuModuleLoadData` can be traced to the image that caused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FatbinError {
    /// The image pointer is null.
    NullImage,
    /// The image is empty (a lone NUL, or no bytes).
    Empty,
    /// The image starts with none of the known magics and is not PTX text.
    BadMagic {
        /// Its first bytes (up to 4; fewer when a NUL or the end came first).
        seen: Vec<u8>,
    },
    /// The image is an ELF cubin: machine code, which the emulator cannot run.
    Elf,
    /// A fatbin wrapper was given as bytes: its data is behind a pointer that only
    /// [`read_image`] may follow.
    WrapperAsBytes,
    /// A fatbin wrapper whose fields are wrong.
    BadWrapper {
        /// What is wrong.
        why: String,
    },
    /// The fatbin's 16-byte header is inconsistent.
    BadHeader {
        /// What is wrong.
        why: String,
    },
    /// The fatbin declares more bytes than there are.
    Truncated {
        /// The size the header declares (or the minimum a header needs).
        declared: u64,
        /// The bytes given.
        available: u64,
    },
    /// An entry's header or payload is inconsistent or runs past the container.
    CorruptEntry {
        /// The entry's position in the container, from 0.
        index: usize,
        /// What is wrong.
        why: String,
    },
    /// An entry's payload is compressed in a way this reader does not know.
    UnsupportedCompression {
        /// The entry's position in the container, from 0.
        index: usize,
        /// The entry's flags field.
        flags: u64,
    },
    /// A zstd-compressed payload failed to decompress.
    Zstd {
        /// The entry's position in the container, from 0.
        index: usize,
        /// The decoder's complaint.
        why: String,
    },
    /// An LZ4-compressed payload failed to decompress.
    Lz4 {
        /// The entry's position in the container, from 0.
        index: usize,
        /// What is wrong with the block.
        why: String,
    },
    /// PTX text that is not UTF-8 (PTX is ASCII).
    NotUtf8 {
        /// The fatbin entry's position, or `None` for a plain-text image.
        index: Option<usize>,
        /// The byte offset of the first invalid byte.
        offset: usize,
    },
    /// A fatbin with machine code only: nothing the emulator can run.
    MachineCodeOnly {
        /// The architectures of its entries, in container order (e.g. `[90]` for sm_90).
        archs: Vec<u32>,
    },
    /// A fatbin with no entries at all.
    NoEntries,
}

impl fmt::Display for FatbinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FatbinError::NullImage => write!(f, "module image pointer is null"),
            FatbinError::Empty => write!(f, "module image is empty"),
            FatbinError::BadMagic { seen } => {
                let hex: Vec<String> = seen.iter().map(|b| format!("{b:02x}")).collect();
                write!(
                    f,
                    "module image starts with bytes [{}]: not a fatbin (50 ed 55 ba), a fatbin \
                     wrapper (b1 43 62 46), an ELF cubin (7f 45 4c 46) or PTX text",
                    hex.join(" ")
                )
            }
            FatbinError::Elf => write!(
                f,
                "module image is an ELF cubin (GPU machine code), which cannot be emulated: \
                 load PTX, or a fatbin that embeds PTX \
                 (nvcc -gencode arch=compute_XX,code=compute_XX)"
            ),
            FatbinError::WrapperAsBytes => write!(
                f,
                "module image is a fatbin wrapper, whose fatbin is behind a pointer: read it \
                 with read_image"
            ),
            FatbinError::BadWrapper { why } => write!(f, "bad fatbin wrapper: {why}"),
            FatbinError::BadHeader { why } => write!(f, "bad fatbin header: {why}"),
            FatbinError::Truncated {
                declared,
                available,
            } => write!(
                f,
                "truncated fatbin: it declares {declared} bytes but only {available} are present"
            ),
            FatbinError::CorruptEntry { index, why } => {
                write!(f, "corrupt fatbin entry {index}: {why}")
            }
            FatbinError::UnsupportedCompression { index, flags } => write!(
                f,
                "fatbin entry {index} is compressed with an unknown method (flags {flags:#x}; \
                 known: {FLAG_LZ4:#x} LZ4, {FLAG_ZSTD:#x} zstd)"
            ),
            FatbinError::Zstd { index, why } => {
                write!(f, "fatbin entry {index}: zstd decompression failed: {why}")
            }
            FatbinError::Lz4 { index, why } => {
                write!(f, "fatbin entry {index}: LZ4 decompression failed: {why}")
            }
            FatbinError::NotUtf8 {
                index: Some(index),
                offset,
            } => write!(
                f,
                "PTX of fatbin entry {index} is not UTF-8 (invalid byte at offset {offset})"
            ),
            FatbinError::NotUtf8 {
                index: None,
                offset,
            } => write!(f, "PTX text is not UTF-8 (invalid byte at offset {offset})"),
            FatbinError::MachineCodeOnly { archs } => {
                let list: Vec<String> = archs.iter().map(|a| format!("sm_{a}")).collect();
                write!(
                    f,
                    "fatbin holds only machine code for {} and no PTX: it cannot be emulated \
                     (build it with PTX: nvcc -gencode arch=compute_XX,code=compute_XX)",
                    list.join(", ")
                )
            }
            FatbinError::NoEntries => write!(f, "fatbin holds no entries"),
        }
    }
}

impl std::error::Error for FatbinError {}

/// Reads the module image at `image`, the way the driver finds its size: from a fatbin's
/// header, through a fatbin wrapper's data pointer, or up to the NUL ending PTX text.
///
/// # Safety
/// `image` is null or points to a valid image of one of the four kinds, as the driver API
/// requires: a whole fatbin, a fatbin wrapper whose data pointer points to a whole fatbin,
/// NUL-terminated text, or an ELF cubin (of which only the magic is read).
pub unsafe fn read_image(image: *const u8) -> Result<Vec<PtxEntry>, FatbinError> {
    // SAFETY: forwarded from the caller.
    unsafe { read_pointer(image, true) }
}

/// [`read_image`] for an image in memory of known length (tests, and files): nothing past
/// `bytes` is read. A fatbin wrapper is refused, as its fatbin lies behind a pointer.
pub fn read_image_bytes(bytes: &[u8]) -> Result<Vec<PtxEntry>, FatbinError> {
    match magic(bytes) {
        Some(FATBIN_MAGIC) => read_fatbin(bytes),
        Some(WRAPPER_MAGIC) => Err(FatbinError::WrapperAsBytes),
        Some(ELF_MAGIC) => Err(FatbinError::Elf),
        _ => {
            let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
            read_text(&bytes[..end])
        }
    }
}

/// The little-endian u32 at the start of `bytes`, if there are 4 bytes.
fn magic(bytes: &[u8]) -> Option<u32> {
    bytes
        .first_chunk::<4>()
        .map(|head| u32::from_le_bytes(*head))
}

/// # Safety
/// As [`read_image`]; `allow_wrapper` is false inside a wrapper, so wrappers cannot nest.
unsafe fn read_pointer(
    image: *const u8,
    allow_wrapper: bool,
) -> Result<Vec<PtxEntry>, FatbinError> {
    if image.is_null() {
        return Err(FatbinError::NullImage);
    }
    // The first bytes, stopping after a NUL: text may be shorter than a magic, and none of
    // the binary magics contains a NUL.
    let mut head = Vec::with_capacity(4);
    while head.len() < 4 {
        // SAFETY: every byte up to and including the first NUL of a text image is readable,
        // and binary images are longer than 4 bytes.
        let b = unsafe { image.add(head.len()).read() };
        head.push(b);
        if b == 0 {
            break;
        }
    }
    match magic(&head) {
        Some(FATBIN_MAGIC) => {
            // SAFETY: a fatbin starts with its 16-byte header.
            let header = unsafe { std::slice::from_raw_parts(image, FATBIN_HEADER) };
            let total = declared_size(header)?;
            let total = usize::try_from(total)
                .ok()
                .filter(|&t| t <= isize::MAX as usize)
                .ok_or_else(|| FatbinError::BadHeader {
                    why: format!("declared size {total} is impossible"),
                })?;
            // SAFETY: a valid fatbin is as long as its header declares.
            read_fatbin(unsafe { std::slice::from_raw_parts(image, total) })
        }
        Some(WRAPPER_MAGIC) if allow_wrapper => {
            // SAFETY: a wrapper is {u32 magic, u32 version, data pointer, pointer}; the data
            // pointer sits at offset 8 on 32- and 64-bit targets alike.
            let version = unsafe { image.add(4).cast::<u32>().read_unaligned() };
            if version != 1 && version != 2 {
                return Err(FatbinError::BadWrapper {
                    why: format!("version {version} (known: 1, 2)"),
                });
            }
            // SAFETY: as above.
            let data = unsafe { image.add(8).cast::<*const u8>().read_unaligned() };
            if data.is_null() {
                return Err(FatbinError::BadWrapper {
                    why: "its fatbin pointer is null".into(),
                });
            }
            // SAFETY: a valid wrapper points to a valid fatbin.
            unsafe { read_pointer(data, false) }
        }
        Some(WRAPPER_MAGIC) => Err(FatbinError::BadWrapper {
            why: "it points to another wrapper, not to a fatbin".into(),
        }),
        Some(ELF_MAGIC) => Err(FatbinError::Elf),
        _ => {
            // SAFETY: anything else must be NUL-terminated text.
            let text = unsafe { CStr::from_ptr(image.cast()) };
            read_text(text.to_bytes())
        }
    }
}

/// The size a fatbin header declares for the whole container (header and entries).
fn declared_size(bytes: &[u8]) -> Result<u64, FatbinError> {
    let (Some(version), Some(header), Some(size)) =
        (le16(bytes, 4), le16(bytes, 6), le64(bytes, 8))
    else {
        return Err(FatbinError::Truncated {
            declared: FATBIN_HEADER as u64,
            available: bytes.len() as u64,
        });
    };
    if version != 1 {
        return Err(FatbinError::BadHeader {
            why: format!("version {version} (known: 1)"),
        });
    }
    if usize::from(header) < FATBIN_HEADER {
        return Err(FatbinError::BadHeader {
            why: format!("header size {header} is below {FATBIN_HEADER}"),
        });
    }
    u64::from(header)
        .checked_add(size)
        .ok_or_else(|| FatbinError::BadHeader {
            why: format!("entry size {size} overflows"),
        })
}

/// The PTX entries of the fatbin at the start of `bytes`, in container order.
fn read_fatbin(bytes: &[u8]) -> Result<Vec<PtxEntry>, FatbinError> {
    let declared = declared_size(bytes)?;
    let end = usize::try_from(declared)
        .ok()
        .filter(|&end| end <= bytes.len())
        .ok_or(FatbinError::Truncated {
            declared,
            available: bytes.len() as u64,
        })?;
    let container = &bytes[..end];
    let mut offset = le16(bytes, 6).map_or(FATBIN_HEADER, usize::from);
    let mut ptx = Vec::new();
    let mut machine = Vec::new();
    let mut index = 0;
    while offset < end {
        let entry = Entry::parse(container, offset, index)?;
        match entry.kind {
            KIND_PTX => ptx.push(entry.ptx(container, index)?),
            // ELF (kind 2) or another kind of machine code.
            _ => machine.push(entry.arch),
        }
        offset = entry.next;
        index += 1;
    }
    if ptx.is_empty() {
        if machine.is_empty() {
            return Err(FatbinError::NoEntries);
        }
        machine.dedup();
        return Err(FatbinError::MachineCodeOnly { archs: machine });
    }
    Ok(ptx)
}

/// The fields of one entry header that the reader uses.
struct Entry {
    kind: u16,
    arch: u32,
    flags: u64,
    /// Payload range in the container: `start..start + padded`.
    start: usize,
    padded: usize,
    compressed: usize,
    uncompressed: u64,
    /// Offset of the next entry.
    next: usize,
}

impl Entry {
    fn parse(container: &[u8], offset: usize, index: usize) -> Result<Entry, FatbinError> {
        let corrupt = |why: String| FatbinError::CorruptEntry { index, why };
        let field = |at: usize| offset.saturating_add(at);
        let (Some(kind), Some(header), Some(padded), Some(compressed)) = (
            le16(container, field(0x00)),
            le32(container, field(0x04)),
            le64(container, field(0x08)),
            le32(container, field(0x10)),
        ) else {
            return Err(corrupt(format!(
                "its header at offset {offset} runs past the container's end ({})",
                container.len()
            )));
        };
        let (Some(arch), Some(flags), Some(uncompressed)) = (
            le32(container, field(0x1c)),
            le64(container, field(0x28)),
            le64(container, field(0x38)),
        ) else {
            return Err(corrupt(format!(
                "its header at offset {offset} runs past the container's end ({})",
                container.len()
            )));
        };
        let header = header as usize;
        if header < ENTRY_HEADER {
            return Err(corrupt(format!(
                "header size {header} is below {ENTRY_HEADER}"
            )));
        }
        let start = offset
            .checked_add(header)
            .filter(|&s| s <= container.len())
            .ok_or_else(|| {
                corrupt(format!(
                    "header size {header} runs past the container's end ({})",
                    container.len()
                ))
            })?;
        let next = usize::try_from(padded)
            .ok()
            .and_then(|p| start.checked_add(p))
            .filter(|&n| n <= container.len())
            .ok_or_else(|| {
                corrupt(format!(
                    "payload of {padded} bytes at offset {start} runs past the container's \
                     end ({})",
                    container.len()
                ))
            })?;
        Ok(Entry {
            kind,
            arch,
            flags,
            start,
            padded: next - start,
            compressed: compressed as usize,
            uncompressed,
            next,
        })
    }

    /// The entry's PTX text, decompressed.
    fn ptx(&self, container: &[u8], index: usize) -> Result<PtxEntry, FatbinError> {
        let payload = &container[self.start..self.start + self.padded];
        let lz4 = self.flags & FLAG_LZ4 != 0;
        let zstd = self.flags & FLAG_ZSTD != 0;
        let raw;
        let bytes: &[u8] = if !lz4 && !zstd {
            if self.compressed != 0 {
                return Err(FatbinError::UnsupportedCompression {
                    index,
                    flags: self.flags,
                });
            }
            payload
        } else {
            if lz4 && zstd {
                return Err(FatbinError::CorruptEntry {
                    index,
                    why: format!("flags {:#x} say both LZ4 and zstd", self.flags),
                });
            }
            if self.compressed == 0 || self.compressed > self.padded {
                return Err(FatbinError::CorruptEntry {
                    index,
                    why: format!(
                        "compressed size {} does not fit its {}-byte payload",
                        self.compressed, self.padded
                    ),
                });
            }
            let data = &payload[..self.compressed];
            raw = if zstd {
                unzstd(data, self.uncompressed).map_err(|why| FatbinError::Zstd { index, why })?
            } else {
                unlz4(data, self.uncompressed).map_err(|why| FatbinError::Lz4 { index, why })?
            };
            &raw
        };
        let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
        let text = std::str::from_utf8(&bytes[..end]).map_err(|e| FatbinError::NotUtf8 {
            index: Some(index),
            offset: e.valid_up_to(),
        })?;
        Ok(PtxEntry {
            text: text.to_owned(),
            arch: (self.arch != 0).then_some(self.arch),
            plain_text: false,
        })
    }
}

/// Decompresses a zstd frame that must yield exactly `size` bytes; reads at most one byte
/// more, so a corrupt size cannot make it allocate more than the data holds.
fn unzstd(data: &[u8], size: u64) -> Result<Vec<u8>, String> {
    let decoder = zstd::stream::read::Decoder::with_buffer(data).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    decoder
        .take(size.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| e.to_string())?;
    if out.len() as u64 != size {
        return Err(format!(
            "it yields {}{} bytes, the entry declares {size}",
            out.len(),
            if out.len() as u64 > size { "+" } else { "" }
        ));
    }
    Ok(out)
}

/// Decompresses a raw LZ4 block (no frame) that must yield exactly `size` bytes.
fn unlz4(src: &[u8], size: u64) -> Result<Vec<u8>, String> {
    // An LZ4 block expands at most about 255-fold: a bigger size is corrupt, and must not
    // become an allocation.
    let size = usize::try_from(size)
        .ok()
        .filter(|&s| s <= src.len().saturating_mul(256))
        .ok_or_else(|| format!("declared size {size} is impossible for {} bytes", src.len()))?;
    let mut out: Vec<u8> = Vec::with_capacity(size);
    let mut at = 0;
    let byte = |at: &mut usize| -> Result<usize, String> {
        let b = *src
            .get(*at)
            .ok_or_else(|| format!("block ends inside a sequence at byte {at}"))?;
        *at += 1;
        Ok(usize::from(b))
    };
    // A 4-bit length; 15 continues with bytes added until one below 255.
    let length = |nibble: usize, at: &mut usize| -> Result<usize, String> {
        let mut len = nibble;
        if nibble == 15 {
            loop {
                let b = byte(at)?;
                len = len.saturating_add(b);
                if b != 255 {
                    break;
                }
            }
        }
        Ok(len)
    };
    loop {
        let token = byte(&mut at)?;
        let literals = length(token >> 4, &mut at)?;
        let run = at
            .checked_add(literals)
            .and_then(|end| src.get(at..end))
            .ok_or_else(|| format!("{literals} literals at byte {at} run past the block"))?;
        if out.len() + literals > size {
            return Err(format!("output exceeds the declared {size} bytes"));
        }
        out.extend_from_slice(run);
        at += literals;
        if at == src.len() {
            break;
        }
        let distance = byte(&mut at)? | (byte(&mut at)? << 8);
        let matched = length(token & 15, &mut at)?.saturating_add(4);
        if distance == 0 || distance > out.len() {
            return Err(format!(
                "match distance {distance} at byte {at} reaches before the output's start"
            ));
        }
        if out.len().saturating_add(matched) > size {
            return Err(format!("output exceeds the declared {size} bytes"));
        }
        let from = out.len() - distance;
        // Byte by byte: a match may overlap the bytes it produces.
        for i in 0..matched {
            out.push(out[from + i]);
        }
    }
    if out.len() != size {
        return Err(format!(
            "it yields {} bytes, the entry declares {size}",
            out.len()
        ));
    }
    Ok(out)
}

/// A plain-text image: PTX if, past leading whitespace, it starts with a comment or the
/// `.version` directive that every PTX module begins with.
fn read_text(bytes: &[u8]) -> Result<Vec<PtxEntry>, FatbinError> {
    let body = bytes.trim_ascii_start();
    if body.is_empty() {
        return Err(FatbinError::Empty);
    }
    if !(body.starts_with(b"//") || body.starts_with(b"/*") || body.starts_with(b".version")) {
        return Err(FatbinError::BadMagic {
            seen: bytes.iter().take(4).copied().collect(),
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| FatbinError::NotUtf8 {
        index: None,
        offset: e.valid_up_to(),
    })?;
    Ok(vec![PtxEntry {
        text: text.to_owned(),
        arch: target_arch(text),
        plain_text: true,
    }])
}

/// The architecture of the first `.target sm_XX` (or `compute_XX`) directive, e.g. 90 for
/// `sm_90a`.
fn target_arch(text: &str) -> Option<u32> {
    let line = text
        .lines()
        .map(str::trim_start)
        .find(|l| l.starts_with(".target") && !l[7..].starts_with(|c: char| c.is_alphanumeric()))?;
    line[7..]
        .split(|c: char| c.is_whitespace() || c == ',')
        .find_map(|word| {
            let digits = word
                .strip_prefix("sm_")
                .or_else(|| word.strip_prefix("compute_"))?;
            let end = digits
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(digits.len());
            digits[..end].parse().ok()
        })
}

fn le16(bytes: &[u8], at: usize) -> Option<u16> {
    let b = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([b[0], b[1]]))
}

fn le32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(b.try_into().ok()?))
}

fn le64(bytes: &[u8], at: usize) -> Option<u64> {
    let b = bytes.get(at..at.checked_add(8)?)?;
    Some(u64::from_le_bytes(b.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Built from tests/data/tiny.cu by tools/make-fixtures.sh.
    const ZSTD: &[u8] = include_bytes!("../tests/data/tiny-zstd.fatbin");
    const LZ4: &[u8] = include_bytes!("../tests/data/tiny-lz4.fatbin");
    const PLAIN: &[u8] = include_bytes!("../tests/data/tiny-plain.fatbin");
    const TWO_PTX: &[u8] = include_bytes!("../tests/data/tiny-75-80.fatbin");
    const PTX_AND_SM90: &[u8] = include_bytes!("../tests/data/tiny-80-sm90.fatbin");
    const SM90_ONLY: &[u8] = include_bytes!("../tests/data/tiny-sm90.fatbin");
    const NVCC_PTX: &str = include_str!("../tests/data/tiny.ptx");

    /// The fatbin tool drops comments and indentation from the PTX it stores: compare
    /// with those gone and blank lines dropped.
    fn normalize(ptx: &str) -> Vec<String> {
        ptx.lines()
            .map(|l| l.split("//").next().unwrap_or(""))
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|l| !l.is_empty())
            .collect()
    }

    fn only(entries: Vec<PtxEntry>) -> PtxEntry {
        assert_eq!(entries.len(), 1, "{entries:?}");
        entries.into_iter().next().unwrap()
    }

    /// A copy of `bytes` aligned for the u64 reads a real fatbin pointer allows.
    fn aligned(bytes: &[u8]) -> Vec<u64> {
        let mut words = vec![0u64; bytes.len().div_ceil(8)];
        // SAFETY: words has at least bytes.len() bytes.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), words.as_mut_ptr().cast(), bytes.len())
        };
        words
    }

    #[test]
    fn zstd_entry_matches_nvcc_ptx() {
        let entry = only(read_image_bytes(ZSTD).unwrap());
        assert_eq!(entry.arch, Some(80));
        assert_eq!(normalize(&entry.text), normalize(NVCC_PTX));
        assert!(entry.text.contains(".visible .entry add_one("));
        assert!(!entry.text.contains('\0'));
    }

    #[test]
    fn uncompressed_and_lz4_entries_equal_the_zstd_one() {
        let zstd = only(read_image_bytes(ZSTD).unwrap());
        assert_eq!(only(read_image_bytes(PLAIN).unwrap()), zstd);
        assert_eq!(only(read_image_bytes(LZ4).unwrap()), zstd);
    }

    #[test]
    fn several_ptx_entries_come_in_container_order() {
        let entries = read_image_bytes(TWO_PTX).unwrap();
        let archs: Vec<_> = entries.iter().map(|e| e.arch).collect();
        assert_eq!(archs, [Some(75), Some(80)]);
        assert!(entries[0].text.contains(".target sm_75"));
        assert_eq!(normalize(&entries[1].text), normalize(NVCC_PTX));
    }

    #[test]
    fn machine_code_beside_ptx_is_skipped() {
        let entry = only(read_image_bytes(PTX_AND_SM90).unwrap());
        assert_eq!(entry, only(read_image_bytes(ZSTD).unwrap()));
    }

    #[test]
    fn machine_code_only_cannot_be_emulated() {
        let err = read_image_bytes(SM90_ONLY).unwrap_err();
        assert_eq!(err, FatbinError::MachineCodeOnly { archs: vec![90] });
        let msg = err.to_string();
        assert!(
            msg.contains("sm_90") && msg.contains("cannot be emulated"),
            "{msg}"
        );
    }

    #[test]
    fn pointer_to_fatbin_reads_its_declared_size() {
        let words = aligned(ZSTD);
        // SAFETY: words holds the whole fatbin.
        let entries = unsafe { read_image(words.as_ptr().cast()) }.unwrap();
        assert_eq!(entries, read_image_bytes(ZSTD).unwrap());
    }

    #[repr(C)]
    struct Wrapper {
        magic: u32,
        version: u32,
        data: *const u8,
        filename: *const u8,
    }

    #[test]
    fn wrapper_struct_leads_to_its_fatbin() {
        let words = aligned(TWO_PTX);
        let wrapper = Wrapper {
            magic: WRAPPER_MAGIC,
            version: 1,
            data: words.as_ptr().cast(),
            filename: std::ptr::null(),
        };
        // SAFETY: the wrapper points to a whole fatbin.
        let entries = unsafe { read_image((&raw const wrapper).cast()) }.unwrap();
        assert_eq!(entries, read_image_bytes(TWO_PTX).unwrap());

        let null = Wrapper {
            data: std::ptr::null(),
            ..wrapper
        };
        // SAFETY: a wrapper whose pointer is null is refused before it is followed.
        let err = unsafe { read_image((&raw const null).cast()) }.unwrap_err();
        assert!(matches!(err, FatbinError::BadWrapper { .. }), "{err}");

        let bytes = [0xb1, 0x43, 0x62, 0x46, 1, 0, 0, 0];
        assert_eq!(read_image_bytes(&bytes), Err(FatbinError::WrapperAsBytes));
    }

    #[test]
    fn plain_text_is_returned_whole() {
        let entry = only(read_image_bytes(NVCC_PTX.as_bytes()).unwrap());
        assert_eq!(entry.text, NVCC_PTX);
        assert_eq!(entry.arch, Some(80));

        let c = std::ffi::CString::new(NVCC_PTX).unwrap();
        // SAFETY: c is NUL-terminated text.
        let entry = only(unsafe { read_image(c.as_ptr().cast()) }.unwrap());
        assert_eq!(entry.text, NVCC_PTX);

        let bare = "\n  .version 8.0\n.target sm_90a, texmode_independent\n.address_size 64\n";
        let mut with_nul = bare.as_bytes().to_vec();
        with_nul.extend_from_slice(b"\0garbage");
        let entry = only(read_image_bytes(&with_nul).unwrap());
        assert_eq!(entry.text, bare);
        assert_eq!(entry.arch, Some(90));

        let untargeted = only(read_image_bytes(b"/* hi */ .version 8.0\n").unwrap());
        assert_eq!(untargeted.arch, None);
    }

    #[test]
    fn elf_cubin_is_refused() {
        let err = read_image_bytes(b"\x7fELF\x02\x01\x01\x41").unwrap_err();
        assert_eq!(err, FatbinError::Elf);
        assert!(err.to_string().contains("ELF cubin"));
        let elf = *b"\x7fELF\x02\x01\x01\x41";
        // SAFETY: only the magic of an ELF image is read.
        assert_eq!(unsafe { read_image(elf.as_ptr()) }, Err(FatbinError::Elf));
    }

    #[test]
    fn bad_magic_names_the_bytes_seen() {
        let err = read_image_bytes(&[0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0]).unwrap_err();
        assert_eq!(
            err,
            FatbinError::BadMagic {
                seen: vec![0xde, 0xad, 0xbe, 0xef]
            }
        );
        assert!(err.to_string().contains("[de ad be ef]"), "{err}");
        // Short text: the pointer reader stops at the NUL.
        // SAFETY: a NUL-terminated string.
        let err = unsafe { read_image(c"x".as_ptr().cast()) }.unwrap_err();
        assert_eq!(err, FatbinError::BadMagic { seen: vec![b'x'] });
        // SAFETY: a NUL-terminated string.
        assert_eq!(
            unsafe { read_image(c"".as_ptr().cast()) },
            Err(FatbinError::Empty)
        );
        // SAFETY: null is refused.
        assert_eq!(
            unsafe { read_image(std::ptr::null()) },
            Err(FatbinError::NullImage)
        );
        assert_eq!(read_image_bytes(b" \n\t"), Err(FatbinError::Empty));
    }

    #[test]
    fn truncated_container_errors_for_every_length() {
        for fixture in [ZSTD, LZ4, PLAIN, TWO_PTX, PTX_AND_SM90] {
            for len in 0..fixture.len() {
                assert!(read_image_bytes(&fixture[..len]).is_err(), "length {len}");
            }
        }
        let err = read_image_bytes(&ZSTD[..ZSTD.len() - 1]).unwrap_err();
        assert_eq!(
            err,
            FatbinError::Truncated {
                declared: ZSTD.len() as u64,
                available: ZSTD.len() as u64 - 1
            }
        );
    }

    /// `fixture` with the little-endian `value` written at `at`.
    fn patched(fixture: &[u8], at: usize, value: &[u8]) -> Vec<u8> {
        let mut bytes = fixture.to_vec();
        bytes[at..at + value.len()].copy_from_slice(value);
        bytes
    }

    #[test]
    fn corrupt_entries_are_reported() {
        // The first entry is at 0x10; its payload size is at +0x08, header size at +0x04.
        let huge = patched(ZSTD, 0x18, &u64::MAX.to_le_bytes());
        assert!(matches!(
            read_image_bytes(&huge),
            Err(FatbinError::CorruptEntry { index: 0, .. })
        ));
        let small = patched(ZSTD, 0x14, &8u32.to_le_bytes());
        assert!(matches!(
            read_image_bytes(&small),
            Err(FatbinError::CorruptEntry { index: 0, .. })
        ));
        // The container declares 8 bytes more than its entries fill.
        let mut tail = ZSTD.to_vec();
        tail.extend_from_slice(&[0; 8]);
        let size = (ZSTD.len() - 16 + 8) as u64;
        let tail = patched(&tail, 8, &size.to_le_bytes());
        assert!(matches!(
            read_image_bytes(&tail),
            Err(FatbinError::CorruptEntry { index: 1, .. })
        ));
        let version = patched(ZSTD, 4, &2u16.to_le_bytes());
        assert!(matches!(
            read_image_bytes(&version),
            Err(FatbinError::BadHeader { .. })
        ));
        let empty = patched(&ZSTD[..16], 8, &0u64.to_le_bytes());
        assert_eq!(read_image_bytes(&empty), Err(FatbinError::NoEntries));
    }

    #[test]
    fn decompression_failures_are_reported() {
        // Payloads start at 0x10 + 0x50; their flags are at 0x10 + 0x28.
        let zstd = patched(ZSTD, 0x60, b"\xff\xff\xff\xff");
        let err = read_image_bytes(&zstd).unwrap_err();
        assert!(matches!(err, FatbinError::Zstd { index: 0, .. }), "{err}");
        assert!(err.to_string().contains("zstd"));
        let size = patched(ZSTD, 0x48, &1u64.to_le_bytes());
        assert!(matches!(
            read_image_bytes(&size),
            Err(FatbinError::Zstd { index: 0, .. })
        ));
        // A match distance reaching before the start of the output.
        let lz4 = patched(LZ4, 0x60, b"\x13\x0a\x09\x00");
        let err = read_image_bytes(&lz4).unwrap_err();
        assert!(matches!(err, FatbinError::Lz4 { index: 0, .. }), "{err}");
        let unknown = patched(ZSTD, 0x38, &0x4011u64.to_le_bytes());
        let err = read_image_bytes(&unknown).unwrap_err();
        assert_eq!(
            err,
            FatbinError::UnsupportedCompression {
                index: 0,
                flags: 0x4011
            }
        );
        assert!(err.to_string().contains("0x4011"));
    }

    #[test]
    fn non_utf8_ptx_is_reported() {
        // The uncompressed payload starts at 0x60 with newlines.
        let bad = patched(PLAIN, 0x62, b"\xff");
        assert_eq!(
            read_image_bytes(&bad),
            Err(FatbinError::NotUtf8 {
                index: Some(0),
                offset: 2
            })
        );
        assert_eq!(
            read_image_bytes(b"// \xc3\x28\n.version 8.0"),
            Err(FatbinError::NotUtf8 {
                index: None,
                offset: 3
            })
        );
    }

    #[test]
    fn lz4_block_decoder() {
        // "a" then a 9-byte overlapping match at distance 1, then literals "bc".
        let block = [0x15, b'a', 1, 0, 0x20, b'b', b'c'];
        assert_eq!(unlz4(&block, 12).unwrap(), b"aaaaaaaaaabc");
        assert!(unlz4(&block, 11).is_err());
        assert!(unlz4(&block, 13).is_err());
        assert!(unlz4(&block[..3], 12).is_err());
        assert!(unlz4(&block, u64::MAX).is_err());
        // Extended literal length: 15 + 3.
        let mut long = vec![0xf0, 3];
        long.extend_from_slice(&[b'x'; 18]);
        assert_eq!(unlz4(&long, 18).unwrap(), [b'x'; 18]);
    }

    /// Single-byte and word corruptions at every offset: errors, never a panic or a hang.
    #[test]
    fn corrupted_fixtures_never_panic() {
        for fixture in [ZSTD, LZ4, PLAIN, TWO_PTX] {
            for at in 0..fixture.len() {
                for value in [0x00, 0xff, fixture[at] ^ 0x01] {
                    let _ = read_image_bytes(&patched(fixture, at, &[value]));
                }
            }
        }
        for at in (0..PTX_AND_SM90.len().min(0x200)).step_by(4) {
            let _ = read_image_bytes(&patched(PTX_AND_SM90, at, &u32::MAX.to_le_bytes()));
        }
    }
}
