// The key table, TOML loading, --set overrides, validation, --print-config and
// the docs table. Every key is declared exactly once, in keys() below; everything
// else walks that table, so a new key needs one line here and nothing more.

#include "config/config.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <limits>
#include <sstream>
#include <system_error>
#include <utility>

#include "config/keys.h"
#include "core/rack.h"

namespace p2p::config {
namespace internal {
namespace {

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

using Cidrs = std::vector<core::Cidr>;
using Names = std::vector<std::string>;
using Ints = std::vector<int>;

// Integer keys with no natural upper bound stop where `int` does.
constexpr std::int64_t kIntMax = std::numeric_limits<int>::max();

// Headings of --print-config, in order; Key::group indexes this.
struct Group {
  std::string_view title;
  std::string_view blurb;
};
constexpr Group kGroups[] = {
    {"The original p2ptracker's keys",
     "Its HOST, PORT, ... in lower case; a legacy file spells them in upper case."},
    {"Storage", "Where swarm state and registered torrents live."},
    {"Announces and swarms", "What clients are told and how long they are remembered."},
    {"Client addresses", "Who may speak for an address other than its own."},
    {"Topology", "How a peer's rack is found."},
    {"Limits", "Threads, sizes and timeouts of the HTTP server."},
    {"Per-source bounds", "What one address may take, so an abuser cannot crowd out the fleet."},
    {"Logging", ""},
    {"Admin API access",
     "Who may change the tracker's state and read its stats (docs/security.md)."},
};
enum : int { kOriginal, kStorage, kAnnounces, kAddresses, kTopology, kLimits, kBounds, kLogging, kAdmin };

// What every key has; the builders below add their kind's checks.
Key base_key(std::string_view name, int group, Member member, std::string_view doc) {
  Key key;
  key.name = name;
  key.group = group;
  key.member = member;
  key.doc = doc;
  return key;
}

Key text_key(std::string_view name, int group, std::string Config::*member, std::string_view doc,
             std::vector<std::string_view> choices = {}, bool non_empty = false) {
  Key key = base_key(name, group, member, doc);
  key.choices = std::move(choices);
  key.non_empty = non_empty;
  return key;
}

// A key whose value (or each of whose items) lies in [min, max].
Key ranged_key(std::string_view name, int group, Member member, std::int64_t min,
               std::int64_t max, std::string_view doc) {
  Key key = base_key(name, group, member, doc);
  key.min = min;
  key.max = max;
  return key;
}

Key int_key(std::string_view name, int group, int Config::*member, std::int64_t min,
            std::int64_t max, std::string_view doc) {
  return ranged_key(name, group, member, min, max, doc);
}

// 0 is allowed: the OS picks a free port, which is what tests want.
Key port_key(std::string_view name, int group, std::uint16_t Config::*member,
             std::string_view doc) {
  return ranged_key(name, group, member, 0, 65535, doc);
}

Key bool_key(std::string_view name, int group, bool Config::*member, std::string_view doc) {
  return base_key(name, group, member, doc);
}

Key cidrs_key(std::string_view name, int group, Cidrs Config::*member, std::string_view doc) {
  return base_key(name, group, member, doc);
}

// A list of integers, each in [min, max]; may be empty.
Key ints_key(std::string_view name, int group, Ints Config::*member, std::int64_t min,
             std::int64_t max, std::string_view doc) {
  return ranged_key(name, group, member, min, max, doc);
}

// Whether `name` may be an item of names key `key`: one of its choices, or
// with none, a word of a-z 0-9 _ -.
bool name_allowed(const Key& key, std::string_view name) {
  if (key.json_pointers) return name.size() <= 256 && name.starts_with('/');
  if (!key.choices.empty()) {
    return std::find(key.choices.begin(), key.choices.end(), name) != key.choices.end();
  }
  return !name.empty() && name.size() <= 32 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

// A list of JSON pointers ("/a/b"); a single one is a list of one.
Key pointers_key(std::string_view name, int group, Names Config::*member, std::string_view doc) {
  Key key = base_key(name, group, member, doc);
  key.json_pointers = true;
  return key;
}

// A list of names, each one of `choices`; a single name is a list of one.
Key names_key(std::string_view name, int group, Names Config::*member, std::string_view doc,
              std::vector<std::string_view> choices) {
  Key key = base_key(name, group, member, doc);
  key.choices = std::move(choices);
  return key;
}

}  // namespace

// The table. Defaults are not repeated here: they are whatever Config{} holds.
const std::vector<Key>& keys() {
  static const std::vector<Key> kKeys = {
      // --- The original p2ptracker's keys ---
      text_key("host", kOriginal, &Config::host,
               "Address the HTTP and UDP servers listen on. \"::\" (the default) listens on IPv6 "
               "and IPv4 at once (dual stack), falling back to \"0.0.0.0\" (every IPv4 address) "
               "on a host without IPv6. A host name (the original's \"localhost\") is resolved "
               "once at start-up and the tracker listens on each address it resolves to that "
               "this host has; a name that does not resolve stops start-up."),
      port_key("port", kOriginal, &Config::port,
               "HTTP port for announce, scrape and the admin API. 6969 is the de-facto tracker "
               "port; 0 lets the system pick a free port (for tests)."),
      text_key("redishost", kOriginal, &Config::redishost,
               "Redis server, used when store = \"redis\". The original always stored in Redis, "
               "so a legacy file that sets REDISHOST or REDISPORT implies store = \"redis\" "
               "unless it also sets STORE."),
      port_key("redisport", kOriginal, &Config::redisport,
               "Redis server port (6379 is Redis's own default). Same legacy rule as redishost."),
      text_key("smdb_url", kOriginal, &Config::smdb_url,
               "The original's server-management (SMDB) REST service, asked for each host's "
               "rack with GET <smdb_url>/servers/ipaddresses/<ip> when topology lists "
               "\"smdb\" (a legacy file that sets SMDB_URL turns that on). An http:// URL; "
               "empty: none."),
      int_key("max_repr_rack", kOriginal, &Config::max_repr_rack, 1, kIntMax,
              "Representatives per rack per transfer: the first this-many peers of a rack get "
              "peers from the whole swarm, later ones only peers of their own rack. 2 clients "
              "at ~100 Mbit/s keep BitTorrent to about 20% of a rack's uplink."),
      text_key("repr_budget", kAnnounces, &Config::repr_budget,
               "Whose budget max_repr_rack is. \"per_transfer\" (the default, as the original): "
               "each transfer has its own representatives, so two deploys at once let twice as "
               "many hosts of a rack pull across its uplink. \"per_rack\": at most max_repr_rack "
               "distinct hosts represent a rack across every active transfer; a new transfer "
               "reuses the hosts that already represent the rack when they take part, and the "
               "rack's other hosts are served as members until a slot frees (so a second "
               "deploy waits for the first's representatives to join it or leave).",
               {"per_transfer", "per_rack"}),
      ints_key("max_repr_levels", kAnnounces, &Config::max_repr_levels, 1, 1000,
               "Representatives per transfer of each group above a rack, outermost first (with "
               "racks in rows in datacenters: [datacenter, row]). A row's are the first of its "
               "racks' representatives to announce (one per rack), a datacenter's the first of "
               "its rows' (one per row); only they see the groups beside their own, so each "
               "row's and datacenter's uplink carries the payload about this many times. Levels "
               "come from the location path "
               "(a map file's \"ams1/row3/rack12\", subnet_levels_v4, a lookup source); the last "
               "entry is the row's, a level beyond the list takes its first entry. Empty: "
               "max_repr_rack at every level."),
      int_key("active_interval", kOriginal, &Config::active_interval, 1, kIntMax,
              "Seconds between announces asked of clients of an active transfer; short, so a "
              "deploy's swarm forms and reshapes quickly."),
      int_key("passive_interval", kOriginal, &Config::passive_interval, 1, kIntMax,
              "Seconds between announces for an unknown or inactive transfer; long, so idle "
              "clients stay quiet."),
      int_key("maxpeers", kOriginal, &Config::maxpeers, 1, 2000,
              "Most peers in one announce reply; a client's numwant is capped to this. At most "
              "2000 to bound the size of a reply."),
      bool_key("proxypass", kOriginal, &Config::proxypass,
               "The tracker is behind a reverse proxy: take the client's address from the "
               "proxy_header its proxies set, believed only on connections from "
               "trusted_proxies."),
      bool_key("debug", kOriginal, &Config::debug,
               "Log debug statements, like the original's DEBUG: log_level is raised to at least "
               "\"debug\"."),

      // --- Storage ---
      text_key("store", kStorage, &Config::store,
               "Where the tracker's state lives. \"memory\": in this process only (swarms in "
               "memory, rebuilt from announces after a restart; registered torrents, history "
               "and each deploy's progress in data_dir). \"redis\": the same, plus a write-behind "
               "copy in the "
               "original p2ptracker's Redis data model at redishost:redisport, for tools that "
               "read the original's keys and for several trackers sharing one Redis. Announces "
               "never wait for Redis: the tracker starts and serves while Redis is down, and "
               "the copy catches up when it returns (docs/storage.md).",
               {"memory", "redis"}),
      text_key("redis_prefix", kStorage, &Config::redis_prefix,
               "Prepended to every Redis key, so several trackers can share one Redis database. "
               "Empty: no prefix."),
      text_key("data_dir", kStorage, &Config::data_dir,
               "Directory for registered torrents (in its torrents/ directory) and other "
               "durable state. A legacy file's UPLOAD_PATH, where the original kept uploaded "
               "torrents, sets it unless the same file sets DATA_DIR.",
               {}, true),

      // --- Announces and swarms ---
      int_key("udp_port", kAnnounces, &Config::udp_port, -1, 65535,
              "UDP tracker port (BEP 15: connect, announce, scrape). -1: the same number as "
              "port; 0: no UDP tracker."),
      text_key("policy", kAnnounces, &Config::policy,
               "Which representatives of a rack exchange data with other racks. \"original\": "
               "all max_repr_rack of them, as the original p2ptracker did. \"standby\": one at "
               "a time; the others stand by and take over when it stops, expires or stalls "
               "(stall_intervals), so the rack's uplink carries the payload about once. "
               "\"progress\": as standby, and every other representative joins once it holds "
               "grant_percent of the payload. \"relay\": as standby, but while the gateway "
               "downloads it trades inside its rack only with the other representatives, which "
               "pass its pieces on. \"chain\": the hosts in a line, each told only of the one "
               "before it and the ones after it, racks appended as they appear, so each rack, "
               "row and datacenter takes the payload in once. \"tree\": the hosts in a tree, "
               "each fed by one parent and feeding at most two, one link into each rack, row "
               "and datacenter: for fleets whose rows and datacenters the tracker is told of, "
               "where it was faster than \"original\" in every fleet measured but racks of "
               "two hosts starting over a minute, with clients that announce as often as asked "
               "(downloading_interval). A libtorrent-based client announces at most every 300 s "
               "by default, and then a failed host holds the hosts below it for minutes "
               "(631 s where \"original\" took 84 s, docs/policy.md).",
               {"original", "standby", "progress", "relay", "chain", "tree"}),
      int_key("grant_percent", kAnnounces, &Config::grant_percent, 0, 100,
              "policy \"progress\": the share of the payload (percent) a standby representative "
              "must hold before it may exchange data with other racks. It then pulls at most the "
              "rest from outside: 0 behaves as original, 100 as standby except that a finished "
              "standby serves other racks."),
      int_key("min_interval", kAnnounces, &Config::min_interval, 1, kIntMax,
              "The \"min interval\" in announce replies: clients should not announce more often. "
              "Capped at the interval in force."),
      int_key("downloading_interval", kAnnounces, &Config::downloading_interval, 0, kIntMax,
              "Under the tree policy, the seconds between announces asked of a host still "
              "downloading (capped at active_interval; seeders are asked active_interval). The "
              "tree feeds each host from one place and learns that a host stopped feeding the "
              "ones below it only from their announces, so how soon a failed host is routed "
              "round follows this interval: with 45 s, 121 s for a deploy that original's second "
              "gateway finished in 81 s; with 10 s, 81.8 s (docs/policy.md, \"Failed hosts\"). "
              "The tree's stall time is stall_intervals of it. 0: active_interval. Other "
              "policies always ask active_interval, as the original did."),
      int_key("peer_timeout", kAnnounces, &Config::peer_timeout, 1, kIntMax,
              "Seconds without an announce before a peer is dropped from its swarm. Must exceed "
              "active_interval, otherwise peers expire between two announces; the default "
              "allows about two missed announces."),
      int_key("peer_timeout_max", kAnnounces, &Config::peer_timeout_max, 1, kIntMax,
              "Longest a peer is kept without an announce. Clients announce on their own "
              "schedule: libtorrent ones (qBittorrent, Deluge) never more often than every 300 s "
              "whatever the interval asked. The tracker learns each peer's gap between regular "
              "announces and keeps it for that gap plus half a peer_timeout (never less than "
              "peer_timeout, never more than this), and judges it stuck only after two of its "
              "gaps without progress, so such a client is neither dropped nor stuck, and its "
              "representative slot is not handed to a third host while it is alive."),
      int_key("assumed_announce_gap", kAnnounces, &Config::assumed_announce_gap, 0, kIntMax,
              "Seconds a peer is taken to wait between announces until it has shown its own "
              "gap (its first regular announce after the started one): libtorrent's clients "
              "(qBittorrent, Deluge) come back only after 300 s, and without this each of them "
              "would be dropped once, a representative's slot handed to a third host, before "
              "its gap was learned. Bounded by peer_timeout_max. A host that crashes right "
              "after its first announce is replaced once the hosts that depend on it (its "
              "standby, the gateways below its row or datacenter place, the hosts a tree or "
              "line feeds through it) have gone their own stall time without progress while it "
              "was silent (docs/policy.md). 0: a new peer lives peer_timeout, as a peer that "
              "announces within it."),
      bool_key("open", kAnnounces, &Config::open,
               "Track every info_hash announced, like a public tracker. Off: only transfers "
               "registered through the admin API get peers; announces for others get "
               "passive_interval, no peers and a warning."),
      int_key("max_open_transfers", kAnnounces, &Config::max_open_transfers, 1, kIntMax,
              "With open: most unregistered transfers tracked at once (each costs about 600 "
              "bytes plus its peers). Announces for further new info_hashes are answered as "
              "for an unknown transfer until some expire. Registered transfers never count."),
      int_key("max_open_peers", kAnnounces, &Config::max_open_peers, 0, kIntMax,
              "With open: most peers in unregistered transfers, all together (each costs about "
              "360 bytes); a new one beyond gets a failure reason, peers already in keep "
              "announcing. 0: no bound. Without it the bounds multiply: max_open_transfers "
              "transfers of max_peers_per_transfer peers each. Registered transfers never "
              "count."),
      int_key("max_seen_transfers", kAnnounces, &Config::max_seen_transfers, 0, kIntMax,
              "With store = \"redis\": most distinct unregistered info_hashes added to the "
              "`transfers` set per run, so announces for random hashes cannot grow Redis "
              "without bound. 0: none are."),
      bool_key("full_scrape", kAnnounces, &Config::full_scrape,
               "A /scrape without info_hash lists every active transfer (built at most once "
               "every 5 s and shared by the requests meanwhile). Turn off if the list of "
               "transfers should not be public: an info-hash is all an announce needs to be "
               "told a transfer's hosts (a warning with admin_read = \"token\")."),

      // --- Client addresses ---
      cidrs_key("trusted_networks", kAddresses, &Config::trusted_networks,
                "Clients in these networks may announce another address with the ip parameter. "
                "Empty: the address a request came from is always used."),
      cidrs_key("trusted_proxies", kAddresses, &Config::trusted_proxies,
                "Reverse proxies whose proxy_header is believed when proxypass is on. "
                "Default: this host only. With proxypass they are also exempt from "
                "max_connections_per_source (every client behind one shares its address); the "
                "rate limits apply to the client the header names."),
      text_key("proxy_header", kAddresses, &Config::proxy_header,
               "With proxypass: the header a trusted proxy names the client in. "
               "\"X-Forwarded-For\" (default): the right-most address in it that is not a "
               "trusted proxy, since everything left of that was written by the client or by "
               "proxies not ours; a proxy that appends (nginx $proxy_add_x_forwarded_for) is "
               "safe. \"X-Real-IP\": its one address, only for a proxy that sets the header "
               "itself (nginx proxy_set_header X-Real-IP $remote_addr); a proxy that passes it "
               "through lets a client pick its own address. The other header is ignored.",
               {"X-Forwarded-For", "X-Real-IP"}),

      // --- Topology ---
      names_key("topology", kTopology, &Config::topology,
                "Where a peer's rack comes from: a chain of sources asked in order, the next "
                "one answering when a source does not know the address, is down or slow. "
                "\"smdb\": the inventory service at smdb_url (asked in the background; a host "
                "is placed by the rest of the chain until it answers, then moved). \"file\" "
                "(or \"static\"): the map in topology_file. \"subnet\": the address's "
                "subnet_prefix_v4 / subnet_prefix_v6 network, always the last resort. \"dns\": "
                "TXT records named by dns_name. \"exec\": the program exec_command. A single "
                "name works as a list of one. Lookup sources come before file and subnet. A "
                "legacy file that sets SMDB_URL and no TOPOLOGY means [\"smdb\", \"subnet\"], "
                "as the original asked the SMDB for every rack.",
                {"smdb", "dns", "exec", "file", "static", "subnet"}),
      text_key("topology_file", kTopology, &Config::topology_file,
               "With \"file\" in topology: a file of \"CIDR rack\" lines mapping networks to "
               "racks; a rack may be a path, outermost level first (\"ams1/row3/rack12\"), "
               "and the swarm is then shaped at each level (max_repr_levels). Required then, "
               "ignored otherwise. Re-read on SIGHUP and within 2 s of a change (replace it by "
               "a rename: a file read while half written fails to load and the previous map "
               "stays until the next change)."),
      pointers_key("smdb_fields", kTopology, &Config::smdb_fields,
                   "With \"smdb\" in topology: where the location is in each server's record of "
                   "the inventory's answer, as JSON pointers, outermost level first; the rack is "
                   "the path of the values found. [\"/cabinet\"] is the original SMDB's field; "
                   "another inventory that answers GET <smdb_url>/servers/ipaddresses/<ip> with "
                   "{\"<server>\": {...}} fits by naming its fields ([\"/site/name\", "
                   "\"/rack/name\"] gives \"ams1/r12\"). At most 4 (a rack and 3 levels above "
                   "it). A record that has some of them but not all is a bad record."),
      text_key("smdb_bulk_url", kTopology, &Config::smdb_bulk_url,
               "With \"smdb\" in topology: an http:// URL answering the whole inventory as "
               "{\"<ip>\": {<server record>}, ...}, fetched at start-up and every "
               "smdb_bulk_interval seconds. Addresses it lists are placed from it without a "
               "lookup; the others are asked about one by one at smdb_url. Empty: no bulk "
               "fetch."),
      int_key("smdb_bulk_interval", kTopology, &Config::smdb_bulk_interval, 10, kIntMax,
              "Seconds between two fetches of smdb_bulk_url."),
      int_key("topology_timeout_ms", kTopology, &Config::topology_timeout_ms, 1, 60000,
              "Deadline of one lookup (resolve, connect, ask, read), in milliseconds. A lookup "
              "past it counts as failed: the rest of the chain places the host meanwhile."),
      int_key("topology_wait_ms", kTopology, &Config::topology_wait_ms, 0, 60000,
              "How long an announce from a host no lookup source has placed yet waits for the "
              "first answer, in milliseconds, so the host is placed where it is from its first "
              "announce. Other announces are served meanwhile (the wait holds no thread; each "
              "UDP worker parks at most 256 announces, more are answered at once). Past it the "
              "rest of the chain places the host and the answer moves it later. A UDP client's "
              "connect already starts the lookup. 0: never wait."),
      int_key("topology_cache_ttl", kTopology, &Config::topology_cache_ttl, 1, kIntMax,
              "Seconds a rack a lookup source found is used before the source is asked again. "
              "Past it the host stays where it was until the new answer comes, so a source "
              "that is down never sends known hosts back to the subnet rule."),
      int_key("topology_negative_ttl", kTopology, &Config::topology_negative_ttl, 1, kIntMax,
              "Seconds before a source that did not know an address, or failed to answer, is "
              "asked about it again. Bounds the lookups a down source costs: one per address "
              "per this many seconds, not one per announce."),
      int_key("topology_cache_size", kTopology, &Config::topology_cache_size, 16, kIntMax,
              "Addresses each lookup source remembers answers for; past it the oldest answer "
              "is forgotten. Size it above the fleet's host count."),
      int_key("topology_max_in_flight", kTopology, &Config::topology_max_in_flight, 1, 100000,
              "Lookups running at once over all sources. A host that needs one while this "
              "many run is placed by the rest of the chain and asked about at its next "
              "announce (p2ptracker_topology_source_lookups_total{outcome=\"skipped\"}). A UDP "
              "connect, whose source address is not proven (it may be forged), starts a lookup "
              "only while fewer than half this many run."),
      names_key("levels", kTopology, &Config::levels,
                "The levels of a location, outermost first: the keys a dns TXT record or an exec "
                "program answers with (\"dc=ams1 row=3 rack=12\"). A peer's rack is the path "
                "of their values (\"ams1/3/12\"), so racks of the same name in different rows "
                "stay apart. At most 4 (a rack and 3 levels above it). An answer names every "
                "one (else it is a bad record), and smdb_fields has as many when both kinds of "
                "source are used (docs/topology.md, every level or none).",
                {}),
      text_key("dns_name", kTopology, &Config::dns_name,
               "With \"dns\" in topology: the name whose TXT record holds an address's "
               "location, with {reverse} (4.3.2.1 for 1.2.3.4; IPv6 nibbles as in ip6.arpa) or "
               "{ip} (1.2.3.4; IPv6 with - for :) in it, as in \"{reverse}.topology.example.\". "
               "The record reads \"dc=ams1 row=3 rack=12\" (keys from levels) or a path "
               "\"ams1/row3/rack12\"."),
      text_key("dns_server", kTopology, &Config::dns_server,
               "With \"dns\" in topology: the DNS server asked, \"address[:port]\" (several "
               "separated by commas). Empty: the system's resolver (/etc/resolv.conf)."),
      text_key("exec_command", kTopology, &Config::exec_command,
               "With \"exec\" in topology: a program run as `<exec_command> <address>` that "
               "prints the address's location (as a dns TXT record reads) and exits 0; nothing "
               "printed means not known (the next source answers). Killed after "
               "topology_timeout_ms."),
      int_key("exec_max_running", kTopology, &Config::exec_max_running, 1, 1024,
              "With \"exec\" in topology: most copies of exec_command running at once; hosts "
              "beyond are placed by the rest of the chain and asked about at their next "
              "announce."),
      bool_key("topology_strict", kTopology, &Config::topology_strict,
               "Refuse to start when a lookup source does not answer a test lookup at start-up. "
               "By default that is a warning and the chain falls back meanwhile."),
      int_key("subnet_prefix_v4", kTopology, &Config::subnet_prefix_v4, 1, 32,
              "With topology = \"subnet\": the IPv4 prefix length of a rack (24: one /24 per "
              "rack)."),
      int_key("subnet_prefix_v6", kTopology, &Config::subnet_prefix_v6, 1, 64,
              "With topology = \"subnet\": the IPv6 prefix length of a rack (64: one /64, the "
              "usual IPv6 subnet, per rack)."),
      ints_key("subnet_levels_v4", kTopology, &Config::subnet_levels_v4, 1, 31,
               "The groups above a subnet rack, as IPv4 prefix lengths, outermost first: [16, 20] "
               "makes each /16 a datacenter and each /20 a row above the /24 racks. Each shorter "
               "than the next and than subnet_prefix_v4; at most 3. Empty: racks are the only "
               "level. Set, it gives as many levels as the lookup sources' locations "
               "(smdb_fields, levels) and as subnet_levels_v6 when that is set."),
      ints_key("subnet_levels_v6", kTopology, &Config::subnet_levels_v6, 1, 63,
               "The same for IPv6 racks ([32, 48] above /64 racks). At most 3."),

      // --- Deploy visibility ---
      int_key("auto_archive_s", kAnnounces, &Config::auto_archive_s, 0, kIntMax,
              "Seconds after a registered transfer's deploy completed (a host completed and no "
              "host is downloading any more) before the tracker archives it into /history/ by "
              "itself, as `p2ptracker deactivate` would. 0 (the default): only the operator "
              "deactivates, as in the original."),
      int_key("history_days", kAnnounces, &Config::history_days, 1, 36500,
              "Days a finished deploy (a deactivated transfer) stays in /history/ before it is "
              "pruned. With store = \"redis\", its archived keys (\"TIME:HASH...\") expire "
              "then too."),
      int_key("stall_intervals", kAnnounces, &Config::stall_intervals, 1, 1000,
              "A downloading peer whose bytes left did not go down for this many "
              "active_intervals (downloading_intervals under tree) is reported as stuck by the "
              "stats API and the dashboard, and "
              "under the standby, progress and relay policies a gateway that did not is stalled "
              "and hands the role over (with levels, only while a peer of its row has got further, "
              "counted from no earlier than the row's first bytes). Under every policy, a "
              "representative of a row or datacenter that did not, while the level above had "
              "more, gives its place there to the next gateway below to announce. Under the "
              "chain and tree policies, a host that did not while the host it pulls from had "
              "more is passed over; under tree sooner, once a host it feeds also went a whole "
              "announce gap without progress (docs/policy.md)."),

      // --- Limits ---
      int_key("workers", kLimits, &Config::workers, 0, 256,
              "Event-loop threads serving requests. 0: one per CPU core."),
      int_key("max_request_bytes", kLimits, &Config::max_request_bytes, 1024, 1 << 20,
              "Largest request line plus headers, in bytes; larger requests are refused. An "
              "announce needs well under 1 KiB."),
      int_key("max_torrent_bytes", kLimits, &Config::max_torrent_bytes, 1024, 1 << 30,
              "Largest .torrent file accepted through the admin API, in bytes (default 16 MiB)."),
      int_key("max_torrent_files", kLimits, &Config::max_torrent_files, 1, kIntMax,
              "Most files a .torrent may list; more is refused with 400. Parsing takes time in "
              "proportion to the file's size; this bounds the work one upload can ask for."),
      int_key("max_uploads_in_flight", kLimits, &Config::max_uploads_in_flight, 1, kIntMax,
              "Requests with a body (torrent uploads) received or handled at once, all workers "
              "together; more get 503 with Retry-After before their body is read. Bounds the "
              "memory uploads take to about this times max_torrent_bytes."),
      int_key("max_reply_bytes_in_flight", kLimits, &Config::max_reply_bytes_in_flight, 0, kIntMax,
              "Bytes of replies over 64 KiB (stats pages with racks and peers, a large scrape) "
              "being written at once on one listening address, all its workers together; a "
              "reply that would pass it gets 503 with Retry-After instead. Clients that ask for "
              "pages and do not read them hold them until request_timeout: this bounds that "
              "memory. The full scrape is shared and not counted. 0: no bound."),
      int_key("request_timeout", kLimits, &Config::request_timeout, 1, kIntMax,
              "Seconds a client has to send a whole request, so slow senders cannot hold "
              "connections: from the connection's start, and on a kept-alive connection from "
              "the next request's first byte."),
      int_key("keepalive_timeout", kLimits, &Config::keepalive_timeout, 1, kIntMax,
              "Seconds an idle keep-alive connection stays open waiting for its next "
              "request."),
      int_key("max_connections", kLimits, &Config::max_connections, 1, kIntMax,
              "Most open HTTP connections, all workers together; bounds memory and file "
              "descriptors. At start-up the soft fd limit is raised to the hard one and this is "
              "lowered (logged; a warning if set here) to what that leaves after a reserve for "
              "files, Redis and the event loops (raise the hard limit, e.g. LimitNOFILE=, to "
              "allow more)."),

      // --- Per-source bounds ---
      int_key("max_connections_per_source", kBounds, &Config::max_connections_per_source, 0,
              kIntMax,
              "Most open HTTP connections one source address may hold, all workers together; "
              "further ones are closed at once. 0: no cap. A fleet host holds one connection per "
              "announce for a few milliseconds, so even a NAT gateway in front of hundreds of "
              "hosts announcing at the same instant stays far below 512; an address that holds "
              "idle connections gets 512 of max_connections, so it takes 40 addresses to fill "
              "the default 20,000 instead of one."),
      int_key("rate_limit_announces", kBounds, &Config::rate_limit_announces, 0, kIntMax,
              "Announces per second one source address may send (HTTP and UDP alike), as a "
              "token bucket refilled at this rate and holding rate_limit_announce_burst; over "
              "it, an HTTP client gets a failure reason and a UDP client an error packet. 0: no "
              "limit. A host announces each transfer every active_interval (45 s), about 0.1 "
              "per second with a few deploys; 50 per second is 2,000 such hosts behind one NAT "
              "address. Kept per worker thread (a source's HTTP connections and UDP sockets may "
              "land on several), so a source may get up to workers times this."),
      int_key("rate_limit_announce_burst", kBounds, &Config::rate_limit_announce_burst, 1, kIntMax,
              "Announces one source address may send at once before rate_limit_announces paces "
              "it: a deploy's start announces from 500 hosts behind one NAT address arriving "
              "together."),
      int_key("rate_limit_scrapes", kBounds, &Config::rate_limit_scrapes, 0, kIntMax,
              "Scrapes per second one source address may send (HTTP and UDP), a token bucket "
              "like rate_limit_announces. 0: no limit. Clients scrape rarely (a few per transfer "
              "per hour); a scrape may ask about 74 transfers, so it costs more than an "
              "announce."),
      int_key("rate_limit_scrape_burst", kBounds, &Config::rate_limit_scrape_burst, 1, kIntMax,
              "Scrapes one source address may send at once before rate_limit_scrapes paces it."),
      int_key("max_peers_per_address", kBounds, &Config::max_peers_per_address, 0, 65535,
              "Most peers (distinct ports) one address may have in one transfer; a further one "
              "gets a failure reason, peers already in keep announcing. 0: no limit. A host runs "
              "one client per transfer; containers behind the host's address or a few clients "
              "on one host need a handful; 64 leaves room for a busy container host while one "
              "address announcing thousands of ports joins as 64 peers, not thousands."),
      int_key("max_peers_per_transfer", kBounds, &Config::max_peers_per_transfer, 0, kIntMax,
              "Most peers one transfer may have; a new peer beyond gets a failure reason, peers "
              "already in keep announcing. 0: no limit. Twice a 100,000-host fleet; at 32 bytes "
              "a peer record, 200,000 peers are about 6 MiB of one swarm. With store = "
              "\"redis\", also the departed peers (stopped or timed out) whose fields Redis "
              "keeps as history per transfer; the earliest to leave are forgotten first."),

      // --- Logging ---
      text_key("log_level", kLogging, &Config::log_level,
               "Least severe messages logged: \"trace\", \"debug\", \"info\", \"warn\" or "
               "\"error\".",
               {"trace", "debug", "info", "warn", "error"}),

      // --- Admin API access ---
      text_key("admin_token_file", kAdmin, &Config::admin_token_file,
               "A file holding the admin API's bearer token (its content, without surrounding "
               "white space). Set: registering, replacing and deleting torrents and deactivating "
               "transfers need `Authorization: Bearer <token>`, from any host. Empty: those "
               "requests are accepted only from this host (127.0.0.1 or ::1). A file rather than "
               "the token itself, so --print-config never shows the secret; the tracker refuses "
               "to start if it is unreadable or empty, and warns if any user may read it."),
      text_key("admin_listen", kAdmin, &Config::admin_listen,
               "Serve the admin API (torrents, transfers, /api/v1/, /metrics, the dashboard) on "
               "this \"address:port\" (\"10.0.0.5:6970\", \"[::1]:6970\") instead of on "
               "port, which then serves only announce, scrape and /health: the announce port "
               "can face the fleet and the admin port only the build network. The access rules "
               "above apply on it; it holds up to 1,024 connections, 64 from one address. Empty: "
               "everything on port."),
      text_key("admin_read", kAdmin, &Config::admin_read,
               "Who may read the tracker's state: the stats and lists under /transfers/, "
               "/torrents/ and /api/v1/, downloading a registered .torrent, /metrics and the "
               "dashboard. \"public\": anyone who reaches the port. \"token\": only with the "
               "bearer token (needs admin_token_file). Announce and scrape never need a token.",
               {"public", "token"}),
  };
  return kKeys;
}

const Key* find_key(std::string_view name) {
  for (const Key& key : keys()) {
    if (key.name == name) return &key;
  }
  return nullptr;
}

namespace {

// A TOML basic string. Control characters are escaped, so the result is one line.
std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += fmt::format("\\u{:04X}", static_cast<unsigned>(c));
        } else {
          out += ch;
        }
    }
  }
  out += '"';
  return out;
}

// The value of `key` in `config`, as TOML.
std::string literal(const Config& config, const Key& key) {
  return std::visit(Overloaded{
                        [&](std::string Config::*m) { return quote(config.*m); },
                        [&](std::uint16_t Config::*m) { return std::to_string(config.*m); },
                        [&](int Config::*m) { return std::to_string(config.*m); },
                        [&](bool Config::*m) { return std::string(config.*m ? "true" : "false"); },
                        [&](Cidrs Config::*m) {
                          std::string out = "[";
                          for (const core::Cidr& cidr : config.*m) {
                            if (out.size() > 1) out += ", ";
                            out += quote(cidr.to_string());
                          }
                          return out + "]";
                        },
                        [&](Names Config::*m) {
                          std::string out = "[";
                          for (const std::string& name : config.*m) {
                            if (out.size() > 1) out += ", ";
                            out += quote(name);
                          }
                          return out + "]";
                        },
                        [&](Ints Config::*m) {
                          std::string out = "[";
                          for (int v : config.*m) {
                            if (out.size() > 1) out += ", ";
                            out += std::to_string(v);
                          }
                          return out + "]";
                        },
                    },
                    key.member);
}

// "\"a\", \"b\" or \"c\"" (quoted) or "`a`, `b` or `c`" (markdown).
std::string list_choices(const std::vector<std::string_view>& choices, bool markdown) {
  std::string out;
  for (std::size_t i = 0; i < choices.size(); ++i) {
    if (i > 0) out += i + 1 == choices.size() ? " or " : ", ";
    out += markdown ? fmt::format("`{}`", choices[i]) : quote(choices[i]);
  }
  return out;
}

// What each item of names key `key` must be ("of \"a\" or \"b\"").
std::string names_expected(const Key& key) {
  if (key.json_pointers) return "to be a JSON pointer such as \"/cabinet\"";
  if (key.choices.empty()) return "name to be of a-z 0-9 _ -";
  return "of " + list_choices(key.choices, false);
}

// What is valid for `key`, completing "expected ...".
std::string expectation(const Key& key, Dialect dialect) {
  auto integer = [&] {
    if (key.max >= kIntMax) return fmt::format("an integer of at least {}", key.min);
    return fmt::format("an integer from {} to {}", key.min, key.max);
  };
  bool legacy = dialect == Dialect::kLegacy;
  return std::visit(
      Overloaded{
          [&](std::string Config::*) -> std::string {
            if (!key.choices.empty()) {
              return "one of " + list_choices(key.choices, false);
            }
            if (key.non_empty) return "a non-empty string";
            return legacy ? "a quoted string" : "a string";
          },
          [&](std::uint16_t Config::*) { return integer(); },
          [&](int Config::*) { return integer(); },
          [&](bool Config::*) -> std::string { return legacy ? "True or False" : "true or false"; },
          [&](Cidrs Config::*) -> std::string {
            return legacy ? "a list of CIDR strings such as ['10.0.0.0/8']"
                          : "an array of CIDR strings such as [\"10.0.0.0/8\"]";
          },
          [&](Names Config::*) -> std::string {
            if (key.json_pointers) {
              return legacy ? "a JSON pointer or a list of them (\"/cabinet\")"
                            : "a JSON pointer or an array of them (\"/cabinet\")";
            }
            if (key.choices.empty()) {
              return legacy ? "a name or a list of names (a-z 0-9 _ -)"
                            : "a name or an array of names (a-z 0-9 _ -)";
            }
            return fmt::format("{} of {}", legacy ? "a name or a list" : "a name or an array",
                               list_choices(key.choices, false));
          },
          [&](Ints Config::*) -> std::string {
            return fmt::format("{} of integers from {} to {}", legacy ? "a list" : "an array",
                               key.min, key.max);
          },
      },
      key.member);
}

// The type column of the docs table.
std::string type_column(const Key& key) {
  auto integer = [&] {
    if (key.max >= kIntMax) return fmt::format("integer >= {}", key.min);
    return fmt::format("integer {}-{}", key.min, key.max);
  };
  return std::visit(Overloaded{
                        [&](std::string Config::*) -> std::string {
                          if (!key.choices.empty()) return list_choices(key.choices, true);
                          return key.non_empty ? "non-empty string" : "string";
                        },
                        [&](std::uint16_t Config::*) { return integer(); },
                        [&](int Config::*) { return integer(); },
                        [&](bool Config::*) -> std::string { return "boolean"; },
                        [&](Cidrs Config::*) -> std::string { return "array of CIDR strings"; },
                        [&](Names Config::*) -> std::string {
                          if (key.json_pointers) return "array of JSON pointers";
                          if (key.choices.empty()) return "array of names";
                          return "array of " + list_choices(key.choices, true);
                        },
                        [&](Ints Config::*) -> std::string {
                          return fmt::format("array of integers {}-{}", key.min, key.max);
                        },
                    },
                    key.member);
}

// If `config` holds an invalid value for `key`: that value, for "got ...".
std::optional<std::string> invalid_value(const Config& config, const Key& key) {
  auto integer = [&](std::int64_t v) -> std::optional<std::string> {
    if (v >= key.min && v <= key.max) return std::nullopt;
    return std::to_string(v);
  };
  return std::visit(
      Overloaded{
          [&](std::string Config::*m) -> std::optional<std::string> {
            const std::string& s = config.*m;
            bool ok = (key.choices.empty() ||
                       std::find(key.choices.begin(), key.choices.end(), s) != key.choices.end()) &&
                      !(key.non_empty && s.empty());
            if (ok) return std::nullopt;
            return quote(s);
          },
          [&](std::uint16_t Config::*m) { return integer(config.*m); },
          [&](int Config::*m) { return integer(config.*m); },
          [&](bool Config::*) -> std::optional<std::string> { return std::nullopt; },
          [&](Cidrs Config::*) -> std::optional<std::string> { return std::nullopt; },
          [&](Names Config::*m) -> std::optional<std::string> {
            for (const std::string& name : config.*m) {
              if (!name_allowed(key, name)) return quote(name);
            }
            if ((config.*m).empty()) return std::string("[]");
            return std::nullopt;
          },
          [&](Ints Config::*m) -> std::optional<std::string> {
            for (int v : config.*m) {
              if (auto bad = integer(v)) return bad;
            }
            return std::nullopt;
          },
      },
      key.member);
}

// Edit distance with adjacent transpositions counted as one edit ("prot" -> "port").
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

std::string spelled(std::string_view name, Dialect dialect) {
  return dialect == Dialect::kLegacy ? to_upper(name) : std::string(name);
}

// A toml++ node as a Value, keeping its line.
Value from_node(const toml::node& node) {
  Value v;
  v.line = static_cast<int>(node.source().begin.line);
  switch (node.type()) {
    case toml::node_type::string:
      v.kind = Value::Kind::kString;
      v.text = node.as_string()->get();
      v.shown = quote(v.text);
      break;
    case toml::node_type::integer:
      v.kind = Value::Kind::kInteger;
      v.integer = node.as_integer()->get();
      v.shown = std::to_string(v.integer);
      break;
    case toml::node_type::boolean:
      v.kind = Value::Kind::kBool;
      v.boolean = node.as_boolean()->get();
      v.shown = v.boolean ? "true" : "false";
      break;
    case toml::node_type::array:
      v.kind = Value::Kind::kArray;
      v.shown = "[";
      for (const toml::node& item : *node.as_array()) {
        v.items.push_back(from_node(item));
        if (v.shown.size() > 1) v.shown += ", ";
        v.shown += v.items.back().shown;
      }
      v.shown += "]";
      break;
    case toml::node_type::table:
      v.shown = "a table";
      break;
    default: {  // floats, dates and times: never valid, shown as written
      std::ostringstream out;
      out << toml::node_view<const toml::node>(&node);
      v.shown = out.str();
    }
  }
  return v;
}

void clear_lines(Value& v) {
  v.line = 0;
  for (Value& item : v.items) clear_lines(item);
}

Value bare_string(std::string_view text) {
  Value v;
  v.kind = Value::Kind::kString;
  v.text = std::string(text);
  v.shown = quote(text);
  return v;
}

// A --set value: TOML syntax, except that a string key takes unquoted text as is
// (--set host=::) and a CIDR list key takes a bare comma-separated list.
core::Result<Value> override_value(const Key& key, std::string_view raw, std::string_view source) {
  char first = raw.empty() ? '\0' : raw.front();
  bool quoted = first == '"' || first == '\'';
  if (std::holds_alternative<std::string Config::*>(key.member) && !quoted) {
    return bare_string(raw);
  }
  if ((std::holds_alternative<Cidrs Config::*>(key.member) ||
       std::holds_alternative<Names Config::*>(key.member)) &&
      first != '[' && !quoted) {
    Value v;
    v.kind = Value::Kind::kArray;
    v.shown = quote(raw);
    while (!raw.empty()) {
      auto comma = raw.find(',');
      v.items.push_back(bare_string(trim(raw.substr(0, comma))));
      raw = comma == std::string_view::npos ? std::string_view() : raw.substr(comma + 1);
    }
    return v;
  }
  toml::table table;
  try {
    std::string snippet = fmt::format("v = {}", raw);
    table = toml::parse(std::string_view(snippet), std::string_view("--set"));
  } catch (const toml::parse_error& e) {
    // Unquoted words are strings (port=abc: "expected an integer, got \"abc\""),
    // but a broken quoted string or array is a syntax error worth showing.
    if (quoted || first == '[') {
      return core::invalid_argument(fmt::format("{}: {}", source, e.description()));
    }
    return bare_string(raw);
  }
  const toml::node* node = table.get("v");
  if (table.size() != 1 || node == nullptr) {
    return core::invalid_argument(fmt::format("{}: expected a single value", source));
  }
  Value v = from_node(*node);
  clear_lines(v);
  return v;
}

// A failed cross-key or range check: the keys to blame, most relevant first.
struct Problem {
  std::vector<std::string_view> keys;
  std::string message;
  bool about_key = true;  // message completes "key '<name>': "
};

std::optional<Problem> find_problem(const Config& config) {
  for (const Key& key : keys()) {
    if (auto got = invalid_value(config, key)) {
      return Problem{{key.name},
                     fmt::format("expected {}, got {}", expectation(key, Dialect::kToml), *got)};
    }
  }
  if (config.peer_timeout_max < config.peer_timeout) {
    return Problem{{"peer_timeout_max", "peer_timeout"},
                   fmt::format("peer_timeout_max ({}) must be at least peer_timeout ({})",
                               config.peer_timeout_max, config.peer_timeout),
                   false};
  }
  if (config.peer_timeout <= config.active_interval) {
    return Problem{{"peer_timeout", "active_interval"},
                   fmt::format("peer_timeout ({}) must exceed active_interval ({}); otherwise "
                               "peers expire between two announces",
                               config.peer_timeout, config.active_interval),
                   false};
  }
  if (config.admin_read == "token" && config.admin_token_file.empty()) {
    return Problem{{"admin_read", "admin_token_file"},
                   "admin_read \"token\" needs admin_token_file, the file holding the token",
                   false};
  }
  if (config.uses_topology("file") && config.topology_file.empty()) {
    const bool static_spelled =
        std::find(config.topology.begin(), config.topology.end(), "static") != config.topology.end();
    return Problem{{"topology", "topology_file"},
                   fmt::format("topology \"{}\" needs topology_file, a file of \"CIDR rack\" lines",
                               static_spelled ? "static" : "file"),
                   false};
  }
  if (config.uses_topology("dns") && config.dns_name.empty()) {
    return Problem{{"topology", "dns_name"},
                   "topology \"dns\" needs dns_name, the TXT name template "
                   "(\"{reverse}.topology.example.\")",
                   false};
  }
  if (config.uses_topology("exec") && config.exec_command.empty()) {
    return Problem{{"topology", "exec_command"},
                   "topology \"exec\" needs exec_command, the program that prints a location",
                   false};
  }
  struct SubnetLevelsKey {
    std::string_view name, rack_key;
    const std::vector<int>* prefixes;
    int rack;
  };
  for (const SubnetLevelsKey& k :
       {SubnetLevelsKey{"subnet_levels_v4", "subnet_prefix_v4", &config.subnet_levels_v4,
                        config.subnet_prefix_v4},
        SubnetLevelsKey{"subnet_levels_v6", "subnet_prefix_v6", &config.subnet_levels_v6,
                        config.subnet_prefix_v6}}) {
    const std::vector<int>& p = *k.prefixes;
    if (p.size() > core::kMaxUpperLevels) {
      return Problem{{k.name}, fmt::format("at most {} levels above the rack, got {}",
                                           core::kMaxUpperLevels, p.size())};
    }
    for (std::size_t i = 0; i < p.size(); ++i) {
      const bool last = i + 1 == p.size();
      const int next = last ? k.rack : p[i + 1];
      if (p[i] >= next) {
        return Problem{last ? std::vector<std::string_view>{k.name, k.rack_key}
                            : std::vector<std::string_view>{k.name},
                       fmt::format("/{} is not wider than /{}: the levels run outermost first, "
                                   "each wider than the next and than a rack (/{})",
                                   p[i], next, k.rack)};
      }
    }
  }
  if (config.max_repr_levels.size() > core::kMaxUpperLevels) {
    return Problem{{"max_repr_levels"}, fmt::format("at most {} levels above the rack, got {}",
                                                    core::kMaxUpperLevels,
                                                    config.max_repr_levels.size())};
  }
  if (config.levels.empty()) {
    return Problem{{"levels"}, "levels needs at least one level (as in [\"rack\"])", false};
  }
  // A location's levels are its groups: a rack and at most kMaxUpperLevels
  // above it (deeper, the outermost would be dropped).
  for (const auto& [key, size] :
       {std::pair<std::string_view, std::size_t>{"levels", config.levels.size()},
        {"smdb_fields", config.smdb_fields.size()}}) {
    if (size > 1 + core::kMaxUpperLevels) {
      return Problem{{key},
                     fmt::format("at most {} levels (a rack and {} above it), got {}",
                                 1 + core::kMaxUpperLevels, core::kMaxUpperLevels, size)};
    }
  }
  // A location missing a level would put its outer groups at the wrong
  // level, where its hosts and the others' do not see each other: every
  // source gives as many (or, for the subnet rule without levels, one: a
  // group of its own at the top).
  if (config.uses_topology("smdb") &&
      (config.uses_topology("dns") || config.uses_topology("exec")) &&
      config.smdb_fields.size() != config.levels.size()) {
    return Problem{{"smdb_fields", "levels"},
                   fmt::format("smdb_fields names {} levels and levels {}: every source's "
                               "locations have the same levels",
                               config.smdb_fields.size(), config.levels.size()),
                   false};
  }
  for (const auto& [key, prefixes] : {std::pair<std::string_view, const std::vector<int>*>{
                                          "subnet_levels_v4", &config.subnet_levels_v4},
                                      {"subnet_levels_v6", &config.subnet_levels_v6}}) {
    const std::size_t depth = config.location_depth();
    if (prefixes->empty() || 1 + prefixes->size() == depth) continue;
    const std::string_view source = config.uses_topology("smdb") ? "smdb_fields"
                                    : config.uses_topology("dns") || config.uses_topology("exec")
                                        ? "levels"
                                        : "subnet_levels_v4";
    return Problem{{key, source},
                   fmt::format("{} gives a location of {} levels and {} of {}: every source's "
                               "locations have the same levels (or, with no {}, one)",
                               key, 1 + prefixes->size(), source, depth, key),
                   false};
  }
  if (config.uses_topology("smdb") && config.smdb_url.empty()) {
    return Problem{{"topology", "smdb_url"},
                   "topology \"smdb\" needs smdb_url, the inventory service's http:// address",
                   false};
  }
  // The lookup sources answer later; the file and the subnet rule answer at
  // once and are what a host gets meanwhile, so they close the chain.
  bool local_seen = false;
  for (const std::string& name : config.topology) {
    const bool local = name == "file" || name == "static" || name == "subnet";
    if (!local && local_seen) {
      return Problem{{"topology"},
                     fmt::format("topology lists \"{}\" after \"file\" or \"subnet\"; list "
                                 "lookup sources first (as in [\"smdb\", \"file\", \"subnet\"])",
                                 name),
                     false};
    }
    local_seen = local_seen || local;
  }
  if (config.uses_topology("file") && config.topology.back() != "subnet" &&
      config.uses_topology("subnet")) {
    return Problem{{"topology"}, "topology lists \"subnet\" before \"file\"; the subnet rule "
                                 "answers for every address, so it comes last",
                   false};
  }
  return std::nullopt;
}

std::string describe(const Problem& problem, std::string_view written) {
  if (!problem.about_key) return problem.message;
  return fmt::format("key '{}': {}", written, problem.message);
}

core::Result<std::string> read_file(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    std::error_code ec(errno, std::generic_category());
    auto message = fmt::format("{}: cannot open config file: {}", path, ec.message());
    if (ec == std::errc::no_such_file_or_directory) return core::not_found(message);
    return core::invalid_argument(message);
  }
  std::string text;
  char buf[8192];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, file)) > 0) text.append(buf, n);
  std::error_code ec(errno, std::generic_category());
  bool failed = std::ferror(file) != 0;
  std::fclose(file);
  if (failed) {
    return core::invalid_argument(
        fmt::format("{}: cannot read config file: {}", path, ec.message()));
  }
  return text;
}

// Whether the file at `path` is the original's Python-style format rather than
// TOML. The name decides first: ".toml" is TOML, ".py" (the original's
// defaultconfig.py) is Python. Otherwise (the original's ".cfg" files) the first
// statement decides: an UPPER_CASE name assigned, a docstring or an import is
// Python, anything else TOML, whose keys are lower case.
bool looks_legacy(std::string_view path, std::string_view text) {
  auto ends_with = [&](std::string_view suffix) {
    return path.size() >= suffix.size() && path.substr(path.size() - suffix.size()) == suffix;
  };
  if (ends_with(".toml")) return false;
  if (ends_with(".py")) return true;
  while (!text.empty()) {
    auto eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    std::string_view t = trim(line);
    if (t.empty() || t.front() == '#') continue;
    if (t.starts_with("\"\"\"") || t.starts_with("'''") || t.starts_with("import ") ||
        t.starts_with("from ")) {
      return true;
    }
    std::size_t i = 0;
    if (!(line[0] >= 'A' && line[0] <= 'Z')) return false;
    while (i < line.size() && ((line[i] >= 'A' && line[i] <= 'Z') ||
                               (line[i] >= '0' && line[i] <= '9') || line[i] == '_')) {
      ++i;
    }
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    return i < line.size() && line[i] == '=';
  }
  return false;
}

// `text` as "# " comment lines of at most 80 columns.
std::string comment(std::string_view text) {
  constexpr std::size_t kWidth = 80;
  std::string out;
  std::string line = "#";
  while (!text.empty()) {
    auto space = text.find(' ');
    std::string_view word = text.substr(0, space);
    text = space == std::string_view::npos ? std::string_view() : text.substr(space + 1);
    if (word.empty()) continue;
    if (line.size() > 1 && line.size() + 1 + word.size() > kWidth) {
      out += line + "\n";
      line = "#";
    }
    line += " ";
    line += word;
  }
  if (line.size() > 1) out += line + "\n";
  return out;
}

}  // namespace

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string to_upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

std::string where(std::string_view source, int line) {
  if (line <= 0) return std::string(source);
  return fmt::format("{}:{}", source, line);
}

core::Status assign(Config& config, const Key& key, const Value& value, std::string_view source,
                    std::string_view written, Dialect dialect) {
  auto mismatch = [&]() -> core::Status {
    std::string expected = expectation(key, dialect);
    if (value.kind == Value::Kind::kInteger && value.integer > key.max && key.max >= kIntMax) {
      expected += fmt::format(" and at most {}", key.max);
    }
    return core::invalid_argument(fmt::format("{}: key '{}': expected {}, got {}",
                                              where(source, value.line), written, expected,
                                              value.shown));
  };
  auto integer_ok = [&] {
    return value.kind == Value::Kind::kInteger && value.integer >= key.min &&
           value.integer <= key.max;
  };
  return std::visit(
      Overloaded{
          [&](std::string Config::*m) -> core::Status {
            if (value.kind != Value::Kind::kString) return mismatch();
            if (!key.choices.empty() && std::find(key.choices.begin(), key.choices.end(),
                                                  value.text) == key.choices.end()) {
              return mismatch();
            }
            if (key.non_empty && value.text.empty()) return mismatch();
            config.*m = value.text;
            return {};
          },
          [&](std::uint16_t Config::*m) -> core::Status {
            if (!integer_ok()) return mismatch();
            config.*m = static_cast<std::uint16_t>(value.integer);
            return {};
          },
          [&](int Config::*m) -> core::Status {
            if (!integer_ok()) return mismatch();
            config.*m = static_cast<int>(value.integer);
            return {};
          },
          [&](bool Config::*m) -> core::Status {
            if (value.kind != Value::Kind::kBool) return mismatch();
            config.*m = value.boolean;
            return {};
          },
          [&](Cidrs Config::*m) -> core::Status {
            if (value.kind != Value::Kind::kArray) return mismatch();
            Cidrs cidrs;
            for (const Value& item : value.items) {
              int line = item.line > 0 ? item.line : value.line;
              if (item.kind != Value::Kind::kString) {
                return core::invalid_argument(fmt::format(
                    "{}: key '{}': expected a CIDR string such as {}, got {}", where(source, line),
                    written, dialect == Dialect::kLegacy ? "'10.0.0.0/8'" : "\"10.0.0.0/8\"",
                    item.shown));
              }
              auto cidr = core::Cidr::parse(item.text);
              if (!cidr) {
                return core::invalid_argument(fmt::format("{}: key '{}': {}", where(source, line),
                                                          written, cidr.error().message));
              }
              cidrs.push_back(*cidr);
            }
            config.*m = std::move(cidrs);
            return {};
          },
          [&](Names Config::*m) -> core::Status {
            std::vector<const Value*> items;
            if (value.kind == Value::Kind::kString) {
              items.push_back(&value);
            } else if (value.kind == Value::Kind::kArray && !value.items.empty()) {
              for (const Value& item : value.items) items.push_back(&item);
            } else {
              return mismatch();
            }
            Names names;
            for (const Value* item : items) {
              int line = item->line > 0 ? item->line : value.line;
              if (item->kind != Value::Kind::kString || !name_allowed(key, item->text)) {
                return core::invalid_argument(
                    fmt::format("{}: key '{}': expected each {}, got {}", where(source, line),
                                written, names_expected(key), item->shown));
              }
              if (std::find(names.begin(), names.end(), item->text) != names.end()) {
                return core::invalid_argument(fmt::format("{}: key '{}': {} is listed twice",
                                                          where(source, line), written,
                                                          item->shown));
              }
              names.push_back(item->text);
            }
            config.*m = std::move(names);
            return {};
          },
          [&](Ints Config::*m) -> core::Status {
            if (value.kind != Value::Kind::kArray) return mismatch();
            Ints ints;
            for (const Value& item : value.items) {
              int line = item.line > 0 ? item.line : value.line;
              if (item.kind != Value::Kind::kInteger || item.integer < key.min ||
                  item.integer > key.max) {
                return core::invalid_argument(
                    fmt::format("{}: key '{}': expected each an integer from {} to {}, got {}",
                                where(source, line), written, key.min, key.max, item.shown));
              }
              ints.push_back(static_cast<int>(item.integer));
            }
            config.*m = std::move(ints);
            return {};
          },
      },
      key.member);
}

const Key* closest_key(std::string_view written) {
  std::string lower = to_lower(written);
  const Key* best = nullptr;
  std::size_t best_distance = std::numeric_limits<std::size_t>::max();
  for (const Key& key : keys()) {
    std::size_t d = edit_distance(lower, key.name);
    if (d < best_distance) {
      best = &key;
      best_distance = d;
    }
  }
  // Close means at most two edits, and fewer than a third of the word, so "foo"
  // does not become "open".
  if (best != nullptr && best_distance <= 2 && best_distance * 3 <= written.size()) return best;
  return nullptr;
}

std::string unknown_key_message(std::string_view written, Dialect dialect) {
  if (const Key* close = closest_key(written)) {
    return fmt::format("unknown key '{}'; did you mean '{}'?", written,
                       spelled(close->name, dialect));
  }
  std::string known;
  for (const Key& key : keys()) {
    if (!known.empty()) known += ", ";
    known += spelled(key.name, dialect);
  }
  return fmt::format("unknown key '{}' (known keys: {})", written, known);
}

core::Result<Parsed> parse_toml_text(std::string_view text, std::string_view source,
                                     const Config& base) {
  toml::table table;
  try {
    table = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    const toml::source_position& at = e.source().begin;
    return core::invalid_argument(
        fmt::format("{}:{}:{}: {}", source, at.line, at.column, e.description()));
  }
  // toml::table is sorted by key; report problems in file order instead.
  struct Entry {
    int line;
    std::string name;
    const toml::node* node;
  };
  std::vector<Entry> entries;
  for (auto&& [k, node] : table) {
    int line = static_cast<int>(k.source().begin.line);
    if (line == 0) line = static_cast<int>(node.source().begin.line);
    entries.push_back({line, std::string(k.str()), &node});
  }
  std::stable_sort(entries.begin(), entries.end(),
                   [](const Entry& a, const Entry& b) { return a.line < b.line; });

  Parsed parsed;
  parsed.config = base;
  for (const Entry& entry : entries) {
    const Key* key = find_key(entry.name);
    if (key == nullptr) {
      std::string message =
          entry.node->is_table()
              ? fmt::format(
                    "unknown key '{}': all keys are top-level, there are no [sections] "
                    "or dotted keys",
                    entry.name)
              : unknown_key_message(entry.name, Dialect::kToml);
      return core::invalid_argument(fmt::format("{}: {}", where(source, entry.line), message));
    }
    Value value = from_node(*entry.node);
    if (value.line == 0) value.line = entry.line;
    auto status = assign(parsed.config, *key, value, source, entry.name, Dialect::kToml);
    if (!status) return status.error();
    parsed.settings.push_back({key->name, entry.name, entry.line});
  }
  return parsed;
}

}  // namespace internal

using internal::Dialect;
using internal::Key;
using internal::keys;

std::string Loaded::blame(std::string_view key, std::string_view message) const {
  auto it = origins.find(key);
  if (it == origins.end()) return fmt::format("key '{}': {}", key, message);
  const Origin& o = it->second;
  return fmt::format("{}: key '{}': {}", internal::where(o.source, o.line), o.written, message);
}

namespace {

// Takes a parsed layer into `loaded`: its config, where each key it set came
// from, its warnings.
void take(Loaded& loaded, internal::Parsed&& parsed, std::string_view source) {
  loaded.config = std::move(parsed.config);
  for (const internal::Setting& s : parsed.settings) {
    loaded.origins[std::string(s.key)] = Origin{std::string(source), s.line, s.written};
  }
  for (std::string& w : parsed.warnings) loaded.warnings.push_back(std::move(w));
}

}  // namespace

core::Status parse_toml_onto(Loaded& loaded, std::string_view text, std::string_view source) {
  auto parsed = internal::parse_toml_text(text, source, loaded.config);
  if (!parsed) return parsed.error();
  take(loaded, std::move(*parsed), source);
  return {};
}

core::Status parse_legacy_onto(Loaded& loaded, std::string_view text, std::string_view source) {
  auto parsed = internal::parse_legacy_text(text, source, loaded.config);
  if (!parsed) return parsed.error();
  take(loaded, std::move(*parsed), source);
  return {};
}

core::Status load_file_onto(Loaded& loaded, const std::string& path) {
  auto text = internal::read_file(path);
  if (!text) return text.error();
  return internal::looks_legacy(path, *text) ? parse_legacy_onto(loaded, *text, path)
                                             : parse_toml_onto(loaded, *text, path);
}

core::Status validate(const Loaded& loaded) {
  auto problem = internal::find_problem(loaded.config);
  if (!problem) return {};
  // Blame the first of the keys at fault (most relevant first) that some layer
  // set: the line to change.
  for (std::string_view name : problem->keys) {
    auto it = loaded.origins.find(name);
    if (it == loaded.origins.end()) continue;
    const Origin& o = it->second;
    return core::invalid_argument(fmt::format("{}: {}", internal::where(o.source, o.line),
                                              internal::describe(*problem, o.written)));
  }
  return core::invalid_argument(internal::describe(*problem, problem->keys.front()));
}

core::Result<Config> load_file(const std::string& path) {
  Loaded loaded;
  if (auto st = load_file_onto(loaded, path); !st) return st.error();
  if (auto st = validate(loaded); !st) {
    // The keys at fault may all be at their defaults; still name the file.
    if (st.error().message.starts_with(path + ":")) return st.error();
    return core::invalid_argument(path + ": " + st.error().message);
  }
  return std::move(loaded.config);
}

core::Result<Config> parse_toml(std::string_view text, std::string_view source) {
  auto parsed = internal::parse_toml_text(text, source, Config{});
  if (!parsed) return parsed.error();
  return std::move(parsed->config);
}

core::Status apply_override(Loaded& loaded, std::string_view assignment) {
  std::string source = fmt::format("--set '{}'", assignment);
  auto eq = assignment.find('=');
  if (eq == std::string_view::npos) {
    return core::invalid_argument(
        fmt::format("{}: expected key=value, such as --set port=7000", source));
  }
  std::string name(internal::trim(assignment.substr(0, eq)));
  std::string_view raw = internal::trim(assignment.substr(eq + 1));
  const Key* key = internal::find_key(name);
  if (key == nullptr) {
    return core::invalid_argument(
        fmt::format("{}: {}", source, internal::unknown_key_message(name, Dialect::kToml)));
  }
  auto value = internal::override_value(*key, raw, source);
  if (!value) return value.error();
  auto status = internal::assign(loaded.config, *key, *value, source, name, Dialect::kToml);
  if (!status) return status;
  loaded.origins[std::string(key->name)] = Origin{source, 0, name};
  return {};
}

core::Status apply_override(Config& config, std::string_view assignment) {
  Loaded loaded;
  loaded.config = std::move(config);
  auto status = apply_override(loaded, assignment);
  config = std::move(loaded.config);
  return status;
}

core::Status validate(const Config& config) {
  auto problem = internal::find_problem(config);
  if (!problem) return {};
  return core::invalid_argument(internal::describe(*problem, problem->keys.front()));
}

std::string to_toml(const Config& config) {
  const Config defaults;
  std::string out = internal::comment(
      "Printed by `p2ptracker serve --print-config`: p2ptracker's configuration in TOML. Every "
      "key is top-level and optional: a key left out keeps its default. Reference: "
      "docs/configuration.md.");
  int group = -1;
  for (const Key& key : keys()) {
    if (key.group != group) {
      group = key.group;
      const auto& g = internal::kGroups[group];
      std::string rule = "# " + std::string(78, '-') + "\n";
      out += "\n" + rule + "# " + std::string(g.title) + "\n";
      if (!g.blurb.empty()) out += internal::comment(g.blurb);
      out += rule;
    }
    out += "\n" + internal::comment(key.doc);
    std::string value = internal::literal(config, key);
    std::string default_value = internal::literal(defaults, key);
    if (value != default_value) out += fmt::format("# Default: {}\n", default_value);
    out += fmt::format("{} = {}\n", key.name, value);
  }
  return out;
}

std::vector<std::string> describe_settings(const Loaded& loaded) {
  std::vector<std::string> out;
  for (const Key& key : keys()) {
    auto it = loaded.origins.find(key.name);
    if (it == loaded.origins.end()) continue;
    const Origin& o = it->second;
    out.push_back(fmt::format("{} = {} ({}, {})", key.name, internal::literal(loaded.config, key),
                              internal::where(o.source, o.line), o.written));
  }
  return out;
}

std::string key_reference_markdown() {
  const Config defaults;
  auto escape = [](std::string_view s) {
    std::string out;
    for (char c : s) {
      if (c == '|') out += '\\';
      out += c;
    }
    return out;
  };
  std::string out = "| Key | Type | Default | Meaning |\n|---|---|---|---|\n";
  for (const Key& key : keys()) {
    out += fmt::format("| `{}` | {} | `{}` | {} |\n", key.name, escape(internal::type_column(key)),
                       escape(internal::literal(defaults, key)), escape(key.doc));
  }
  return out;
}

std::size_t Config::location_depth() const {
  if (uses_topology("smdb")) return smdb_fields.size();
  if (uses_topology("dns") || uses_topology("exec")) return levels.size();
  if (!subnet_levels_v4.empty()) return 1 + subnet_levels_v4.size();
  if (!subnet_levels_v6.empty()) return 1 + subnet_levels_v6.size();
  return 0;
}

bool Config::uses_topology(std::string_view name) const {
  const bool file = name == "file" || name == "static";
  return std::any_of(topology.begin(), topology.end(), [&](const std::string& t) {
    return t == name || (file && (t == "file" || t == "static"));
  });
}

}  // namespace p2p::config
