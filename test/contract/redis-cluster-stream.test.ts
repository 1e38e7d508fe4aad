import {inject} from 'vitest'
import {streamCapabilities} from '../../src/adapters/redis/flavors/stream.js'
import {clusterUrl, redisTarget} from '../adapters/redis/targets.js'
import {describeBrokerContract} from './broker-contract.js'

describeBrokerContract('redis cluster stream', redisTarget(clusterUrl(inject('redisClusterUrl'), inject('redisClusterError'), 'flavor=stream'), 'stream'), streamCapabilities)
