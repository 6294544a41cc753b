// NullStore: a Store that mirrors nothing (store = "memory", the default).
//
// The tracker's state already lives in memory: the swarms, the stats API and
// /metrics read the SwarmTable, never the store, and registrations live in
// data_dir. Only Redis deployments need the original's data model copied out.
// Writes return at once; reads answer empty. Thread-safe (it has no state).
#pragma once

#include "storage/store.h"

namespace p2p::storage {

// Not final: tests derive from it to fake one answer (stats()).
class NullStore : public Store {
 public:
  void peer_announced(const PeerUpdate&) noexcept override {}
  void transfer_seen(const core::InfoHash&) noexcept override {}
  void transfer_registered(const TransferRecord&) override {}
  void transfer_deregistered(const core::InfoHash&, core::TimePoint) override {}
  core::Status flush(std::chrono::milliseconds) override { return {}; }

  core::Result<std::vector<core::InfoHash>> seen_transfers() override {
    return std::vector<core::InfoHash>{};
  }
  core::Result<std::vector<TransferRecord>> active_transfers() override {
    return std::vector<TransferRecord>{};
  }
  core::Result<std::vector<std::string>> racks() override { return std::vector<std::string>{}; }
  core::Result<std::vector<std::string>> rack_hosts(const std::string&) override {
    return std::vector<std::string>{};
  }
  core::Result<std::vector<std::string>> transfer_peers(const core::InfoHash&, char) override {
    return std::vector<std::string>{};
  }
  core::Result<std::vector<std::string>> rack_peers(const core::InfoHash&, const std::string&,
                                                    char) override {
    return std::vector<std::string>{};
  }
  core::Result<std::map<std::string, std::string>> peer_fields(const core::InfoHash&,
                                                               const core::Endpoint&) override {
    return std::map<std::string, std::string>{};
  }
  core::Result<std::map<std::string, std::string>> transfer_fields(const core::InfoHash&) override {
    return std::map<std::string, std::string>{};
  }
  StoreStats stats() const override { return {}; }
};

}  // namespace p2p::storage
