# Sidekiq 6.4 jobs (Debian ruby-sidekiq) for queuectl's interop tests; REDIS_URL picks the db.
#   sidekiq -r ./sidekiq_app.rb -q QUEUE     runs them
require 'sidekiq'

# Sets a Redis key, so a test can see the job ran (and with which arguments).
class QctlSetKey
  include Sidekiq::Worker
  def perform(key, value)
    Sidekiq.redis { |c| c.set(key, value) }
  end
end

# Always fails; its retry is an hour away so the retry set holds still during a test.
class QctlFail
  include Sidekiq::Worker
  sidekiq_retry_in { |_count, _exception| 3600 }
  def perform(message)
    raise ArgumentError, message
  end
end

# Stays busy (in flight) until the key it is given exists, at most 60 s.
class QctlBlock
  include Sidekiq::Worker
  def perform(key)
    600.times do
      break if Sidekiq.redis { |c| c.exists?(key) }
      sleep 0.1
    end
  end
end
