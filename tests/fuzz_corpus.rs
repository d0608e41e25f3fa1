//! Replays the fuzz corpus (`fuzz/corpus/<target>/`) and the saved
//! regressions (`fuzz/regressions/`) through the fuzz targets' own checks
//! (`fuzz/checks.rs`) on stable Rust, so every input ever found or seeded
//! stays a test even where cargo-fuzz (nightly) cannot run.

use std::fs;
use std::path::{Path, PathBuf};

#[path = "../fuzz/checks.rs"]
mod checks;

type Check = fn(&[u8]);

const TARGETS: [(&str, Check); 3] = [
    ("decode_call", checks::decode_call),
    ("decode_response", checks::decode_response),
    ("roundtrip", checks::roundtrip),
];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("dir entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

fn replay(path: &Path, check: Check) {
    let data = fs::read(path).expect("readable corpus file");
    let outcome = std::panic::catch_unwind(|| check(&data));
    assert!(outcome.is_ok(), "{} failed its check", path.display());
}

#[test]
fn corpus_replays_cleanly() {
    for (target, check) in TARGETS {
        let files = files_in(&fuzz_dir().join("corpus").join(target));
        assert!(
            files.len() >= 10,
            "corpus for {target} has only {} inputs",
            files.len()
        );
        for path in files {
            replay(&path, check);
        }
    }
}

#[test]
fn regressions_replay_cleanly_through_every_target() {
    let files = files_in(&fuzz_dir().join("regressions"));
    assert!(!files.is_empty(), "no regression inputs");
    for path in files {
        for (_, check) in TARGETS {
            replay(&path, check);
        }
    }
}
