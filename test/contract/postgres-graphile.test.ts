import {describeGraphileContract} from './graphile-target.js'

describeGraphileContract('postgres graphile')
