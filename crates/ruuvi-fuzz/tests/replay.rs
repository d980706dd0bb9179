//! Every fuzz target over its seeds (`fuzz/seeds/<target>/`) and the inputs that once broke it
//! (`fuzz/regressions/<target>/`), as ordinary tests: a fixed crash stays fixed, and every
//! target has seeds.

use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[test]
fn every_target_has_seeds_a_fuzz_binary_and_passes_them() {
    let fuzz = fuzz_dir();
    for (name, target) in ruuvi_fuzz::TARGETS {
        let seeds = files(&fuzz.join("seeds").join(name));
        assert!(!seeds.is_empty(), "fuzz/seeds/{name}/ has no seeds");
        assert!(
            fuzz.join("fuzz_targets")
                .join(format!("{name}.rs"))
                .is_file(),
            "no fuzz/fuzz_targets/{name}.rs"
        );
        for seed in seeds {
            let input = std::fs::read(&seed).unwrap();
            target(&input);
        }
    }
}

#[test]
fn inputs_that_once_broke_a_target_pass_it_now() {
    let fuzz = fuzz_dir();
    let mut replayed = 0;
    for (name, target) in ruuvi_fuzz::TARGETS {
        for input in files(&fuzz.join("regressions").join(name)) {
            let bytes = std::fs::read(&input).unwrap();
            eprintln!("{}", input.display());
            target(&bytes);
            replayed += 1;
        }
    }
    assert!(replayed > 0, "fuzz/regressions/ is empty");
}

#[test]
fn every_fuzz_binary_is_a_target() {
    let names: Vec<&str> = ruuvi_fuzz::TARGETS.iter().map(|(n, _)| *n).collect();
    for file in files(&fuzz_dir().join("fuzz_targets")) {
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        assert!(
            names.contains(&stem.as_str()),
            "{stem} is not in ruuvi_fuzz::TARGETS"
        );
    }
}
