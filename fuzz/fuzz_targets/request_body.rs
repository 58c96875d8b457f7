//! Request bodies as the API's `Body` extractor reads them (`vow_core::json::from_slice`):
//! the first byte picks the type, the rest is the body. The problem's text (pointer,
//! position and expectation) never repeats what was sent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vow_core::json::{JsonProblem, from_slice};

fn check<T: serde::de::DeserializeOwned>(body: &[u8]) {
    if let Err(p) = from_slice::<T>(body) {
        let JsonProblem { pointer, what, .. } = &p;
        let text = String::from_utf8_lossy(body);
        vow_fuzz::assert_no_echo(&text, what);
        vow_fuzz::assert_pointer_error_no_echo(&text, pointer);
        vow_fuzz::assert_pointer_error_no_echo(&text, &p.to_string());
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else {
        return;
    };
    match which % 10 {
        0 => check::<vow_engine::input::NewSubject>(body),
        1 => check::<vow_engine::input::NewConsent>(body),
        2 => check::<vow_engine::input::SubjectPatch>(body),
        3 => check::<vow_engine::NewRequest>(body),
        4 => check::<vow_engine::Step>(body),
        5 => check::<vow_engine::NewHold>(body),
        6 => check::<vow_server::api::CreateTenant>(body),
        7 => check::<vow_server::api::CreateKey>(body),
        8 => check::<vow_server::api::DecisionIn>(body),
        _ => check::<vow_server::api::ReadIn>(body),
    }
});
