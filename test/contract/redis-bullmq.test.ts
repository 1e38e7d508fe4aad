import {bullmqCapabilities} from '../../src/adapters/redis/flavors/bullmq.js'
import {DB, REDIS_HOST, redisTarget} from '../adapters/redis/targets.js'
import {describeBrokerContract} from './broker-contract.js'

describeBrokerContract('redis bullmq', redisTarget(`redis://${REDIS_HOST}/${DB.bullmq}?flavor=bullmq`, 'bullmq'), bullmqCapabilities)
