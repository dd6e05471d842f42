//! The WIT interfaces the built components import are exactly the ones
//! docs/deploy.md lists ("Versions"), each with the minimum Spin,
//! containerd-shim-spin and spin-operator that provide it. A component that
//! starts importing a new interface (or a new version of one, e.g.
//! spin:postgres@5) fails here until the documented minimums are reviewed.
//!
//! Needs the release components: `make build` (build_components in
//! scripts/lib.sh).

use std::collections::BTreeSet;
use std::path::Path;

use wasmtime::component::Component;
use wasmtime::{Config, Engine};

const COMPONENTS: [&str; 3] = ["frontend", "user_service", "task_service"];
const MARKER: &str = "<!-- wit-imports: checked by runner/tests/wit_imports.rs -->";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

/// Every import name of the three release components, e.g. `spin:postgres/postgres@4.0.0`.
fn imported_interfaces() -> BTreeSet<String> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    let engine = Engine::new(&config).unwrap();
    let mut names = BTreeSet::new();
    for name in COMPONENTS {
        let path = root().join(format!("target/wasm32-wasip2/release/{name}.wasm"));
        let component = Component::from_file(&engine, &path)
            .unwrap_or_else(|e| panic!("{}: {e:#} (build the components first)", path.display()));
        for (import, _) in component.component_type().imports(&engine) {
            names.insert(import.to_owned());
        }
    }
    names
}

/// The documented block: `interface  Spin X.Y  why` per import, and one
/// `requires ...` line with the minimum shim and operator.
fn documented() -> (Vec<(String, String)>, String) {
    let doc = std::fs::read_to_string(root().join("docs/deploy.md")).unwrap();
    let block = doc
        .split_once(MARKER)
        .unwrap_or_else(|| panic!("docs/deploy.md lacks the marker {MARKER}"))
        .1;
    let block = block.split_once("```text\n").expect("a ```text block").1;
    let block = block.split_once("```").expect("the block's end").0;
    let mut imports = Vec::new();
    let mut requires = String::new();
    for line in block
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let (name, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        if name == "requires" {
            requires = rest.trim().to_owned();
        } else {
            imports.push((name.to_owned(), rest.trim().to_owned()));
        }
    }
    (imports, requires)
}

/// `(major, minor)` of the "Spin X.Y" a line names.
fn spin_version(text: &str) -> (u32, u32) {
    let version = text
        .split_once("Spin ")
        .unwrap_or_else(|| panic!("no 'Spin X.Y' in '{text}'"))
        .1
        .split_whitespace()
        .next()
        .unwrap();
    let (major, minor) = version.split_once('.').unwrap();
    let minor: String = minor.chars().take_while(char::is_ascii_digit).collect();
    (major.parse().unwrap(), minor.parse().unwrap())
}

#[test]
fn imports_match_the_documented_interfaces_and_minimum_versions() {
    let imports = imported_interfaces();
    let (documented, requires) = documented();
    let listed: BTreeSet<String> = documented.iter().map(|(name, _)| name.clone()).collect();
    let undocumented: Vec<_> = imports.difference(&listed).collect();
    let stale: Vec<_> = listed.difference(&imports).collect();
    assert!(
        undocumented.is_empty() && stale.is_empty(),
        "docs/deploy.md's WIT import list is out of date.\n\
         imported but not documented (add them with the Spin that provides them): {undocumented:?}\n\
         documented but no longer imported (remove them): {stale:?}"
    );
    // The newest interface sets the floor the `requires` line states:
    // spin:postgres@4.0.0 arrived in Spin 3.4, first shipped by
    // containerd-shim-spin v0.21.0; spec.serviceAccountName needs spin-operator v0.5.0.
    let floor = documented
        .iter()
        .map(|(_, text)| spin_version(text))
        .max()
        .unwrap();
    assert_eq!(floor, spin_version(&requires), "requires: '{requires}'");
    assert_eq!(
        floor,
        (3, 4),
        "the documented floor moved: review the minimum shim version"
    );
    for needed in ["containerd-shim-spin v0.21.0", "spin-operator v0.5.0"] {
        assert!(
            requires.contains(needed),
            "requires line lacks {needed}: '{requires}'"
        );
    }
    assert!(imports.contains("spin:postgres/postgres@4.0.0"));
}

/// Lists the imports, to update the docs: cargo test -p runner --test wit_imports -- --ignored --nocapture
#[test]
#[ignore]
fn print_imports() {
    for name in imported_interfaces() {
        println!("{name}");
    }
}
