//! Pseudonymisation of person identifiers (docs/reference/privacy.md): 保険者番号 + 被保険者証の記号・番号
//! become `person_id` through a keyed hash (HMAC-SHA256), identical across all sources so
//! that receipts, checkups, care data and the register join. The key is the user's secret;
//! it is never written anywhere, and without it the raw numbers cannot be recovered or
//! re-linked. Raw numbers never leave the reader that saw them.

use std::io::Read;
use std::path::Path;

use hmac::{Hmac, KeyInit, Mac};
use ittai_model::PersonId;
use sha2::Sha256;
use unicode_normalization::UnicodeNormalization;

/// Shortest key accepted from a key file: 32 bytes (256 bits) of key material, counted as
/// [`IdKey::parse`] explains — a key written in hex (only `0-9a-f`, `A-F` and whitespace)
/// needs 64 hex digits, any other key 32 bytes (after a UTF-8 BOM and surrounding
/// whitespace are removed). `openssl rand -hex 32` makes one.
pub const MIN_KEY_BYTES: usize = 32;

/// Shortest key [`IdKey::from_bytes`] accepts (a key a program holds in memory; tests).
/// Key files must meet [`MIN_KEY_BYTES`].
pub const MIN_RAW_KEY_BYTES: usize = 16;

/// Largest key file read, in bytes: a key is a line of text, and a larger file (or a
/// device that never ends) is refused without being read.
pub const MAX_KEY_FILE_BYTES: u64 = 4096;

/// Domain-separation prefix of the hashed message (change it and every id changes).
///
/// `v2`: the parts are normalised with NFKC, one hyphen for the dash family and no
/// leading zeros in numeric 保険者番号 and 番号 ([`normalise`], [`normalise_number`]).
/// `v1` (full-width ASCII to ASCII and spaces only) gave other ids for numbers with
/// leading zeros and for 記号 written with another dash; the version changed with the
/// normalisation so that ids of the two are never silently mixed: every id differs.
const CONTEXT: &[u8] = b"ittai-person-v2";

/// Characters read as the ASCII hyphen `-` in an identifier (after NFKC, which already
/// turns U+FF0D, U+FE63 into `-`, U+2011 into U+2010, U+FE58 into U+2014 and U+FF70 into
/// U+30FC): the hyphens and dashes U+2010–U+2015, the hyphen bullet U+2043, the minus sign
/// U+2212, the box-drawing horizontals U+2500 and U+2501, the prolonged sound mark U+30FC
/// (ー, typed for a dash in 記号 such as １０ー２３), the small dash and hyphen U+FE58 and
/// U+FE63, the full-width hyphen-minus U+FF0D and the half-width prolonged sound mark
/// U+FF70. One 記号 reaches ittai with any of them: Shift_JIS has no U+2212, so a UTF-8
/// file's `１０−２３` comes back from its Shift_JIS copy as `１０－２３` (U+FF0D); a hyphen
/// typed with a Japanese IME in kana mode comes out as ー. The wave dash 〜 and tilde ～
/// are not dashes and are kept.
const DASHES: &[char] = &[
    '\u{2010}', '\u{2011}', '\u{2012}', '\u{2013}', '\u{2014}', '\u{2015}', '\u{2043}', '\u{2212}',
    '\u{2500}', '\u{2501}', '\u{30FC}', '\u{FE58}', '\u{FE63}', '\u{FF0D}', '\u{FF70}',
];

/// Invisible characters removed like spaces: zero-width space, non-joiner and joiner,
/// word joiner, and a byte-order mark inside the text.
const INVISIBLE: &[char] = &['\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}'];

/// Error loading the key.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The file could not be read.
    #[error("--id-key-file {path}: {source}")]
    Io {
        /// File.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The path is not a regular file (a directory, a FIFO, a device, a socket).
    #[error(
        "--id-key-file {path}: this is {what}, not a file; give a file holding the key, e.g. made with `openssl rand -hex 32 > FILE`"
    )]
    NotAFile {
        /// File.
        path: String,
        /// What it is instead (`a directory`, `a FIFO (named pipe)` …).
        what: &'static str,
    },
    /// The file is larger than `MAX_KEY_FILE_BYTES` (4 KiB).
    #[error(
        "--id-key-file {path}: the file has {len} bytes; a key file holds one key of at most {MAX_KEY_FILE_BYTES} bytes"
    )]
    TooLarge {
        /// File.
        path: String,
        /// Bytes in the file.
        len: u64,
    },
    /// The key is too short to be secret ([`MIN_KEY_BYTES`]).
    #[error(
        "--id-key-file {path}: {}; use at least {MIN_KEY_BYTES} random bytes (64 hex digits), e.g. `openssl rand -hex 32 > {path}`",
        describe_length(.len, .hex)
    )]
    TooShort {
        /// File.
        path: String,
        /// Bytes of key material found (for a hex key, its digits / 2).
        len: usize,
        /// Whether the key is written in hex.
        hex: bool,
    },
    /// The key is one byte repeated (`aaaa…`, `0000…`): no secret at all.
    #[error(
        "--id-key-file {path}: the key is one character repeated, which is no secret; use random bytes, e.g. `openssl rand -hex 32 > {path}`"
    )]
    OneByteRepeated {
        /// File.
        path: String,
    },
}

/// The length of a short key in words.
fn describe_length(len: &usize, hex: &bool) -> String {
    if *hex {
        format!("the key is written in hex and holds {len} bytes")
    } else {
        format!("the key has {len} bytes")
    }
}

/// What a path is when it is not a regular file, in words; `None` for a regular file.
fn not_a_regular_file(t: &std::fs::FileType) -> Option<&'static str> {
    if t.is_file() {
        return None;
    }
    if t.is_dir() {
        return Some("a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return Some("a FIFO (named pipe)");
        }
        if t.is_char_device() || t.is_block_device() {
            return Some("a device");
        }
        if t.is_socket() {
            return Some("a socket");
        }
    }
    Some("a special file")
}

/// The warning about a key file that group or others may read or write (Unix).
#[cfg(unix)]
fn permission_warnings(meta: &std::fs::Metadata, shown: &str) -> Vec<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 == 0 {
        return Vec::new();
    }
    vec![format!(
        "--id-key-file {shown}: other users may read or change the key (mode {mode:03o}); whoever has it can re-link the person ids. Restrict it: chmod 600 {shown}"
    )]
}

/// No permission bits to check off Unix.
#[cfg(not(unix))]
fn permission_warnings(_meta: &std::fs::Metadata, _shown: &str) -> Vec<String> {
    Vec::new()
}

/// Why key bytes were refused by [`IdKey::parse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyProblem {
    /// Fewer than [`MIN_KEY_BYTES`] bytes of key material.
    TooShort {
        /// Bytes of key material (for a hex key, its digits / 2).
        len: usize,
        /// Whether the key is written in hex.
        hex: bool,
    },
    /// One byte repeated.
    OneByteRepeated,
}

/// The pseudonymisation key.
#[derive(Clone)]
pub struct IdKey(Vec<u8>);

impl std::fmt::Debug for IdKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdKey(…)")
    }
}

impl IdKey {
    /// The key from a key file, checked by [`IdKey::load`]; its warnings are dropped (use
    /// [`IdKey::load`] to show them).
    ///
    /// # Errors
    /// [`KeyError`], see [`IdKey::load`].
    pub fn from_file(path: &Path) -> Result<Self, KeyError> {
        Self::load(path).map(|(key, _)| key)
    }

    /// The key from a key file, and warnings to show the user.
    ///
    /// The path must be a regular file (a symbolic link to one is fine): a directory, a
    /// FIFO, a device or a socket is refused before it is opened, so that a pipe cannot
    /// block and `/dev/urandom` cannot give a new key on every run. At most
    /// `MAX_KEY_FILE_BYTES` (4 KiB) are read. The content is checked by [`IdKey::parse`]. On Unix
    /// a file that group or others may read or write (mode & 0o077 ≠ 0) is used with a
    /// warning, since whoever reads the key can re-link the ids.
    ///
    /// # Errors
    /// [`KeyError::Io`] when the file cannot be read, [`KeyError::NotAFile`],
    /// [`KeyError::TooLarge`], and [`KeyError::TooShort`] or [`KeyError::OneByteRepeated`]
    /// for a weak key.
    pub fn load(path: &Path) -> Result<(Self, Vec<String>), KeyError> {
        let shown = path.display().to_string();
        let io = |source| KeyError::Io {
            path: shown.clone(),
            source,
        };
        let not_a_file = |what| KeyError::NotAFile {
            path: shown.clone(),
            what,
        };
        // Checked before opening: opening a FIFO for reading blocks until a writer comes.
        let meta = std::fs::metadata(path).map_err(io)?;
        if let Some(what) = not_a_regular_file(&meta.file_type()) {
            return Err(not_a_file(what));
        }
        if meta.len() > MAX_KEY_FILE_BYTES {
            return Err(KeyError::TooLarge {
                path: shown.clone(),
                len: meta.len(),
            });
        }
        let file = std::fs::File::open(path).map_err(io)?;
        // The path may have been replaced between the check and the open.
        let meta = file.metadata().map_err(io)?;
        if let Some(what) = not_a_regular_file(&meta.file_type()) {
            return Err(not_a_file(what));
        }
        let mut bytes = Vec::new();
        file.take(MAX_KEY_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        if bytes.len() as u64 > MAX_KEY_FILE_BYTES {
            return Err(KeyError::TooLarge {
                path: shown.clone(),
                len: bytes.len() as u64,
            });
        }
        let key = Self::parse(&bytes).map_err(|p| match p {
            KeyProblem::TooShort { len, hex } => KeyError::TooShort {
                path: shown.clone(),
                len,
                hex,
            },
            KeyProblem::OneByteRepeated => KeyError::OneByteRepeated {
                path: shown.clone(),
            },
        })?;
        Ok((key, permission_warnings(&meta, &shown)))
    }

    /// The key from the content of a key file.
    ///
    /// A UTF-8 byte-order mark and whitespace (spaces, tabs, newlines) at the start and
    /// the end are removed; the rest, byte for byte, is the key. It must carry at least
    /// [`MIN_KEY_BYTES`] bytes of key material: when every byte is a hex digit or
    /// whitespace (`openssl rand -hex 32`, `xxd -p`) the key is taken to be written in hex
    /// and needs 64 hex digits (two digits carry one byte); any other key needs 32 bytes
    /// (a text passphrase carries less than a byte of secret per character, so 32 is a
    /// floor, not a guarantee). A key that is one byte repeated is refused.
    ///
    /// Before this check existed, only trailing whitespace was removed: a key file that
    /// starts with a BOM or whitespace now gives a different key, and so different ids.
    ///
    /// # Errors
    /// The `KeyProblem`: too short, or one byte repeated.
    pub fn parse(bytes: &[u8]) -> Result<Self, KeyProblem> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let start = bytes
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(bytes.len());
        let end = bytes
            .iter()
            .rposition(|b| !b.is_ascii_whitespace())
            .map_or(start, |i| i + 1);
        let key = &bytes[start..end];
        let hex = !key.is_empty()
            && key
                .iter()
                .all(|b| b.is_ascii_hexdigit() || b.is_ascii_whitespace());
        let len = if hex {
            key.iter().filter(|b| b.is_ascii_hexdigit()).count() / 2
        } else {
            key.len()
        };
        if len < MIN_KEY_BYTES {
            return Err(KeyProblem::TooShort { len, hex });
        }
        // One byte repeated: a hex key by its digit pairs (case ignored), any other key
        // by its bytes; whitespace inside the key is not counted.
        let solid: Vec<u8> = key
            .iter()
            .filter(|b| !b.is_ascii_whitespace())
            .map(|b| if hex { b.to_ascii_lowercase() } else { *b })
            .collect();
        let mut units = solid.chunks(if hex { 2 } else { 1 });
        if let Some(first) = units.next()
            && units.all(|u| u == first)
        {
            return Err(KeyProblem::OneByteRepeated);
        }
        Ok(IdKey(key.to_vec()))
    }

    /// The key from bytes a program holds (trailing whitespace removed); `Err(len)` when
    /// shorter than `MIN_RAW_KEY_BYTES` (16). No other check is made: a user's key comes
    /// from a file through [`IdKey::load`], which applies [`IdKey::parse`].
    ///
    /// # Errors
    /// The length found when it is below `MIN_RAW_KEY_BYTES`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, usize> {
        let end = bytes
            .iter()
            .rposition(|b| !b.is_ascii_whitespace())
            .map_or(0, |i| i + 1);
        if end < MIN_RAW_KEY_BYTES {
            return Err(end);
        }
        Ok(IdKey(bytes[..end].to_vec()))
    }

    /// The person id of 保険者番号 `insurer` and 被保険者証の記号 `symbol` and 番号 `number`:
    /// `p` + 32 hex digits (the first 128 bits of HMAC-SHA256). The parts are normalised
    /// first ([`normalise`]): NFKC (full-width digits and letters become ASCII, half-width
    /// katakana full-width), every dash one `-`, spaces removed, so "  133066" and
    /// "１３３０６６", or 記号 "１０−２３" and "10-23", give the same id. The 保険者番号 and
    /// the 番号 are numbers where they are all digits: their leading zeros are dropped
    /// ([`normalise_number`]), so "00133066" (a register padded to 8 digits) and "133066"
    /// (a 国保 number in レセ電), or "00000007" and "7" (a column Excel read as a number),
    /// give the same id. The 記号 keeps its zeros: it may be letters or kanji, and
    /// "０１０１" is not "101" on a card. A 後期 保険者番号 counts by its prefecture
    /// ([`insurer_key`]). The 枝番 is not part of the id (decision D50).
    pub fn person_id(&self, insurer: &str, symbol: &str, number: &str) -> PersonId {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0)
            .expect("HMAC takes keys of any length");
        mac.update(CONTEXT);
        let insurer = insurer_key(&normalise_number(insurer));
        for part in [
            insurer.as_str(),
            &normalise(symbol),
            &normalise_number(number),
        ] {
            mac.update(&[0]);
            mac.update(part.as_bytes());
        }
        let out = mac.finalize().into_bytes();
        PersonId::from(format!("p{}", hex::encode(&out[..16])))
    }
}

/// The part of a normalised 保険者番号 that identifies whose 被保険者番号 space a number is
/// in: for 後期高齢者医療 (法別番号 39) the prefecture's union, `39` + the prefecture's two
/// digits, because the 広域連合 assigns 被保険者番号 across the whole prefecture and a
/// person who moves between its municipalities keeps the number while the 保険者番号
/// changes (decision D51); for every other insurer the whole number.
pub fn insurer_key(insurer: &str) -> String {
    if insurer.len() == 8
        && insurer.starts_with("39")
        && insurer.bytes().all(|b| b.is_ascii_digit())
    {
        insurer[..4].to_string()
    } else {
        insurer.to_string()
    }
}

/// An identifier in one notation: Unicode NFKC (full-width ASCII U+FF01–FF5E becomes
/// ASCII, half-width katakana full-width, ① becomes 1), every character of the dash family
/// (U+2010–U+2015, U+2043, U+2212, U+2500, U+2501, U+30FC, U+FE58, U+FE63,
/// U+FF0D, U+FF70) becomes the ASCII hyphen `-`, white space (ASCII, U+3000 ideographic
/// space and the other Unicode spaces) and zero-width characters are removed, ASCII
/// letters are upper-cased. Leading zeros are kept (see [`normalise_number`]).
pub fn normalise(s: &str) -> String {
    if s.is_ascii() {
        // NFKC leaves ASCII unchanged and no dash or invisible character above is ASCII:
        // the same result without the Unicode tables (8 % of the ingest's profile).
        return s
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
    }
    normalise_unicode(s)
}

/// [`normalise`] through NFKC, for any text.
fn normalise_unicode(s: &str) -> String {
    s.nfkc()
        .filter(|c| !c.is_whitespace() && !INVISIBLE.contains(c))
        .map(|c| {
            if DASHES.contains(&c) {
                '-'
            } else {
                c.to_ascii_uppercase()
            }
        })
        .collect()
}

/// [`normalise`], and when the result is all ASCII digits (a 保険者番号, a numeric
/// 被保険者番号 or 介護被保険者番号) without its leading zeros (`0000` becomes `0`).
/// Anything else (letters, a hyphen, kanji) is returned as [`normalise`] gives it.
pub fn normalise_number(s: &str) -> String {
    let n = normalise(s);
    if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) {
        match n.trim_start_matches('0') {
            "" => "0".to_string(),
            t => t.to_string(),
        }
    } else {
        n
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_ascii_path_of_normalise_is_the_unicode_path() {
        for b in 0u8..=127 {
            let one = (b as char).to_string();
            assert_eq!(normalise(&one), normalise_unicode(&one), "byte {b}");
        }
        for t in ["12 34", " ab-c\t", "0000", "39131234", "x\r\ny", ""] {
            assert_eq!(normalise(t), normalise_unicode(t), "{t:?}");
        }
    }

    use super::*;

    fn key() -> IdKey {
        IdKey::from_bytes(b"0123456789abcdef0123456789abcdef\n").unwrap()
    }

    #[test]
    fn same_person_same_id_across_notations() {
        let k = key();
        let a = k.person_id("39131032", "", "12345678");
        assert_eq!(a, k.person_id(" 39131032", "", "１２３４５６７８"));
        assert_eq!(a.len(), 33);
        assert!(a.starts_with('p'));
        assert_ne!(a, k.person_id("39131032", "", "12345679"));
        // A move between municipalities of one union keeps the id (D51); another
        // prefecture's union or a 国保 insurer does not.
        // 39 13 103 2 (港区) → 39 13 201 4 (another 東京都 municipality): same union.
        assert_eq!(a, k.person_id("39132014", "", "12345678"));
        // 39 31 201 2 (鳥取市): another prefecture's union.
        assert_ne!(a, k.person_id("39312012", "", "12345678"));
        assert_ne!(
            k.person_id("133066", "", "1"),
            k.person_id("133067", "", "1")
        );
        // The parts are separated: moving a digit between them changes the id.
        assert_ne!(k.person_id("1", "23", "4"), k.person_id("12", "3", "4"));
    }

    #[test]
    fn the_key_matters_and_must_be_long_enough() {
        let other = IdKey::from_bytes(b"another secret key of enough bytes").unwrap();
        assert_ne!(
            key().person_id("39131032", "", "1"),
            other.person_id("39131032", "", "1")
        );
        assert_eq!(IdKey::from_bytes(b"short\n\n").unwrap_err(), 5);
        // from_bytes takes a program's own key from 16 bytes on; key files need 32 (see
        // key_tests).
        assert_eq!(IdKey::from_bytes(&[b'k'; 15]).unwrap_err(), 15);
        assert!(IdKey::from_bytes(&[b'k'; 16]).is_ok());
        // A newline at the end does not change the key.
        assert_eq!(
            key().person_id("a", "", "b"),
            IdKey::from_bytes(b"0123456789abcdef0123456789abcdef")
                .unwrap()
                .person_id("a", "", "b")
        );
    }

    #[test]
    fn dashes_widths_and_spaces_have_one_notation() {
        assert_eq!(normalise("１２−３４"), "12-34"); // U+2212 MINUS SIGN
        assert_eq!(normalise("12-34"), "12-34");
        assert_eq!(normalise("１２－３４"), "12-34"); // U+FF0D, Shift_JIS 0x817C
        assert_eq!(normalise("１２‐３４"), "12-34"); // U+2010, Shift_JIS 0x815D
        assert_eq!(normalise("１２ー３４"), "12-34"); // U+30FC prolonged sound mark
        assert_eq!(normalise("12ｰ34"), "12-34"); // U+FF70 half-width
        assert_eq!(normalise("12―34"), "12-34"); // U+2015 horizontal bar
        assert_eq!(normalise("12─34"), "12-34"); // U+2500 box drawing
        assert_eq!(normalise("12﹣34"), "12-34"); // U+FE63 small hyphen-minus
        assert_eq!(normalise(" 1 2\u{3000}3\u{200B}4 "), "1234");
        assert_eq!(normalise("ｱｲab"), "アイAB");
        // The wave dash is not a dash.
        assert_eq!(normalise("1〜2"), "1〜2");
        // Leading zeros are kept by normalise and dropped from numbers only.
        assert_eq!(normalise("０１０１"), "0101");
        assert_eq!(normalise_number("０１０１"), "101");
        assert_eq!(normalise_number("0000"), "0");
        assert_eq!(normalise_number("01-01"), "01-01");
        assert_eq!(normalise_number("岡山01"), "岡山01");
        assert_eq!(normalise_number(""), "");
    }

    #[test]
    fn numeric_insurer_and_number_lose_their_leading_zeros_and_the_symbol_keeps_them() {
        let k = key();
        // A register padded to 8 digits, an Excel column read as a number.
        assert_eq!(
            k.person_id("00133066", "０１", "００００７"),
            k.person_id("  133066", "01", "7")
        );
        assert_ne!(
            k.person_id("133066", "01", "7"),
            k.person_id("133066", "1", "7")
        );
        // The same 記号 written with a minus sign, a full-width hyphen-minus or ASCII.
        let a = k.person_id("061234", "１０−２３", "１１３４");
        assert_eq!(a, k.person_id("061234", "１０－２３", "１１３４"));
        assert_eq!(a, k.person_id("061234", "10-23", "1134"));
        assert_ne!(a, k.person_id("061234", "1023", "1134"));
    }

    /// HMAC-SHA256 itself against RFC 4231 test case 2 (key "Jefe"), so a library change
    /// cannot silently change every id.
    #[test]
    fn hmac_sha256_matches_rfc_4231() {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}

#[cfg(test)]
mod key_tests {
    use super::*;

    /// 32 random bytes (os.urandom, once), none of them whitespace at either end.
    const RANDOM_32: [u8; 32] = [
        0xb0, 0xf1, 0x4d, 0x5f, 0x67, 0x3f, 0x61, 0xd6, 0xae, 0xe2, 0x8d, 0x37, 0xef, 0xd8, 0xcc,
        0x22, 0x12, 0x87, 0xca, 0xf3, 0x18, 0xd5, 0x7c, 0x38, 0xe7, 0x54, 0x1f, 0x42, 0x24, 0x28,
        0x1c, 0x45,
    ];

    fn id(k: &IdKey) -> PersonId {
        k.person_id("39131032", "", "12345678")
    }

    fn file(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        p
    }

    #[test]
    fn short_keys_are_refused_exactly_below_32_bytes() {
        assert_eq!(
            IdKey::parse(&RANDOM_32[..31]).unwrap_err(),
            KeyProblem::TooShort {
                len: 31,
                hex: false
            }
        );
        assert!(IdKey::parse(&RANDOM_32).is_ok());
        // Hex: two digits per byte, so 63 digits are 31 bytes and 64 are 32.
        let hex64 = hex::encode(RANDOM_32);
        assert_eq!(
            IdKey::parse(&hex64.as_bytes()[..63]).unwrap_err(),
            KeyProblem::TooShort { len: 31, hex: true }
        );
        assert!(IdKey::parse(hex64.as_bytes()).is_ok());
        // The 32-digit hex keys that passed the old 16-byte rule are 16 bytes.
        assert_eq!(
            IdKey::parse(b"0123456789abcdef0123456789abcdef\n").unwrap_err(),
            KeyProblem::TooShort { len: 16, hex: true }
        );
        // `xxd -p` wraps its hex at 60 digits: still hex, still 32 bytes.
        let wrapped = format!("{}\n{}\n", &hex64[..60], &hex64[60..]);
        assert!(IdKey::parse(wrapped.as_bytes()).is_ok());
        assert_eq!(
            IdKey::parse(b"").unwrap_err(),
            KeyProblem::TooShort { len: 0, hex: false }
        );
        // From a file, with the message the user sees.
        let dir = tempfile::tempdir().unwrap();
        let p = file(dir.path(), "short.key", &RANDOM_32[..31]);
        let e = IdKey::from_file(&p).unwrap_err();
        assert!(
            matches!(
                e,
                KeyError::TooShort {
                    len: 31,
                    hex: false,
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(
            e.to_string()
                .contains("the key has 31 bytes; use at least 32 random bytes (64 hex digits)"),
            "{e}"
        );
        let p = file(
            dir.path(),
            "short_hex.key",
            b"0123456789abcdef0123456789abcdef\n",
        );
        assert_eq!(
            IdKey::from_file(&p).unwrap_err().to_string(),
            format!(
                "--id-key-file {}: the key is written in hex and holds 16 bytes; use at least 32 random bytes (64 hex digits), e.g. `openssl rand -hex 32 > {}`",
                p.display(),
                p.display()
            )
        );
        let p = file(dir.path(), "good.key", &RANDOM_32);
        assert_eq!(
            id(&IdKey::from_file(&p).unwrap()),
            id(&IdKey::parse(&RANDOM_32).unwrap())
        );
    }

    #[test]
    fn one_repeated_byte_is_refused() {
        assert_eq!(
            IdKey::parse(&[b'x'; 40]).unwrap_err(),
            KeyProblem::OneByteRepeated
        );
        assert_eq!(
            IdKey::parse("0".repeat(64).as_bytes()).unwrap_err(),
            KeyProblem::OneByteRepeated
        );
        // Hex by its digit pairs: 0f0f… is the byte 0x0f repeated.
        assert_eq!(
            IdKey::parse("0f".repeat(32).as_bytes()).unwrap_err(),
            KeyProblem::OneByteRepeated
        );
    }

    #[test]
    fn bom_and_surrounding_whitespace_are_stripped() {
        let hex64 = hex::encode(RANDOM_32);
        let plain = id(&IdKey::parse(hex64.as_bytes()).unwrap());
        for text in [
            format!("\u{feff}{hex64}\r\n"),
            format!(" \t{hex64}\n\n"),
            format!("\u{feff}\n{hex64}"),
        ] {
            assert_eq!(
                id(&IdKey::parse(text.as_bytes()).unwrap()),
                plain,
                "{text:?}"
            );
        }
        let dir = tempfile::tempdir().unwrap();
        let p = file(
            dir.path(),
            "bom.key",
            format!("\u{feff}{hex64}\r\n").as_bytes(),
        );
        let (k, warnings) = IdKey::load(&p).unwrap();
        assert_eq!(id(&k), plain);
        assert!(warnings.is_empty(), "{warnings:?}");
        // The BOM is not key material: a BOM and 31 bytes are too short.
        let mut short = b"\xEF\xBB\xBF".to_vec();
        short.extend_from_slice(&RANDOM_32[..31]);
        assert_eq!(
            IdKey::parse(&short).unwrap_err(),
            KeyProblem::TooShort {
                len: 31,
                hex: false
            }
        );
    }

    #[test]
    fn a_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let e = IdKey::from_file(dir.path()).unwrap_err();
        assert!(
            matches!(
                e,
                KeyError::NotAFile {
                    what: "a directory",
                    ..
                }
            ),
            "{e:?}"
        );
    }

    /// A FIFO is refused without being opened (opening it would block until a writer
    /// comes). `mkfifo` is part of coreutils; the test fails, rather than skips, without it.
    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("key.fifo");
        let status = std::process::Command::new("mkfifo")
            .arg(&p)
            .status()
            .expect("mkfifo (coreutils) must be installed to run this test");
        assert!(status.success(), "mkfifo failed");
        let (tx, rx) = std::sync::mpsc::channel();
        let q = p.clone();
        std::thread::spawn(move || {
            let _ = tx.send(IdKey::from_file(&q).map(|_| ()));
        });
        let r = rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("from_file blocked on the FIFO");
        let e = r.unwrap_err();
        assert!(
            matches!(
                e,
                KeyError::NotAFile {
                    what: "a FIFO (named pipe)",
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(e.to_string().contains("not a file"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn a_device_is_refused() {
        let e = IdKey::from_file(Path::new("/dev/null")).unwrap_err();
        assert!(
            matches!(
                e,
                KeyError::NotAFile {
                    what: "a device",
                    ..
                }
            ),
            "{e:?}"
        );
    }

    #[test]
    fn a_large_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = file(dir.path(), "big.key", &[b'x'; 5000]);
        let e = IdKey::from_file(&p).unwrap_err();
        assert!(matches!(e, KeyError::TooLarge { len: 5000, .. }), "{e:?}");
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_others_may_read_warns() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = file(dir.path(), "k.key", hex::encode(RANDOM_32).as_bytes());
        let (_, warnings) = IdKey::load(&p).unwrap();
        assert!(warnings.is_empty(), "0600: {warnings:?}");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
        let (k, warnings) = IdKey::load(&p).unwrap();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("mode 640") && warnings[0].contains("chmod 600"),
            "{warnings:?}"
        );
        // The key is still used.
        assert_eq!(
            id(&k),
            id(&IdKey::parse(hex::encode(RANDOM_32).as_bytes()).unwrap())
        );
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o604)).unwrap();
        assert_eq!(IdKey::load(&p).unwrap().1.len(), 1, "readable by others");
    }
}
