// The live dashboard: a single web page for people watching a deploy.
//
//   GET /                     the page (src/admin/dashboard/index.html)
//   GET /dashboard/<file>     its script and style sheet
//
// The page is static: its script polls the JSON API (GET /transfers/ and
// /transfers/<hash>.json?racks=1&peers=1) every 2 s and draws every active
// transfer, one row per rack, representatives, stuck peers and a plot of
// completions. The files live in src/admin/dashboard/ and are embedded in the
// binary at build time (dashboard/embed.cmake), so the tracker needs no files
// on disk and the page no network beyond the tracker.
//
// Serves memory only: runs inline on the workers. Thread-safe: immutable after
// construction.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "net/http_types.h"

namespace p2p::admin {

// One embedded file: its bytes and their SHA-256 (64 hex digits).
struct EmbeddedFile {
  std::string_view name;  // "app.js", relative to src/admin/dashboard/
  const unsigned char* data;
  std::size_t size;
  std::string_view sha256;
};

// Every embedded dashboard file. Defined in the source that embed.cmake
// generates; static storage, never changes.
std::span<const EmbeddedFile> dashboard_files();

class DashboardApi final : public net::HttpHandler {
 public:
  // Builds the page from the embedded files; see the .cc for the cache scheme.
  DashboardApi();

  net::Placement placement(const net::HttpRequest&) const override {
    return net::Placement::kInline;
  }
  void handle(const net::HttpRequest& request, net::HttpResponse& response,
              net::WorkerContext& context) override;

 private:
  struct Asset {
    std::string name;               // "app.js"; "" for the page itself
    std::string_view content_type;  // a literal: HttpResponse keeps the view
    std::string body;
    std::string version;  // SHA-256 prefix, the ?v= of its URL in the page
  };
  const Asset* find(std::string_view path) const;

  std::vector<Asset> assets_;
};

}  // namespace p2p::admin
