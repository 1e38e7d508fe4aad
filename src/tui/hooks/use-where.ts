// The detail view's `/` filter: CEL compiled by the same code as `--where` (services/find), loaded
// only once a queue is opened, then compiled synchronously as the user types.
import {useEffect, useMemo, useState} from 'react'
import type {Message} from '../../broker/contract.js'
import {loadWhereCompiler, type Where} from '../../services/find/expression.js'

type Compile = Awaited<ReturnType<typeof loadWhereCompiler>>

export interface WhereFilter {
  /** The messages that match (all of them without a filter). */
  messages: readonly Message[]
  /** Their ids, when a filter is applied; undefined without one or before it can be. */
  ids?: readonly string[]
  /** Why the filter cannot apply (the expression's mistake). */
  error?: string
  /** Checks an expression as typed: its mistake with the column, or undefined; undefined until CEL is loaded. */
  check?: (text: string) => string | undefined
}

export function useWhere(active: boolean, text: string, messages: readonly Message[]): WhereFilter {
  const [compile, setCompile] = useState<Compile>()
  useEffect(() => {
    if (!active || compile) return
    let mounted = true
    loadWhereCompiler().then((c) => mounted && setCompile(() => c), () => undefined)
    return () => {
      mounted = false
    }
  }, [active, compile])
  const check = useMemo(() => (compile ? (t: string) => mistake(compile(t), t) : undefined), [compile])
  return useMemo(() => {
    if (!text) return {messages, check}
    if (!compile) return {messages: [], check}
    const compiled = compile(text)
    if ('error' in compiled) return {messages: [], error: mistake(compiled, text), check}
    const where: Where = compiled.where
    const matching = messages.filter((m) => where.test(m))
    return {messages: matching, ids: matching.map((m) => m.id), check}
  }, [text, compile, messages, check])
}

/** The mistake without the expression it quotes (the prompt shows the expression). */
function mistake(compiled: {where: Where} | {error: string}, text: string): string | undefined {
  if (!('error' in compiled)) return undefined
  const quoted = `"${text}": `
  return compiled.error.startsWith(quoted) ? compiled.error.slice(quoted.length) : compiled.error
}
