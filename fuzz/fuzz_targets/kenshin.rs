//! `cargo +nightly fuzz run kenshin`: the 健診 XML reader on any text (seeds in corpus/kenshin).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = ittai_ingest::kenshin::read::parse(s, &mut Vec::new());
    }
});
