#include "admin/history.h"

#include <fmt/format.h>

#include <algorithm>

#include "admin/durable_file.h"
#include "core/json_text.h"

namespace p2p::admin {

History::History(std::filesystem::path file, const core::Clock& clock, core::Seconds max_age)
    : file_(std::move(file)), clock_(clock), max_age_(max_age) {}

core::Result<std::unique_ptr<History>> History::open(const std::filesystem::path& data_dir,
                                                     const core::Clock& clock,
                                                     core::Seconds max_age) {
  std::unique_ptr<History> h(new History(data_dir / "history.json", clock, max_age));
  auto text = read_file_if_present(h->file_);
  if (!text) return text.error();
  if (*text) {
    auto parsed = parse_history(**text);
    if (!parsed) {
      return core::invalid_argument(
          fmt::format("{} is not a valid history file ({}); move it away to start a new one",
                      h->file_.string(), parsed.error().message));
    }
    h->records_ = std::move(parsed->records);
    if (parsed->skipped > 0) {
      // The next add() rewrites the file without them; what they held may be
      // worth reading, so the file as it was stays beside it.
      const bool one = parsed->skipped == 1;
      h->warnings_.push_back(fmt::format(
          "{}: left out {} entr{} that {} not a deploy record (a field missing, of the wrong "
          "type or out of range); {}, and history.json is rewritten without {} when the next "
          "deploy is recorded",
          h->file_.string(), parsed->skipped, one ? "y" : "ies", one ? "is" : "are",
          keep_damaged_copy(h->file_, **text, clock.now()), one ? "it" : "them"));
    }
  }
  std::lock_guard lock(h->mu_);
  h->prune();
  return h;
}

void History::prune() {
  const core::TimePoint cutoff = clock_.now() - max_age_;
  std::erase_if(records_, [&](const DeployRecord& r) { return r.deregistered < cutoff; });
}

core::Status History::save() const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& r : records_) list.push_back(r.to_json());
  return write_file_atomically(file_, core::json_text(nlohmann::json{{"deploys", list}}, 2) + "\n");
}

core::Status History::add(const DeployRecord& record) {
  std::lock_guard lock(mu_);
  records_.push_back(record);
  prune();
  return save();
}

std::vector<DeployRecord> History::list() const {
  std::lock_guard lock(mu_);
  // Records age out between writes too; the file catches up at the next add().
  const core::TimePoint cutoff = clock_.now() - max_age_;
  std::vector<DeployRecord> out;
  for (auto it = records_.rbegin(); it != records_.rend(); ++it) {
    if (it->deregistered >= cutoff) out.push_back(*it);
  }
  return out;
}

}  // namespace p2p::admin
