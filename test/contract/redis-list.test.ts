import {listCapabilities} from '../../src/adapters/redis/flavors/list.js'
import {DB, REDIS_HOST, redisTarget} from '../adapters/redis/targets.js'
import {describeBrokerContract} from './broker-contract.js'

describeBrokerContract('redis list', redisTarget(`redis://${REDIS_HOST}/${DB.list}?flavor=list`, 'list'), listCapabilities)
