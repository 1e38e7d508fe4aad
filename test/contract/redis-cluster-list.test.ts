import {inject} from 'vitest'
import {listCapabilities} from '../../src/adapters/redis/flavors/list.js'
import {clusterUrl, redisTarget} from '../adapters/redis/targets.js'
import {describeBrokerContract} from './broker-contract.js'

describeBrokerContract('redis cluster list', redisTarget(clusterUrl(inject('redisClusterUrl'), inject('redisClusterError'), 'flavor=list'), 'list'), listCapabilities)
