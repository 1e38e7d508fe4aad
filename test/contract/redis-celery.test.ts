import {celeryCapabilities} from '../../src/adapters/redis/flavors/celery.js'
import {libraryTarget} from '../adapters/redis/targets.js'
import {describeBrokerContract} from './broker-contract.js'

describeBrokerContract('redis celery', libraryTarget('celery'), celeryCapabilities)
