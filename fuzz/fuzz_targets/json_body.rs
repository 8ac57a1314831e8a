//! See `cunji_tests::fuzz::json_body`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    cunji_tests::fuzz::only_escaping_panics_crash();
    cunji_tests::fuzz::json_body(data);
});
