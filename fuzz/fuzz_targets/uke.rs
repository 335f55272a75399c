//! `cargo +nightly fuzz run uke`: the UKE reader on any text (seeds in corpus/uke).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let mut receipts = 0u64;
        let (_, counts) = ittai_ingest::uke::read::parse(s, &mut |_| {}, &mut |_, _| receipts += 1);
        assert_eq!(counts.receipts, receipts);
    }
});
