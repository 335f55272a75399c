//! Pseudonymisation of person identifiers (docs/reference/privacy.md): 保険者番号 + 被保険者証の記号・番号
//! become `person_id` through a keyed hash (HMAC-SHA256), identical across all sources so
//! that receipts, checkups, care data and the register join. The key is the user's secret;
//! it is never written anywhere, and without it the raw numbers cannot be recovered or
//! re-linked. Raw numbers never leave the reader that saw them.

use std::path::Path;

use hmac::{Hmac, KeyInit, Mac};
use ittai_model::PersonId;
use sha2::Sha256;
use unicode_normalization::UnicodeNormalization;

/// Shortest key accepted, in bytes (after trailing whitespace is removed).
pub const MIN_KEY_BYTES: usize = 16;

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
    /// The key is too short to be secret.
    #[error(
        "--id-key-file {path}: the key has {len} bytes; use at least {MIN_KEY_BYTES} secret bytes, e.g. `openssl rand -hex 32 > {path}`"
    )]
    TooShort {
        /// File.
        path: String,
        /// Bytes found.
        len: usize,
    },
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
    /// The key from a file of secret bytes; trailing whitespace (a final newline) is
    /// ignored so that `echo` and editors give the same key.
    ///
    /// # Errors
    /// [`KeyError`] when the file cannot be read or holds fewer than [`MIN_KEY_BYTES`].
    pub fn from_file(path: &Path) -> Result<Self, KeyError> {
        let bytes = std::fs::read(path).map_err(|e| KeyError::Io {
            path: path.display().to_string(),
            source: e,
        })?;
        Self::from_bytes(&bytes).map_err(|len| KeyError::TooShort {
            path: path.display().to_string(),
            len,
        })
    }

    /// The key from bytes (trailing whitespace removed); `Err(len)` when too short.
    ///
    /// # Errors
    /// The length found when it is below [`MIN_KEY_BYTES`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, usize> {
        let end = bytes
            .iter()
            .rposition(|b| !b.is_ascii_whitespace())
            .map_or(0, |i| i + 1);
        if end < MIN_KEY_BYTES {
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
