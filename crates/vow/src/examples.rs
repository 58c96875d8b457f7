//! The example profiles, compiled into the binary so that `vow demo` works from
//! any directory. They are the files of `examples/` (the generator script and the
//! README stay in the repository).

use std::io::Write as _;
use std::path::Path;

macro_rules! file {
    ($path:literal) => {
        (
            $path,
            include_bytes!(concat!("../../../examples/", $path)).as_slice(),
        )
    };
}

const FILES: &[(&str, &[u8])] = &[
    file!("marketing-platform/clients/bluebird-bakery/policy.yaml"),
    file!("marketing-platform/clients/bluebird-bakery/subjects.jsonl"),
    file!("marketing-platform/clients/northwind-outfitters/policy.yaml"),
    file!("marketing-platform/clients/northwind-outfitters/subjects.jsonl"),
    file!("marketing-platform/platform/policy.yaml"),
    file!("marketing-platform/platform/subjects.jsonl"),
    file!("marketing-platform/tenants.json"),
    file!("research-operator/bad-rows.jsonl"),
    file!("research-operator/incident.yaml"),
    file!("research-operator/policy.yaml"),
    file!("research-operator/subjects.jsonl"),
    file!("research-operator/tenants.json"),
    file!("shop/dataset.yml"),
    file!("shop/policy.yaml"),
];

/// Write the built-in examples under `dir` (owner-only, as everything under a data
/// directory is), and return `dir`.
pub fn write_to(dir: &Path) -> std::io::Result<&Path> {
    for (name, bytes) in FILES {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            vow_crypto::files::create_private_dir_all(parent)?;
        }
        vow_crypto::files::create_private_file(&path)?.write_all(bytes)?;
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_example_file_is_built_in() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
        let mut on_disk = Vec::new();
        let mut stack = vec![root.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    if !p.ends_with("__pycache__") {
                        stack.push(p);
                    }
                } else if !p.extension().is_some_and(|x| x == "py" || x == "md") {
                    on_disk.push(p.strip_prefix(&root).unwrap().to_string_lossy().to_string());
                }
            }
        }
        on_disk.sort();
        let built_in: Vec<String> = super::FILES.iter().map(|(n, _)| n.to_string()).collect();
        assert_eq!(built_in, on_disk, "examples/ and the built-in list differ");
    }
}
