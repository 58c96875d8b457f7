//! The few options of the single-purpose benchmark tools in `src/bin/`
//! (`--name value`; the `vow-bench` tool itself uses clap).

/// The value after `name` on the command line, or `default`.
pub fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| default.to_string())
}

/// A number after `name`, or `default` when it is missing or not a number.
pub fn number(name: &str, default: u64) -> u64 {
    arg(name, "").parse().unwrap_or(default)
}
