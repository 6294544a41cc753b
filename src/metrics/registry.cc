#include "metrics/registry.h"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <cmath>
#include <iterator>

namespace p2p::metrics {
namespace {

std::string_view type_name(Type t) {
  switch (t) {
    case Type::kCounter: return "counter";
    case Type::kGauge: return "gauge";
    case Type::kHistogram: return "histogram";
  }
  return "untyped";
}

// HELP text escapes only backslash and newline (the text format's rule).
void append_help(std::string_view help, std::string& out) {
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
}

// Go's ParseFloat spellings for the values a text parser accepts.
void append_value(double v, std::string& out) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else {
    fmt::format_to(std::back_inserter(out), "{}", v);
  }
}

void append_sample(std::string_view name, std::string_view labels, std::string_view value_text,
                   std::string& out) {
  out += name;
  if (!labels.empty()) {
    out.push_back('{');
    out += labels;
    out.push_back('}');
  }
  out.push_back(' ');
  out += value_text;
  out.push_back('\n');
}

bool has_worker_counters(Family f) {
  return std::any_of(kCounters.begin(), kCounters.end(),
                     [f](const CounterInfo& c) { return c.family == f; });
}

}  // namespace

std::string label(std::string_view name, std::string_view value) {
  std::string out;
  out.reserve(name.size() + value.size() + 3);
  out += name;
  out += "=\"";
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

void append_bounded(std::string_view label_name, std::vector<Ranked>& items, std::size_t limit,
                    std::string_view other, std::vector<Sample>& out) {
  auto by_rank = [](const Ranked& a, const Ranked& b) {
    if (a.weight != b.weight) return a.weight > b.weight;
    return a.label_value < b.label_value;
  };
  const std::size_t kept = std::min(limit, items.size());
  std::partial_sort(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(kept), items.end(),
                    by_rank);
  double rest = 0;
  for (std::size_t i = kept; i < items.size(); ++i) rest += items[i].value;
  const bool has_rest = kept < items.size() && !other.empty();
  items.resize(kept);
  std::sort(items.begin(), items.end(),
            [](const Ranked& a, const Ranked& b) { return a.label_value < b.label_value; });
  bool rest_placed = false;
  for (Ranked& r : items) {
    double v = r.value;
    if (has_rest && r.label_value == other) {
      v += rest;  // a real series named like the overflow: share it, never duplicate
      rest_placed = true;
    }
    out.push_back({label(label_name, r.label_value), v});
  }
  if (has_rest && !rest_placed) out.push_back({label(label_name, other), rest});
}

WorkerCounters& Registry::add_worker() {
  std::lock_guard lock(mu_);
  blocks_.push_back(std::make_unique<WorkerCounters>());
  return *blocks_.back();
}

void Registry::set_value(Family family, std::function<double()> fn) {
  assert(!has_worker_counters(family) && info(family).type != Type::kHistogram);
  std::lock_guard lock(mu_);
  sources_[static_cast<std::size_t>(family)] = {std::move(fn), {}};
}

void Registry::set_samples(Family family, std::function<void(std::vector<Sample>&)> fn) {
  // A histogram fed by samples brings its own _bucket, _sum and _count.
  assert(!has_worker_counters(family) && family != Family::kHttpResponseSeconds);
  std::lock_guard lock(mu_);
  sources_[static_cast<std::size_t>(family)] = {{}, std::move(fn)};
}

void Registry::add_collector(std::function<void()> fn) {
  std::lock_guard lock(mu_);
  collectors_.push_back(std::move(fn));
}

std::uint64_t Registry::total(Counter counter) const {
  std::lock_guard lock(mu_);
  std::uint64_t sum = 0;
  for (const auto& b : blocks_) sum += b->get(counter);
  return sum;
}

void Registry::render_counters(Family family, std::string& out) const {
  const FamilyInfo& f = info(family);
  for (std::size_t i = 0; i < kCounterCount; ++i) {
    if (kCounters[i].family != family) continue;
    std::uint64_t sum = 0;
    for (const auto& b : blocks_) sum += b->get(static_cast<Counter>(i));
    char buf[24];
    // A gauge kept per worker (open connections) may wrap below zero in one
    // block; the sum is right modulo 2^64, so read it back as signed.
    auto end = f.type == Type::kGauge ? fmt::format_to(buf, "{}", static_cast<std::int64_t>(sum))
                                      : fmt::format_to(buf, "{}", sum);
    append_sample(f.name, kCounters[i].labels, std::string_view(buf, end - buf), out);
  }
}

void Registry::render_latency(std::string_view name, std::string& out) const {
  std::array<std::uint64_t, kLatencyBuckets> buckets{};
  std::uint64_t sum_ns = 0;
  for (const auto& b : blocks_) {
    for (std::size_t i = 0; i < kLatencyBuckets; ++i) buckets[i] += b->latency_bucket(i);
    sum_ns += b->latency_sum_ns();
  }
  // Buckets are kept per bucket and printed cumulative, so _count always
  // equals the +Inf bucket even when a block changes mid-scrape.
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < kLatencyBuckets; ++i) {
    cumulative += buckets[i];
    std::string_view le = i < kLatencyBoundsText.size() ? kLatencyBoundsText[i] : "+Inf";
    fmt::format_to(std::back_inserter(out), "{}_bucket{{le=\"{}\"}} {}\n", name, le, cumulative);
  }
  out += name;
  out += "_sum ";
  append_value(static_cast<double>(sum_ns) / 1e9, out);
  out.push_back('\n');
  fmt::format_to(std::back_inserter(out), "{}_count {}\n", name, cumulative);
}

void Registry::render(std::string& out) const {
  std::lock_guard lock(mu_);
  for (const auto& collect : collectors_) collect();
  std::vector<Sample> samples;
  for (std::size_t i = 0; i < kFamilyCount; ++i) {
    const auto family = static_cast<Family>(i);
    const FamilyInfo& f = kFamilies[i];
    const Source& src = sources_[i];
    const bool counted =
        has_worker_counters(family) || (f.type == Type::kHistogram && !src.samples);
    if (!counted && !src.value && !src.samples) continue;

    out += "# HELP ";
    out += f.name;
    out.push_back(' ');
    append_help(f.help, out);
    out += "\n# TYPE ";
    out += f.name;
    out.push_back(' ');
    out += type_name(f.type);
    out.push_back('\n');

    if (f.type == Type::kHistogram && !src.samples) {
      render_latency(f.name, out);
    } else if (counted) {
      render_counters(family, out);
    } else if (src.value) {
      std::string text;
      append_value(src.value(), text);
      append_sample(f.name, {}, text, out);
    } else {
      samples.clear();
      src.samples(samples);
      for (const Sample& s : samples) {
        std::string text;
        append_value(s.value, text);
        if (s.suffix.empty()) {
          append_sample(f.name, s.labels, text, out);
        } else {
          append_sample(std::string(f.name) + std::string(s.suffix), s.labels, text, out);
        }
      }
    }
  }
}

}  // namespace p2p::metrics
