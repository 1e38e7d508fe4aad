import {rqCapabilities} from '../../src/adapters/redis/flavors/rq.js'
import {libraryTarget} from '../adapters/redis/targets.js'
import {describeBrokerContract} from './broker-contract.js'

describeBrokerContract('redis rq', libraryTarget('rq'), rqCapabilities)
