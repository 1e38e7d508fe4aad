// The handler `queue work --handler` runs in bench/wire-ops.mjs: does nothing, so the row measures queuectl.
export default async function noop() {}
