//! Embeds every `rules/*.md` file into the library and generates one id constant per rule,
//! so Rust code names rules by constant and a missing rule file is a compile error.
use std::{env, fs, path::Path};

fn main() {
    let manifest = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let rules_dir = Path::new(&manifest).join("../../rules");
    println!("cargo:rerun-if-changed={}", rules_dir.display());
    let mut files: Vec<_> = fs::read_dir(&rules_dir)
        .expect("rules/ directory next to the workspace root")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .filter(|p| p.file_stem().is_some_and(|s| s != "README"))
        .collect();
    files.sort();

    let mut table = String::from(
        "/// Every rule file, embedded at build time: (id, file text).\npub static EMBEDDED: &[(&str, &str)] = &[\n",
    );
    let mut ids = String::from(
        "/// One constant per rule id.\n#[allow(dead_code)]\npub mod ids {\n    use super::RuleId;\n",
    );
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("utf-8 rule file name");
        let abs = fs::canonicalize(path).expect("rule path");
        table.push_str(&format!(
            "    ({stem:?}, include_str!({:?})),\n",
            abs.display().to_string()
        ));
        let konst = stem.to_uppercase().replace('-', "_");
        ids.push_str(&format!(
            "    pub const {konst}: RuleId = RuleId({stem:?});\n"
        ));
    }
    table.push_str("];\n");
    ids.push_str("}\n");
    let out =
        Path::new(&env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("rules_embedded.rs");
    fs::write(out, format!("{table}\n{ids}")).expect("write generated rule table");
}
