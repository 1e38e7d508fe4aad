import {sidekiqCapabilities} from '../../src/adapters/redis/flavors/sidekiq.js'
import {libraryTarget} from '../adapters/redis/targets.js'
import {describeBrokerContract} from './broker-contract.js'

describeBrokerContract('redis sidekiq', libraryTarget('sidekiq'), sidekiqCapabilities)
