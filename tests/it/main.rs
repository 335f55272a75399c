//! The integration tests of ittai (one test binary, as ripgrep lays out its tests).

mod cli;
mod cli_exit;
mod evaluation;
mod headers;
mod independent;
mod indicators;
mod ingest;
mod names;
mod notebooks;
mod report;
mod row_order;
mod rule_cases;
mod rules_files;
mod serve;
mod spark;
mod support;
mod synth;
mod validate;
