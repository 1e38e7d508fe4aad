// Databases of the shared Redis for the Bull and Bee-Queue tests (free: others use 0 and 3–15).
// Never flushed: every test uses unique queue names.
export const BULL_DB = 1
export const BEE_DB = 2
