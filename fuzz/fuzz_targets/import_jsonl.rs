//! `vow import FILE.jsonl`: every row parsed; a bad row's error never repeats the row.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for (_, row) in vow_engine::vault::import::parse_jsonl(text) {
        if let Err(e) = row {
            vow_fuzz::assert_pointer_error_no_echo(text, &e);
        }
    }
});
