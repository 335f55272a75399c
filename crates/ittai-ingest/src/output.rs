//! The canonical dataset being written by `ittai ingest`: one Parquet writer per table,
//! rows appended in input order (so the same inputs give the same files), flushed in row
//! groups, and committed atomically at the end.

use std::collections::BTreeMap;
use std::path::Path;

use ittai_dataset::ROW_GROUP_ROWS;
use ittai_dataset::atomic::Visibility;
use ittai_dataset::{
    CareClaim, Certification, Checkup, ClaimDiagnosis, ClaimDrug, DentalCheckup, MedicalClaim,
    ParquetTableWriter, Person, Questionnaire, Row, RowBatch, TABLES,
};

/// Writers of the nine required tables (ingest produces no support records, so the optional
/// `interventions` table is not written: a dataset without it says "no records").
pub struct Output {
    tables: Vec<(RowBatch, ParquetTableWriter)>,
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Output")
    }
}

fn io(e: ittai_dataset::WriteError) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

impl Output {
    /// Creates the files of the nine required tables in `dir` (owner-only: pseudonymised
    /// personal data).
    ///
    /// # Errors
    /// I/O errors creating the files.
    pub fn create(dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let mut tables = Vec::new();
        for spec in TABLES.iter().copied().filter(|t| t.required) {
            tables.push((
                RowBatch::new(spec),
                ParquetTableWriter::for_table(dir, spec, Visibility::Private).map_err(io)?,
            ));
        }
        Ok(Output { tables })
    }

    fn push<R: Row>(&mut self, row: &R) -> std::io::Result<()> {
        let i = self
            .tables
            .iter()
            .position(|(b, _)| b.spec().name == R::SPEC.name)
            .expect("a table ingest writes");
        let (batch, writer) = &mut self.tables[i];
        batch.push(row);
        if batch.len() >= ROW_GROUP_ROWS {
            writer.write(&batch.finish()).map_err(io)?;
        }
        Ok(())
    }

    /// Appends a `persons` row.
    ///
    /// # Errors
    /// I/O errors.
    pub fn person(&mut self, r: &Person) -> std::io::Result<()> {
        self.push(r)
    }
    /// Appends a `checkups` row.
    ///
    /// # Errors
    /// I/O errors.
    pub fn checkup(&mut self, r: &Checkup) -> std::io::Result<()> {
        self.push(r)
    }
    /// Appends a `dental_checkups` row.
    ///
    /// # Errors
    /// I/O errors.
    pub fn dental_checkup(&mut self, r: &DentalCheckup) -> std::io::Result<()> {
        self.push(r)
    }
    /// Appends a `questionnaires` row.
    ///
    /// # Errors
    /// I/O errors.
    pub fn questionnaire(&mut self, r: &Questionnaire) -> std::io::Result<()> {
        self.push(r)
    }
    /// Appends a `medical_claims` row.
    ///
    /// # Errors
    /// I/O errors.
    pub fn medical_claim(&mut self, r: &MedicalClaim) -> std::io::Result<()> {
        self.push(r)
    }
    /// Appends a `claim_diagnoses` row.
    ///
    /// # Errors
    /// I/O errors.
    pub fn diagnosis(&mut self, r: &ClaimDiagnosis) -> std::io::Result<()> {
        self.push(r)
    }
    /// Appends a `claim_drugs` row.
    ///
    /// # Errors
    /// I/O errors.
    pub fn drug(&mut self, r: &ClaimDrug) -> std::io::Result<()> {
        self.push(r)
    }
    /// Appends a `care_claims` row.
    ///
    /// # Errors
    /// I/O errors.
    pub fn care_claim(&mut self, r: &CareClaim) -> std::io::Result<()> {
        self.push(r)
    }
    /// Appends a `certifications` row.
    ///
    /// # Errors
    /// I/O errors.
    pub fn certification(&mut self, r: &Certification) -> std::io::Result<()> {
        self.push(r)
    }

    /// Rows appended so far per table (including those not yet flushed).
    pub fn counts(&self) -> BTreeMap<&'static str, u64> {
        self.tables
            .iter()
            .map(|(b, w)| (b.spec().name, w.rows() + b.len() as u64))
            .collect()
    }

    /// Flushes and commits every file; returns rows per table.
    ///
    /// # Errors
    /// I/O errors.
    pub fn finish(self) -> std::io::Result<BTreeMap<&'static str, u64>> {
        let mut out = BTreeMap::new();
        for (mut b, mut w) in self.tables {
            if !b.is_empty() {
                w.write(&b.finish()).map_err(io)?;
            }
            out.insert(b.spec().name, w.finish().map_err(io)?);
        }
        Ok(out)
    }
}
