//! A dataset manifest as `vow dataset check` takes it (fideslang YAML): parse and
//! every check; no problem's message repeats the input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(problems) = vow_connect::check(source, "fuzz.yml", None) {
        for p in problems {
            vow_fuzz::assert_no_echo(source, &p.message);
        }
    }
});
