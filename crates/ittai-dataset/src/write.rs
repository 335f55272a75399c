//! Writing canonical tables as Parquet.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use super::column::ColumnBuilder;
use super::schema::{Row, TableSpec};
use crate::atomic::{AtomicFile, Visibility};

/// Rows per Parquet row group (and per batch handed to the writer by [`RowBatch`] users).
pub const ROW_GROUP_ROWS: usize = 1 << 20;

/// Error writing a table.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// File system error.
    #[error("{path}: {source}")]
    Io {
        /// File being written.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// Parquet encoder error.
    #[error("{path}: {source}")]
    Parquet {
        /// File being written.
        path: PathBuf,
        /// Cause.
        source: parquet::errors::ParquetError,
    },
}

/// Rows of one table being collected column by column (in memory, any thread).
#[derive(Debug)]
pub struct RowBatch {
    spec: &'static TableSpec,
    columns: Vec<ColumnBuilder>,
    len: usize,
}

impl RowBatch {
    /// An empty batch for `spec`.
    pub fn new(spec: &'static TableSpec) -> Self {
        Self {
            spec,
            columns: spec
                .columns
                .iter()
                .map(|c| ColumnBuilder::new(c.ty))
                .collect(),
            len: 0,
        }
    }
    /// An empty batch for the table of row type `R`.
    pub fn for_row<R: Row>() -> Self {
        Self::new(R::SPEC)
    }
    /// Appends one row.
    ///
    /// # Panics
    /// When `R` is not this batch's table.
    pub fn push<R: Row>(&mut self, row: &R) {
        assert_eq!(
            R::SPEC.name,
            self.spec.name,
            "row pushed to another table's batch"
        );
        row.append_to(&mut self.columns);
        self.len += 1;
    }
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.len
    }
    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// The table.
    pub fn spec(&self) -> &'static TableSpec {
        self.spec
    }
    /// Finishes into an Arrow record batch with the contract schema; the builder is empty
    /// afterwards.
    pub fn finish(&mut self) -> RecordBatch {
        let schema = Arc::new(self.spec.arrow_schema());
        let arrays = self.columns.iter_mut().map(ColumnBuilder::finish).collect();
        self.len = 0;
        RecordBatch::try_new(schema, arrays).expect("builders match the contract schema")
    }
}

/// Writes record batches of one table to `<dir>/<table>.parquet`, atomically.
pub struct ParquetTableWriter {
    writer: ArrowWriter<AtomicFile>,
    path: PathBuf,
    rows: u64,
}

impl std::fmt::Debug for ParquetTableWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParquetTableWriter")
            .field("path", &self.path)
            .field("rows", &self.rows)
            .finish()
    }
}

/// Writer settings used for every canonical Parquet file: zstd level 1, dictionary
/// encoding, page statistics, 1,048,576-row row groups. Fixed so that identical rows
/// give identical bytes.
pub fn writer_properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(1).expect("zstd level 1"),
        ))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_created_by(concat!("ittai ", env!("CARGO_PKG_VERSION")).to_string())
        .build()
}

impl ParquetTableWriter {
    /// Creates `<dir>/<spec.name>.parquet` with `schema` (the contract schema, possibly
    /// followed by extra columns kept from the input).
    ///
    /// # Errors
    /// [`WriteError`] when the file cannot be created.
    pub fn create(
        dir: &Path,
        name: &str,
        schema: SchemaRef,
        visibility: Visibility,
    ) -> Result<Self, WriteError> {
        let path = dir.join(format!("{name}.parquet"));
        let file = AtomicFile::create(&path, visibility).map_err(|source| WriteError::Io {
            path: path.clone(),
            source,
        })?;
        let writer =
            ArrowWriter::try_new(file, schema, Some(writer_properties())).map_err(|source| {
                WriteError::Parquet {
                    path: path.clone(),
                    source,
                }
            })?;
        Ok(Self {
            writer,
            path,
            rows: 0,
        })
    }

    /// Creates the file for a table with its contract schema.
    ///
    /// # Errors
    /// As [`ParquetTableWriter::create`].
    pub fn for_table(
        dir: &Path,
        spec: &TableSpec,
        visibility: Visibility,
    ) -> Result<Self, WriteError> {
        Self::create(dir, spec.name, Arc::new(spec.arrow_schema()), visibility)
    }

    /// Appends a batch.
    ///
    /// # Errors
    /// [`WriteError::Parquet`] when the batch does not match the schema or encoding fails.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), WriteError> {
        self.rows += batch.num_rows() as u64;
        self.writer
            .write(batch)
            .map_err(|source| WriteError::Parquet {
                path: self.path.clone(),
                source,
            })
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Finishes the file and moves it into place; returns the number of rows.
    ///
    /// # Errors
    /// [`WriteError`] on encoder or file-system failure.
    pub fn finish(self) -> Result<u64, WriteError> {
        let path = self.path;
        let file = self
            .writer
            .into_inner()
            .map_err(|source| WriteError::Parquet {
                path: path.clone(),
                source,
            })?;
        file.commit()
            .map_err(|source| WriteError::Io { path, source })?;
        Ok(self.rows)
    }
}
