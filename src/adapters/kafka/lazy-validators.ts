// @platformatic/kafka compiles about 40 JSON-schema validators with ajv while its modules load
// (~200 ms of CPU: 40 % of a Kafka command's start-up) and calls them only for a client made with
// `strict: true`, which queuectl never sets. Imported before the client (index.ts's first import),
// this makes that Ajv class compile a schema on its validator's first call instead: the same
// validator, its `errors` kept where the client reads them.
import {Ajv2020} from 'ajv/dist/2020.js'

type Validate = ((...args: unknown[]) => unknown) & {errors?: unknown}
type Compile = (this: unknown, schema: unknown, meta?: boolean) => Validate

const proto = Ajv2020.prototype as unknown as {compile: Compile; lazyCompile?: true}
if (!proto.lazyCompile) {
  const compile = proto.compile
  proto.lazyCompile = true
  proto.compile = function (this: unknown, schema: unknown, meta?: boolean): Validate {
    const ajv = this
    let real: Validate | undefined
    const lazy: Validate = function (this: unknown, ...args: unknown[]) {
      real ??= compile.call(ajv, schema, meta)
      const result = real.apply(this, args)
      lazy.errors = real.errors
      return result
    }
    return lazy
  }
}
