#include "topology/static_map_locator.h"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <map>
#include <utility>

#include "core/regular_file.h"
#include "topology/subnet_locator.h"

namespace p2p::topology {

// The loaded map. Per family, one level per prefix length present, longest
// first; each level a flat array sorted by network, so a lookup is at most one
// binary search per distinct prefix length (33 for IPv4, 129 for IPv6; real
// maps use a handful).
struct StaticMapLocator::Snapshot {
  struct V4Entry {
    std::uint32_t network;
    core::RackId rack;
  };
  struct V4Level {
    std::uint32_t mask;
    std::vector<V4Entry> entries;  // sorted by network, unique
  };
  struct V6Entry {
    std::uint64_t hi;
    std::uint64_t lo;
    core::RackId rack;
  };
  struct V6Level {
    std::uint64_t mask_hi;
    std::uint64_t mask_lo;
    std::vector<V6Entry> entries;  // sorted by (hi, lo), unique
  };

  std::vector<V4Level> v4;  // longest prefix first
  std::vector<V6Level> v6;  // longest prefix first
  std::size_t entry_count = 0;
};

namespace {

// Shifting a 64-bit value by 64 is undefined, hence the explicit cases.
std::uint64_t top_bits64(int n) {
  return n <= 0 ? 0 : n >= 64 ? ~std::uint64_t{0} : ~std::uint64_t{0} << (64 - n);
}
std::uint32_t top_bits32(int n) {
  return n <= 0 ? 0 : n >= 32 ? ~std::uint32_t{0} : ~std::uint32_t{0} << (32 - n);
}

std::uint64_t load_be64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | p[i];
  return v;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

bool is_rack_name_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == ':' || c == '/' || c == '-';
}

bool is_address_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '.' ||
         c == ':' || c == '/';
}

// A token as it may appear in a message: quoted, control and non-ASCII bytes
// escaped, long tokens cut (a binary file must not produce a megabyte error).
std::string quoted(std::string_view token) {
  constexpr std::size_t kMaxShown = 64;
  std::string out = "'";
  for (std::size_t i = 0; i < token.size() && i < kMaxShown; ++i) {
    auto c = static_cast<unsigned char>(token[i]);
    if (c >= 0x20 && c < 0x7f && c != '\'') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  if (token.size() > kMaxShown) out += "...";
  out += "'";
  return out;
}

// Splits `line` (comment already removed) into whitespace-separated tokens.
// Returns how many there are, storing up to `max` of them.
std::size_t split(std::string_view line, std::string_view* tokens, std::size_t max) {
  std::size_t count = 0;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_space(line[i])) ++i;
    if (i == line.size()) break;
    std::size_t start = i;
    while (i < line.size() && !is_space(line[i])) ++i;
    if (count < max) tokens[count] = line.substr(start, i - start);
    ++count;
  }
  return count;
}

// Parses the address column: a CIDR prefix or a single address, host bits
// clear. `where` is the "file:line" prefix for errors.
core::Result<core::Cidr> parse_prefix(std::string_view token, const std::string& where) {
  // Address::parse hands the text to inet_pton, which would stop at an
  // embedded NUL; checking the alphabet first keeps "10.0.0.1\0junk" an error.
  if (!std::all_of(token.begin(), token.end(), is_address_char)) {
    return core::invalid_argument(
        fmt::format("{}: {} is not an IP address or CIDR prefix", where, quoted(token)));
  }
  auto cidr = core::Cidr::parse(token);
  if (!cidr) return core::invalid_argument(fmt::format("{}: {}", where, cidr.error().message));
  auto address = core::Address::parse(token.substr(0, token.find('/')));
  assert(address);  // Cidr::parse accepted the same text
  if (*address != cidr->network()) {
    // 10.1.2.3/8 is more likely a typo than a way to write 10.0.0.0/8.
    return core::invalid_argument(fmt::format("{}: {} has host bits set (the network is {})", where,
                                              quoted(token), cidr->to_string()));
  }
  return cidr;
}

core::Result<std::string> read_file(const std::string& path) {
  auto text = core::read_regular_file(path, kMaxMapFileBytes);
  if (!text) {
    return core::Error{text.error().code,
                       fmt::format("rack map file '{}': {}", path, text.error().message)};
  }
  return text;
}

}  // namespace

core::Status check_rack_name(std::string_view name, const std::string& where) {
  if (name.size() > kMaxRackNameLength) {
    return core::invalid_argument(fmt::format("{}: rack name {} is {} characters (at most {})",
                                              where, quoted(name), name.size(),
                                              kMaxRackNameLength));
  }
  auto bad = std::find_if_not(name.begin(), name.end(), is_rack_name_char);
  if (bad != name.end()) {
    return core::invalid_argument(
        fmt::format("{}: rack name {} contains {} (allowed: A-Z a-z 0-9 . _ : / -)", where,
                    quoted(name), quoted(std::string_view(&*bad, 1))));
  }
  // A path's levels are its groups: an empty one is a typo, and one past
  // the deepest the swarm keeps would be dropped from the outermost end.
  if (name.starts_with('/') || name.ends_with('/') || name.find("//") != std::string_view::npos) {
    return core::invalid_argument(fmt::format(
        "{}: rack name {} has an empty level (a path is \"dc/row/rack\")", where, quoted(name)));
  }
  const std::size_t levels = path_levels(name);
  if (levels > 1 + core::kMaxUpperLevels) {
    return core::invalid_argument(
        fmt::format("{}: rack name {} has {} levels (at most {}: a rack and {} above it)", where,
                    quoted(name), levels, 1 + core::kMaxUpperLevels, core::kMaxUpperLevels));
  }
  return {};
}

std::size_t path_levels(std::string_view rack) {
  return static_cast<std::size_t>(std::count(rack.begin(), rack.end(), '/')) + 1;
}

core::Result<std::vector<RackMapEntry>> parse_rack_map(std::string_view text,
                                                       std::string_view source, std::size_t depth) {
  std::vector<RackMapEntry> entries;
  // Where each prefix was first given, to report duplicates with both lines.
  std::map<core::Cidr, int> seen;
  // The first line naming a path, whose levels every other path must have.
  int first_path = 0;
  std::size_t first_levels = 0;
  int line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    ++line_no;
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;

    line = line.substr(0, line.find('#'));
    std::string_view tokens[3];
    std::size_t count = split(line, tokens, 3);
    if (count == 0) continue;
    std::string where = fmt::format("{}:{}", source, line_no);

    auto prefix = parse_prefix(tokens[0], where);
    if (!prefix) return prefix.error();
    if (count == 1) {
      return core::invalid_argument(
          fmt::format("{}: {} has no rack name (expected '<CIDR or address> <rack-name>')", where,
                      quoted(tokens[0])));
    }
    if (count > 2) {
      return core::invalid_argument(fmt::format(
          "{}: unexpected {} after rack name {} (one rack name per line; '#' starts a comment)",
          where, quoted(tokens[2]), quoted(tokens[1])));
    }
    if (auto ok = check_rack_name(tokens[1], where); !ok) return ok.error();
    // A rack's groups above it are worked out by their depth from the rack:
    // a path missing a level would put its outermost group at the wrong
    // level, where neither its hosts nor the others' see each other.
    if (const std::size_t levels = path_levels(tokens[1]); levels > 1) {
      if (depth > 1 && levels != depth) {
        return core::invalid_argument(fmt::format(
            "{}: rack name {} has {} levels, but the lookup sources' locations have {} (a "
            "path names every level, or one name stands for a group of its own)",
            where, quoted(tokens[1]), levels, depth));
      }
      if (first_path == 0) {
        first_path = line_no;
        first_levels = levels;
      } else if (levels != first_levels) {
        return core::invalid_argument(fmt::format(
            "{}: rack name {} has {} levels, but the path at {}:{} has {} (a path names every "
            "level, or one name stands for a group of its own)",
            where, quoted(tokens[1]), levels, source, first_path, first_levels));
      }
    }

    auto [it, inserted] = seen.emplace(*prefix, line_no);
    if (!inserted) {
      return core::invalid_argument(fmt::format("{}: {} is given twice (first at {}:{})", where,
                                                prefix->to_string(), source, it->second));
    }
    entries.push_back({*prefix, std::string(tokens[1]), line_no});
  }
  return entries;
}

StaticMapLocator::StaticMapLocator(std::string path, int prefix_v4, int prefix_v6, RackNames& names,
                                   std::size_t depth)
    : path_(std::move(path)),
      prefix_v4_(prefix_v4),
      prefix_v6_(prefix_v6),
      depth_(depth),
      names_(names) {
  assert(prefix_v4 >= 1 && prefix_v4 <= kMaxSubnetPrefixV4);
  assert(prefix_v6 >= 1 && prefix_v6 <= kMaxSubnetPrefixV6);
}

StaticMapLocator::~StaticMapLocator() = default;

core::Result<std::unique_ptr<StaticMapLocator>> StaticMapLocator::open(std::string path,
                                                                       int prefix_v4, int prefix_v6,
                                                                       RackNames& names,
                                                                       std::size_t depth) {
  std::unique_ptr<StaticMapLocator> locator(
      new StaticMapLocator(std::move(path), prefix_v4, prefix_v6, names, depth));
  auto snapshot = locator->load();
  if (!snapshot) return snapshot.error();
  locator->snapshot_ = std::move(*snapshot);  // not shared with any thread yet
  return locator;
}

core::Result<std::shared_ptr<const StaticMapLocator::Snapshot>> StaticMapLocator::load() const {
  auto text = read_file(path_);
  if (!text) return text.error();
  auto entries = parse_rack_map(*text, path_, depth_);
  if (!entries) return entries.error();

  // Only now, with the whole file good, do names enter the process-wide table:
  // a rejected file must not leave stray names behind.
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->entry_count = entries->size();
  // Bucket by family and prefix length; index = prefix length.
  std::vector<std::vector<Snapshot::V4Entry>> v4(33);
  std::vector<std::vector<Snapshot::V6Entry>> v6(129);
  for (const RackMapEntry& e : *entries) {
    core::RackId rack = names_.intern(e.rack);
    const core::Address& net = e.prefix.network();
    int len = e.prefix.prefix_len();
    if (net.is_v4()) {
      v4[static_cast<std::size_t>(len)].push_back({net.v4_value(), rack});
    } else {
      const auto& b = net.bytes();
      v6[static_cast<std::size_t>(len)].push_back(
          {load_be64(b.data()), load_be64(b.data() + 8), rack});
    }
  }
  for (int len = 32; len >= 0; --len) {
    auto& bucket = v4[static_cast<std::size_t>(len)];
    if (bucket.empty()) continue;
    std::sort(bucket.begin(), bucket.end(),
              [](const auto& a, const auto& b) { return a.network < b.network; });
    snapshot->v4.push_back({top_bits32(len), std::move(bucket)});
  }
  for (int len = 128; len >= 0; --len) {
    auto& bucket = v6[static_cast<std::size_t>(len)];
    if (bucket.empty()) continue;
    std::sort(bucket.begin(), bucket.end(), [](const auto& a, const auto& b) {
      return std::pair(a.hi, a.lo) < std::pair(b.hi, b.lo);
    });
    snapshot->v6.push_back({top_bits64(len), top_bits64(len - 64), std::move(bucket)});
  }
  return std::shared_ptr<const Snapshot>(std::move(snapshot));
}

core::RackId StaticMapLocator::locate(const core::Address& address) const noexcept {
  // The local shared_ptr keeps this snapshot alive even if a reload swaps it
  // out meanwhile; copying it only bumps a reference count.
  std::shared_ptr<const Snapshot> snapshot = current();
  if (address.is_v4()) {
    std::uint32_t a = address.v4_value();
    for (const Snapshot::V4Level& level : snapshot->v4) {
      std::uint32_t key = a & level.mask;
      auto it = std::lower_bound(level.entries.begin(), level.entries.end(), key,
                                 [](const auto& e, std::uint32_t k) { return e.network < k; });
      if (it != level.entries.end() && it->network == key) return it->rack;
    }
  } else {
    const auto& b = address.bytes();
    std::uint64_t hi = load_be64(b.data());
    std::uint64_t lo = load_be64(b.data() + 8);
    for (const Snapshot::V6Level& level : snapshot->v6) {
      std::pair key(hi & level.mask_hi, lo & level.mask_lo);
      auto it =
          std::lower_bound(level.entries.begin(), level.entries.end(), key,
                           [](const auto& e, const auto& k) { return std::pair(e.hi, e.lo) < k; });
      if (it != level.entries.end() && it->hi == key.first && it->lo == key.second) {
        return it->rack;
      }
    }
  }
  return subnet_rack(address, prefix_v4_, prefix_v6_);
}

std::string StaticMapLocator::rack_name(core::RackId rack) const {
  return format_rack(rack, names_);
}

core::Status StaticMapLocator::reload() {
  std::lock_guard lock(reload_mu_);
  auto snapshot = load();
  if (!snapshot) return snapshot.error();
  std::shared_ptr<const Snapshot> old = std::move(*snapshot);
  {
    std::unique_lock swap_lock(snapshot_mu_);
    snapshot_.swap(old);
  }
  // After the swap: whoever sees the new generation also sees the new map.
  generation_.fetch_add(1, std::memory_order_release);
  // Frees the map from two reloads ago. A locate() holds a snapshot for
  // microseconds, so none still uses it in practice; if one did, shared
  // ownership would keep it valid and that locate() would free it.
  retired_ = std::move(old);
  return {};
}

std::shared_ptr<const StaticMapLocator::Snapshot> StaticMapLocator::current() const noexcept {
  std::shared_lock lock(snapshot_mu_);
  return snapshot_;
}

std::uint64_t StaticMapLocator::generation() const noexcept {
  return generation_.load(std::memory_order_acquire);
}

std::size_t StaticMapLocator::entry_count() const noexcept { return current()->entry_count; }

}  // namespace p2p::topology
