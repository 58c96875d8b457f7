//! A policy sent as JSON: the same parser as YAML, fed only well-formed JSON documents
//! (so the fuzzer explores the policy's structure rather than JSON's syntax), and the
//! compiled form the store keeps read back with `vow_core::json`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let Ok(json) = serde_json::to_string(&value) else {
        return;
    };
    let _ = vow_policy::parse(&json, "fuzz.json");
    let _ = vow_core::json::from_slice::<vow_core::Policy>(data);
});
