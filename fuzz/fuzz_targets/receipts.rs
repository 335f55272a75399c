//! `cargo +nightly fuzz run receipts`: the whole receipt ingest of one file (decoding, UKE
//! parse, pseudonymisation, masters, Parquet rows) on any bytes (seeds in corpus/receipts).
//! The register and care CSV readers have their own target (`register`).
#![no_main]

use std::sync::{Mutex, OnceLock};

use ittai_dataset::masters::{DiseaseMaster, DrugMaster, Resolver};
use ittai_ingest::{IdKey, Input, IssueLog, Output, ReceiptIngest};
use libfuzzer_sys::fuzz_target;

fn resolver() -> &'static Resolver {
    static R: OnceLock<Resolver> = OnceLock::new();
    R.get_or_init(|| Resolver::new(DrugMaster::embedded(), DiseaseMaster::embedded()))
}

/// One output for the whole run (its rows are never read).
fn output() -> &'static Mutex<Output> {
    static O: OnceLock<Mutex<Output>> = OnceLock::new();
    O.get_or_init(|| {
        let dir = tempfile_dir();
        Mutex::new(Output::create(&dir).expect("output"))
    })
}

fn tempfile_dir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("ittai-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fuzz_target!(|data: &[u8]| {
    let key = IdKey::from_bytes(b"0123456789abcdef0123456789abcdef").expect("key");
    let mut log = IssueLog::counting("uke");
    let mut r = ReceiptIngest::new(&key, resolver());
    let mut out = output().lock().expect("lock");
    let input = Input {
        origin: "fuzz.UKE".into(),
        bytes: data.to_vec(),
    };
    r.file(&input, &mut out, &mut log).expect("io");
});
