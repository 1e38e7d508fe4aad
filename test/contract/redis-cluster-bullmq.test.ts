import {inject} from 'vitest'
import {bullmqCapabilities} from '../../src/adapters/redis/flavors/bullmq.js'
import {clusterUrl, redisTarget} from '../adapters/redis/targets.js'
import {describeBrokerContract} from './broker-contract.js'

describeBrokerContract('redis cluster bullmq', redisTarget(clusterUrl(inject('redisClusterUrl'), inject('redisClusterError'), 'flavor=bullmq'), 'bullmq'), bullmqCapabilities)
