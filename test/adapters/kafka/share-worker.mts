// A share-group worker for the kill -9 test: prints `DONE <value>` for each record, then acks it (args: port topic group).
import {ShareGroupClient} from '../../../src/adapters/kafka/share-group.js'
import {shareConsume} from '../../../src/adapters/kafka/share.js'

const [port, topic, group] = process.argv.slice(2) as [string, string, string]
const client = new ShareGroupClient({host: '127.0.0.1', port: Number(port)}, group)
const sub = await shareConsume(
  client,
  `share:${topic}/${group}`,
  (lease) => {
    setTimeout(() => {
      // the work is done (and said) before the ack: a kill between the two redelivers it, never loses it
      process.stdout.write(`DONE ${lease.message.payload.toString()}\n`)
      lease.ack().catch((e: Error) => {
        process.stderr.write(`${e.message}\n`)
      })
    }, 20)
  },
  {prefetch: 5},
)
process.stdout.write('JOINED\n')
const error = await sub.closed
if (error) {
  process.stderr.write(`${error.message}\n`)
  process.exit(1)
}
