//! GGUF header check: every file is read here before llama.cpp sees it.
//!
//! llama.cpp trusts its input more than a desktop app can: a truncated
//! download or a renamed file must become a clear error, not a crash. This
//! walks the whole header with bounds on every count and length, and checks
//! that each tensor's data lies inside the file. It also returns the metadata
//! the app shows before loading (architecture, name, context, layers).

use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use serde::Serialize;

const MAGIC: &[u8; 4] = b"GGUF";
const MAX_TENSORS: u64 = 1 << 16;
const MAX_KV: u64 = 1 << 16;
const MAX_STRING: u64 = 1 << 24;
const MAX_ARRAY: u64 = 1 << 24;
const MAX_DIMS: u32 = 4;

/// What the header says, for display and planning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default, ts_rs::TS)]
pub struct GgufSummary {
    pub version: u32,
    pub tensor_count: u64,
    pub kv_count: u64,
    pub architecture: Option<String>,
    pub name: Option<String>,
    pub context_length: Option<u64>,
    pub block_count: Option<u64>,
    pub embedding_length: Option<u64>,
    pub head_count: Option<u64>,
    pub head_count_kv: Option<u64>,
    /// Per-head key size when the model sets it (otherwise embedding / heads).
    pub key_length: Option<u64>,
    pub sliding_window: Option<u64>,
    /// Tokens in the vocabulary (the length of `tokenizer.ggml.tokens`).
    pub vocab_size: Option<u64>,
    pub has_chat_template: bool,
    /// `general.type` says "adapter": LoRA weights for a model, not a model.
    #[serde(default)]
    pub is_adapter: bool,
    pub file_size: u64,
}

/// Why a file is not a usable GGUF model.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GgufError {
    #[error("not a GGUF file (it starts with {0:?} instead of \"GGUF\")")]
    NotGguf(String),
    #[error("unsupported GGUF version {0} (Pith reads versions 2 and 3)")]
    Version(u32),
    #[error("the file is truncated: it ends inside the header")]
    Truncated,
    #[error("the header is corrupt: {0}")]
    Corrupt(String),
    #[error("the file is truncated: tensor '{name}' needs data up to byte {needed} but the file has {size} bytes")]
    TensorOutsideFile {
        name: String,
        needed: u64,
        size: u64,
    },
    #[error("the file could not be read: {0}")]
    Io(String),
}

fn io_err(e: io::Error) -> GgufError {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        GgufError::Truncated
    } else {
        GgufError::Io(e.to_string())
    }
}

/// Checks the file at `path`.
pub fn inspect(path: &Path) -> Result<GgufSummary, GgufError> {
    let file = std::fs::File::open(path).map_err(|e| GgufError::Io(e.to_string()))?;
    let size = file
        .metadata()
        .map_err(|e| GgufError::Io(e.to_string()))?
        .len();
    inspect_reader(BufReader::new(file), size)
}

/// Checks a GGUF image of `size` bytes read from `r`.
pub fn inspect_reader<R: Read + Seek>(mut r: R, size: u64) -> Result<GgufSummary, GgufError> {
    let mut magic = [0u8; 4];
    r.read_exact(&mut magic).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => GgufError::NotGguf("a file shorter than 4 bytes".into()),
        _ => io_err(e),
    })?;
    if &magic != MAGIC {
        return Err(GgufError::NotGguf(
            String::from_utf8_lossy(&magic).into_owned(),
        ));
    }
    let mut h = Header { r: &mut r };
    let version = h.u32()?;
    if !(2..=3).contains(&version) {
        return Err(GgufError::Version(version));
    }
    let tensor_count = h.u64()?;
    let kv_count = h.u64()?;
    if tensor_count > MAX_TENSORS {
        return Err(GgufError::Corrupt(format!("{tensor_count} tensors")));
    }
    if kv_count > MAX_KV {
        return Err(GgufError::Corrupt(format!("{kv_count} metadata entries")));
    }

    let mut summary = GgufSummary {
        version,
        tensor_count,
        kv_count,
        file_size: size,
        ..GgufSummary::default()
    };
    let mut alignment = 32u64;
    let mut numbers: Vec<(String, u64)> = Vec::new();
    for _ in 0..kv_count {
        let key = h.string()?;
        let ty = h.u32()?;
        match (key.as_str(), ty) {
            ("general.architecture", 8) => summary.architecture = Some(h.string()?),
            ("general.name", 8) => summary.name = Some(h.string()?),
            ("general.type", 8) => summary.is_adapter = h.string()? == "adapter",
            ("tokenizer.chat_template", 8) => {
                summary.has_chat_template = !h.string()?.trim().is_empty();
            }
            ("tokenizer.ggml.tokens", 9) => summary.vocab_size = Some(h.array_len_then_skip()?),
            (_, 4 | 5 | 10 | 11) => {
                let v = h.integer(ty)?;
                if key == "general.alignment" {
                    if v == 0 || !v.is_power_of_two() {
                        return Err(GgufError::Corrupt(format!("alignment {v}")));
                    }
                    alignment = v;
                }
                numbers.push((key, v));
            }
            _ => h.skip_value(ty, 0)?,
        }
    }
    if let Some(arch) = &summary.architecture {
        let find = |suffix: &str| {
            let k = format!("{arch}.{suffix}");
            numbers.iter().find(|(key, _)| *key == k).map(|(_, v)| *v)
        };
        summary.context_length = find("context_length");
        summary.block_count = find("block_count");
        summary.embedding_length = find("embedding_length");
        summary.head_count = find("attention.head_count");
        summary.head_count_kv = find("attention.head_count_kv");
        summary.key_length = find("attention.key_length");
        summary.sliding_window = find("attention.sliding_window");
    }

    let mut tensors = Vec::with_capacity(tensor_count as usize);
    for _ in 0..tensor_count {
        let name = h.string()?;
        let n_dims = h.u32()?;
        if n_dims == 0 || n_dims > MAX_DIMS {
            return Err(GgufError::Corrupt(format!(
                "tensor '{name}' has {n_dims} dimensions"
            )));
        }
        let mut elements: u64 = 1;
        for _ in 0..n_dims {
            let d = h.u64()?;
            elements = elements
                .checked_mul(d)
                .filter(|&e| e <= size.saturating_mul(8))
                .ok_or_else(|| {
                    GgufError::Corrupt(format!("tensor '{name}' has impossible dimensions"))
                })?;
        }
        let ty = h.u32()?;
        let offset = h.u64()?;
        tensors.push((name, ty, elements, offset));
    }
    let header_end = h.r.stream_position().map_err(io_err)?;
    let data_start = header_end.div_ceil(alignment) * alignment;
    for (name, ty, elements, offset) in tensors {
        let bytes = tensor_bytes(ty, elements).unwrap_or(0);
        let needed = data_start
            .checked_add(offset)
            .and_then(|o| o.checked_add(bytes))
            .ok_or_else(|| GgufError::Corrupt(format!("tensor '{name}' offset overflows")))?;
        if needed > size {
            return Err(GgufError::TensorOutsideFile { name, needed, size });
        }
    }
    Ok(summary)
}

/// Bytes of a tensor of `elements` elements of ggml type `ty`; `None` for
/// types this table does not know (their offset is still checked).
fn tensor_bytes(ty: u32, elements: u64) -> Option<u64> {
    let (block, bytes) = match ty {
        0 => (1, 4),      // F32
        1 => (1, 2),      // F16
        2 => (32, 18),    // Q4_0
        3 => (32, 20),    // Q4_1
        6 => (32, 22),    // Q5_0
        7 => (32, 24),    // Q5_1
        8 => (32, 34),    // Q8_0
        9 => (32, 36),    // Q8_1
        10 => (256, 84),  // Q2_K
        11 => (256, 110), // Q3_K
        12 => (256, 144), // Q4_K
        13 => (256, 176), // Q5_K
        14 => (256, 210), // Q6_K
        15 => (256, 292), // Q8_K
        20 => (32, 18),   // IQ4_NL
        23 => (256, 136), // IQ4_XS
        24 => (1, 1),     // I8
        25 => (1, 2),     // I16
        26 => (1, 4),     // I32
        27 => (1, 8),     // I64
        28 => (1, 8),     // F64
        30 => (1, 2),     // BF16
        _ => return None,
    };
    Some(elements.div_ceil(block) * bytes)
}

struct Header<'a, R> {
    r: &'a mut R,
}

impl<R: Read + Seek> Header<'_, R> {
    fn bytes<const N: usize>(&mut self) -> Result<[u8; N], GgufError> {
        let mut b = [0u8; N];
        self.r.read_exact(&mut b).map_err(io_err)?;
        Ok(b)
    }
    fn u32(&mut self) -> Result<u32, GgufError> {
        Ok(u32::from_le_bytes(self.bytes()?))
    }
    fn u64(&mut self) -> Result<u64, GgufError> {
        Ok(u64::from_le_bytes(self.bytes()?))
    }
    fn integer(&mut self, ty: u32) -> Result<u64, GgufError> {
        Ok(match ty {
            4 => u64::from(self.u32()?),
            5 => u64::from(self.u32()?), // i32 bit pattern; only used for small positive values
            _ => self.u64()?,
        })
    }
    fn string(&mut self) -> Result<String, GgufError> {
        let len = self.u64()?;
        if len > MAX_STRING {
            return Err(GgufError::Corrupt(format!("a string of {len} bytes")));
        }
        let mut buf = Vec::new();
        self.r
            .by_ref()
            .take(len)
            .read_to_end(&mut buf)
            .map_err(io_err)?;
        if buf.len() as u64 != len {
            return Err(GgufError::Truncated);
        }
        Ok(String::from_utf8_lossy(&buf).into_owned())
    }
    fn skip(&mut self, n: u64) -> Result<(), GgufError> {
        let n = i64::try_from(n).map_err(|_| GgufError::Corrupt("value too large".into()))?;
        self.r.seek(SeekFrom::Current(n)).map_err(io_err)?;
        Ok(())
    }
    /// Reads an array's header, skips its items, returns its length.
    fn array_len_then_skip(&mut self) -> Result<u64, GgufError> {
        let pos = self.r.stream_position().map_err(io_err)?;
        let _item = self.u32()?;
        let n = self.u64()?;
        self.r.seek(SeekFrom::Start(pos)).map_err(io_err)?;
        self.skip_value(9, 0)?;
        Ok(n)
    }
    fn skip_value(&mut self, ty: u32, depth: u32) -> Result<(), GgufError> {
        match ty {
            0 | 1 | 7 => self.skip(1),
            2 | 3 => self.skip(2),
            4..=6 => self.skip(4),
            10..=12 => self.skip(8),
            8 => {
                let len = self.u64()?;
                if len > MAX_STRING {
                    return Err(GgufError::Corrupt(format!("a string of {len} bytes")));
                }
                self.skip(len)
            }
            9 if depth == 0 => {
                let item = self.u32()?;
                let n = self.u64()?;
                if n > MAX_ARRAY {
                    return Err(GgufError::Corrupt(format!("an array of {n} items")));
                }
                match item {
                    0 | 1 | 7 => self.skip(n),
                    2 | 3 => self.skip(n * 2),
                    4..=6 => self.skip(n * 4),
                    10..=12 => self.skip(n * 8),
                    _ => (0..n).try_for_each(|_| self.skip_value(item, depth + 1)),
                }
            }
            _ => Err(GgufError::Corrupt(format!("unknown value type {ty}"))),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Cursor;

    /// A tiny valid GGUF: metadata plus two F32 tensors with real data.
    pub(crate) fn tiny_gguf() -> Vec<u8> {
        fn s(out: &mut Vec<u8>, text: &str) {
            out.extend((text.len() as u64).to_le_bytes());
            out.extend(text.as_bytes());
        }
        let mut b = Vec::new();
        b.extend(MAGIC);
        b.extend(3u32.to_le_bytes());
        b.extend(2u64.to_le_bytes()); // tensors
        b.extend(4u64.to_le_bytes()); // kv
        s(&mut b, "general.architecture");
        b.extend(8u32.to_le_bytes());
        s(&mut b, "llama");
        s(&mut b, "llama.context_length");
        b.extend(4u32.to_le_bytes());
        b.extend(2048u32.to_le_bytes());
        s(&mut b, "tokenizer.ggml.tokens");
        b.extend(9u32.to_le_bytes());
        b.extend(8u32.to_le_bytes());
        b.extend(2u64.to_le_bytes());
        s(&mut b, "a");
        s(&mut b, "b");
        s(&mut b, "tokenizer.chat_template");
        b.extend(8u32.to_le_bytes());
        s(&mut b, "{{ messages }}");
        for (name, offset) in [("w1", 0u64), ("w2", 64)] {
            s(&mut b, name);
            b.extend(1u32.to_le_bytes());
            b.extend(16u64.to_le_bytes());
            b.extend(0u32.to_le_bytes()); // F32
            b.extend(offset.to_le_bytes());
        }
        while b.len() % 32 != 0 {
            b.push(0);
        }
        b.extend(vec![1u8; 128]);
        b
    }

    fn check(bytes: &[u8]) -> Result<GgufSummary, GgufError> {
        inspect_reader(Cursor::new(bytes), bytes.len() as u64)
    }

    #[test]
    fn a_valid_file_gives_its_metadata() {
        let s = check(&tiny_gguf()).expect("valid");
        assert_eq!(s.architecture.as_deref(), Some("llama"));
        assert_eq!(s.context_length, Some(2048));
        assert!(s.has_chat_template);
        assert_eq!(s.tensor_count, 2);
        assert_eq!(s.vocab_size, Some(2));
    }

    #[test]
    fn every_truncation_of_a_valid_file_is_refused_without_panic() {
        let full = tiny_gguf();
        for len in 0..full.len() {
            assert!(
                check(&full[..len]).is_err(),
                "truncated to {len} bytes was accepted"
            );
        }
    }

    #[test]
    fn bad_files_get_the_right_reason() {
        assert!(matches!(
            check(b"\x89PNG\r\n\x1a\nrest"),
            Err(GgufError::NotGguf(_))
        ));
        assert!(matches!(check(b"GG"), Err(GgufError::NotGguf(_))));
        let mut v = tiny_gguf();
        v[4] = 9;
        assert_eq!(check(&v), Err(GgufError::Version(9)));
        let mut huge = tiny_gguf();
        huge[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(matches!(check(&huge), Err(GgufError::Corrupt(_))));
        let mut long_string = tiny_gguf();
        long_string[24..32].copy_from_slice(&(1u64 << 40).to_le_bytes());
        assert!(matches!(check(&long_string), Err(GgufError::Corrupt(_))));
    }

    #[test]
    fn corrupting_any_byte_of_the_header_never_panics() {
        let full = tiny_gguf();
        for i in 0..full.len() - 128 {
            for v in [0u8, 0x7f, 0xff] {
                let mut b = full.clone();
                b[i] = v;
                let _ = check(&b);
            }
        }
    }
}
