#include "topology/rack_names.h"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <limits>
#include <mutex>

#include "core/address.h"

namespace p2p::topology {

RackNames& RackNames::global() {
  // Function-local static: built on first use, thread-safe initialisation, and
  // never destroyed before a locator that refers to it (leaked on purpose so no
  // static destruction order can bite a late logger call).
  static RackNames* table = new RackNames();
  return *table;
}

core::RackId RackNames::intern(std::string_view name) {
  {
    std::shared_lock lock(mu_);
    auto it = index_.find(name);
    if (it != index_.end()) return core::RackId::named(it->second);
  }
  std::unique_lock lock(mu_);
  return core::RackId::named(intern_locked(name));
}

std::uint32_t RackNames::intern_locked(std::string_view name) {
  // Another loader may have added it between the two locks.
  auto it = index_.find(name);
  if (it != index_.end()) return it->second;
  // The path's parent first, so every group above a rack has an id too.
  std::uint32_t parent = kNoParent;
  if (auto slash = name.rfind('/'); slash != std::string_view::npos && slash > 0) {
    parent = intern_locked(name.substr(0, slash));
  }
  // RackId::named takes a 32-bit index. Four billion distinct rack names would
  // need that many map-file lines; treat reaching it as a broken invariant.
  assert(names_.size() < kNoParent);
  auto index = static_cast<std::uint32_t>(names_.size());
  const std::string& stored = names_.emplace_back(name);
  index_.emplace(std::string_view(stored), index);
  parents_.push_back(parent);
  return index;
}

std::size_t RackNames::ancestors(std::uint64_t index, std::span<core::RackId> out) const {
  std::shared_lock lock(mu_);
  core::RackId found[64];
  std::size_t n = 0;
  std::uint32_t at = index < parents_.size() ? parents_[index] : kNoParent;
  for (; at != kNoParent && n < std::size(found); at = parents_[at]) {
    found[n++] = core::RackId::named(at);
  }
  // `found` runs nearest first; keep the nearest out.size(), outermost first.
  const std::size_t kept = std::min(n, out.size());
  for (std::size_t i = 0; i < kept; ++i) out[i] = found[kept - 1 - i];
  return kept;
}

std::optional<std::string_view> RackNames::name(std::uint64_t index) const {
  std::shared_lock lock(mu_);
  if (index >= names_.size()) return std::nullopt;
  return std::string_view(names_[static_cast<std::size_t>(index)]);
}

std::optional<core::RackId> RackNames::find(std::string_view name) const {
  std::shared_lock lock(mu_);
  auto it = index_.find(name);
  if (it == index_.end()) return std::nullopt;
  return core::RackId::named(it->second);
}

std::size_t RackNames::size() const {
  std::shared_lock lock(mu_);
  return names_.size();
}

std::string format_rack(core::RackId rack, const RackNames& names) {
  using Tag = core::RackId::Tag;
  switch (rack.tag) {
    case Tag::kNamed: {
      auto name = names.name(rack.lo);
      if (name) return std::string(*name);
      return fmt::format("(unknown rack #{})", rack.lo);
    }
    case Tag::kV4:
      return fmt::format(
          "{}/{}", core::Address::v4(static_cast<std::uint32_t>(rack.lo)).to_string(), rack.prefix);
    case Tag::kV6: {
      std::uint8_t bytes[16] = {};
      for (int i = 0; i < 8; ++i) bytes[i] = static_cast<std::uint8_t>(rack.lo >> (56 - 8 * i));
      return fmt::format("{}/{}", core::Address::v6_bytes(bytes).to_string(), rack.prefix);
    }
    case Tag::kNone:
      break;
  }
  return "(no rack)";
}

}  // namespace p2p::topology
