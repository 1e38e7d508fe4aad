// Placeholder until the amqp adapter lands: says so instead of pretending.
import type {BrokerFactory} from '../contract.js'
import {NotSupportedError} from '../../core/errors.js'

export const createAmqpBroker: BrokerFactory = async (url) => {
  throw new NotSupportedError(`${url.protocol}// is not supported by this build yet — use memory:// for now`)
}
