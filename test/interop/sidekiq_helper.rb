# Drives Sidekiq's own client and API for queuectl's interop tests. REDIS_URL picks the db.
#   ruby sidekiq_helper.rb push QUEUE WORKQUEUE   waiting, scheduled, unknown-field and failing jobs
#   ruby sidekiq_helper.rb report QUEUE           what Sidekiq's API says about QUEUE, as JSON
#   ruby sidekiq_helper.rb kill QUEUE KEY VALUE   a QctlSetKey(KEY, VALUE) job put in the dead set as
#                                                 DeadSet#kill does; prints its jid
#   ruby sidekiq_helper.rb retryset QUEUE         a job waiting in the retry set an hour ahead (its
#                                                 JobSet#schedule, as a failed job's retry puts it); prints its jid
require 'json'
require 'sidekiq'
require 'sidekiq/api'
require_relative 'sidekiq_app'

def jobs_of(set, queue)
  set.select { |e| e.queue == queue }.map { |e| e.item.merge('score' => e.score) }
end

cmd, queue, work = ARGV
case cmd
when 'push'
  ids = {
    'first' => Sidekiq::Client.push('class' => 'QctlSetKey', 'args' => ['never-1', 'a'], 'queue' => queue),
    'second' => Sidekiq::Client.push('class' => 'QctlSetKey', 'args' => ['never-2', 'b'], 'queue' => queue,
                                     'tenant' => 'acme', 'tags' => ['x', 'y'], 'custom_ctx' => { 'trace' => 't-1' }),
    'scheduled' => Sidekiq::Client.push('class' => 'QctlSetKey', 'args' => ['never-3', 'c'], 'queue' => queue,
                                        'at' => Time.now.to_f + 3600),
    'retried' => Sidekiq::Client.push('class' => 'QctlFail', 'args' => ['boom'], 'queue' => work, 'retry' => 3),
    'dead' => Sidekiq::Client.push('class' => 'QctlFail', 'args' => ['gone'], 'queue' => work, 'retry' => 0)
  }
  puts JSON.generate(ids)
when 'kill'
  key, value = ARGV[2], ARGV[3]
  job = { 'class' => 'QctlSetKey', 'args' => [key, value], 'queue' => queue, 'retry' => 2, 'jid' => SecureRandom.hex(12),
          'created_at' => Time.now.to_f, 'enqueued_at' => Time.now.to_f, 'error_message' => 'killed', 'error_class' => 'RuntimeError',
          'failed_at' => Time.now.to_f, 'retry_count' => 2 }
  Sidekiq.redis { |c| c.sadd('queues', queue) } # it was enqueued there before it died
  Sidekiq::DeadSet.new.kill(Sidekiq.dump_json(job), notify_failure: false)
  puts JSON.generate('jid' => job['jid'])
when 'retryset'
  job = { 'class' => 'QctlSetKey', 'args' => ['qctl-key-never-r', 'r'], 'queue' => queue, 'retry' => 5, 'jid' => SecureRandom.hex(12),
          'created_at' => Time.now.to_f, 'enqueued_at' => Time.now.to_f, 'error_message' => 'flaky', 'error_class' => 'RuntimeError',
          'failed_at' => Time.now.to_f, 'retry_count' => 1 }
  Sidekiq.redis { |c| c.sadd('queues', queue) }
  Sidekiq::RetrySet.new.schedule(Time.now.to_f + 3600, job)
  puts JSON.generate('jid' => job['jid'])
when 'report'
  q = Sidekiq::Queue.new(queue)
  stats = Sidekiq::Stats.new
  puts JSON.generate(
    'size' => q.size,
    'jobs' => q.map(&:item),
    'scheduled' => jobs_of(Sidekiq::ScheduledSet.new, queue),
    'retry' => jobs_of(Sidekiq::RetrySet.new, queue),
    'dead' => jobs_of(Sidekiq::DeadSet.new, queue),
    'busy' => Sidekiq::Workers.new.select { |_p, _t, work| work['queue'] == queue }.map { |_p, _t, work| work['payload'] },
    'processes' => Sidekiq::ProcessSet.new.select { |p| p['queues'].include?(queue) }.size,
    'processed' => stats.processed,
    'failed' => stats.failed,
    'queues' => Sidekiq::Queue.all.map(&:name)
  )
end
