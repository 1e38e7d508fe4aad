import {asynqCapabilities} from '../../src/adapters/redis/flavors/asynq.js'
import {libraryTarget} from '../adapters/redis/targets.js'
import {describeBrokerContract} from './broker-contract.js'

describeBrokerContract('redis asynq', libraryTarget('asynq'), asynqCapabilities)
