//! Names back, on this machine only (再識別, docs/reference/privacy.md#re-identification-on-this-machine):
//! a municipality's own register (台帳 CSV: 被保険者番号, 氏名, カナ, 住所, 電話 …) read at run
//! time, each row's person id computed again with the key used at ingest, so that a target
//! list of pseudonyms can show whom a nurse must phone or visit.
//!
//! The register lives in memory only ([`Register`]): nothing here writes a file, its
//! `Debug` shows counts and never a name, and a bad row is counted and reported by line and
//! column, never with its values. With a municipality code, the rows of every other
//! municipality are skipped before anything else is read from them.
//!
//! The id of a row is `key.person_id(保険者番号, 記号, 被保険者番号)`, exactly as `ittai
//! ingest` computes it for a row of the insured register (`register::read_persons`): the
//! 保険者番号 normalised and checked for its 検証番号, the 記号 (empty for 後期) and the
//! 番号 as written; [`IdKey::person_id`] normalises them (full width, dashes, leading zeros)
//! and, for a 後期 insurer, uses only `39` + the prefecture (decision D51), so the
//! 保険者番号 of any municipality of the union gives the same id.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::io::Read;
use std::path::{Path, PathBuf};

use ittai_model::PersonId;
use ittai_model::check_digit::{
    is_valid_insurer_number, is_valid_municipality_code, municipality_check_digit,
};
use unicode_normalization::UnicodeNormalization;

use crate::pseudonym::{IdKey, normalise};

/// Largest register file read, in bytes (1 GiB). A register of a million persons with
/// names, readings, addresses and telephone numbers is about 150 MB.
pub const MAX_REGISTER_BYTES: u64 = 1 << 30;

/// Row problems kept for the report ([`Register::problems`]); all of them are counted
/// ([`RegisterCounts::rejected`]).
pub const MAX_PROBLEMS_KEPT: usize = 1000;

/// One column of the register layout: the header names accepted (Japanese and English,
/// compared after NFKC and without white space; English in any case) and whether the
/// column must be present.
#[derive(Debug, Clone, Copy)]
pub struct NameColumn {
    /// Key of the column (its first English name).
    pub key: &'static str,
    /// Japanese headers accepted, the first one shown in messages.
    pub ja: &'static [&'static str],
    /// English headers accepted.
    pub en: &'static [&'static str],
    /// The column must be present (see [`NAMES_LAYOUT`] for the two that may be).
    pub required: bool,
    /// Meaning and format.
    pub doc: &'static str,
}

/// The columns of the register [`Register::load`] reads, in any order; other columns are
/// ignored. 保険者番号 may be left out when [`RegisterOptions::insurer`] gives it for every
/// row (`--insurer`); 市町村コード must be present when the register is read for one
/// municipality ([`RegisterOptions::municipality`], `--municipality`).
pub const NAMES_LAYOUT: &[NameColumn] = &[
    NameColumn {
        key: "insurer_number",
        ja: &["保険者番号"],
        en: &["insurer_number"],
        required: false,
        doc: "8 digits with 検証番号; required unless --insurer gives it for every row",
    },
    NameColumn {
        key: "symbol",
        ja: &["記号"],
        en: &["symbol"],
        required: false,
        doc: "被保険者証の記号 (empty for 後期)",
    },
    NameColumn {
        key: "insured_number",
        ja: &["被保険者番号"],
        en: &["insured_number"],
        required: true,
        doc: "被保険者証の番号, as at ingest",
    },
    NameColumn {
        key: "name",
        ja: &["氏名", "名前"],
        en: &["name"],
        required: true,
        doc: "氏名 as the nurse should read it",
    },
    NameColumn {
        key: "kana",
        ja: &[
            "カナ",
            "氏名カナ",
            "カナ氏名",
            "フリガナ",
            "ふりがな",
            "氏名(カナ)",
        ],
        en: &["kana", "furigana"],
        required: false,
        doc: "reading (カナ)",
    },
    NameColumn {
        key: "address",
        ja: &["住所"],
        en: &["address"],
        required: false,
        doc: "address",
    },
    NameColumn {
        key: "phone",
        ja: &["電話", "電話番号"],
        en: &["phone", "phone_number", "telephone"],
        required: false,
        doc: "telephone number, as text",
    },
    NameColumn {
        key: "municipality_code",
        ja: &["市町村コード"],
        en: &["municipality_code"],
        required: false,
        doc: "全国地方公共団体コード, 6 digits (5 digits: the check digit is added); required with --municipality",
    },
];

/// How to read a register.
#[derive(Debug, Clone, Default)]
pub struct RegisterOptions {
    /// Keep only the rows of this municipality (全国地方公共団体コード, 6 digits, or 5
    /// digits without the check digit): rows of another municipality, or without a
    /// 市町村コード, are skipped and counted ([`RegisterCounts::other_municipality`]).
    pub municipality: Option<String>,
    /// The 保険者番号 of rows that have none (no 保険者番号 column, or an empty cell).
    pub insurer: Option<String>,
}

/// What a register row gives a person of a list. Its `Debug` shows no name, reading,
/// address or telephone number.
#[derive(Clone, PartialEq, Eq)]
pub struct NameEntry {
    /// 氏名.
    pub name: String,
    /// カナ (empty when the register has none).
    pub kana: String,
    /// 住所 (empty when the register has none).
    pub address: String,
    /// 電話 (empty when the register has none).
    pub phone: String,
    /// 市町村コード, 6 digits (None when the register has none for the row).
    pub municipality_code: Option<String>,
}

impl std::fmt::Debug for NameEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NameEntry")
            .field("municipality_code", &self.municipality_code)
            .finish_non_exhaustive()
    }
}

/// The rows of a register, counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct RegisterCounts {
    /// Data rows read (the header row not counted).
    pub rows: u64,
    /// Persons kept: distinct person ids (= [`Register::len`]).
    pub persons: u64,
    /// Rows skipped because they belong to another municipality or have no 市町村コード
    /// (only when the register is read for one municipality).
    pub other_municipality: u64,
    /// Rows left out for an empty or invalid value ([`Register::problems`]).
    pub rejected: u64,
    /// Rows of a person read before (the first row is kept).
    pub duplicates: u64,
}

/// A register row left out: its line (the header is line 1), the column and the reason,
/// never its values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    /// 1-based line of the file.
    pub line: u64,
    /// Japanese header of the column ([`NameColumn::ja`]), empty for the whole row.
    pub column: &'static str,
    /// What is wrong, in words (no value of the row).
    pub reason: &'static str,
}

impl std::fmt::Display for RowProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.column.is_empty() {
            write!(f, "line {}: {}", self.line, self.reason)
        } else {
            write!(
                f,
                "line {}, column {}: {}",
                self.line, self.column, self.reason
            )
        }
    }
}

/// Error reading a register: the whole file cannot be used. Each names the file (and the
/// line and column where there is one); none shows a value of a row.
#[derive(Debug, thiserror::Error)]
pub enum NamesError {
    /// The file could not be read.
    #[error("--register {path}: {source}")]
    Io {
        /// File.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The path is not a regular file.
    #[error("--register {path}: this is {what}, not a file; give the register as a CSV file")]
    NotAFile {
        /// File.
        path: String,
        /// What it is (`a directory`, `a FIFO, device or socket`).
        what: &'static str,
    },
    /// The file is larger than [`MAX_REGISTER_BYTES`].
    #[error(
        "--register {path}: the file has {len} bytes, over the limit of {MAX_REGISTER_BYTES} bytes for a register"
    )]
    TooLarge {
        /// File.
        path: String,
        /// Bytes.
        len: u64,
    },
    /// Neither UTF-8 nor Shift_JIS.
    #[error(
        "--register {path}, line {line}: neither UTF-8 nor Shift_JIS (CP932) text; save the register from Excel as CSV UTF-8 or CSV (Shift_JIS)"
    )]
    Encoding {
        /// File.
        path: String,
        /// Line of the first byte that fits neither.
        line: u64,
    },
    /// A column the register needs is not in its header row.
    #[error("--register {path}, line 1: missing column(s) {columns}")]
    MissingColumns {
        /// File.
        path: String,
        /// The columns, Japanese (English), with what would do instead.
        columns: String,
    },
    /// `--municipality` is not a 全国地方公共団体コード.
    #[error(
        "--municipality {code}: not a 全国地方公共団体コード (6 digits with its check digit, or the first 5 digits)"
    )]
    BadMunicipality {
        /// The code given.
        code: String,
    },
    /// `--insurer` is not a 保険者番号.
    #[error("--insurer {number}: not an 8-digit 保険者番号 with a valid 検証番号")]
    BadInsurer {
        /// The number given.
        number: String,
    },
}

/// A municipality's register in memory: person id → [`NameEntry`]. Read by
/// [`Register::load`]; written nowhere. Its `Debug` shows counts only.
pub struct Register {
    path: PathBuf,
    sha256: String,
    municipality: Option<String>,
    entries: HashMap<PersonId, NameEntry>,
    counts: RegisterCounts,
    problems: Vec<RowProblem>,
}

impl std::fmt::Debug for Register {
    /// Counts only: never a name, reading, address, telephone number or person id.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Register")
            .field("municipality", &self.municipality)
            .field("persons", &self.counts.persons)
            .field("rows", &self.counts.rows)
            .field("other_municipality", &self.counts.other_municipality)
            .field("rejected", &self.counts.rejected)
            .field("duplicates", &self.counts.duplicates)
            .finish_non_exhaustive()
    }
}

/// A 全国地方公共団体コード as 6 digits: 6 digits with a valid check digit, or 5 digits
/// with the check digit added (after [`normalise`]: full-width digits and spaces are fine).
fn municipality_code(s: &str) -> Option<String> {
    let m = normalise(s);
    match m.len() {
        5 => municipality_check_digit(&m).map(|c| format!("{m}{c}")),
        6 if is_valid_municipality_code(&m) => Some(m),
        _ => None,
    }
}

/// A header cell as compared with [`NameColumn`] names: BOM and white space removed, NFKC
/// (half-width katakana and full-width parentheses become one notation).
fn header_key(h: &str) -> String {
    h.trim_start_matches('\u{feff}')
        .nfkc()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// Column positions of the layout's columns in a header row.
struct Columns {
    pos: HashMap<&'static str, usize>,
}

impl Columns {
    fn find(header: &csv::StringRecord) -> Self {
        let names: Vec<String> = header.iter().map(header_key).collect();
        let mut pos = HashMap::new();
        for c in NAMES_LAYOUT {
            let hit = names.iter().position(|n| {
                c.ja.iter().any(|j| n == &header_key(j))
                    || c.en.iter().any(|e| n.eq_ignore_ascii_case(e))
            });
            if let Some(i) = hit {
                pos.insert(c.key, i);
            }
        }
        Columns { pos }
    }

    fn has(&self, key: &str) -> bool {
        self.pos.contains_key(key)
    }

    /// The trimmed cell of column `key`; empty when the column or the cell is missing.
    fn get<'r>(&self, r: &'r csv::StringRecord, key: &str) -> &'r str {
        self.pos
            .get(key)
            .and_then(|&i| r.get(i))
            .map(str::trim)
            .unwrap_or("")
    }
}

/// The first Japanese and English header of column `key`, as messages show it.
fn shown(key: &str) -> String {
    NAMES_LAYOUT
        .iter()
        .find(|c| c.key == key)
        .map(|c| format!("{} ({})", c.ja[0], c.en[0]))
        .unwrap_or_else(|| key.to_string())
}

impl Register {
    /// Reads the register CSV at `path` for the person ids of `key`, keeping only the
    /// rows of `municipality` when given ([`Register::load_with`] without a default
    /// 保険者番号: the register must have that column).
    ///
    /// # Errors
    /// [`NamesError`], see [`Register::load_with`].
    pub fn load(
        path: &Path,
        key: &IdKey,
        municipality: Option<&str>,
    ) -> Result<Register, NamesError> {
        Self::load_with(
            path,
            key,
            &RegisterOptions {
                municipality: municipality.map(str::to_string),
                insurer: None,
            },
        )
    }

    /// Reads the register CSV at `path`: a regular file of at most [`MAX_REGISTER_BYTES`],
    /// UTF-8 (with or without BOM) or Shift_JIS (CP932), a header row with the columns of
    /// [`NAMES_LAYOUT`] in Japanese or English, in any order. See [`Register::from_bytes`]
    /// for the rows.
    ///
    /// # Errors
    /// [`NamesError::Io`], [`NamesError::NotAFile`], [`NamesError::TooLarge`], and those of
    /// [`Register::from_bytes`].
    pub fn load_with(
        path: &Path,
        key: &IdKey,
        options: &RegisterOptions,
    ) -> Result<Register, NamesError> {
        let shown = path.display().to_string();
        let io = |source| NamesError::Io {
            path: shown.clone(),
            source,
        };
        // Checked before opening: opening a FIFO for reading blocks until a writer comes.
        let meta = std::fs::metadata(path).map_err(io)?;
        if !meta.is_file() {
            return Err(NamesError::NotAFile {
                path: shown.clone(),
                what: if meta.is_dir() {
                    "a directory"
                } else {
                    "a FIFO, device or socket"
                },
            });
        }
        if meta.len() > MAX_REGISTER_BYTES {
            return Err(NamesError::TooLarge {
                path: shown.clone(),
                len: meta.len(),
            });
        }
        let file = std::fs::File::open(path).map_err(io)?;
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        file.take(MAX_REGISTER_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        if bytes.len() as u64 > MAX_REGISTER_BYTES {
            return Err(NamesError::TooLarge {
                path: shown.clone(),
                len: bytes.len() as u64,
            });
        }
        Self::from_bytes(path, &bytes, key, options)
    }

    /// Reads a register from its bytes (`path` names it in messages and
    /// [`Register::path`]).
    ///
    /// Each data row gives `key.person_id(保険者番号, 記号, 被保険者番号)` → its 氏名, カナ,
    /// 住所, 電話 and 市町村コード. In this order, a row is
    /// - left out and reported ([`RowProblem`], counted in [`RegisterCounts::rejected`])
    ///   when its 市町村コード is not empty and not a 全国地方公共団体コード;
    /// - skipped ([`RegisterCounts::other_municipality`]) when a municipality is asked for
    ///   and the row's 市町村コード is another or empty: nothing else of the row is read;
    /// - left out and reported when its 被保険者番号 is empty, its 保険者番号 (or, when
    ///   empty, [`RegisterOptions::insurer`]) is not 8 digits with a valid 検証番号 (as
    ///   ingest checks it), or its 氏名 is empty;
    /// - counted as a duplicate ([`RegisterCounts::duplicates`]) when an earlier row gave
    ///   the same person id: the first row is kept.
    ///
    /// # Errors
    /// [`NamesError::BadMunicipality`] and [`NamesError::BadInsurer`] for the options,
    /// [`NamesError::Encoding`] for bytes neither UTF-8 nor Shift_JIS,
    /// [`NamesError::MissingColumns`] when 被保険者番号 or 氏名 is missing, 保険者番号 is
    /// missing without [`RegisterOptions::insurer`], or 市町村コード is missing with
    /// [`RegisterOptions::municipality`].
    pub fn from_bytes(
        path: &Path,
        bytes: &[u8],
        key: &IdKey,
        options: &RegisterOptions,
    ) -> Result<Register, NamesError> {
        let shown = path.display().to_string();
        let municipality = match &options.municipality {
            Some(m) => Some(
                municipality_code(m)
                    .ok_or_else(|| NamesError::BadMunicipality { code: m.clone() })?,
            ),
            None => None,
        };
        let default_insurer = match &options.insurer {
            Some(n) => {
                let i = normalise(n);
                if !is_valid_insurer_number(&i) {
                    return Err(NamesError::BadInsurer { number: n.clone() });
                }
                Some(i)
            }
            None => None,
        };
        let text = crate::inputs::decode(bytes).map_err(|line| NamesError::Encoding {
            path: shown.clone(),
            line,
        })?;
        let mut rdr = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(text.as_bytes());
        // An empty file has an empty header row: every required column is then missing.
        let header = rdr.headers().cloned().unwrap_or_default();
        let cols = Columns::find(&header);
        let mut missing = Vec::new();
        for c in NAMES_LAYOUT.iter().filter(|c| c.required) {
            if !cols.has(c.key) {
                missing.push(shown_column(c.key, ""));
            }
        }
        if !cols.has("insurer_number") && default_insurer.is_none() {
            missing.push(shown_column(
                "insurer_number",
                " — or give --insurer NUMBER, the 保険者番号 of every row",
            ));
        }
        if !cols.has("municipality_code") && municipality.is_some() {
            missing.push(shown_column(
                "municipality_code",
                " — --municipality keeps the rows of one 市町村コード",
            ));
        }
        if !missing.is_empty() {
            return Err(NamesError::MissingColumns {
                path: shown,
                columns: missing.join(", "),
            });
        }

        let mut entries: HashMap<PersonId, NameEntry> = HashMap::new();
        let mut counts = RegisterCounts::default();
        let mut problems = Vec::new();
        let mut reject =
            |counts: &mut RegisterCounts, line: u64, column: &'static str, reason: &'static str| {
                counts.rejected += 1;
                if problems.len() < MAX_PROBLEMS_KEPT {
                    problems.push(RowProblem {
                        line,
                        column,
                        reason,
                    });
                }
            };
        for (i, rec) in rdr.records().enumerate() {
            counts.rows += 1;
            let rec = match rec {
                Ok(r) => r,
                Err(e) => {
                    let line = e.position().map_or(i as u64 + 2, |p| p.line());
                    reject(&mut counts, line, "", "the CSV reader cannot read this row");
                    continue;
                }
            };
            let line = rec.position().map_or(i as u64 + 2, |p| p.line());
            let muni = match cols.get(&rec, "municipality_code") {
                "" => None,
                s => match municipality_code(s) {
                    Some(m) => Some(m),
                    None => {
                        reject(
                            &mut counts,
                            line,
                            "市町村コード",
                            "not a 全国地方公共団体コード (6 digits with its check digit, or 5 digits)",
                        );
                        continue;
                    }
                },
            };
            if let Some(want) = &municipality
                && muni.as_ref() != Some(want)
            {
                counts.other_municipality += 1;
                continue;
            }
            let number = cols.get(&rec, "insured_number");
            if number.is_empty() {
                reject(&mut counts, line, "被保険者番号", "empty");
                continue;
            }
            let insurer = match cols.get(&rec, "insurer_number") {
                "" => default_insurer.clone(),
                s => Some(normalise(s)),
            };
            let Some(insurer) = insurer else {
                reject(
                    &mut counts,
                    line,
                    "保険者番号",
                    "empty (give --insurer NUMBER for rows without one)",
                );
                continue;
            };
            if !is_valid_insurer_number(&insurer) {
                reject(
                    &mut counts,
                    line,
                    "保険者番号",
                    "not an 8-digit 保険者番号 with a valid 検証番号",
                );
                continue;
            }
            let name = cols.get(&rec, "name");
            if name.is_empty() {
                reject(&mut counts, line, "氏名", "empty");
                continue;
            }
            let person_id = key.person_id(&insurer, cols.get(&rec, "symbol"), number);
            match entries.entry(person_id) {
                Entry::Occupied(_) => counts.duplicates += 1,
                Entry::Vacant(v) => {
                    v.insert(NameEntry {
                        name: name.to_string(),
                        kana: cols.get(&rec, "kana").to_string(),
                        address: cols.get(&rec, "address").to_string(),
                        phone: cols.get(&rec, "phone").to_string(),
                        municipality_code: muni,
                    });
                }
            }
        }
        counts.persons = entries.len() as u64;
        Ok(Register {
            path: path.to_path_buf(),
            sha256: ittai_dataset::sha256_bytes(bytes),
            municipality,
            entries,
            counts,
            problems,
        })
    }

    /// The entry of a person id, if the register (of the municipality asked for) has it.
    pub fn get(&self, person_id: &str) -> Option<&NameEntry> {
        self.entries.get(person_id)
    }

    /// Persons in the register (distinct person ids kept).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no row was kept.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The rows read, kept and skipped.
    pub fn counts(&self) -> RegisterCounts {
        self.counts
    }

    /// The first [`MAX_PROBLEMS_KEPT`] rows left out, by line and column (with
    /// [`Register::path`], they name file, line and column).
    pub fn problems(&self) -> &[RowProblem] {
        &self.problems
    }

    /// The file read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// SHA-256 of the file's bytes, lower-case hex: which register a run used, without
    /// its content.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// The municipality whose rows were kept (6 digits), when one was asked for.
    pub fn municipality(&self) -> Option<&str> {
        self.municipality.as_deref()
    }
}

/// A missing column as the error shows it: `被保険者番号 (insured_number)` and a hint.
fn shown_column(key: &str, hint: &str) -> String {
    format!("{}{hint}", shown(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> IdKey {
        IdKey::from_bytes(b"0123456789abcdef0123456789abcdef").expect("key")
    }

    fn read(text: &[u8], options: &RegisterOptions) -> Result<Register, NamesError> {
        Register::from_bytes(Path::new("台帳.csv"), text, &key(), options)
    }

    const JA: &str = "\u{feff}保険者番号,被保険者番号,氏名,カナ,住所,電話,市町村コード\n\
                      39312012,00000001,佐藤　花子,サトウ　ハナコ,鳥取県鳥取市栄町1-2-3,0000-00-0001,312011\n\
                      39312012,2,鈴木　一郎,スズキ　イチロウ,鳥取県鳥取市本町4-5-6,0000-00-0002,31201\n\
                      39312020,3,高橋　幸子,タカハシ　サチコ,鳥取県米子市中町7-8-9,0000-00-0003,312029\n";

    #[test]
    fn japanese_headers_give_the_ids_of_ingest() {
        let r = read(JA.as_bytes(), &RegisterOptions::default()).expect("reads");
        assert_eq!(r.len(), 3);
        let k = key();
        // The id ingest gives a register row with the same numbers (leading zeros, and the
        // 保険者番号 of another municipality of the union, do not matter).
        let e = r
            .get(&k.person_id("39312012", "", "1"))
            .expect("person 1 is in the register");
        assert_eq!(e.name, "佐藤　花子");
        assert_eq!(e.kana, "サトウ　ハナコ");
        assert_eq!(e.address, "鳥取県鳥取市栄町1-2-3");
        assert_eq!(e.phone, "0000-00-0001");
        assert_eq!(e.municipality_code.as_deref(), Some("312011"));
        // 5 digits get their check digit.
        let e = r.get(&k.person_id("39312020", "", "2")).expect("person 2");
        assert_eq!(e.municipality_code.as_deref(), Some("312011"));
        assert!(r.get(&k.person_id("39312012", "", "4")).is_none());
        assert_eq!(
            r.counts(),
            RegisterCounts {
                rows: 3,
                persons: 3,
                ..RegisterCounts::default()
            }
        );
        assert_eq!(r.sha256(), ittai_dataset::sha256_bytes(JA.as_bytes()));
    }

    #[test]
    fn english_headers_in_another_order_and_aliases() {
        let text = "name,insured_number,Insurer_Number,furigana,phone_number,address\n\
                    Hanako Sato,1,39312012,サトウ ハナコ,0000-00-0001,Tottori\n";
        let r = read(text.as_bytes(), &RegisterOptions::default()).expect("reads");
        let e = r.get(&key().person_id("39312012", "", "1")).expect("found");
        assert_eq!(
            (e.name.as_str(), e.kana.as_str(), e.phone.as_str()),
            ("Hanako Sato", "サトウ ハナコ", "0000-00-0001")
        );
        assert_eq!(e.municipality_code, None);
        // Japanese aliases: フリガナ (half-width, after NFKC) and 電話番号.
        let text =
            "被保険者番号,氏名,ﾌﾘｶﾞﾅ,電話番号,保険者番号\n1,佐藤　花子,サトウ,0000,39312012\n";
        let r = read(text.as_bytes(), &RegisterOptions::default()).expect("reads");
        let e = r.get(&key().person_id("39312012", "", "1")).expect("found");
        assert_eq!((e.kana.as_str(), e.phone.as_str()), ("サトウ", "0000"));
    }

    #[test]
    fn a_shift_jis_register_is_read() {
        let (sjis, _, unmappable) =
            encoding_rs::SHIFT_JIS.encode(JA.trim_start_matches('\u{feff}'));
        assert!(!unmappable);
        assert!(std::str::from_utf8(&sjis).is_err(), "really Shift_JIS");
        let r = read(&sjis, &RegisterOptions::default()).expect("reads");
        assert_eq!(r.len(), 3);
        let e = r.get(&key().person_id("39312012", "", "2")).expect("found");
        assert_eq!(e.name, "鈴木　一郎");
        assert_eq!(e.kana, "スズキ　イチロウ");
    }

    #[test]
    fn rows_of_another_municipality_are_skipped_and_counted() {
        let only = |m: &str| RegisterOptions {
            municipality: Some(m.to_string()),
            insurer: None,
        };
        let r = read(JA.as_bytes(), &only("312011")).expect("reads");
        assert_eq!(r.len(), 2);
        assert_eq!(r.municipality(), Some("312011"));
        assert_eq!(r.counts().other_municipality, 1);
        assert!(r.get(&key().person_id("39312020", "", "3")).is_none());
        // 5 digits for the municipality asked for are the same code.
        let r = read(JA.as_bytes(), &only("31202")).expect("reads");
        assert_eq!(r.len(), 1);
        assert!(r.get(&key().person_id("39312020", "", "3")).is_some());
        // A row without 市町村コード is not shown to a municipality.
        let text = "保険者番号,被保険者番号,氏名,市町村コード\n39312012,1,佐藤　花子,\n39312012,2,鈴木　一郎,312011\n";
        let r = read(text.as_bytes(), &only("312011")).expect("reads");
        assert_eq!((r.len(), r.counts().other_municipality), (1, 1));
        // Without the column, a municipality cannot be asked for.
        let text = "保険者番号,被保険者番号,氏名\n39312012,1,佐藤　花子\n";
        let e = read(text.as_bytes(), &only("312011")).unwrap_err();
        assert!(
            e.to_string()
                .contains("line 1: missing column(s) 市町村コード (municipality_code)"),
            "{e}"
        );
        assert!(matches!(
            read(JA.as_bytes(), &only("312012")).unwrap_err(),
            NamesError::BadMunicipality { .. }
        ));
    }

    #[test]
    fn bad_rows_are_counted_with_line_and_column_and_never_their_values() {
        let text = "保険者番号,被保険者番号,氏名,カナ,市町村コード\n\
                    39312012,1,佐藤　花子,サトウ　ハナコ,312011\n\
                    39312013,2,鈴木　一郎,スズキ　イチロウ,312011\n\
                    39312012,,高橋　幸子,タカハシ　サチコ,312011\n\
                    39312012,4,,,312011\n\
                    39312012,5,田中　実,タナカ　ミノル,999999\n\
                    39312012,0001,伊藤　清,イトウ　キヨシ,312011\n";
        let r = read(text.as_bytes(), &RegisterOptions::default()).expect("reads");
        assert_eq!(
            r.counts(),
            RegisterCounts {
                rows: 6,
                persons: 1,
                other_municipality: 0,
                rejected: 4,
                duplicates: 1,
            }
        );
        let shown: Vec<String> = r.problems().iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "line 3, column 保険者番号: not an 8-digit 保険者番号 with a valid 検証番号",
                "line 4, column 被保険者番号: empty",
                "line 5, column 氏名: empty",
                "line 6, column 市町村コード: not a 全国地方公共団体コード (6 digits with its check digit, or 5 digits)",
            ]
        );
        // The first row of a person is kept.
        let e = r.get(&key().person_id("39312012", "", "1")).expect("found");
        assert_eq!(e.name, "佐藤　花子");
        for name in [
            "鈴木",
            "高橋",
            "田中",
            "伊藤",
            "スズキ",
            "999999",
            "39312013",
        ] {
            assert!(
                shown.iter().all(|s| !s.contains(name)),
                "{name} in {shown:?}"
            );
        }
    }

    #[test]
    fn the_insurer_may_come_from_the_options() {
        let text = "被保険者番号,氏名\n1,佐藤　花子\n";
        let e = read(text.as_bytes(), &RegisterOptions::default()).unwrap_err();
        assert!(
            e.to_string()
                .contains("missing column(s) 保険者番号 (insurer_number) — or give --insurer"),
            "{e}"
        );
        let with = RegisterOptions {
            municipality: None,
            insurer: Some("３９３１２０１２".into()),
        };
        let r = read(text.as_bytes(), &with).expect("reads");
        assert!(r.get(&key().person_id("39312012", "", "1")).is_some());
        // An empty cell of the column takes the default too.
        let text = "保険者番号,被保険者番号,氏名\n,1,佐藤　花子\n";
        let r = read(text.as_bytes(), &with).expect("reads");
        assert_eq!(r.len(), 1);
        let r = read(text.as_bytes(), &RegisterOptions::default()).expect("reads");
        assert_eq!((r.len(), r.counts().rejected), (0, 1));
        let bad = RegisterOptions {
            municipality: None,
            insurer: Some("39312013".into()),
        };
        assert!(matches!(
            read(text.as_bytes(), &bad).unwrap_err(),
            NamesError::BadInsurer { .. }
        ));
        // Required columns are named with the line of the header.
        let e = read(
            "保険者番号\n39312012\n".as_bytes(),
            &RegisterOptions::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("line 1: missing column(s) 被保険者番号 (insured_number), 氏名 (name)"),
            "{e}"
        );
    }

    #[test]
    fn debug_shows_counts_and_no_name() {
        let r = read(JA.as_bytes(), &RegisterOptions::default()).expect("reads");
        let shown = format!("{r:?} {:?}", r.get(&key().person_id("39312012", "", "1")));
        assert!(shown.contains("persons: 3"), "{shown}");
        for word in [
            "佐藤",
            "サトウ",
            "栄町",
            "0000-00-0001",
            "00000001",
            key().person_id("39312012", "", "1").as_str(),
        ] {
            assert!(!shown.contains(word), "{word} in {shown}");
        }
    }

    #[test]
    fn text_that_is_not_a_register_is_a_clear_error() {
        let e = read(b"\xff\xfe\x00", &RegisterOptions::default()).unwrap_err();
        assert!(matches!(e, NamesError::Encoding { line: 1, .. }), "{e:?}");
        let e = read(b"", &RegisterOptions::default()).unwrap_err();
        assert!(matches!(e, NamesError::MissingColumns { .. }), "{e:?}");
        let dir = tempfile::tempdir().expect("tempdir");
        let e = Register::load(dir.path(), &key(), None).unwrap_err();
        assert!(
            matches!(
                e,
                NamesError::NotAFile {
                    what: "a directory",
                    ..
                }
            ),
            "{e:?}"
        );
        let p = dir.path().join("台帳.csv");
        std::fs::write(&p, JA).expect("write");
        assert_eq!(Register::load(&p, &key(), None).expect("reads").len(), 3);
    }
}
