//! Every config the project ships (`examples/*.toml`, `deploy/compose/*.toml`)
//! passes the real binary's `check-config`, with a placeholder for each
//! `${NAME}` it reads from the environment: a key renamed in the code
//! cannot leave a shipped file behind.

use std::path::Path;
use std::process::Command;

fn env_names(text: &str) -> Vec<String> {
    text.split("${")
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_owned()))
        .collect()
}

#[test]
fn every_shipped_config_passes_check_config() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut checked = 0;
    for dir in ["examples", "deploy/compose"] {
        let mut files: Vec<_> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        files.sort();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            let out = Command::new(env!("CARGO_BIN_EXE_xmlrpc-gateway"))
                .arg("check-config")
                .arg(&file)
                .envs(env_names(&text).into_iter().map(|n| (n, "placeholder")))
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}: {}",
                file.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            checked += 1;
        }
    }
    assert!(checked >= 7, "only {checked} configs found");
}
