#include "storage/redis_store.h"

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>

#include <algorithm>
#include <optional>
#include <set>
#include <string_view>
#include <utility>

namespace p2p::storage {
namespace {

using std::chrono::milliseconds;

// Connecting to a healthy Redis on the same network takes microseconds; two
// seconds covers a slow DNS answer for redishost without stalling start-up.
constexpr milliseconds kConnectTimeout{2000};
// A pipeline of kBatchRecords announces is ~3000 commands, applied by Redis in
// a few milliseconds. A Redis that says nothing for this long (stopped, stuck
// in a slow command) is treated as down: the batch fails and we reconnect.
constexpr milliseconds kCommandTimeout{3000};
// Reconnect backoff while Redis is unreachable: first retry soon (a restart
// takes well under a second), then at most once a second, so after Redis
// returns we lose at most about a second more of writes.
constexpr milliseconds kBackoffMin{50};
constexpr milliseconds kBackoffMax{1000};
// On destruction the writer keeps writing what is queued for this long, then
// counts the rest as errors, so shutdown is bounded when Redis is slow.
constexpr milliseconds kShutdownDrain{2000};
// Deregistrations kept while Redis is away. They are operator actions, a few a
// day; the bound only keeps a Redis that never returns from growing memory.
constexpr std::size_t kMaxUnsentDeregistrations = 4096;
// Keys per SCAN round trip while archiving: a transfer has about 15 keys per
// peer; Redis answers a COUNT of 1000 in well under a millisecond.
constexpr std::string_view kScanCount = "1000";

timeval to_timeval(milliseconds d) {
  timeval tv;
  tv.tv_sec = static_cast<time_t>(d.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((d.count() % 1000) * 1000);
  return tv;
}

// hiredis 0.14 writes with write(2): a write to a connection Redis has closed
// raises SIGPIPE, which kills the process unless someone ignores it. This
// blocks SIGPIPE in the calling thread while it lives and consumes one it
// raised, without touching process-wide signal dispositions.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~SigpipeGuard() {
    if (!was_pending_) {
      sigset_t pending;
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        const timespec zero{0, 0};
        sigtimedwait(&pipe_, nullptr, &zero);
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t pipe_;
  sigset_t old_;
  bool was_pending_ = false;
};

std::string where(const std::string& host, std::uint16_t port) {
  return host + ":" + std::to_string(port);
}

// A connection, or kUnavailable with hiredis's reason alone ("Connection
// refused"): the store's state shows it as is, reads wrap it for the operator.
core::Result<RedisStore::Context> open_context(const std::string& host, std::uint16_t port) {
  auto unreachable = [](const std::string& reason) { return core::unavailable(reason); };
  RedisStore::Context c(redisConnectWithTimeout(host.c_str(), port, to_timeval(kConnectTimeout)));
  if (!c) return unreachable("out of memory");
  if (c->err) return unreachable(c->errstr);
  if (redisSetTimeout(c.get(), to_timeval(kCommandTimeout)) != REDIS_OK) {
    return unreachable(c->errstr[0] ? c->errstr : "cannot set socket timeout");
  }
  // Keepalive lets an idle connection notice a Redis host that vanished.
  redisEnableKeepAlive(c.get());
  return c;
}

std::string reply_text(const redisReply* r) { return std::string(r->str, r->len); }

}  // namespace

void RedisStore::ContextDeleter::operator()(redisContext* c) const { redisFree(c); }
void RedisStore::ReplyDeleter::operator()(redisReply* r) const { freeReplyObject(r); }

core::Result<std::unique_ptr<RedisStore>> RedisStore::connect(const Options& options,
                                                              RackNamer rack_namer,
                                                              const core::Clock& clock) {
  // The read connection opens on the first read; the writer's is tried now so
  // the store reports Redis's state from the start.
  auto writer = open_context(options.redis_host, options.redis_port);
  std::unique_ptr<RedisStore> store(new RedisStore(options, std::move(rack_namer), clock,
                                                   writer.ok() ? std::move(*writer) : Context()));
  if (!writer.ok()) store->set_connected(false, writer.error().message);
  store->writer_ = std::thread([s = store.get()] { s->run(); });
  return store;
}

RedisStore::RedisStore(const Options& options, RackNamer rack_namer, const core::Clock& clock,
                       Context writer_context)
    : WriteBehindStore(options, std::move(rack_namer), clock),
      host_(options.redis_host),
      port_(options.redis_port),
      archive_expiry_(options.archive_expiry),
      writer_context_(std::move(writer_context)) {}

RedisStore::~RedisStore() {
  stop_queue();
  writer_.join();
}

core::Result<RedisStore::Context> RedisStore::open() const { return open_context(host_, port_); }

// --- Writer thread ------------------------------------------------------------

void RedisStore::run() {
  const SigpipeGuard sigpipe;  // for the thread's whole life
  std::vector<QueuedRecord> records;
  std::vector<TransferRecord> transfers;
  records.reserve(kBatchRecords);
  milliseconds backoff = kBackoffMin;
  std::optional<std::chrono::steady_clock::time_point> drain_deadline;
  for (;;) {
    const bool closing = queue_.closed();
    if (closing && !drain_deadline) {
      drain_deadline = std::chrono::steady_clock::now() + kShutdownDrain;
    }
    if (!writer_context_ && !closing) {
      auto c = open();
      // Connected only once the catch-up is through: until then Redis lacks
      // what was written while it was away.
      if (c.ok()) {
        writer_context_ = std::move(*c);
        if (resync()) {
          set_connected(true);
          backoff = kBackoffMin;
          continue;
        }
      } else {
        set_connected(false, c.error().message);
      }
      // Redis is unreachable: what is queued now would only go stale or fill
      // the queue, so it fails (counted); then wait and retry.
      fail_queued();
      queue_.wait_closed_for(backoff);
      backoff = std::min(2 * backoff, kBackoffMax);
      continue;
    }
    if (!queue_.pop(records, transfers, kBatchRecords)) break;  // closed and drained
    if (!writer_context_ ||
        (drain_deadline && std::chrono::steady_clock::now() > *drain_deadline)) {
      finish(records.size(), records.size());
      continue;
    }
    finish(records.size(), write_batch(records, transfers));
  }
  writer_context_.reset();
}

bool RedisStore::resync() {
  std::vector<QueuedRecord> records;
  records.swap(unsent_deregistrations_);
  std::vector<TransferRecord> transfers = registered_transfers();
  for (const TransferRecord& t : transfers) {
    QueuedRecord r;
    r.kind = QueuedRecord::Kind::kRegistered;
    r.peer.info_hash = t.info_hash;
    records.push_back(r);
  }
  // Not counted as written or failed: these records were counted when first
  // queued; the counters stay one per write issued. A command Redis refuses
  // does not hold the catch-up up; only a lost connection does.
  write_batch(records, transfers);
  if (!writer_context_) return false;
  count_resync();
  return true;
}

void RedisStore::fail_queued() {
  std::vector<QueuedRecord> records;
  std::vector<TransferRecord> transfers;
  while (std::size_t n = queue_.take(records, transfers, kBatchRecords)) {
    failed_.assign(n, 1);
    keep_failed_deregistrations(records);
    finish(n, n);
  }
}

void RedisStore::keep_failed_deregistrations(const std::vector<QueuedRecord>& records) {
  // Only what failed for want of a connection: a command Redis refused would
  // be refused again.
  if (writer_context_) return;
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (failed_[i] == 0 || records[i].kind != QueuedRecord::Kind::kDeregistered) continue;
    if (unsent_deregistrations_.size() >= kMaxUnsentDeregistrations) {
      unsent_deregistrations_.erase(unsent_deregistrations_.begin());
    }
    unsent_deregistrations_.push_back(records[i]);
  }
}

void RedisStore::drop_connection(std::string_view reason) {
  std::string why(reason);  // `reason` may live in the context freed below
  writer_context_.reset();
  set_connected(false, why.empty() ? "connection lost" : why);
}

std::size_t RedisStore::write_batch(const std::vector<QueuedRecord>& records,
                                    const std::vector<TransferRecord>& transfers) {
  failed_.assign(records.size(), 0);
  batch_.clear();
  record_end_.clear();
  std::size_t first = 0;  // first record of the pipeline being built
  std::size_t next_transfer = 0;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const QueuedRecord& record = records[i];
    const TransferRecord* transfer = nullptr;
    if (record.kind == QueuedRecord::Kind::kRegistered) transfer = &transfers[next_transfer++];
    if (!writer_context_) {  // the connection broke earlier in this batch
      failed_[i] = 1;
      continue;
    }
    plan(record, transfer, batch_);
    record_end_.push_back(batch_.size());
    if (record.kind == QueuedRecord::Kind::kDeregistered) {
      // Archiving must see every earlier write of this batch, and SCAN needs
      // its replies one by one: send what is planned, then archive.
      if (send_pipeline(first) && !archive(record.peer.info_hash, record.peer.at)) {
        failed_[i] = 1;
      }
      batch_.clear();
      record_end_.clear();
      first = i + 1;
    }
  }
  if (!record_end_.empty()) send_pipeline(first);
  keep_failed_deregistrations(records);
  return static_cast<std::size_t>(std::count(failed_.begin(), failed_.end(), 1));
}

bool RedisStore::send_pipeline(std::size_t first_record) {
  redisContext* c = writer_context_.get();
  auto fail_all = [&] {
    for (std::size_t i = 0; i < record_end_.size(); ++i) failed_[first_record + i] = 1;
    drop_connection(c->errstr);
    return false;
  };
  for (std::size_t k = 0; k < batch_.size(); ++k) {
    const CommandBatch::Command& cmd = batch_.command(k);
    argv_.clear();
    argv_len_.clear();
    const char* verb = verb_name(cmd.verb);
    argv_.push_back(verb);
    argv_len_.push_back(std::char_traits<char>::length(verb));
    for (std::uint32_t a = 0; a < cmd.argc; ++a) {
      const std::string_view arg = batch_.argument(cmd.first_arg + a);
      argv_.push_back(arg.data());
      argv_len_.push_back(arg.size());
    }
    // Only buffers the command; fails only when out of memory.
    if (redisAppendCommandArgv(c, static_cast<int>(argv_.size()), argv_.data(), argv_len_.data()) !=
        REDIS_OK) {
      return fail_all();
    }
  }
  std::size_t record = 0;  // index into record_end_
  for (std::size_t k = 0; k < batch_.size(); ++k) {
    while (record_end_[record] <= k) ++record;
    void* raw = nullptr;
    // The first call writes the whole pipeline, then each reads one reply.
    if (redisGetReply(c, &raw) != REDIS_OK) return fail_all();
    const Reply reply(static_cast<redisReply*>(raw));
    if (reply->type == REDIS_REPLY_ERROR) failed_[first_record + record] = 1;
  }
  return true;
}

bool RedisStore::archive(const core::InfoHash& info_hash, core::TimePoint at) {
  const std::string match = model_.archive_match(info_hash);
  // SCAN may return a key more than once; RENAME must see each once.
  std::set<std::string> keys;
  std::string cursor = "0";
  do {
    const char* argv[] = {"SCAN",        cursor.c_str(), "MATCH",
                          match.c_str(), "COUNT",        kScanCount.data()};
    const std::size_t len[] = {4, cursor.size(), 5, match.size(), 5, kScanCount.size()};
    const Reply reply(
        static_cast<redisReply*>(redisCommandArgv(writer_context_.get(), 6, argv, len)));
    if (!reply) {
      drop_connection(writer_context_->errstr);
      return false;
    }
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
        reply->element[1]->type != REDIS_REPLY_ARRAY) {
      return false;
    }
    cursor = reply_text(reply->element[0]);
    const redisReply* batch = reply->element[1];
    for (std::size_t i = 0; i < batch->elements; ++i) keys.insert(reply_text(batch->element[i]));
  } while (cursor != "0");

  redisContext* c = writer_context_.get();
  std::vector<std::string> targets;
  targets.reserve(keys.size());
  const std::string ttl = std::to_string(archive_expiry_.count());
  std::size_t replies = 0;
  for (const std::string& key : keys) {
    targets.push_back(model_.archived_key(key, at));
    const char* argv[] = {"RENAME", key.c_str(), targets.back().c_str()};
    const std::size_t len[] = {6, key.size(), targets.back().size()};
    if (redisAppendCommandArgv(c, 3, argv, len) != REDIS_OK) {
      drop_connection(c->errstr);
      return false;
    }
    ++replies;
    if (archive_expiry_.count() == 0) continue;
    // The archive lives as long as the deploy's /history/ record.
    const char* expire_argv[] = {"EXPIRE", targets.back().c_str(), ttl.c_str()};
    const std::size_t expire_len[] = {6, targets.back().size(), ttl.size()};
    if (redisAppendCommandArgv(c, 3, expire_argv, expire_len) != REDIS_OK) {
      drop_connection(c->errstr);
      return false;
    }
    ++replies;
  }
  bool ok = true;
  for (std::size_t i = 0; i < replies; ++i) {
    void* raw = nullptr;
    if (redisGetReply(c, &raw) != REDIS_OK) {
      drop_connection(c->errstr);
      return false;
    }
    const Reply reply(static_cast<redisReply*>(raw));
    if (reply->type == REDIS_REPLY_ERROR) ok = false;
  }
  return ok;
}

// --- Reads ----------------------------------------------------------------------

core::Result<RedisStore::Reply> RedisStore::read_command(const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<std::size_t> len;
  for (const std::string& a : args) {
    argv.push_back(a.data());
    len.push_back(a.size());
  }
  std::lock_guard lock(read_mu_);
  const SigpipeGuard sigpipe;
  // A connection left from before a Redis restart fails its first command;
  // then one fresh connection gets one more try.
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool fresh = false;
    if (!read_context_) {
      auto c = open();
      if (!c.ok()) {
        return core::unavailable("cannot reach Redis at " + where(host_, port_) + ": " +
                                 c.error().message +
                                 "; is redis-server running? (set redishost/redisport)");
      }
      read_context_ = std::move(*c);
      fresh = true;
    }
    Reply reply(static_cast<redisReply*>(redisCommandArgv(
        read_context_.get(), static_cast<int>(argv.size()), argv.data(), len.data())));
    if (reply) {
      if (reply->type == REDIS_REPLY_ERROR) {
        return core::internal("Redis at " + where(host_, port_) + " refused " + args[0] + ": " +
                              reply_text(reply.get()));
      }
      return reply;
    }
    const std::string reason = read_context_->errstr;
    read_context_.reset();
    if (fresh) {
      return core::unavailable("Redis at " + where(host_, port_) + " failed " + args[0] + ": " +
                               reason);
    }
  }
  return core::unavailable("Redis at " + where(host_, port_) + " is unreachable");
}

core::Result<std::vector<std::string>> RedisStore::set_members(const std::string& key) {
  auto reply = read_command({"SMEMBERS", key});
  if (!reply.ok()) return reply.error();
  const redisReply* r = reply->get();
  if (r->type != REDIS_REPLY_ARRAY) {
    return core::internal("Redis SMEMBERS " + key + " did not return an array");
  }
  std::vector<std::string> out;
  out.reserve(r->elements);
  for (std::size_t i = 0; i < r->elements; ++i) out.push_back(reply_text(r->element[i]));
  return out;
}

core::Result<std::vector<std::optional<std::string>>> RedisStore::values(
    const std::vector<std::string>& keys) {
  std::vector<std::optional<std::string>> out;
  if (keys.empty()) return out;
  std::vector<std::string> args;
  args.reserve(keys.size() + 1);
  args.push_back("MGET");
  args.insert(args.end(), keys.begin(), keys.end());
  auto reply = read_command(args);
  if (!reply.ok()) return reply.error();
  const redisReply* r = reply->get();
  if (r->type != REDIS_REPLY_ARRAY || r->elements != keys.size()) {
    return core::internal("Redis MGET did not return one value per key");
  }
  out.reserve(keys.size());
  for (std::size_t i = 0; i < r->elements; ++i) {
    const redisReply* e = r->element[i];
    if (e->type == REDIS_REPLY_STRING) {
      out.push_back(reply_text(e));
    } else {
      out.push_back(std::nullopt);
    }
  }
  return out;
}

}  // namespace p2p::storage
