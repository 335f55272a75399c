//! `cargo +nightly fuzz run register`: the insured-register, 要介護認定 and 介護給付実績 CSV
//! readers on any bytes, through the public `ittai_ingest::run` (the first byte picks the
//! reader; the rest is the file). Slower than the other targets — each case writes a small
//! dataset — but it reaches the readers exactly as `ittai ingest` does.
#![no_main]

use std::sync::OnceLock;

use ittai_dataset::masters::{DiseaseMaster, DrugMaster, Resolver};
use ittai_ingest::{IdKey, IngestOptions};
use libfuzzer_sys::fuzz_target;

fn resolver() -> &'static Resolver {
    static R: OnceLock<Resolver> = OnceLock::new();
    R.get_or_init(|| Resolver::new(DrugMaster::embedded(), DiseaseMaster::embedded()))
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, csv)) = data.split_first() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("ittai-fuzz-register-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let input = dir.join("input.csv");
    std::fs::write(&input, csv).expect("write input");
    let mut opts = IngestOptions {
        out: dir.join("out"),
        ..IngestOptions::default()
    };
    match which % 3 {
        0 => opts.persons = vec![input],
        1 => opts.certifications = vec![input],
        _ => opts.care_claims = vec![input],
    }
    let key = IdKey::from_bytes(b"0123456789abcdef0123456789abcdef").expect("key");
    // Errors are fine (a whole-file problem is reported, not a crash); panics are not.
    let _ = ittai_ingest::run(&opts, &key, resolver(), &mut ());
});
