//! Crate dependencies of a body: the `[dependencies]` section checked against the
//! allow-list named by `plrust.allowed_dependencies`, and resolved to prebuilt rlibs.
//!
//! The allow-list is the original PL/Rust's TOML format: each key a crate name, each
//! value a version requirement, a table `{ version, features, default-features }`, or an
//! array of these (several versions of one crate). An administrator builds the allowed
//! crates ahead of time with `scripts/allow-dependencies.sh <file>` (fetching from the
//! registry, then building offline from a pinned lockfile); that writes a manifest keyed
//! by the SHA-256 of the file. At CREATE FUNCTION nothing is fetched or built: a body's
//! dependencies become `--extern` flags naming the prebuilt rlibs.
//!
//! Parsing and matching are pure; only `load_dependency_set` reads files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use semver::{Version, VersionReq};
use sha2::{Digest, Sha256};

use crate::error::PlRustError;

/// One allowed crate version, as the allow-list states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowed {
    pub name: String,
    pub version: VersionReq,
    pub features: Vec<String>,
    pub default_features: bool,
}

/// Parse an allow-list file's contents.
pub fn parse_allow_list(text: &str) -> Result<Vec<Allowed>, String> {
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| e.to_string())?;
    let mut allowed = Vec::new();
    for (name, value) in table {
        let entries = match value {
            toml::Value::Array(items) => items,
            other => vec![other],
        };
        if entries.is_empty() {
            return Err(format!(
                "`{name}`: an empty list allows nothing; remove the entry"
            ));
        }
        for entry in entries {
            allowed.push(parse_allowed(&name, &entry)?);
        }
    }
    Ok(allowed)
}

fn parse_allowed(name: &str, value: &toml::Value) -> Result<Allowed, String> {
    let spec = parse_spec(name, value)?;
    let version = spec
        .version
        .ok_or_else(|| format!("`{name}`: a version is required"))?;
    Ok(Allowed {
        name: name.to_owned(),
        version,
        features: spec.features,
        default_features: spec.default_features,
    })
}

/// A dependency spec: `"req"` or `{ version = "req", features = [..], default-features = b }`.
struct Spec {
    version: Option<VersionReq>,
    features: Vec<String>,
    default_features: bool,
}

fn parse_spec(name: &str, value: &toml::Value) -> Result<Spec, String> {
    let parse_req = |text: &str| {
        VersionReq::parse(text)
            .map_err(|e| format!("`{name}`: invalid version requirement \"{text}\": {e}"))
    };
    match value {
        toml::Value::String(req) => Ok(Spec {
            version: Some(parse_req(req)?),
            features: Vec::new(),
            default_features: true,
        }),
        toml::Value::Table(t) => {
            let mut spec = Spec {
                version: None,
                features: Vec::new(),
                default_features: true,
            };
            for (key, v) in t {
                match (key.as_str(), v) {
                    ("version", toml::Value::String(req)) => spec.version = Some(parse_req(req)?),
                    ("features", toml::Value::Array(list)) => {
                        for f in list {
                            let f = f.as_str().ok_or_else(|| format!("`{name}`: features must be strings"))?;
                            spec.features.push(f.to_owned());
                        }
                    }
                    ("default-features" | "default_features", toml::Value::Boolean(b)) => {
                        spec.default_features = *b
                    }
                    ("path" | "git" | "branch" | "tag" | "rev" | "registry" | "registry-index", _) => {
                        return Err(format!(
                            "`{name}`: `{key}` dependencies are not allowed; only crates from the allow-list"
                        ))
                    }
                    _ => return Err(format!("`{name}`: unsupported key or value for `{key}`")),
                }
            }
            Ok(spec)
        }
        _ => Err(format!("`{name}`: expected a version string or a table")),
    }
}

/// What the prebuilt dependency set provides: one entry per allowed crate version,
/// recorded by `scripts/allow-dependencies.sh` in `manifest.toml`.
#[derive(Debug, Clone)]
pub struct Built {
    pub name: String,
    pub version: Version,
    /// The features the crate was built with (the allow-list's, plus defaults when on).
    pub features: Vec<String>,
    /// The crate's library name, what `--extern` and the body's paths use.
    pub lib: String,
    /// The rlib's file name inside the set's `target/` directory.
    pub rlib: String,
}

/// A prebuilt dependency set, for one allow-list file's exact contents.
#[derive(Debug, Clone)]
pub struct DependencySet {
    pub dir: PathBuf,
    pub crates: Vec<Built>,
}

impl DependencySet {
    pub fn target_dir(&self) -> PathBuf {
        self.dir.join("target")
    }

    pub fn host_dir(&self) -> PathBuf {
        self.dir.join("host")
    }
}

/// A body's dependency, resolved: `--extern name=path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extern {
    pub name: String,
    pub rlib: PathBuf,
}

/// Check a body's `[dependencies]` section against the allow-list and the prebuilt set.
pub fn resolve(
    section: &str,
    allowed: &[Allowed],
    set: &DependencySet,
) -> Result<Vec<Extern>, PlRustError> {
    let refuse = |message: String| PlRustError::DependencyRefused { message };
    let table: toml::Table = section
        .parse()
        .map_err(|e: toml::de::Error| refuse(format!("[dependencies] is not valid TOML: {e}")))?;
    let mut externs = Vec::new();
    for (name, value) in &table {
        let spec = parse_spec(name, value).map_err(refuse)?;
        let wanted = spec.version.unwrap_or(VersionReq::STAR);
        if !allowed.iter().any(|a| &a.name == name) {
            return Err(refuse(format!(
                "crate `{name}` is not on the allow-list (plrust.allowed_dependencies)"
            )));
        }
        let candidates: Vec<&Built> = set
            .crates
            .iter()
            .filter(|b| &b.name == name && wanted.matches(&b.version))
            .collect();
        let Some(built) = candidates.iter().max_by(|a, b| a.version.cmp(&b.version)) else {
            let versions: Vec<String> = set
                .crates
                .iter()
                .filter(|b| &b.name == name)
                .map(|b| b.version.to_string())
                .collect();
            return Err(refuse(format!(
                "crate `{name}` {wanted} is not allowed; the allowed versions are: {}",
                versions.join(", ")
            )));
        };
        for feature in &spec.features {
            if !built.features.contains(feature) {
                return Err(refuse(format!(
                    "feature `{feature}` of crate `{name}` is not allowed; the allowed features are: [{}]",
                    built.features.join(", ")
                )));
            }
        }
        externs.push(Extern {
            name: built.lib.clone(),
            rlib: set.target_dir().join(&built.rlib),
        });
    }
    Ok(externs)
}

/// The prebuilt set for the allow-list file `path`, found by the SHA-256 of its contents
/// under `sets_dir`.
pub fn load_dependency_set(
    path: &Path,
    sets_dir: &Path,
) -> Result<(Vec<Allowed>, DependencySet), PlRustError> {
    let text = std::fs::read_to_string(path).map_err(|e| PlRustError::AllowList {
        message: format!("cannot read {}: {e}", path.display()),
    })?;
    let allowed = parse_allow_list(&text).map_err(|message| PlRustError::AllowList {
        message: format!("{}: {message}", path.display()),
    })?;
    let sha = sha256_hex(text.as_bytes());
    let dir = sets_dir.join(&sha);
    let manifest_path = dir.join("manifest.toml");
    let manifest =
        std::fs::read_to_string(&manifest_path).map_err(|_| PlRustError::DependenciesNotBuilt {
            file: path.display().to_string(),
        })?;
    let crates = parse_manifest(&manifest).map_err(|message| PlRustError::AllowList {
        message: format!("{}: {message}", manifest_path.display()),
    })?;
    Ok((allowed, DependencySet { dir, crates }))
}

/// `manifest.toml`: `[[crate]]` tables with `name`, `version`, `features`, `lib`, `rlib`.
pub fn parse_manifest(text: &str) -> Result<Vec<Built>, String> {
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| e.to_string())?;
    let Some(toml::Value::Array(entries)) = table.get("crate") else {
        return Ok(Vec::new());
    };
    entries
        .iter()
        .map(|e| {
            let field = |k: &str| {
                e.get(k)
                    .and_then(|v| v.as_str())
                    .ok_or_else(|| format!("crate entry without `{k}`"))
            };
            let features = e
                .get("features")
                .and_then(|v| v.as_array())
                .map(|list| {
                    list.iter()
                        .filter_map(|f| f.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            Ok(Built {
                name: field("name")?.to_owned(),
                version: Version::parse(field("version")?).map_err(|e| e.to_string())?,
                features,
                lib: field("lib")?.to_owned(),
                rlib: field("rlib")?.to_owned(),
            })
        })
        .collect()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The allow-list as rows for `plrust.allowed_dependencies()`: name, version requirement,
/// features, default-features.
pub fn rows(allowed: &[Allowed]) -> Vec<(String, String, Vec<String>, bool)> {
    let mut by_name: BTreeMap<(String, String), (Vec<String>, bool)> = BTreeMap::new();
    for a in allowed {
        by_name.insert(
            (a.name.clone(), a.version.to_string()),
            (a.features.clone(), a.default_features),
        );
    }
    by_name
        .into_iter()
        .map(|((n, v), (f, d))| (n, v, f, d))
        .collect()
}

#[cfg(test)]
mod unit_tests {
    use super::*;

    const ALLOW: &str = r#"
        itoa = "1"
        hex = { version = "0.4", default-features = false, features = ["alloc"] }
        rand = ["0.7", { version = "=0.8.5", features = ["small_rng"] }]
    "#;

    fn set() -> DependencySet {
        let b = |name: &str, version: &str, features: &[&str]| Built {
            name: name.into(),
            version: Version::parse(version).unwrap(),
            features: features.iter().map(|f| f.to_string()).collect(),
            lib: name.replace('-', "_"),
            rlib: format!("lib{name}-{version}.rlib"),
        };
        DependencySet {
            dir: PathBuf::from("/set"),
            crates: vec![
                b("itoa", "1.0.15", &["default"]),
                b("hex", "0.4.3", &["alloc"]),
                b("rand", "0.7.3", &["default", "std"]),
                b("rand", "0.8.5", &["default", "std", "small_rng"]),
            ],
        }
    }

    fn refused(section: &str) -> String {
        match resolve(section, &parse_allow_list(ALLOW).unwrap(), &set()) {
            Err(PlRustError::DependencyRefused { message }) => message,
            other => panic!("expected a refusal for {section:?}, got {other:?}"),
        }
    }

    #[test]
    fn the_original_formats_parse() {
        let allowed = parse_allow_list(ALLOW).unwrap();
        assert_eq!(allowed.len(), 4);
        let hex = allowed.iter().find(|a| a.name == "hex").unwrap();
        assert_eq!(hex.features, vec!["alloc"]);
        assert!(!hex.default_features);
        assert_eq!(allowed.iter().filter(|a| a.name == "rand").count(), 2);
    }

    #[test]
    fn bad_allow_lists_are_refused() {
        assert!(parse_allow_list("x = 1").is_err());
        assert!(parse_allow_list("x = \"not a version\"").is_err());
        assert!(parse_allow_list("x = { features = [\"a\"] }").is_err());
        assert!(parse_allow_list("x = { version = \"1\", path = \"/tmp/x\" }").is_err());
        assert!(parse_allow_list("x = []").is_err());
    }

    #[test]
    fn allowed_dependencies_resolve_to_the_prebuilt_rlib() {
        let externs = resolve(
            "itoa = \"1.0\"\nrand = \"0.8\"\n",
            &parse_allow_list(ALLOW).unwrap(),
            &set(),
        )
        .unwrap();
        assert_eq!(
            externs,
            vec![
                Extern {
                    name: "itoa".into(),
                    rlib: "/set/target/libitoa-1.0.15.rlib".into()
                },
                Extern {
                    name: "rand".into(),
                    rlib: "/set/target/librand-0.8.5.rlib".into()
                },
            ]
        );
        let old = resolve("rand = \"0.7\"", &parse_allow_list(ALLOW).unwrap(), &set()).unwrap();
        assert_eq!(old[0].rlib, PathBuf::from("/set/target/librand-0.7.3.rlib"));
        let with_feature = resolve(
            "hex = { version = \"0.4\", features = [\"alloc\"] }",
            &parse_allow_list(ALLOW).unwrap(),
            &set(),
        );
        assert!(with_feature.is_ok());
    }

    #[test]
    fn everything_else_is_refused() {
        assert!(refused("serde = \"1\"").contains("not on the allow-list"));
        assert!(refused("itoa = \"0.4\"").contains("the allowed versions are: 1.0.15"));
        assert!(
            refused("hex = { version = \"0.4\", features = [\"std\"] }").contains("feature `std`")
        );
        assert!(
            refused("itoa = { path = \"/etc\" }").contains("`path` dependencies are not allowed")
        );
        assert!(refused("itoa = { git = \"https://example.invalid/x\" }").contains("`git`"));
        assert!(refused("not toml at all").contains("not valid TOML"));
    }

    #[test]
    fn manifests_parse() {
        let m = "[[crate]]\nname = \"itoa\"\nversion = \"1.0.15\"\nfeatures = [\"default\"]\nlib = \"itoa\"\nrlib = \"libitoa-abc.rlib\"\n";
        let built = parse_manifest(m).unwrap();
        assert_eq!(built.len(), 1);
        assert_eq!(built[0].rlib, "libitoa-abc.rlib");
        assert!(parse_manifest("").unwrap().is_empty());
    }
}
