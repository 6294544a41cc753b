#include "admin/dashboard_api.h"

#include <fmt/format.h>

#include <cassert>

#include "admin/json_reply.h"
#include "wire/query.h"

namespace p2p::admin {
namespace {

constexpr std::string_view kPage = "index.html";
constexpr std::string_view kAssetPrefix = "/dashboard/";
// The page names each asset as "dashboard/<file>?v=<version>", the version
// being the first digits of the file's SHA-256: 48 bits tell builds apart.
constexpr std::size_t kVersionDigits = 12;

// Cache scheme. The page is revalidated on every load (a new binary may serve a
// new one); an asset fetched with the current ?v= never changes, so browsers
// keep it for a year; fetched any other way it is revalidated like the page.
// The page may load only what the tracker serves (no inline script, no other
// origin), and nothing may frame it.
constexpr std::string_view kPageHeaders =
    "Cache-Control: no-cache\r\n"
    "Content-Security-Policy: default-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'\r\n"
    "X-Content-Type-Options: nosniff\r\n";
constexpr std::string_view kVersionedHeaders =
    "Cache-Control: public, max-age=31536000, immutable\r\n"
    "X-Content-Type-Options: nosniff\r\n";
constexpr std::string_view kUnversionedHeaders =
    "Cache-Control: no-cache\r\n"
    "X-Content-Type-Options: nosniff\r\n";

std::string_view content_type_of(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  if (name.ends_with(".svg")) return "image/svg+xml";
  if (name.ends_with(".png")) return "image/png";
  return "application/octet-stream";
}

std::string_view version_asked(std::string_view query) {
  wire::QueryIterator it(query);
  std::string_view k, v, version;
  while (it.next(k, v)) {
    if (k == "v") version = v;
  }
  return version;
}

}  // namespace

DashboardApi::DashboardApi() {
  std::string page;
  bool have_page = false;
  for (const EmbeddedFile& f : dashboard_files()) {
    std::string bytes(reinterpret_cast<const char*>(f.data), f.size);
    if (f.name == kPage) {
      page = std::move(bytes);
      have_page = true;
      continue;
    }
    assets_.push_back({std::string(f.name), content_type_of(f.name), std::move(bytes),
                       std::string(f.sha256.substr(0, kVersionDigits))});
  }
  assert(have_page && "src/admin/CMakeLists.txt must embed dashboard/index.html");
  (void)have_page;
  // The page refers to an asset's version as "{{app.js}}".
  for (const Asset& a : assets_) {
    const std::string token = "{{" + a.name + "}}";
    for (auto at = page.find(token); at != std::string::npos;
         at = page.find(token, at + a.version.size())) {
      page.replace(at, token.size(), a.version);
    }
  }
  assets_.push_back({"", content_type_of(kPage), std::move(page), ""});
}

const DashboardApi::Asset* DashboardApi::find(std::string_view path) const {
  std::string_view name;
  if (path == "/") {
    name = "";
  } else if (path.starts_with(kAssetPrefix) && path.size() > kAssetPrefix.size()) {
    name = path.substr(kAssetPrefix.size());
  } else {
    return nullptr;
  }
  for (const Asset& a : assets_) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

void DashboardApi::handle(const net::HttpRequest& request, net::HttpResponse& response,
                          net::WorkerContext&) {
  const Asset* asset = find(request.path);
  if (asset == nullptr) {
    return reply_error(response, 404,
                       fmt::format("no dashboard file at {}; the dashboard is at /", request.path));
  }
  if (request.method != net::Method::kGet && request.method != net::Method::kHead) {
    reply_error(response, 405, "the dashboard is read-only: use GET");
    response.extra_headers = "Allow: GET, HEAD\r\n";
    return;
  }
  response.status = 200;
  response.content_type = asset->content_type;
  response.body.assign(asset->body);  // keeps the response's buffer: no allocation once warm
  if (asset->name.empty()) {
    response.extra_headers = kPageHeaders;
  } else if (version_asked(request.query) == asset->version) {
    response.extra_headers = kVersionedHeaders;
  } else {
    response.extra_headers = kUnversionedHeaders;
  }
}

}  // namespace p2p::admin
