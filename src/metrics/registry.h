// Registry: owns the per-thread counter blocks and the scrape-time sources,
// and renders them all in the Prometheus text exposition format (0.0.4).
//
// Start-up: each thread that counts gets a block from add_worker(); the parts
// that know a value only when asked (the swarm, the store) register callbacks
// with set_value() / set_samples(). A scrape (render()) sums every block
// series by series and calls the callbacks; it allocates and may take a few
// milliseconds on a large swarm, so it runs off the announce path.
//
// Thread-safe: every method may be called from any thread (mu_ guards the
// block list and the callbacks, never the counters). Callbacks run under mu_,
// one render at a time, and must not call back into the Registry.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/metric_list.h"
#include "metrics/worker_counters.h"

namespace p2p::metrics {

// One value of a labeled family. `labels` is the text between the braces,
// built with label() so values are escaped; empty for no labels.
struct Sample {
  Sample() = default;
  Sample(std::string labels_, double value_, std::string_view suffix_ = {})
      : labels(std::move(labels_)), value(value_), suffix(suffix_) {}

  std::string labels;
  double value = 0;
  // Appended to the family's name: a histogram's "_bucket", "_sum", "_count".
  std::string_view suffix;
};

// `name="value"` with the value escaped as the text format wants (\\, \", \n).
std::string label(std::string_view name, std::string_view value);

// One labeled value competing for a place in a bounded label set.
struct Ranked {
  std::string label_value;
  double value = 0;
  double weight = 0;  // the `limit` largest weights keep their own series
};

// Appends to `out` one sample per entry of `items` with the `limit` largest
// weights (ties: smaller label value first), labelled `label_name`, in label
// order. With a non-empty `other`, the values of the entries left out are
// summed into one more sample labelled `other` (only when some were left out;
// added to a kept entry that is itself named `other`). Reorders `items`.
void append_bounded(std::string_view label_name, std::vector<Ranked>& items, std::size_t limit,
                    std::string_view other, std::vector<Sample>& out);

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // A zeroed block for one counting thread; valid as long as the Registry.
  // Allocates: call at start-up.
  WorkerCounters& add_worker();

  // The family's one unlabeled value, read at scrape time.
  void set_value(Family family, std::function<double()> fn);
  // The family's labeled values, appended by `fn` at scrape time.
  void set_samples(Family family, std::function<void(std::vector<Sample>&)> fn);

  // Runs `fn` once at the start of every render, before any value or samples
  // callback: one walk of a source that several families then read (the
  // swarm's totals, progress and racks come from one pass, not one each).
  void add_collector(std::function<void()> fn);

  // One worker counter summed over every block.
  std::uint64_t total(Counter counter) const;

  // Appends the exposition text: for each family in P2P_METRIC_FAMILIES order
  // that has a source, # HELP, # TYPE and its samples. Worker counter
  // families always print (zeros included); callback families only once set.
  void render(std::string& out) const;

 private:
  struct Source {
    std::function<double()> value;
    std::function<void(std::vector<Sample>&)> samples;
  };

  void render_counters(Family family, std::string& out) const;
  void render_latency(std::string_view name, std::string& out) const;

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<WorkerCounters>> blocks_;  // guarded by mu_
  std::array<Source, kFamilyCount> sources_;             // guarded by mu_
  std::vector<std::function<void()>> collectors_;        // guarded by mu_
};

}  // namespace p2p::metrics
