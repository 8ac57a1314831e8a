//! See `cunji_tests::fuzz::decode_request`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    cunji_tests::fuzz::only_escaping_panics_crash();
    let _ = cunji_tests::fuzz::decode_request(data);
});
