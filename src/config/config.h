// Config: every setting of the tracker, with its default and its reason.
//
// One struct, filled from (in order) the embedded defaults, config files (TOML,
// or the original p2ptracker's Python-style `KEY = value` files), and `--set
// key=value` overrides. Keys are the original's names in lower case plus ours;
// all are top-level keys of the file. The key table in config.cc is the single
// place a key is declared: loading, validation, --print-config and the docs in
// docs/configuration.md all follow it. Loaded once at start-up on the main
// thread; afterwards shared read-only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/address.h"
#include "core/result.h"

namespace p2p::config {

struct Config {
  // --- The original p2ptracker's keys -----------------------------------
  std::string host = "::";  // address to listen on; "::" is dual stack (IPv4 too)
  std::uint16_t port = 6969;     // HTTP port (the de-facto tracker port)
  int udp_port = -1;             // UDP tracker (BEP 15): -1 same as port, 0 off
  std::string redishost = "127.0.0.1";
  std::uint16_t redisport = 6379;
  std::string smdb_url;  // the inventory service the "smdb" topology source asks
  int max_repr_rack = 2;  // representatives per rack per transfer
  std::vector<int> max_repr_levels = {2, 2};  // ... per group above, outermost first
  std::string repr_budget = "per_transfer";   // or "per_rack": one budget over all transfers
  std::string policy = "original";  // "original", "standby" or "progress" (docs/policy.md)
  int grant_percent = 50;  // policy "progress": share of the payload a standby must hold
  int active_interval = 45;   // seconds between announces of an active transfer
  int passive_interval = 300;  // ... of an unknown or inactive transfer
  int maxpeers = 35;           // most peers in one announce reply
  bool proxypass = false;      // honour X-Forwarded-For / X-Real-IP from trusted_proxies
  bool debug = false;          // debug logging

  // --- Ours ---------------------------------------------------------------
  std::string store = "memory";   // "memory" or "redis"
  std::string redis_prefix;       // prepended to every Redis key (shared Redis)
  std::string data_dir = "./data";  // registered torrents, durable state
  int min_interval = 15;  // "min interval" in replies (capped at the interval)
  int downloading_interval = 10;  // tree: asked of a host still downloading (0: active)
  int peer_timeout = 150;  // seconds without an announce before a peer is dropped
  int peer_timeout_max = 900;  // ... at most, for a client that announces less often
  int assumed_announce_gap = 300;  // a peer's announce gap until it has shown one
  bool open = false;       // track every info-hash, not only registered ones
  int max_open_transfers = 50000;   // with open: unregistered transfers tracked at once
  int max_open_peers = 1000000;     // with open: their peers, all together (0: no bound)
  int max_seen_transfers = 100000;  // unknown info-hashes mirrored to Redis per run
  bool full_scrape = true;  // /scrape without info_hash lists active transfers
  std::vector<core::Cidr> trusted_networks;  // may set the `ip` parameter
  std::vector<core::Cidr> trusted_proxies = {*core::Cidr::parse("127.0.0.1/32"),
                                             *core::Cidr::parse("::1/128")};
  std::string proxy_header = "X-Forwarded-For";  // the header trusted proxies name clients in
  // The chain of topology sources, asked in order: "smdb" (the inventory
  // service at smdb_url), "file" (alias "static": topology_file), "subnet".
  std::vector<std::string> topology = {"subnet"};
  std::string topology_file;        // static map: "CIDR rack" lines
  // JSON pointers to the location's levels in a server's record, outermost first.
  std::vector<std::string> smdb_fields = {"/cabinet"};
  std::string smdb_bulk_url;    // the whole inventory, fetched every smdb_bulk_interval
  int smdb_bulk_interval = 300;
  int topology_timeout_ms = 2000;   // one lookup's deadline
  int topology_wait_ms = 500;       // how long an announce waits for a lookup's first answer
  int topology_cache_ttl = 3600;    // seconds a found rack is used before asking again
  int topology_negative_ttl = 60;   // seconds before asking again about an unknown address
  int topology_cache_size = 200000;  // addresses remembered per lookup source
  int topology_max_in_flight = 64;   // lookups running at once
  std::vector<std::string> levels = {"dc", "row", "rack"};  // keys of dns/exec answers, outermost first
  std::string dns_name;    // TXT name template: "{reverse}.topology.example."
  std::string dns_server;  // "address[:port]"; empty: the system's resolver
  std::string exec_command;  // plugin program: prints the location of argv[1]
  int exec_max_running = 8;  // plugin programs running at once
  bool topology_strict = false;      // refuse to start if a lookup source does not answer
  int subnet_prefix_v4 = 24;        // a rack is this IPv4 prefix by default
  int subnet_prefix_v6 = 64;        // ... and this IPv6 prefix
  std::vector<int> subnet_levels_v4;  // prefixes of the groups above a subnet rack, outermost first
  std::vector<int> subnet_levels_v6;
  int workers = 0;                  // event-loop threads; 0: one per core
  int max_request_bytes = 8192;     // request line + headers
  int max_torrent_bytes = 16 << 20;  // largest .torrent upload
  int max_torrent_files = 100000;    // most files one .torrent may list
  int max_reply_bytes_in_flight = 256 << 20;  // big replies being written, per listener
  int max_uploads_in_flight = 4;     // request bodies being received or handled at once
  int request_timeout = 10;  // seconds to receive a whole request
  int keepalive_timeout = 60;  // seconds an idle keep-alive connection stays
  int max_connections = 20000;  // open HTTP connections, all workers together
  // Per-source bounds (reasons in the key table's docs); 0 turns one off.
  int max_connections_per_source = 512;  // open HTTP connections of one address
  int rate_limit_announces = 50;         // announces per second per source address
  int rate_limit_announce_burst = 500;   // ... and how many may come at once
  int rate_limit_scrapes = 10;           // scrapes per second per source address
  int rate_limit_scrape_burst = 100;
  int max_peers_per_address = 64;       // peers (ports) of one address in one transfer
  int max_peers_per_transfer = 200000;  // peers of one transfer
  std::string log_level = "info";  // trace, debug, info, warn, error
  int history_days = 30;  // finished deploys stay in /history/ this long
  int auto_archive_s = 0;  // archive a transfer this long after its last host completed; 0: never
  int stall_intervals = 3;  // a downloading peer without progress this many
                            // active_intervals is "stuck" in the stats API
  std::string admin_token_file;  // bearer token for the admin API; empty: this host only
  std::string admin_listen;  // "address:port" serving the admin API apart; empty: on port
  std::string admin_read = "public";  // "public" or "token": who may read stats

  friend bool operator==(const Config&, const Config&) = default;
  // Whether the topology chain lists `name` ("static" and "file" are one).
  bool uses_topology(std::string_view name) const;
  // How many levels a location has where the configuration says: the
  // lookup sources' (smdb_fields, or levels for dns and exec), else the
  // subnet rule's with subnet_levels_v4; 0 when neither says (a map file's
  // paths then agree among themselves). validate() checks they agree.
  std::size_t location_depth() const;
};

// Where a key's value came from: the layer that set it last (a file or a --set)
// and the line, so a problem found after loading (a cross-key check, a host
// name that does not resolve) names the place to change.
struct Origin {
  std::string source;   // the file's path, or "--set 'port=0'"
  int line = 0;         // 1-based; 0 for a --set
  std::string written;  // the key as spelled there: PORT, UPLOAD_PATH, port
};

// A Config built from layers (the defaults, then files, then --set), with the
// origin of every key some layer set and what the loaders warned about.
struct Loaded {
  Config config;
  std::map<std::string, Origin, std::less<>> origins;  // by key; absent: a default
  // "file:line: ..." for what a legacy file says that p2ptracker ignores
  // (unknown keys, lower-case names, imports), in load order.
  std::vector<std::string> warnings;

  // "<file>:<line>: key '<as written>': <message>", or "key '<key>': <message>"
  // for a key at its default.
  std::string blame(std::string_view key, std::string_view message) const;
};

// Reads the file at `path` on top of `loaded`: the keys it sets replace earlier
// values, the others stay. The format is chosen by name, then content: ".toml"
// is TOML, ".py" the original's Python-style format; any other name is the
// original's format when its first statement assigns an UPPER_CASE name (or is
// a docstring or an import), else TOML. Does not validate: a later layer may
// mend what an earlier one left invalid. Errors name file, line, key and what
// is valid.
core::Status load_file_onto(Loaded& loaded, const std::string& path);
// The same from text already in memory; `source` names it in errors.
core::Status parse_toml_onto(Loaded& loaded, std::string_view text, std::string_view source);
core::Status parse_legacy_onto(Loaded& loaded, std::string_view text, std::string_view source);

// One file on top of the defaults; load_file also validates, naming the file.
core::Result<Config> load_file(const std::string& path);
core::Result<Config> parse_toml(std::string_view text, std::string_view source);
core::Result<Config> parse_legacy(std::string_view text, std::string_view source);

// Applies one `key=value` override (the --set flag), TOML value syntax, with
// bare strings allowed: --set port=7000, --set topology=static.
core::Status apply_override(Loaded& loaded, std::string_view assignment);
core::Status apply_override(Config& config, std::string_view assignment);

// Cross-key checks (ranges, a static topology needs a file, ...). The Loaded
// form names the origin of the key to blame.
core::Status validate(const Loaded& loaded);
core::Status validate(const Config& config);

// One line per key a layer set, in key-table order, for the debug log:
// "port = 5000 (defaultconfig.py:9, PORT)".
std::vector<std::string> describe_settings(const Loaded& loaded);

// The whole config as a commented TOML file; parse_toml() of it gives `config`
// back (tested), so `--print-config > p2ptracker.toml` is a valid start.
std::string to_toml(const Config& config);

// Markdown table of every key: name, type, default, meaning (docs/configuration.md).
std::string key_reference_markdown();

}  // namespace p2p::config
