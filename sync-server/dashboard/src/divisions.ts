// Generated from cunji_core::domain::ScopeLevel by the sync server's unit test `divisions_ts_is_current`
// (CUNJI_WRITE_BINDINGS=1 cargo test -p cunji-sync-server --lib divisions_ts). Do not edit.

export type Level = 'village' | 'township' | 'county' | 'city';
export const LEVELS: Level[] = ['village', 'township', 'county', 'city'];
/** Digits of a division's code at each level. */
export const CODE_LEN: Record<Level, number> = { village: 12, township: 9, county: 6, city: 4 };
