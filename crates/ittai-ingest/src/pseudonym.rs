//! Pseudonymisation of person identifiers (docs/reference/privacy.md): 保険者番号 + 被保険者証の記号・番号
//! become `person_id` through a keyed hash (HMAC-SHA256), identical across all sources so
//! that receipts, checkups, care data and the register join. The key is the user's secret;
//! it is never written anywhere, and without it the raw numbers cannot be recovered or
//! re-linked. Raw numbers never leave the reader that saw them.

use std::path::Path;

use hmac::{Hmac, KeyInit, Mac};
use ittai_model::PersonId;
use sha2::Sha256;

/// Shortest key accepted, in bytes (after trailing whitespace is removed).
pub const MIN_KEY_BYTES: usize = 16;

/// Domain-separation prefix of the hashed message (change it and every id changes).
const CONTEXT: &[u8] = b"ittai-person-v1";

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
    /// first ([`normalise`]): full-width digits and letters become ASCII and spaces are
    /// removed, so "  133066" and "１３３０６６" give the same id; a 後期 保険者番号 counts by
    /// its prefecture ([`insurer_key`]). The 枝番 is not part of the id (decision D50).
    pub fn person_id(&self, insurer: &str, symbol: &str, number: &str) -> PersonId {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0)
            .expect("HMAC takes keys of any length");
        mac.update(CONTEXT);
        let insurer = insurer_key(&normalise(insurer));
        for part in [insurer.as_str(), &normalise(symbol), &normalise(number)] {
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

/// Full-width ASCII (U+FF01–FF5E) to ASCII, ideographic and ASCII spaces removed, letters
/// upper-cased.
pub fn normalise(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c as u32 {
            0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .map(|c| c.to_ascii_uppercase())
        .collect()
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
