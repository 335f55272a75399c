//! The lists do not depend on how the claim tables are laid out: row order, row groups, a
//! person's lines split into separate runs. The claim-line features are one pass per file
//! in row-group ranges, one per thread, with per-person runs of monthly drug keys and
//! dictionaries remembered across batches (crates/ittai-engine/src/lines.rs); sample_data
//! has a single row group in person order, so this test rewrites the four largest tables
//! with the rows of each person split in two (even rows first, then odd rows, each half in
//! reverse), in row groups of 997 rows, and checks that every list and the attrition are
//! byte for byte those of the original files — with the shipped rules and with
//! tests/sql_rules (every kind of condition, including drug flags restricted to claim kinds
//! and monthly counts by product and by code).

use std::fs::File;
use std::path::Path;

use arrow_array::{RecordBatch, UInt32Array};
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;

use crate::support::{list_files, read_batches, root, run_lists};

/// The tables rewritten (the rest are copied).
const REWRITTEN: [&str; 4] = [
    "claim_drugs",
    "claim_diagnoses",
    "medical_claims",
    "persons",
];

/// Copies sample_data to `to` with the rows of the [`REWRITTEN`] tables reordered and in
/// small row groups.
fn scrambled_copy(to: &Path) {
    let from = root().join("sample_data");
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(&from).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().to_string();
        let table = name.trim_end_matches(".parquet");
        if !REWRITTEN.contains(&table) {
            std::fs::copy(e.path(), to.join(&name)).unwrap();
            continue;
        }
        let batches = read_batches(&from, table);
        let schema = batches[0].schema();
        let all = arrow_select::concat::concat_batches(&schema, &batches).unwrap();
        let n = all.num_rows() as u32;
        let order: Vec<u32> = (0..n)
            .filter(|i| i % 2 == 0)
            .rev()
            .chain((0..n).filter(|i| i % 2 == 1).rev())
            .collect();
        let idx = UInt32Array::from(order);
        let columns = all
            .columns()
            .iter()
            .map(|c| arrow_select::take::take(c.as_ref(), &idx, None).unwrap())
            .collect();
        let scrambled = RecordBatch::try_new(schema.clone(), columns).unwrap();
        let props = WriterProperties::builder()
            .set_max_row_group_row_count(Some(997))
            .build();
        let f = File::create(to.join(&name)).unwrap();
        let mut w = ArrowWriter::try_new(f, schema, Some(props)).unwrap();
        w.write(&scrambled).unwrap();
        w.close().unwrap();
    }
}

#[test]
fn lists_do_not_depend_on_row_order_or_row_groups() {
    let dir = tempfile::tempdir().unwrap();
    let scrambled = dir.path().join("scrambled");
    scrambled_copy(&scrambled);
    // The rewrite really has many row groups and another order.
    let groups = |p: &Path| {
        parquet::file::reader::FileReader::metadata(
            &parquet::file::serialized_reader::SerializedFileReader::new(File::open(p).unwrap())
                .unwrap(),
        )
        .num_row_groups()
    };
    assert!(groups(&scrambled.join("claim_drugs.parquet")) > 100);
    assert_eq!(groups(&root().join("sample_data/claim_drugs.parquet")), 1);

    let sql_rules = root().join("tests/sql_rules");
    let cases: [&[&str]; 2] = [
        &[],
        &[
            "--rules",
            sql_rules.to_str().unwrap(),
            "--reference-date",
            "2024-10-15",
        ],
    ];
    for (i, extra) in cases.iter().enumerate() {
        let a = dir.path().join(format!("original_{i}"));
        let b = dir.path().join(format!("scrambled_{i}"));
        run_lists(&root().join("sample_data"), &a, extra);
        run_lists(&scrambled, &b, extra);
        let files = list_files(&a);
        assert!(files.len() > 2, "lists written: {files:?}");
        assert_eq!(files, list_files(&b));
        for f in &files {
            let x = std::fs::read(a.join(f)).unwrap();
            let y = std::fs::read(b.join(f)).unwrap();
            assert!(
                x == y,
                "{f} differs when the claim tables are reordered ({extra:?})"
            );
        }
    }
}
