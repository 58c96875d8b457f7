//! A policy file as `PUT …/policy` and `vow policy check` take it (YAML; JSON is YAML
//! too): parse and every check, then the notice, which renders whatever parsed.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(checked) = vow_policy::parse(source, "fuzz.yaml") {
        let _ = vow_policy::render_markdown(&checked.policy, None);
    }
});
