//! `vow import FILE.csv`: the header and every row parsed; errors never repeat a cell.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match vow_engine::vault::import::parse_csv(text) {
        Ok(rows) => {
            for (_, row) in rows {
                if let Err(e) = row {
                    vow_fuzz::assert_no_echo(text, &e);
                }
            }
        }
        Err(e) => vow_fuzz::assert_no_echo(text, &e),
    }
});
