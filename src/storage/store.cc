// make_store: picks the Store implementation Options::kind names.
#include "storage/store.h"

#include <fmt/format.h>

#include <utility>

#include "storage/null_store.h"
#include "storage/redis_store.h"

namespace p2p::storage {
namespace {

// Used when the caller gives no RackNamer (tests, tools): a readable name from
// the RackId alone. The server passes topology's names instead.
std::string fallback_rack_name(core::RackId rack) {
  switch (rack.tag) {
    case core::RackId::Tag::kV4:
      return fmt::format(
          "{}/{}", core::Address::v4(static_cast<std::uint32_t>(rack.lo)).to_string(), rack.prefix);
    case core::RackId::Tag::kV6:
      return fmt::format("{:016x}/{}", rack.lo, rack.prefix);
    case core::RackId::Tag::kNamed:
      return fmt::format("rack-{}", rack.lo);
    case core::RackId::Tag::kNone:
      break;
  }
  return "unknown";
}

}  // namespace

core::Result<std::unique_ptr<Store>> make_store(const Options& options, RackNamer rack_namer,
                                                const core::Clock& clock) {
  if (options.queue_capacity == 0) {
    return core::invalid_argument("store queue_capacity must be at least 1");
  }
  if (!rack_namer) rack_namer = fallback_rack_name;
  // The tracker's live state (swarms, counters, milestones) is already in
  // memory and the registry is in data_dir; a second, key-model copy in the
  // same process would be read by nothing and cost more CPU than the announce
  // itself (docs/performance.md). So "memory" mirrors nothing.
  if (options.kind == "memory") return std::unique_ptr<Store>(std::make_unique<NullStore>());
  if (options.kind == "redis") {
    auto store = RedisStore::connect(options, std::move(rack_namer), clock);
    if (!store.ok()) return store.error();
    return std::unique_ptr<Store>(std::move(*store));
  }
  return core::invalid_argument("unknown store kind \"" + options.kind +
                                "\"; valid kinds are \"memory\" and \"redis\"");
}

}  // namespace p2p::storage
