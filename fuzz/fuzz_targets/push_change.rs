//! See `cunji_tests::fuzz::push_change`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    cunji_tests::fuzz::only_escaping_panics_crash();
    let _ = cunji_tests::fuzz::push_change(data);
});
