// GET /health: 200 while announces are served, whatever the Redis mirror
// does; 503 once shutdown begins.
#include "server/health.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "storage/null_store.h"

namespace p2p::server {
namespace {

using nlohmann::json;

// A store whose link state the test sets.
class FakeStore final : public storage::NullStore {
 public:
  storage::StoreStats stats() const override { return stats_; }
  storage::StoreStats stats_;
};

constexpr core::TimePoint kStarted{core::Seconds(1'700'000'000)};  // 2023-11-14T22:13:20Z

class HealthTest : public ::testing::Test {
 protected:
  HealthSources sources(std::string kind = "redis") {
    HealthSources s;
    s.store = &store_;
    s.store_kind = kind;
    if (kind == "redis") s.store_target = "127.0.0.1:6379";
    s.udp = true;
    s.stopping = &stopping_;
    s.started = kStarted;
    return s;
  }

  net::HttpResponse get(HealthHandler& h, net::Method method = net::Method::kGet) {
    net::HttpRequest r;
    r.method = method;
    r.target = r.path = "/health";
    r.header = [](std::string_view) { return std::string_view(); };
    net::WorkerContext context(1);
    net::HttpResponse response;
    h.handle(r, response, context);
    return response;
  }

  FakeStore store_;
  std::atomic<bool> stopping_{false};
};

TEST_F(HealthTest, AllUp) {
  HealthHandler h(sources());
  auto r = get(h);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.extra_headers, "Cache-Control: no-store\r\n");
  EXPECT_EQ(json::parse(r.body), json::parse(R"({"status": "ok", "components": {
      "http": "up", "udp": "up",
      "store": {"kind": "redis", "state": "up", "since": "2023-11-14T22:13:20Z",
                "target": "127.0.0.1:6379"}}})"));
  EXPECT_EQ(h.placement(net::HttpRequest{}), net::Placement::kInline);
}

TEST_F(HealthTest, RedisDownStillServes) {
  store_.stats_.connected = false;
  store_.stats_.since = kStarted + core::Seconds(60);
  store_.stats_.error = "Connection refused";
  HealthHandler h(sources());
  auto r = get(h);
  EXPECT_EQ(r.status, 200);  // announces never wait for the mirror
  EXPECT_EQ(json::parse(r.body), json::parse(R"({"status": "degraded", "components": {
      "http": "up", "udp": "up",
      "store": {"kind": "redis", "state": "down", "since": "2023-11-14T22:14:20Z",
                "target": "127.0.0.1:6379", "error": "Connection refused"}}})"));
}

TEST_F(HealthTest, MemoryStoreAndNoUdp) {
  HealthSources s = sources("memory");
  s.udp = false;
  HealthHandler h(std::move(s));
  auto body = json::parse(get(h).body);
  EXPECT_EQ(body["components"]["udp"], "off");
  EXPECT_EQ(body["components"]["store"],
            json::parse(R"({"kind": "memory", "state": "up", "since": "2023-11-14T22:13:20Z"})"));
}

TEST_F(HealthTest, StoppingIs503) {
  HealthHandler h(sources());
  stopping_ = true;
  auto r = get(h);
  EXPECT_EQ(r.status, 503);
  auto body = json::parse(r.body);
  EXPECT_EQ(body["status"], "stopping");
  EXPECT_EQ(body["components"]["http"], "stopping");
}

TEST_F(HealthTest, OnlyGetAndHead) {
  HealthHandler h(sources());
  EXPECT_EQ(get(h, net::Method::kHead).status, 200);
  auto r = get(h, net::Method::kPost);
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.extra_headers, "Allow: GET, HEAD\r\n");
}

}  // namespace
}  // namespace p2p::server
