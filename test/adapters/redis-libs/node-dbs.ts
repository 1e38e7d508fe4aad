// Databases of the shared Redis for the Bull and Bee-Queue tests (free: others use 0 and 5–15).
// Never flushed: every test uses unique queue names.
export const BULL_DB = 3
export const BEE_DB = 4
