//! The canonical dataset as polars lazy frames, with codes resolved from the vendored
//! masters: `yj` = `claim_drugs.yj_code`, or the drug master's YJ for the 9-digit code when
//! null (docs/reference/dataset.md), plus the product name; `icd` = `claim_diagnoses.icd10`, or the
//! disease master's ICD-10 when null, plus the disease name.
//!
//! The dataset must have passed validation (ittai-dataset): every table is a Parquet file with
//! the contract columns.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ittai_dataset::masters::{DiseaseMaster, DrugMaster};
use polars::prelude::*;

use crate::claim_rows::ClaimRows;

/// The tables of a validated dataset directory, plus master lookups.
#[derive(Clone)]
pub struct Sources {
    dir: PathBuf,
    /// drug_code → 1 後発品, 2 後発品のある先発品 (SSK master).
    generic: DataFrame,
    /// The drug lines all carry a YJ code (Parquet statistics say no nulls).
    yj_complete: bool,
    /// The diagnoses all carry an ICD-10 code.
    icd_complete: bool,
    drug_master: DataFrame,
    disease_master: DataFrame,
    /// Where the claim rows of this dataset are kept (crate::claim_rows), when known.
    claim_cache: Option<PathBuf>,
    /// The claim rows, built or read on first use.
    claim_rows: Arc<std::sync::Mutex<Option<Arc<ClaimRows>>>>,
    /// Build the cached claim rows again.
    rebuild_claim_rows: bool,
}

impl std::fmt::Debug for Sources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sources").field("dir", &self.dir).finish()
    }
}

impl Sources {
    /// Opens `dir` (which must hold the nine required `<table>.parquet` files; the optional
    /// `interventions.parquet` may be absent) with the given masters.
    ///
    /// # Errors
    /// A missing table file.
    pub fn open(dir: &Path, drugs: &DrugMaster, diseases: &DiseaseMaster) -> PolarsResult<Self> {
        for t in ittai_dataset::TABLES.iter().filter(|t| t.required) {
            let p = dir.join(format!("{}.parquet", t.name));
            if !p.is_file() {
                polars_bail!(ComputeError: "{} is missing (validate the dataset first)", p.display());
            }
        }
        let no_nulls = |t: &str, c: &str| {
            ittai_dataset::parquet_null_count(&dir.join(format!("{t}.parquet")), c) == Some(0)
        };
        let mut s = Self::masters_only(drugs, diseases)?;
        s.dir = dir.to_path_buf();
        s.yj_complete = no_nulls("claim_drugs", "yj_code");
        s.icd_complete = no_nulls("claim_diagnoses", "icd10");
        Ok(s)
    }

    /// The master lookups alone, for results computed elsewhere (`ittai run --engine
    /// spark`): [`Sources::drug_names`], [`Sources::disease_names`],
    /// [`Sources::drug_master_yj`], [`Sources::disease_master_icd`] work; the table scans
    /// fail (there is no dataset directory).
    ///
    /// # Errors
    /// Polars errors building the lookup frames.
    pub fn masters_only(drugs: &DrugMaster, diseases: &DiseaseMaster) -> PolarsResult<Self> {
        let codes: Vec<&str> = drugs.entries().iter().map(|e| e.code.as_str()).collect();
        let yj: Vec<Option<&str>> = drugs
            .entries()
            .iter()
            .map(|e| (!e.yj.is_empty()).then_some(e.yj.as_str()))
            .collect();
        let names: Vec<&str> = drugs.entries().iter().map(|e| e.name.as_str()).collect();
        let drug_master = DataFrame::new_infer_height(vec![
            Column::new("drug_code".into(), codes),
            Column::new("master_yj".into(), yj),
            Column::new("drug_name".into(), names),
        ])?;
        let dcodes: Vec<&str> = diseases.entries().iter().map(|e| e.code.as_str()).collect();
        let icd: Vec<Option<&str>> = diseases
            .entries()
            .iter()
            .map(|e| (!e.icd10.is_empty()).then_some(e.icd10.as_str()))
            .collect();
        let dnames: Vec<&str> = diseases.entries().iter().map(|e| e.name.as_str()).collect();
        let disease_master = DataFrame::new_infer_height(vec![
            Column::new("disease_code".into(), dcodes),
            Column::new("master_icd".into(), icd),
            Column::new("disease_name".into(), dnames),
        ])?;
        // 後発品 (col 17 = 1) and branded products with a generic of the same YJ first 9
        // characters (ingredient, form, strength).
        let generic_yj9: std::collections::HashSet<&str> = drugs
            .entries()
            .iter()
            .filter(|e| e.generic && e.yj.len() == 12)
            .map(|e| &e.yj[..9])
            .collect();
        let (gcodes, gcat): (Vec<&str>, Vec<u8>) = drugs
            .entries()
            .iter()
            .filter_map(|e| {
                if e.generic {
                    Some((e.code.as_str(), 1u8))
                } else if e.yj.len() == 12 && generic_yj9.contains(&e.yj[..9]) {
                    Some((e.code.as_str(), 2u8))
                } else {
                    None
                }
            })
            .unzip();
        let generic = DataFrame::new_infer_height(vec![
            Column::new("drug_code".into(), gcodes),
            Column::new("category".into(), gcat),
        ])?;
        Ok(Self {
            dir: PathBuf::new(),
            yj_complete: false,
            icd_complete: false,
            generic,
            drug_master,
            disease_master,
            claim_cache: None,
            claim_rows: Arc::default(),
            rebuild_claim_rows: false,
        })
    }

    /// Keeps the claim rows of this dataset (each claim line's row in `medical_claims`,
    /// built on first use) in the user's cache under a key made of the SHA-256s of the
    /// three claim files in `hashes`, so later runs on the same files reuse them. Without
    /// this they are built into a temporary folder for each [`Sources`]. `hashes` must be
    /// those of the files in [`Sources::dir`]. With `rebuild` the cached rows are built
    /// again (`ittai run --revalidate`).
    pub fn with_input_hashes(mut self, hashes: &ittai_dataset::InputHashes, rebuild: bool) -> Self {
        self.rebuild_claim_rows = rebuild;
        self.claim_cache = ittai_dataset::claim_rows::cache_folder(hashes);
        self
    }

    /// Makes sure each claim line's row in `medical_claims` is at hand: read from the
    /// cache (see [`Sources::with_input_hashes`]), or built, which at 1,000,000 insured
    /// is one read of `claim_id` in the three claim files. The passes that need them
    /// call this themselves; a command calls it first to show the work to the user.
    ///
    /// # Errors
    /// I/O and schema errors of the claim files.
    pub fn link_claim_lines(&self) -> PolarsResult<()> {
        self.claim_rows().map(|_| ())
    }

    /// The claim rows of the dataset (crate::claim_rows), built or read once.
    ///
    /// # Errors
    /// I/O and schema errors of the claim files.
    pub(crate) fn claim_rows(&self) -> PolarsResult<Arc<ClaimRows>> {
        let mut held = self.claim_rows.lock().expect("claim rows lock");
        if let Some(rows) = held.as_ref() {
            return Ok(rows.clone());
        }
        let rows = Arc::new(ClaimRows::open(
            &self.dir,
            self.claim_cache.as_deref(),
            self.rebuild_claim_rows,
        )?);
        *held = Some(rows.clone());
        Ok(rows)
    }

    /// The dataset directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A lazy scan of `<table>.parquet`.
    ///
    /// # Errors
    /// Polars I/O errors.
    pub fn scan(&self, table: &str) -> PolarsResult<LazyFrame> {
        let p = self.dir.join(format!("{table}.parquet"));
        LazyFrame::scan_parquet(
            PlRefPath::new(p.to_string_lossy().as_ref()),
            ScanArgsParquet::default(),
        )
    }

    /// `persons`.
    ///
    /// # Errors
    /// Polars I/O errors.
    pub fn persons(&self) -> PolarsResult<LazyFrame> {
        self.scan("persons")
    }
    /// `checkups`.
    ///
    /// # Errors
    /// Polars I/O errors.
    pub fn checkups(&self) -> PolarsResult<LazyFrame> {
        self.scan("checkups")
    }
    /// `dental_checkups`.
    ///
    /// # Errors
    /// Polars I/O errors.
    pub fn dental_checkups(&self) -> PolarsResult<LazyFrame> {
        self.scan("dental_checkups")
    }
    /// `questionnaires`.
    ///
    /// # Errors
    /// Polars I/O errors.
    pub fn questionnaires(&self) -> PolarsResult<LazyFrame> {
        self.scan("questionnaires")
    }
    /// `medical_claims`.
    ///
    /// # Errors
    /// Polars I/O errors.
    pub fn medical_claims(&self) -> PolarsResult<LazyFrame> {
        self.scan("medical_claims")
    }
    /// `certifications`.
    ///
    /// # Errors
    /// Polars I/O errors.
    pub fn certifications(&self) -> PolarsResult<LazyFrame> {
        self.scan("certifications")
    }
    /// `care_claims`.
    ///
    /// # Errors
    /// Polars I/O errors.
    pub fn care_claims(&self) -> PolarsResult<LazyFrame> {
        self.scan("care_claims")
    }

    /// `claim_drugs` (only `columns` of it) with `yj`: the YJ code, from the master when the
    /// line has none (the join is skipped when the file's statistics show no missing code), and `yj7n`: its first seven characters (digits by the contract) as a
    /// u32, for fast class tests. The master join carries codes only (no names).
    ///
    /// # Errors
    /// Polars I/O errors.
    pub fn drugs(&self, columns: &[&str]) -> PolarsResult<LazyFrame> {
        let mut cols: Vec<Expr> = columns.iter().map(|c| col(*c)).collect();
        for c in ["drug_code", "yj_code"] {
            if !columns.contains(&c) {
                cols.push(col(c));
            }
        }
        let lines = self.scan("claim_drugs")?.select(cols);
        let lines = if self.yj_complete {
            lines.with_columns([col("yj_code").alias("yj")])
        } else {
            let master = self
                .drug_master
                .clone()
                .lazy()
                .select([col("drug_code"), col("master_yj")]);
            lines
                .left_join(master, col("drug_code"), col("drug_code"))
                .with_columns([coalesce(&[col("yj_code"), col("master_yj")]).alias("yj")])
        };
        Ok(lines.with_columns([col("yj")
            .str()
            .slice(lit(0), lit(7))
            .cast(DataType::UInt32)
            .alias("yj7n")]))
    }

    /// `claim_diagnoses` (only `columns`) with `icd`: the ICD-10, from the disease master
    /// when the line has none.
    ///
    /// # Errors
    /// Polars I/O errors.
    pub fn diagnoses(&self, columns: &[&str]) -> PolarsResult<LazyFrame> {
        let mut cols: Vec<Expr> = columns.iter().map(|c| col(*c)).collect();
        for c in ["disease_code", "icd10"] {
            if !columns.contains(&c) {
                cols.push(col(c));
            }
        }
        let lines = self.scan("claim_diagnoses")?.select(cols);
        if self.icd_complete {
            return Ok(lines.with_columns([col("icd10").alias("icd")]));
        }
        let master = self
            .disease_master
            .clone()
            .lazy()
            .select([col("disease_code"), col("master_icd")]);
        Ok(lines
            .left_join(master, col("disease_code"), col("disease_code"))
            .with_columns([coalesce(&[col("icd10"), col("master_icd")]).alias("icd")]))
    }

    /// Products that enter the generic share: `drug_code` and `category` (u8: 1 後発品,
    /// 2 先発品 with a generic of the same YJ first 9 characters).
    pub fn generic_categories(&self) -> LazyFrame {
        self.generic.clone().lazy()
    }

    /// The drug master's YJ codes: `drug_code` (str, 9 digits), `master_yj` (str, 12
    /// characters), products without a YJ code left out.
    pub fn drug_master_yj(&self) -> LazyFrame {
        self.drug_master
            .clone()
            .lazy()
            .filter(col("master_yj").is_not_null())
            .select([col("drug_code"), col("master_yj")])
    }

    /// The disease master's ICD-10 codes: `disease_code` (str, 7 digits), `master_icd`
    /// (str), codes without an ICD-10 code left out.
    pub fn disease_master_icd(&self) -> LazyFrame {
        self.disease_master
            .clone()
            .lazy()
            .filter(col("master_icd").is_not_null())
            .select([col("disease_code"), col("master_icd")])
    }

    /// Product names by 9-digit code (`drug_code`, `drug_name`).
    pub fn drug_names(&self) -> LazyFrame {
        self.drug_master
            .clone()
            .lazy()
            .select([col("drug_code"), col("drug_name")])
    }

    /// Disease names by 7-digit code (`disease_code`, `disease_name`).
    pub fn disease_names(&self) -> LazyFrame {
        self.disease_master
            .clone()
            .lazy()
            .select([col("disease_code"), col("disease_name")])
    }

    /// Number of drug lines whose code is not in the master and that carry no YJ code
    /// (counted and reported, never dropped; docs/reference/dataset.md).
    ///
    /// # Errors
    /// Polars errors.
    pub fn unresolved_drug_lines(&self) -> PolarsResult<u64> {
        let master = self
            .drug_master
            .clone()
            .lazy()
            .filter(col("master_yj").is_not_null())
            .select([col("drug_code")]);
        let df = self
            .scan("claim_drugs")?
            .select([col("drug_code"), col("yj_code")])
            .filter(col("yj_code").is_null())
            .join(
                master,
                [col("drug_code")],
                [col("drug_code")],
                JoinArgs::new(JoinType::Anti),
            )
            .select([len().alias("n")])
            .collect()?;
        Ok(df.column("n")?.u32()?.get(0).unwrap_or(0) as u64)
    }
}
