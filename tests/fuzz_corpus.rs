//! The fuzz targets' checks as plain tests: every seed in fuzz/corpus/TARGET
//! and every saved crash in fuzz/regressions/TARGET goes through the same
//! function the libFuzzer target calls (fuzz/src/lib.rs, included by path),
//! so a crash found once stays fixed without cargo-fuzz or nightly.

#[allow(unreachable_pub)]
#[path = "../fuzz/src/lib.rs"]
mod checks;

use std::path::Path;

type Check = fn(&[u8]);

const TARGETS: &[(&str, Check)] = &[
    ("decode_call", checks::check_decode_call),
    ("decode_response", checks::check_decode_response),
    ("gzip_decode_call", checks::check_gzip_decode_call),
    ("roundtrip", checks::check_roundtrip),
];

/// Runs `check` over every file in `dir`; returns how many it read.
fn replay(dir: &Path, check: Check) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.file_name().is_none_or(|n| n != ".gitkeep"))
        .collect();
    files.sort();
    for file in &files {
        let data = std::fs::read(file).unwrap();
        let outcome = std::panic::catch_unwind(|| check(&data));
        assert!(outcome.is_ok(), "{} fails its check", file.display());
    }
    files.len()
}

#[test]
fn seeds_and_saved_crashes_pass_every_check() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    for (target, check) in TARGETS {
        let seeds = replay(&root.join("corpus").join(target), *check);
        let crashes = replay(&root.join("regressions").join(target), *check);
        assert!(seeds > 0, "fuzz/corpus/{target} has no seeds");
        println!("{target}: {seeds} seeds, {crashes} saved crashes");
    }
}
