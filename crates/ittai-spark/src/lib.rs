//! Runs a script of `ittai_engine::sql` on an Apache Spark cluster through Spark Connect
//! (`sc://host:port`), so that the data stays where the cluster reads it and only the
//! attrition row and the listed persons come back.
//!
//! Flow ([`run_script`]): connect → ask the server's Spark version → register the two
//! master lookups as temporary views from local Arrow data (`ittai_drug_master`,
//! `ittai_disease_master`) → execute the setup statements (the feature view, the cached
//! flags) → collect the attrition query and the list query as Arrow record batches →
//! convert them into [`SqlTable`]s for `ittai_engine::sql::to_run_result`.
//!
//! The client is the `spark-connect` crate (gRPC with tonic); why that one is in
//! docs/DECISIONS.md.

use std::sync::Arc;
use std::time::Instant;

use arrow::array::{
    Array, ArrayRef, BooleanArray, Date32Array, Float32Array, Float64Array, Int8Array, Int16Array,
    Int32Array, Int64Array, LargeStringArray, RecordBatch, StringArray, StringViewArray,
    UInt8Array, UInt16Array, UInt32Array, UInt64Array,
};
use arrow::datatypes::{DataType, Field, Schema};
use ittai_engine::sql::{Script, SqlColumn, SqlTable};
use spark_connect::spark;
use spark_connect::{SparkSession, SparkSessionBuilder};

/// What can go wrong talking to Spark.
#[derive(Debug, thiserror::Error)]
pub enum SparkError {
    /// The connection or a statement failed (the server's message is included).
    #[error("Spark Connect ({remote}): {what}: {message}")]
    Remote {
        /// The `sc://` address.
        remote: String,
        /// What was being done.
        what: String,
        /// The client's or server's message.
        message: String,
    },
    /// A result column of a type the scripts do not produce.
    #[error("Spark returned column {column} of type {data_type}, which ittai does not read")]
    Type {
        /// Column name.
        column: String,
        /// Arrow type.
        data_type: String,
    },
}

/// The results of a script run on Spark.
#[derive(Debug)]
pub struct SparkRun {
    /// The server's Spark version (e.g. `4.0.1`).
    pub version: String,
    /// The attrition row.
    pub attrition: SqlTable,
    /// The listed persons with their features and flags.
    pub listed: SqlTable,
    /// Seconds per step: `spark.connect`, `spark.masters`, `spark.setup`,
    /// `spark.attrition`, `spark.lists`.
    pub timings: Vec<(String, f64)>,
}

/// A master lookup to register as a temporary view: two string columns.
#[derive(Debug, Clone)]
pub struct Lookup {
    /// View name (`ittai_drug_master`).
    pub view: String,
    /// Column names (`drug_code`, `master_yj`).
    pub columns: [String; 2],
    /// The rows.
    pub rows: Vec<(String, String)>,
}

/// Runs `script` on the Spark Connect server at `remote` (`sc://host:port`), after
/// registering `lookups` as temporary views.
///
/// # Errors
/// [`SparkError`]: no server, a failed statement, an unexpected result type.
pub fn run_script(
    remote: &str,
    script: &Script,
    lookups: &[Lookup],
) -> Result<SparkRun, SparkError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| err(remote, "starting the async runtime", e))?;
    rt.block_on(run_async(remote, script, lookups))
}

fn err(remote: &str, what: &str, e: impl std::fmt::Display) -> SparkError {
    SparkError::Remote {
        remote: remote.to_string(),
        what: what.to_string(),
        message: e.to_string(),
    }
}

async fn run_async(
    remote: &str,
    script: &Script,
    lookups: &[Lookup],
) -> Result<SparkRun, SparkError> {
    let mut timings = Vec::new();
    let t = Instant::now();
    let session = SparkSessionBuilder::new(remote)
        .build()
        .await
        .map_err(|e| {
            err(
                remote,
                "connecting (is a Spark Connect server listening there? docs/GUIDE.md §10 shows how to start one)",
                e,
            )
        })?;
    let version = session
        .version()
        .await
        .map_err(|e| err(remote, "asking the Spark version", e))?;
    timings.push(("spark.connect".to_string(), t.elapsed().as_secs_f64()));

    let t = Instant::now();
    for l in lookups {
        register_lookup(&session, l)
            .await
            .map_err(|e| err(remote, &format!("registering {}", l.view), e))?;
    }
    timings.push(("spark.masters".to_string(), t.elapsed().as_secs_f64()));

    let t = Instant::now();
    for st in &script.setup {
        session
            .query(&st.sql)
            .execute()
            .await
            .map_err(|e| err(remote, &st.comment, e))?;
    }
    timings.push(("spark.setup".to_string(), t.elapsed().as_secs_f64()));

    let t = Instant::now();
    let attrition = session
        .query(&script.attrition.sql)
        .execute()
        .await
        .map_err(|e| err(remote, &script.attrition.comment, e))?;
    timings.push(("spark.attrition".to_string(), t.elapsed().as_secs_f64()));
    let t = Instant::now();
    let listed = session
        .query(&script.listed.sql)
        .execute()
        .await
        .map_err(|e| err(remote, &script.listed.comment, e))?;
    timings.push(("spark.lists".to_string(), t.elapsed().as_secs_f64()));
    // The cached flags are released for the next user of the cluster.
    let _ = session
        .query("UNCACHE TABLE IF EXISTS ittai_flags")
        .execute()
        .await;
    Ok(SparkRun {
        version,
        attrition: to_table(&attrition)?,
        listed: to_table(&listed)?,
        timings,
    })
}

/// Registers a lookup as a temporary view from local data (an Arrow IPC stream in a
/// `LocalRelation`, as PySpark's `createDataFrame` sends it).
async fn register_lookup(
    session: &SparkSession,
    l: &Lookup,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let schema = Arc::new(Schema::new(vec![
        Field::new(&l.columns[0], DataType::Utf8, false),
        Field::new(&l.columns[1], DataType::Utf8, false),
    ]));
    let a: ArrayRef = Arc::new(StringArray::from_iter_values(
        l.rows.iter().map(|r| r.0.as_str()),
    ));
    let b: ArrayRef = Arc::new(StringArray::from_iter_values(
        l.rows.iter().map(|r| r.1.as_str()),
    ));
    let batch = RecordBatch::try_new(schema.clone(), vec![a, b])?;
    let mut data = Vec::new();
    {
        let mut w = arrow::ipc::writer::StreamWriter::try_new(&mut data, &schema)?;
        w.write(&batch)?;
        w.finish()?;
    }
    let relation = spark::Relation {
        common: None,
        rel_type: Some(spark::relation::RelType::LocalRelation(
            spark::LocalRelation {
                data: Some(data),
                schema: None,
            },
        )),
    };
    let command = spark::Command {
        command_type: Some(spark::command::CommandType::CreateDataframeView(
            spark::CreateDataFrameViewCommand {
                input: Some(relation),
                name: l.view.clone(),
                is_global: false,
                replace: true,
            },
        )),
    };
    let plan = spark::Plan {
        op_type: Some(spark::plan::OpType::Command(command)),
    };
    session.collect(plan).await?;
    Ok(())
}

/// Record batches → named columns (the batches share one schema).
fn to_table(batches: &[RecordBatch]) -> Result<SqlTable, SparkError> {
    let Some(first) = batches.first() else {
        return Ok(Vec::new());
    };
    let schema = first.schema();
    let mut out: SqlTable = Vec::new();
    for (i, field) in schema.fields().iter().enumerate() {
        let mut col: Option<SqlColumn> = None;
        for b in batches {
            let part = column(field.name(), b.column(i))?;
            col = Some(match (col, part) {
                (None, p) => p,
                (Some(SqlColumn::Str(mut a)), SqlColumn::Str(b)) => {
                    a.extend(b);
                    SqlColumn::Str(a)
                }
                (Some(SqlColumn::Int(mut a)), SqlColumn::Int(b)) => {
                    a.extend(b);
                    SqlColumn::Int(a)
                }
                (Some(SqlColumn::Float(mut a)), SqlColumn::Float(b)) => {
                    a.extend(b);
                    SqlColumn::Float(a)
                }
                (Some(SqlColumn::Bool(mut a)), SqlColumn::Bool(b)) => {
                    a.extend(b);
                    SqlColumn::Bool(a)
                }
                (Some(SqlColumn::Date(mut a)), SqlColumn::Date(b)) => {
                    a.extend(b);
                    SqlColumn::Date(a)
                }
                _ => {
                    return Err(SparkError::Type {
                        column: field.name().clone(),
                        data_type: "mixed types across batches".into(),
                    });
                }
            });
        }
        out.push((field.name().clone(), col.expect("at least one batch")));
    }
    Ok(out)
}

/// One Arrow array → a column of the few types the scripts produce.
fn column(name: &str, a: &ArrayRef) -> Result<SqlColumn, SparkError> {
    macro_rules! ints {
        ($t:ty) => {{
            let x = a.as_any().downcast_ref::<$t>().expect("type checked");
            SqlColumn::Int(
                (0..x.len())
                    .map(|i| (!x.is_null(i)).then(|| x.value(i) as i64))
                    .collect(),
            )
        }};
    }
    macro_rules! strs {
        ($t:ty) => {{
            let x = a.as_any().downcast_ref::<$t>().expect("type checked");
            SqlColumn::Str(
                (0..x.len())
                    .map(|i| (!x.is_null(i)).then(|| x.value(i).to_string()))
                    .collect(),
            )
        }};
    }
    Ok(match a.data_type() {
        DataType::Utf8 => strs!(StringArray),
        DataType::LargeUtf8 => strs!(LargeStringArray),
        DataType::Utf8View => strs!(StringViewArray),
        DataType::Int8 => ints!(Int8Array),
        DataType::Int16 => ints!(Int16Array),
        DataType::Int32 => ints!(Int32Array),
        DataType::Int64 => ints!(Int64Array),
        DataType::UInt8 => ints!(UInt8Array),
        DataType::UInt16 => ints!(UInt16Array),
        DataType::UInt32 => ints!(UInt32Array),
        DataType::UInt64 => ints!(UInt64Array),
        DataType::Float32 => {
            let x = a.as_any().downcast_ref::<Float32Array>().expect("f32");
            SqlColumn::Float(
                (0..x.len())
                    .map(|i| (!x.is_null(i)).then(|| f64::from(x.value(i))))
                    .collect(),
            )
        }
        DataType::Float64 => {
            let x = a.as_any().downcast_ref::<Float64Array>().expect("f64");
            SqlColumn::Float(
                (0..x.len())
                    .map(|i| (!x.is_null(i)).then(|| x.value(i)))
                    .collect(),
            )
        }
        DataType::Boolean => {
            let x = a.as_any().downcast_ref::<BooleanArray>().expect("bool");
            SqlColumn::Bool(
                (0..x.len())
                    .map(|i| (!x.is_null(i)).then(|| x.value(i)))
                    .collect(),
            )
        }
        DataType::Date32 => {
            let x = a.as_any().downcast_ref::<Date32Array>().expect("date");
            SqlColumn::Date(
                (0..x.len())
                    .map(|i| (!x.is_null(i)).then(|| x.value(i)))
                    .collect(),
            )
        }
        other => {
            return Err(SparkError::Type {
                column: name.to_string(),
                data_type: other.to_string(),
            });
        }
    })
}
