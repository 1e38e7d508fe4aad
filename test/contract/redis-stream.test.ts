import {streamCapabilities} from '../../src/adapters/redis/flavors/stream.js'
import {DB, REDIS_HOST, redisTarget} from '../adapters/redis/targets.js'
import {describeBrokerContract} from './broker-contract.js'

describeBrokerContract('redis stream', redisTarget(`redis://${REDIS_HOST}/${DB.stream}?flavor=stream`, 'stream'), streamCapabilities)
