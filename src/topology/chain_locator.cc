#include "topology/chain_locator.h"

#include <spdlog/spdlog.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <future>

namespace p2p::topology {

namespace asio = boost::asio;

ChainLocator::ChainLocator(std::unique_ptr<Locator> fallback, ChainOptions options,
                           const core::Clock& clock, RackNames& names)
    : fallback_(std::move(fallback)), options_(options), clock_(clock), names_(names) {}

ChainLocator::~ChainLocator() { stop(); }

void ChainLocator::add_source(std::unique_ptr<LookupSource> source, std::size_t max_in_flight) {
  auto s = std::make_unique<Source>();
  s->max_in_flight = max_in_flight;
  s->stats.name = std::string(source->name());
  s->stats.since = clock_.now();
  s->lookup = std::move(source);
  s->cache = std::make_unique<AnswerCache>(options_.cache_size);
  sources_.push_back(std::move(s));
}

void ChainLocator::start() {
  if (thread_.joinable()) return;
  for (std::size_t i = 0; i < sources_.size(); ++i) {
    asio::post(io_, [this, i] {
      sources_[i]->lookup->start_bulk(
          [this, i](std::vector<std::pair<core::Address, Answer>>&& answers) {
            // An inventory lists every host it knows: the ones it does not
            // list are asked about one by one, as without it.
            const core::TimePoint now = clock_.now();
            for (auto& [address, answer] : answers) {
              if (answer.kind == Answer::Kind::kUnknown) continue;
              const core::RackId rack = intern(answer);
              store(i, address, answer.kind, rack, now);
            }
          });
    });
  }
  thread_ = std::thread([this] {
    auto work = asio::make_work_guard(io_);
    io_.run();
  });
}

void ChainLocator::stop() {
  io_.stop();
  if (thread_.joinable()) thread_.join();
}

std::vector<std::string> ChainLocator::check(const core::Address& probe) {
  std::vector<std::string> failures;
  for (auto& s : sources_) {
    std::promise<Answer> answer;
    auto got = answer.get_future();
    LookupSource* source = s->lookup.get();
    asio::post(io_, [source, probe, &answer] {
      source->lookup(probe, [&answer](Answer a) { answer.set_value(std::move(a)); });
    });
    const auto started = std::chrono::steady_clock::now();
    Answer a = got.get();
    note_answer(*s, a,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
                clock_.now(), /*log=*/false);
    if (a.kind == Answer::Kind::kError) {
      failures.push_back(fmt::format("{}: {}", s->stats.name, a.detail));
    }
  }
  return failures;
}

core::RackId ChainLocator::locate(const core::Address& address) const noexcept {
  return resolve(address, Asking::kProven);
}

void ChainLocator::prefetch(const core::Address& address) const noexcept {
  resolve(address, Asking::kUnproven);
}

core::RackId ChainLocator::resolve(const core::Address& address, Asking asking) const noexcept {
  const core::TimePoint now = clock_.now();
  for (std::size_t i = 0; i < sources_.size(); ++i) {
    Source& s = *sources_[i];
    const AnswerCache::Hit hit = s.cache->get(address, now);
    if (asking == Asking::kProven) {
      (hit.state == AnswerCache::Hit::State::kMiss ? s.cache_misses : s.cache_hits)
          .fetch_add(1, std::memory_order_relaxed);
    }
    switch (hit.state) {
      case AnswerCache::Hit::State::kFresh:
        return hit.rack;
      case AnswerCache::Hit::State::kStale:
        if (asking != Asking::kNo) ask(i, address, asking);
        return hit.rack;
      case AnswerCache::Hit::State::kNegative:
        continue;
      case AnswerCache::Hit::State::kMiss:
        if (asking != Asking::kNo) ask(i, address, asking);
        // Meanwhile the rest of the chain answers, without asking: a later
        // source is asked only once this one has said it does not know.
        asking = Asking::kNo;
        continue;
    }
  }
  return fallback_->locate(address);
}

void ChainLocator::ask(std::size_t source, const core::Address& address, Asking asking) const {
  Source& s = *sources_[source];
  const std::size_t bound =
      asking == Asking::kUnproven ? options_.max_in_flight / 2 : options_.max_in_flight;
  try {
    {
      std::lock_guard lock(pending_mu_);
      if (pending_.contains({source, address})) return;
      if (pending_.size() >= bound || (s.max_in_flight > 0 && s.in_flight >= s.max_in_flight)) {
        std::lock_guard stats_lock(s.mu);
        ++s.stats.skipped;
        return;  // the host's next announce asks again
      }
      pending_.insert({source, address});
      ++s.in_flight;
    }
    auto* self = const_cast<ChainLocator*>(this);
    asio::post(io_, [self, source, address] {
      const auto started = std::chrono::steady_clock::now();
      self->sources_[source]->lookup->lookup(
          address, [self, source, address, started](Answer a) {
            self->answered(source, address, std::move(a), started);
          });
    });
  } catch (const std::exception&) {
    // Out of memory queueing a lookup: the host stays where the rest of the
    // chain put it, and its next announce asks again.
    std::lock_guard lock(pending_mu_);
    if (pending_.erase({source, address}) > 0) --s.in_flight;
  }
}

void ChainLocator::note_answer(Source& s, const Answer& a, double seconds, core::TimePoint now,
                               bool log) {
  std::lock_guard lock(s.mu);
  SourceStats& st = s.stats;
  // Before any answer a source counts as up: its first failure is a change.
  const bool was_up = st.up;
  st.asked = true;
  switch (a.kind) {
    case Answer::Kind::kFound:
      ++st.found;
      break;
    case Answer::Kind::kUnknown:
      ++st.unknown;
      break;
    case Answer::Kind::kError:
      ++st.errors;
      break;
  }
  if (a.ambiguous) ++st.ambiguous;
  for (std::size_t b = 0; b < kLookupSecondsBuckets.size(); ++b) {
    if (seconds <= kLookupSecondsBuckets[b]) ++st.latency_buckets[b];
  }
  ++st.latency_count;
  st.latency_sum += seconds;
  // A bad record is about one address: no sign either way.
  if (a.bad_record) return;
  const bool up = a.kind != Answer::Kind::kError;
  if (up != was_up) {
    st.since = now;
    // The start-up check says its own words (Server::create).
    if (log && up) {
      spdlog::info("topology source {} answers again", st.name);
    } else if (log) {
      spdlog::warn(
          "topology source {} is down: {}; hosts it has not placed yet go to the next source "
          "of the chain, and move when it answers",
          st.name, a.detail);
    }
  }
  st.up = up;
  st.error = up ? std::string() : a.detail;
}

void ChainLocator::answered(std::size_t source, const core::Address& address, Answer a,
                            std::chrono::steady_clock::time_point started) {
  Source& s = *sources_[source];
  const core::TimePoint now = clock_.now();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  const core::RackId rack = intern(a);
  note_answer(s, a, seconds, now, /*log=*/true);
  if (a.bad_record) {
    std::lock_guard lock(s.mu);
    if (now - s.bad_record_logged >= std::chrono::minutes(1)) {
      spdlog::warn(
          "topology source {}: unusable record for {}: {}{}; the next source places it",
          s.stats.name, address.to_string(), a.detail,
          s.bad_records_unlogged == 0
              ? ""
              : fmt::format(" ({} more since the last such warning)", s.bad_records_unlogged));
      s.bad_record_logged = now;
      s.bad_records_unlogged = 0;
    } else {
      ++s.bad_records_unlogged;
    }
  }
  if (a.ambiguous) {
    spdlog::warn("topology source {}: several servers have address {}; took the last one ({})",
                 s.stats.name, address.to_string(), a.rack);
  }
  store(source, address, a.kind, rack, now);
}

core::RackId ChainLocator::intern(Answer& a) {
  if (a.kind != Answer::Kind::kFound) return {};
  if (names_.size() >= options_.max_rack_names && !names_.find(a.rack)) {
    a.kind = Answer::Kind::kError;
    a.bad_record = true;  // the tracker's bound, not the source's fault
    a.detail = fmt::format("more than {} distinct rack names; '{}' not taken",
                           options_.max_rack_names, a.rack);
    return {};
  }
  return names_.intern(a.rack);
}

void ChainLocator::store(std::size_t source, const core::Address& address, Answer::Kind kind,
                         core::RackId rack, core::TimePoint now) {
  Source& s = *sources_[source];
  const core::RackId before = resolve(address, Asking::kNo);
  const bool placed_by_a_source = std::any_of(sources_.begin(), sources_.end(), [&](const auto& x) {
    const AnswerCache::Hit::State state = x->cache->get(address, now).state;
    return state == AnswerCache::Hit::State::kFresh || state == AnswerCache::Hit::State::kStale;
  });
  switch (kind) {
    case Answer::Kind::kFound:
      s.cache->put_found(address, rack, now + options_.ttl);
      break;
    case Answer::Kind::kUnknown:
      s.cache->put_negative(address, now + options_.negative_ttl, /*keep_found=*/false);
      break;
    case Answer::Kind::kError:
      s.cache->put_negative(address, now + options_.negative_ttl, /*keep_found=*/true);
      break;
  }
  {
    std::lock_guard lock(pending_mu_);
    if (pending_.erase({source, address}) > 0) --s.in_flight;
  }
  // Asks the next source when this one did not know.
  const core::RackId after = resolve(address, Asking::kProven);
  if (before != after && relocate_) relocate_(address, before, after, placed_by_a_source);
  wake(address);
}

struct ChainLocator::Waiter {
  explicit Waiter(asio::io_context& io) : timer(io) {}
  asio::steady_timer timer;
  std::function<void()> resume;  // taken by whichever comes first: the answer or the timer
  std::mutex mu;
  void fire() {
    std::function<void()> fn;
    {
      std::lock_guard lock(mu);
      fn = std::exchange(resume, nullptr);
    }
    if (fn) fn();
  }
};

bool ChainLocator::await_answer(const core::Address& address, std::chrono::milliseconds wait,
                                std::function<void()>& resume) const {
  if (wait.count() <= 0) return false;
  const std::size_t missing = first_miss(address);
  if (missing == sources_.size()) return false;
  try {
    auto waiter = std::make_shared<Waiter>(io_);
    {
      std::lock_guard lock(pending_mu_);
      if (waiters_.size() >= options_.max_waiters) return false;
      waiter->resume = std::move(resume);
      waiters_.emplace(address, waiter);
    }
    ask(missing, address, Asking::kProven);
    {
      // The lookup may not have started (max_in_flight): then nothing would
      // wake the waiter before its timer.
      std::lock_guard lock(pending_mu_);
      if (!pending_.contains({missing, address})) {
        auto range = waiters_.equal_range(address);
        for (auto it = range.first; it != range.second; ++it) {
          if (it->second == waiter) {
            waiters_.erase(it);
            break;
          }
        }
        resume = std::exchange(waiter->resume, nullptr);
        return false;
      }
    }
    asio::post(io_, [waiter, wait] {
      waiter->timer.expires_after(wait);
      waiter->timer.async_wait([waiter](boost::system::error_code ec) {
        if (!ec) waiter->fire();
      });
    });
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

std::size_t ChainLocator::first_miss(const core::Address& address) const noexcept {
  const core::TimePoint now = clock_.now();
  for (std::size_t i = 0; i < sources_.size(); ++i) {
    switch (sources_[i]->cache->get(address, now).state) {
      case AnswerCache::Hit::State::kFresh:
      case AnswerCache::Hit::State::kStale:
        return sources_.size();  // placed: a refresh never makes an announce wait
      case AnswerCache::Hit::State::kNegative:
        continue;
      case AnswerCache::Hit::State::kMiss:
        return i;
    }
  }
  return sources_.size();  // no source knows it: the fallback's answer is final
}

bool ChainLocator::unsettled(const core::Address& address) const noexcept {
  return first_miss(address) < sources_.size();
}

void ChainLocator::wake(const core::Address& address) {
  std::vector<std::shared_ptr<Waiter>> ready;
  {
    std::lock_guard lock(pending_mu_);
    for (std::size_t i = 0; i < sources_.size(); ++i) {
      if (pending_.contains({i, address})) return;  // the next source was asked: keep waiting
    }
    auto range = waiters_.equal_range(address);
    for (auto it = range.first; it != range.second; ++it) ready.push_back(it->second);
    waiters_.erase(range.first, range.second);
  }
  for (auto& w : ready) {
    w->timer.cancel();
    w->fire();
  }
}

std::string ChainLocator::rack_name(core::RackId rack) const { return format_rack(rack, names_); }

core::Status ChainLocator::reload() {
  auto st = fallback_->reload();
  for (auto& s : sources_) s->cache->expire_all();
  return st;
}

std::vector<SourceStats> ChainLocator::source_stats() const {
  std::vector<SourceStats> out;
  for (const auto& s : sources_) {
    std::lock_guard lock(s->mu);
    out.push_back(s->stats);
    out.back().cache_hits = s->cache_hits.load(std::memory_order_relaxed);
    out.back().cache_misses = s->cache_misses.load(std::memory_order_relaxed);
  }
  return out;
}

}  // namespace p2p::topology
