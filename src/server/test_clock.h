// /api/v1/test/clock: moves the server's clock forward, for tests of the
// whole binary. Served only when P2PTRACKER_TEST_CLOCK=1 is in the
// environment at start (docs/api.md), behind the admin API's access rules.
#pragma once

#include "core/clock.h"
#include "net/http_types.h"

namespace p2p::server {

// Whether the environment asks for the test clock.
bool test_clock_enabled();

class TestClockHandler final : public net::HttpHandler {
 public:
  explicit TestClockHandler(core::AdvanceableClock& clock) : clock_(clock) {}

  net::Placement placement(const net::HttpRequest&) const override {
    return net::Placement::kInline;
  }
  // GET: the clock's time. POST ?advance=SECONDS: moves it forward.
  void handle(const net::HttpRequest& request, net::HttpResponse& response,
              net::WorkerContext& context) override;

 private:
  core::AdvanceableClock& clock_;
};

}  // namespace p2p::server
