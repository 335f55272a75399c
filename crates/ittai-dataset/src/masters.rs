//! The SSK base masters (社会保険診療報酬支払基金 基本マスター): drugs (`y`), diseases (`b`)
//! and modifiers (`z`), in their published CSV format (CP932, quoted fields).
//!
//! Column positions follow 「レセプト電算処理システム マスターファイル仕様説明書」
//! (令和4年4月), cited per field below. The vendored snapshots are compiled into the
//! binary (`reference/masters/`, origins in `reference/SOURCES.md`).

use std::collections::HashMap;
use std::io::{Cursor, Read};

use chrono::NaiveDate;

const Y_ZIP: &[u8] = include_bytes!("../../../reference/masters/ssk_y_ALL20240321.zip");
const B_ZIP: &[u8] = include_bytes!("../../../reference/masters/ssk_b_20240601.zip");
const Z_ZIP: &[u8] = include_bytes!("../../../reference/masters/ssk_z_20250601.zip");
const Y_UPDATES_ZIP: &[u8] =
    include_bytes!("../../../reference/masters/ssk_y_updates_20240417-20250813.zip");
const Y_2019_ZIP: &[u8] = include_bytes!("../../../reference/masters/uke-parser_iyakuhin_2019.zip");
const B_2019_ZIP: &[u8] = include_bytes!("../../../reference/masters/uke-parser_shobyo_2019.zip");

/// Error reading a master file.
#[derive(Debug, thiserror::Error)]
#[error("{origin}: {message}")]
pub struct MasterError {
    /// File or `<built-in …>`.
    pub origin: String,
    /// What went wrong, with the line when known.
    pub message: String,
}

/// 剤形 of the drug master (column 28).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DosageForm {
    /// 1 内用薬.
    Internal,
    /// 3 その他.
    Other,
    /// 4 注射薬.
    Injection,
    /// 6 外用薬.
    External,
    /// 8 歯科用薬剤.
    Dental,
}

impl DosageForm {
    fn from_code(c: &str) -> Option<Self> {
        Some(match c {
            "1" => Self::Internal,
            "3" => Self::Other,
            "4" => Self::Injection,
            "6" => Self::External,
            "8" => Self::Dental,
            _ => return None,
        })
    }
}

/// One product of the drug master.
#[derive(Debug, Clone, PartialEq)]
pub struct DrugEntry {
    /// 医薬品コード, 9 digits (column 3).
    pub code: String,
    /// 医薬品名・規格名 (漢字, column 5).
    pub name: String,
    /// 単位 (漢字, column 10), e.g. 錠.
    pub unit: String,
    /// 薬価基準収載医薬品コード (YJ), 12 characters; empty for some products (column 32).
    pub yj: String,
    /// 剤形 (column 28).
    pub form: DosageForm,
    /// 後発品 (column 17 = 1).
    pub generic: bool,
    /// 新又は現金額 (薬価), yen per unit (column 12).
    pub price_yen: f64,
    /// 廃止年月日 (column 31; `99999999` = in use → `None`).
    pub retired: Option<NaiveDate>,
}

/// A drug master snapshot keyed by the 9-digit code (YJ is not unique per product).
#[derive(Debug, Clone, Default)]
pub struct DrugMaster {
    entries: Vec<DrugEntry>,
    by_code: HashMap<String, usize>,
}

/// Largest master read from `--masters DIR`, in bytes (256 MiB): a file, and the master
/// inside a zip (uncompressed). The SSK masters are a few megabytes (the drug master of
/// 2024-03-21 is 6.2 MB, the disease master of 2024-06-01 7.9 MB). A file or member over
/// the limit stops the run with a message naming it, its size and the limit; it is not
/// read into memory (a zip member is read through a reader that stops one byte past the
/// limit, so a header that understates its size cannot make ittai read more).
pub const MAX_MASTER_BYTES: u64 = 256 << 20;

fn unzip_first(bytes: &[u8], origin: &str) -> Result<Vec<u8>, MasterError> {
    unzip_first_within(bytes, origin, MAX_MASTER_BYTES)
}

/// The first member of the zip archive `bytes`, when it is at most `limit` bytes.
fn unzip_first_within(bytes: &[u8], origin: &str, limit: u64) -> Result<Vec<u8>, MasterError> {
    let err = |m: String| MasterError {
        origin: origin.to_string(),
        message: m,
    };
    let mut z = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| err(e.to_string()))?;
    let f = z.by_index(0).map_err(|e| err(e.to_string()))?;
    let name = f.name().map(|n| n.to_string()).unwrap_or_default();
    let declared = f.size();
    if declared > limit {
        return Err(err(format!(
            "{name}: {declared} bytes uncompressed, over the limit of {limit} bytes for a master: not read"
        )));
    }
    let mut out = Vec::with_capacity(declared as usize);
    f.take(limit + 1)
        .read_to_end(&mut out)
        .map_err(|e| err(format!("{name}: {e}")))?;
    if out.len() as u64 > limit {
        return Err(err(format!(
            "{name}: more than {limit} bytes uncompressed (the limit for a master) although its header declares {declared}: not read"
        )));
    }
    Ok(out)
}

/// The bytes of a master file of at most `limit` bytes (checked before it is read).
fn read_master_file(path: &std::path::Path, limit: u64) -> Result<Vec<u8>, MasterError> {
    let err = |m: String| MasterError {
        origin: path.display().to_string(),
        message: m,
    };
    let f = std::fs::File::open(path).map_err(|e| err(e.to_string()))?;
    let size = f.metadata().map_err(|e| err(e.to_string()))?.len();
    if size > limit {
        return Err(err(format!(
            "{size} bytes, over the limit of {limit} bytes for a master file: not read"
        )));
    }
    let mut out = Vec::with_capacity(size as usize);
    f.take(limit + 1)
        .read_to_end(&mut out)
        .map_err(|e| err(e.to_string()))?;
    if out.len() as u64 > limit {
        return Err(err(format!(
            "more than {limit} bytes (the limit for a master file): not read"
        )));
    }
    Ok(out)
}

/// Decodes CP932 (or UTF-8 when the bytes are valid UTF-8) and parses quoted CSV rows.
fn ssk_rows(
    bytes: &[u8],
    origin: &str,
    min_cols: usize,
) -> Result<Vec<csv::StringRecord>, MasterError> {
    let text = match std::str::from_utf8(bytes) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => {
            let (t, _, bad) = encoding_rs::SHIFT_JIS.decode(bytes);
            if bad {
                return Err(MasterError {
                    origin: origin.into(),
                    message: "neither UTF-8 nor Shift_JIS (CP932) text".into(),
                });
            }
            t
        }
    };
    let mut rows = Vec::new();
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    for (i, r) in rdr.records().enumerate() {
        let r = r.map_err(|e| MasterError {
            origin: origin.into(),
            message: format!("line {}: {e}", i + 1),
        })?;
        if r.len() < min_cols {
            return Err(MasterError {
                origin: origin.into(),
                message: format!(
                    "line {}: {} columns, expected at least {min_cols}",
                    i + 1,
                    r.len()
                ),
            });
        }
        rows.push(r);
    }
    Ok(rows)
}

fn yyyymmdd(s: &str) -> Option<NaiveDate> {
    if s == "99999999" || s.is_empty() {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y%m%d").ok()
}

impl DrugEntry {
    /// A product from a master row (0-based columns: 2 code, 4 name, 9 unit, 11 price,
    /// 16 後発品, 30 廃止年月日, 31 YJ), with its already-checked 剤形.
    fn from_row(r: &csv::StringRecord, form: DosageForm) -> Self {
        DrugEntry {
            code: r[2].to_string(),
            name: r[4].to_string(),
            unit: r[9].to_string(),
            yj: r[31].to_string(),
            form,
            generic: &r[16] == "1",
            price_yen: r[11].parse().unwrap_or(0.0),
            retired: yyyymmdd(&r[30]),
        }
    }
}

impl DrugMaster {
    /// Parses an SSK drug master (`y_*.csv`, 40 or 42 columns, CP932 or UTF-8).
    ///
    /// # Errors
    /// [`MasterError`] for undecodable text, a short row or an unknown 剤形.
    pub fn parse(bytes: &[u8], origin: &str) -> Result<Self, MasterError> {
        let mut m = DrugMaster::default();
        for (i, r) in ssk_rows(bytes, origin, 32)?.into_iter().enumerate() {
            let form = DosageForm::from_code(&r[27]).ok_or_else(|| MasterError {
                origin: origin.into(),
                message: format!("line {}: 剤形 {:?} is not 1, 3, 4, 6 or 8", i + 1, &r[27]),
            })?;
            let e = DrugEntry::from_row(&r, form);
            m.by_code.insert(e.code.clone(), m.entries.len());
            m.entries.push(e);
        }
        Ok(m)
    }

    /// The vendored snapshot (2024-03-21, 19,686 products).
    ///
    /// # Panics
    /// Never for the vendored file (tested).
    pub fn embedded() -> Self {
        let bytes =
            unzip_first(Y_ZIP, "<built-in ssk_y_ALL20240321.zip>").expect("vendored drug master");
        Self::parse(&bytes, "<built-in ssk_y_ALL20240321.zip>")
            .expect("vendored drug master parses")
    }

    /// Applies a monthly difference file of the drug master (`y_YYYYMMDD.csv`, 変更区分 in
    /// column 1: 3 新規, 5 変更, 9 廃止; only the changed columns are filled in 5 and 9
    /// rows): new and fully given rows are added or replaced, and a 廃止年月日 (column 31)
    /// is copied onto the product. Returns the number of products added.
    ///
    /// # Errors
    /// [`MasterError`] for undecodable text.
    pub fn apply_update(&mut self, bytes: &[u8], origin: &str) -> Result<usize, MasterError> {
        let mut added = 0;
        for r in ssk_rows(bytes, origin, 32)? {
            let code = r[2].to_string();
            let full =
                DosageForm::from_code(&r[27]).filter(|_| !r[4].is_empty() && !r[31].is_empty());
            match (full, self.by_code.get(&code).copied()) {
                (Some(form), existing) => {
                    let e = DrugEntry::from_row(&r, form);
                    match existing {
                        Some(i) => self.entries[i] = e,
                        None => {
                            self.by_code.insert(code, self.entries.len());
                            self.entries.push(e);
                            added += 1;
                        }
                    }
                }
                (None, Some(i)) => {
                    if let Some(d) = yyyymmdd(&r[30]) {
                        self.entries[i].retired = Some(d);
                    }
                }
                (None, None) => {}
            }
        }
        Ok(added)
    }

    /// The vendored snapshot with the vendored monthly updates applied (2024-04-17 …
    /// 2025-08-13): the master as of August 2025.
    ///
    /// # Panics
    /// Never for the vendored files (tested).
    pub fn current() -> Self {
        let mut m = Self::embedded();
        let mut z = zip::ZipArchive::new(Cursor::new(Y_UPDATES_ZIP)).expect("vendored updates");
        let mut names: Vec<String> = z
            .file_names()
            .filter_map(|n| n.ok().map(|n| n.to_string()))
            .collect();
        names.sort();
        for n in names {
            let mut bytes = Vec::new();
            z.by_name(&n)
                .expect("member")
                .read_to_end(&mut bytes)
                .expect("read");
            m.apply_update(&bytes, &n).expect("vendored update parses");
        }
        m
    }

    /// The product with a 9-digit code.
    pub fn get(&self, code: &str) -> Option<&DrugEntry> {
        self.by_code.get(code).map(|&i| &self.entries[i])
    }

    /// All products in file order.
    pub fn entries(&self) -> &[DrugEntry] {
        &self.entries
    }
}

/// One disease name of the 傷病名マスター.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiseaseEntry {
    /// 傷病名コード, 7 digits (column 3).
    pub code: String,
    /// 傷病名 基本名称 (column 6).
    pub name: String,
    /// ICD-10-1 (2013) without dot (column 16); empty for 未コード化 etc.
    pub icd10: String,
    /// 廃止年月日 (column 24).
    pub retired: Option<NaiveDate>,
}

/// A disease master snapshot keyed by the 7-digit code.
#[derive(Debug, Clone, Default)]
pub struct DiseaseMaster {
    entries: Vec<DiseaseEntry>,
    by_code: HashMap<String, usize>,
}

impl DiseaseMaster {
    /// Parses an SSK disease master (`b_*.txt`, CP932 or UTF-8).
    ///
    /// # Errors
    /// [`MasterError`] for undecodable text or a short row.
    pub fn parse(bytes: &[u8], origin: &str) -> Result<Self, MasterError> {
        let mut m = DiseaseMaster::default();
        for r in ssk_rows(bytes, origin, 24)? {
            let e = DiseaseEntry {
                code: r[2].to_string(),
                name: r[5].to_string(),
                icd10: r[15].to_string(),
                retired: yyyymmdd(&r[23]),
            };
            m.by_code.insert(e.code.clone(), m.entries.len());
            m.entries.push(e);
        }
        Ok(m)
    }

    /// The vendored snapshot (2024-06-01, 27,437 names).
    ///
    /// # Panics
    /// Never for the vendored file (tested).
    pub fn embedded() -> Self {
        let bytes =
            unzip_first(B_ZIP, "<built-in ssk_b_20240601.zip>").expect("vendored disease master");
        Self::parse(&bytes, "<built-in ssk_b_20240601.zip>")
            .expect("vendored disease master parses")
    }

    /// The name with a 7-digit code.
    pub fn get(&self, code: &str) -> Option<&DiseaseEntry> {
        self.by_code.get(code).map(|&i| &self.entries[i])
    }

    /// All names in file order.
    pub fn entries(&self) -> &[DiseaseEntry] {
        &self.entries
    }
}

/// An older snapshot of code → name (the 2019 uke-parser lists of the 医薬品 and 傷病名
/// masters), used to name codes retired since then. Keys are zero-padded to `width` digits
/// (the disease list lost leading zeros: `10001` is 0010001).
#[derive(Debug, Clone, Default)]
pub struct LegacyNames {
    by_code: HashMap<String, String>,
}

impl LegacyNames {
    /// Parses the YAML-like `'code': name` lines.
    pub fn parse(text: &str, width: usize) -> Self {
        let mut by_code = HashMap::new();
        for line in text.lines() {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            let k = k.trim().trim_matches('\'');
            if k.is_empty() || !k.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            by_code.insert(
                format!("{k:0>width$}"),
                v.trim().trim_matches('\'').to_string(),
            );
        }
        LegacyNames { by_code }
    }

    /// The vendored 2019 drug names (9-digit codes).
    pub fn drugs_2019() -> Self {
        Self::parse(&unzip_text(Y_2019_ZIP), 9)
    }

    /// The vendored 2019 disease names (7-digit codes).
    pub fn diseases_2019() -> Self {
        Self::parse(&unzip_text(B_2019_ZIP), 7)
    }

    /// The name of a code.
    pub fn get(&self, code: &str) -> Option<&str> {
        self.by_code.get(code).map(String::as_str)
    }

    /// Number of codes.
    pub fn len(&self) -> usize {
        self.by_code.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.by_code.is_empty()
    }
}

fn unzip_text(bytes: &[u8]) -> String {
    let raw = unzip_first(bytes, "<built-in 2019 snapshot>").expect("vendored snapshot");
    String::from_utf8(raw).expect("UTF-8 snapshot")
}

/// How a drug code was resolved.
#[derive(Debug, Clone, PartialEq)]
pub enum DrugResolution<'a> {
    /// In the current master.
    Current(&'a DrugEntry),
    /// Retired: named by the 2019 snapshot; the YJ code when the current master lists
    /// products of the same name apart from the maker (「…」) that all share one YJ code.
    Legacy {
        /// Name in the 2019 snapshot.
        name: &'a str,
        /// YJ code found by name, if any.
        yj: Option<&'a str>,
    },
    /// In neither.
    Unknown,
}

/// Which drug and disease masters resolve codes: the one choice every command makes
/// (`ittai ingest`, `run`, `indicators`, `profile`), so that a dataset is read with the
/// masters it was made with.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum MasterChoice {
    /// The vendored full snapshots: drugs 2024-03-21 ([`DrugMaster::embedded`]), diseases
    /// 2024-06-01 ([`DiseaseMaster::embedded`]).
    #[default]
    Snapshot,
    /// The vendored snapshots with the vendored monthly drug updates applied, 2024-04-17 …
    /// 2025-08-13 ([`DrugMaster::current`]).
    Current,
    /// Masters from a directory as downloaded from the 診療報酬情報提供サービス, on top of
    /// [`MasterChoice::Current`] (see [`Resolver::from_dir`] for the file names).
    Dir(std::path::PathBuf),
}

impl MasterChoice {
    /// The drug and disease masters of this choice.
    ///
    /// # Errors
    /// [`MasterError`] naming a file of [`MasterChoice::Dir`] that cannot be read or parsed.
    pub fn load(&self) -> Result<(DrugMaster, DiseaseMaster), MasterError> {
        match self {
            MasterChoice::Snapshot => Ok((DrugMaster::embedded(), DiseaseMaster::embedded())),
            MasterChoice::Current => Ok((DrugMaster::current(), DiseaseMaster::embedded())),
            MasterChoice::Dir(dir) => masters_from_dir(dir),
        }
    }

    /// A [`Resolver`] (the masters of this choice plus the 2019 snapshots for retired codes).
    ///
    /// # Errors
    /// As [`MasterChoice::load`].
    pub fn resolver(&self) -> Result<Resolver, MasterError> {
        let (drugs, diseases) = self.load()?;
        Ok(Resolver::new(drugs, diseases))
    }
}

fn masters_from_dir(dir: &std::path::Path) -> Result<(DrugMaster, DiseaseMaster), MasterError> {
    let err = |origin: String, m: String| MasterError { origin, message: m };
    let mut names: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| err(dir.display().to_string(), e.to_string()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    names.sort();
    let mut full: Option<DrugMaster> = None;
    let mut updates: Vec<(String, Vec<u8>)> = Vec::new();
    let mut diseases: Option<DiseaseMaster> = None;
    for p in names {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        let ssk = name.trim_start_matches("ssk_");
        let kind = ssk.chars().next();
        if !matches!(kind, Some('y' | 'b'))
            || !(name.ends_with(".csv") || name.ends_with(".txt") || name.ends_with(".zip"))
        {
            continue;
        }
        let origin = p.display().to_string();
        let raw = read_master_file(&p, MAX_MASTER_BYTES)?;
        let bytes = if name.ends_with(".zip") {
            unzip_first(&raw, &origin)?
        } else {
            raw
        };
        match kind {
            Some('y') if name.contains("all") => full = Some(DrugMaster::parse(&bytes, &origin)?),
            Some('y') => updates.push((origin, bytes)),
            _ => diseases = Some(DiseaseMaster::parse(&bytes, &origin)?),
        }
    }
    let mut drugs = full.unwrap_or_else(DrugMaster::current);
    for (origin, bytes) in updates {
        drugs.apply_update(&bytes, &origin)?;
    }
    Ok((drugs, diseases.unwrap_or_else(DiseaseMaster::embedded)))
}

/// Drug and disease code resolution for ingest: the current masters first, then the 2019
/// snapshots for codes retired since.
#[derive(Debug, Clone)]
pub struct Resolver {
    /// Current drug master.
    pub drugs: DrugMaster,
    /// Current disease master.
    pub diseases: DiseaseMaster,
    legacy_drugs: LegacyNames,
    legacy_diseases: LegacyNames,
    /// Name without the maker part → the YJ codes of current products with that name.
    yj_by_generic_name: HashMap<String, Vec<String>>,
}

/// A drug name without its maker part 「…」 and without spaces.
fn name_without_maker(name: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in name.chars() {
        match c {
            '「' => depth += 1,
            '」' => depth -= 1,
            ' ' | '　' => {}
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

impl Resolver {
    /// From given masters and the vendored 2019 snapshots.
    pub fn new(drugs: DrugMaster, diseases: DiseaseMaster) -> Self {
        let mut yj_by_generic_name: HashMap<String, Vec<String>> = HashMap::new();
        for e in drugs.entries() {
            if !e.yj.is_empty() {
                let v = yj_by_generic_name
                    .entry(name_without_maker(&e.name))
                    .or_default();
                if !v.contains(&e.yj) {
                    v.push(e.yj.clone());
                }
            }
        }
        Resolver {
            drugs,
            diseases,
            legacy_drugs: LegacyNames::drugs_2019(),
            legacy_diseases: LegacyNames::diseases_2019(),
            yj_by_generic_name,
        }
    }

    /// The vendored masters as of 2025 ([`DrugMaster::current`]) and the 2019 snapshots.
    pub fn vendored() -> Self {
        Self::new(DrugMaster::current(), DiseaseMaster::embedded())
    }

    /// Masters from a directory (`ittai ingest --masters DIR`), as downloaded from the
    /// 診療報酬情報提供サービス: drug master files are those whose name starts with `y`
    /// (`.csv`, `.txt`, or a `.zip` holding one); a name containing `ALL` is a full master
    /// and replaces the vendored one, the others are monthly difference files applied in
    /// name order on top. Disease master files start with `b`; the last in name order
    /// replaces the vendored one. Anything else is ignored. Missing kinds keep the vendored
    /// masters; the 2019 snapshots are always used for retired codes.
    ///
    /// # Errors
    /// [`MasterError`] naming the file that cannot be read or parsed.
    pub fn from_dir(dir: &std::path::Path) -> Result<Self, MasterError> {
        let (drugs, diseases) = masters_from_dir(dir)?;
        Ok(Self::new(drugs, diseases))
    }

    /// Resolves a 9-digit drug code.
    pub fn drug(&self, code: &str) -> DrugResolution<'_> {
        if let Some(e) = self.drugs.get(code) {
            return DrugResolution::Current(e);
        }
        match self.legacy_drugs.get(code) {
            Some(name) => {
                let yj = self
                    .yj_by_generic_name
                    .get(&name_without_maker(name))
                    .filter(|v| v.len() == 1)
                    .map(|v| v[0].as_str());
                DrugResolution::Legacy { name, yj }
            }
            None => DrugResolution::Unknown,
        }
    }

    /// The ICD-10 of a 7-digit disease code: `Some(Some(icd))` from the current master,
    /// `Some(None)` for a code known without ICD-10 (未コード化, or only in the 2019
    /// snapshot, which has names only), `None` for an unknown code.
    pub fn disease(&self, code: &str) -> Option<Option<&str>> {
        if let Some(e) = self.diseases.get(code) {
            return Some(Some(e.icd10.as_str()).filter(|s| !s.is_empty()));
        }
        self.legacy_diseases.get(code).map(|_| None)
    }

    /// True when the disease code is only in the 2019 snapshot.
    pub fn disease_is_legacy(&self, code: &str) -> bool {
        self.diseases.get(code).is_none() && self.legacy_diseases.get(code).is_some()
    }
}

/// 修飾語コード of 「の疑い」 (suspected), SSK 修飾語マスター.
pub const SUSPECTED_MODIFIER: &str = "8002";

/// The 修飾語マスター: 4-digit code → name.
#[derive(Debug, Clone, Default)]
pub struct ModifierMaster {
    by_code: HashMap<String, String>,
}

impl ModifierMaster {
    /// Parses an SSK modifier master (`z_*.txt`).
    ///
    /// # Errors
    /// [`MasterError`] for undecodable text or a short row.
    pub fn parse(bytes: &[u8], origin: &str) -> Result<Self, MasterError> {
        let mut m = ModifierMaster::default();
        for r in ssk_rows(bytes, origin, 7)? {
            m.by_code.insert(r[2].to_string(), r[6].to_string());
        }
        Ok(m)
    }

    /// The vendored snapshot (2025-06-01).
    ///
    /// # Panics
    /// Never for the vendored file (tested).
    pub fn embedded() -> Self {
        let bytes =
            unzip_first(Z_ZIP, "<built-in ssk_z_20250601.zip>").expect("vendored modifier master");
        Self::parse(&bytes, "<built-in ssk_z_20250601.zip>")
            .expect("vendored modifier master parses")
    }

    /// Name of a modifier code.
    pub fn get(&self, code: &str) -> Option<&str> {
        self.by_code.get(code).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendored_drug_master_knows_the_spec_products() {
        let m = DrugMaster::embedded();
        assert_eq!(m.entries().len(), 19_686);
        let mysl = m.get("610443047").unwrap(); // マイスリー錠５ｍｇ
        assert_eq!(mysl.name, "マイスリー錠５ｍｇ");
        assert_eq!(mysl.yj, "1129009F1025");
        assert_eq!(mysl.form, DosageForm::Internal);
        assert!(!mysl.generic);
        assert_eq!(mysl.retired, None);
        assert_eq!(m.get("620005904").unwrap().yj, "2171022F1045"); // アムロジン錠２．５ｍｇ
    }

    #[test]
    fn vendored_disease_and_modifier_masters() {
        let b = DiseaseMaster::embedded();
        assert_eq!(b.entries().len(), 27_437);
        let e = b.get("8848176").unwrap();
        assert_eq!(
            (e.name.as_str(), e.icd10.as_str()),
            ("１１β－水酸化酵素欠損症", "E250")
        );
        assert_eq!(b.get("0000999").unwrap().icd10, "");
        let z = ModifierMaster::embedded();
        assert_eq!(z.get(SUSPECTED_MODIFIER), Some("の疑い"));
    }

    /// The codes of the ORCA sample receipts retired since 2019 (counted
    /// with grep against both masters) resolve by the 2019
    /// snapshot; フルマゼニル静注液０．５ｍｇ「サワイ」 gets the YJ code its successors share.
    #[test]
    fn retired_codes_resolve_through_the_2019_snapshots() {
        let r = Resolver::vendored();
        match r.drug("620008230") {
            DrugResolution::Legacy { name, yj } => {
                assert_eq!(name, "フルマゼニル静注液０．５ｍｇ「サワイ」　５ｍＬ");
                assert_eq!(yj, Some("2219403A1019"));
            }
            other => panic!("{other:?}"),
        }
        for (code, name) in [
            ("620009002", "ジフラール軟膏０．０５％"),
            ("660407129", "ポステリザンＦ坐薬"),
            ("660453004", "アンフラベート０．０５％軟膏"),
        ] {
            assert!(
                matches!(r.drug(code), DrugResolution::Legacy { name: n, .. } if n == name),
                "{code}"
            );
        }
        assert!(matches!(r.drug("620098401"), DrugResolution::Current(_)));
        assert_eq!(r.drug("999999999"), DrugResolution::Unknown);
        // 定型痛風 2749010 is only in the 2019 disease list; 0000999 is 未コード化.
        assert_eq!(r.disease("2749010"), Some(None));
        assert!(r.disease_is_legacy("2749010"));
        assert_eq!(r.disease("0000999"), Some(None));
        assert_eq!(r.disease("8840107"), Some(Some("I10")));
        // Keys that lost their leading zeros in the 2019 list are padded.
        assert!(LegacyNames::diseases_2019().get("0010001").is_some());
    }

    /// The monthly updates add products: セレネース細粒１％（選） (670000063) first appears
    /// in y_20240906.csv.
    #[test]
    fn updates_add_new_products() {
        assert!(DrugMaster::embedded().get("670000063").is_none());
        let m = DrugMaster::current();
        let e = m.get("670000063").unwrap();
        assert_eq!(
            (e.name.as_str(), e.yj.as_str()),
            ("セレネース細粒１％（選）", "1179020C1191")
        );
        assert!(m.entries().len() > 19_686);
    }

    #[test]
    fn a_master_over_the_size_limit_is_refused_unread() {
        use std::io::Write;
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let o = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        w.start_file("y_ALL20990101.csv", o).unwrap();
        w.write_all(&vec![b'0'; 4 << 20]).unwrap();
        let zipped = w.finish().unwrap().into_inner();
        let err = unzip_first_within(&zipped, "m.zip", 1 << 20)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("m.zip")
                && err.contains("y_ALL20990101.csv")
                && err.contains("4194304 bytes")
                && err.contains("1048576 bytes"),
            "{err}"
        );
        assert_eq!(
            unzip_first_within(&zipped, "m.zip", 8 << 20).unwrap().len(),
            4 << 20
        );
        // A master file on disk: its size is checked before it is read.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("y_ALL.zip");
        std::fs::write(&p, vec![b'0'; 2 << 20]).unwrap();
        let err = read_master_file(&p, 1 << 20).unwrap_err().to_string();
        assert!(
            err.contains("y_ALL.zip") && err.contains("2097152 bytes") && err.contains("1048576"),
            "{err}"
        );
    }

    #[test]
    fn bad_master_names_the_line() {
        let err = DrugMaster::parse(b"\"0\",\"Y\",\"1\"\n", "x.csv")
            .unwrap_err()
            .to_string();
        assert!(err.contains("x.csv") && err.contains("line 1"), "{err}");
    }
}
