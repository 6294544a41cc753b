// AdminAccess without sockets: who may make which request, and what a refusal
// looks like; and the Router asking it before any handler runs.
#include "net/admin_access.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <stdexcept>
#include <string>

namespace p2p::net {
namespace {

using ::testing::HasSubstr;
using Verdict = AdminAccess::Verdict;

constexpr std::string_view kToken = "c2VjcmV0LXRva2VuLWZvci10ZXN0cw==";

// A request from `from` with `headers`; the strings live as long as the object.
struct Request {
  explicit Request(Method method, std::string from = "127.0.0.1",
                   std::map<std::string, std::string> h = {})
      : headers(std::move(h)) {
    r.method = method;
    r.target = r.path = "/api/v1/torrents/x.torrent";
    r.remote = {*core::Address::parse(from), 40000};
    r.header = [this](std::string_view name) -> std::string_view {
      auto it = headers.find(std::string(name));
      return it == headers.end() ? std::string_view{} : std::string_view(it->second);
    };
  }
  Request(const Request&) = delete;

  std::map<std::string, std::string> headers;
  HttpRequest r;
};

std::map<std::string, std::string> bearer(std::string_view token) {
  return {{"Authorization", "Bearer " + std::string(token)}};
}

AdminAccess with_token(bool read_needs_token = false) {
  AdminAccessOptions o;
  o.token = std::string(kToken);
  o.token_file = "/etc/p2ptracker/admin.token";
  o.read_needs_token = read_needs_token;
  return AdminAccess(o);
}

TEST(AdminAccessTest, ThisHostIsExactlyTheTwoLoopbackAddresses) {
  for (const char* a : {"127.0.0.1", "::1", "::ffff:127.0.0.1"}) {
    EXPECT_TRUE(AdminAccess::is_this_host(*core::Address::parse(a))) << a;
  }
  for (const char* a : {"127.0.5.5", "127.0.0.2", "127.1.0.1", "10.0.0.1", "192.168.1.10",
                        "::", "::2", "fe80::1", "0.0.0.0"}) {
    EXPECT_FALSE(AdminAccess::is_this_host(*core::Address::parse(a))) << a;
  }
}

TEST(AdminAccessTest, WithoutTokenChangesComeOnlyFromThisHost) {
  AdminAccess access{AdminAccessOptions{}};
  for (Method m : {Method::kPost, Method::kPut, Method::kDelete, Method::kOther}) {
    Request local(m, "127.0.0.1"), local6(m, "::1"), stranger(m, "127.0.5.5"), lan(m, "10.1.2.3");
    EXPECT_EQ(access.decide(local.r, Access::kChange), Verdict::kAllow);
    EXPECT_EQ(access.decide(local6.r, Access::kChange), Verdict::kAllow);
    EXPECT_EQ(access.decide(stranger.r, Access::kChange), Verdict::kNotLocal);
    EXPECT_EQ(access.decide(lan.r, Access::kChange), Verdict::kNotLocal);
  }
  // Reads and the BitTorrent protocol stay open.
  Request stranger(Method::kGet, "127.0.5.5");
  EXPECT_EQ(access.decide(stranger.r, Access::kRead), Verdict::kAllow);
  EXPECT_EQ(access.decide(stranger.r, Access::kPublic), Verdict::kAllow);
  // A token means nothing when none is configured: the address decides.
  Request with_bearer(Method::kPost, "127.0.5.5", bearer(kToken));
  EXPECT_EQ(access.decide(with_bearer.r, Access::kChange), Verdict::kNotLocal);
}

// The address is the client's, by the same rule as announces: proxy headers
// count only from trusted_proxies with proxypass on.
TEST(AdminAccessTest, ProxyHeadersCountOnlyFromTrustedProxies) {
  AdminAccessOptions o;
  o.trust.trusted_proxies = {*core::Cidr::parse("127.0.0.1/32")};
  std::map<std::string, std::string> from_stranger = {{"X-Forwarded-For", "203.0.113.9"}};
  std::map<std::string, std::string> claims_local = {{"X-Real-IP", "127.0.0.1"}};

  AdminAccess off(o);  // proxypass off: headers ignored, the TCP peer counts
  Request via_proxy(Method::kPost, "127.0.0.1", from_stranger);
  EXPECT_EQ(off.decide(via_proxy.r, Access::kChange), Verdict::kAllow);

  o.trust.proxypass = true;
  AdminAccess on(o);
  // A stranger's request forwarded by our proxy is the stranger's.
  EXPECT_EQ(on.decide(via_proxy.r, Access::kChange), Verdict::kNotLocal);
  // A stranger cannot claim to be local by sending the header itself.
  Request forged(Method::kPost, "127.0.5.5", claims_local);
  EXPECT_EQ(on.decide(forged.r, Access::kChange), Verdict::kNotLocal);
  // Our proxy speaking for a client on this host.
  Request local_client(Method::kPost, "127.0.0.1", claims_local);
  EXPECT_EQ(on.decide(local_client.r, Access::kChange), Verdict::kAllow);
}

TEST(AdminAccessTest, WithTokenChangesNeedItFromEveryHost) {
  AdminAccess access = with_token();
  for (const char* from : {"127.0.0.1", "127.0.5.5", "10.1.2.3", "2001:db8::7"}) {
    Request none(Method::kPost, from);
    Request wrong(Method::kDelete, from, bearer("c2VjcmV0LXRva2VuLWZvci10ZXN0cw=!"));
    Request right(Method::kPut, from, bearer(kToken));
    EXPECT_EQ(access.decide(none.r, Access::kChange), Verdict::kNoToken) << from;
    EXPECT_EQ(access.decide(wrong.r, Access::kChange), Verdict::kWrongToken) << from;
    EXPECT_EQ(access.decide(right.r, Access::kChange), Verdict::kAllow) << from;
    EXPECT_EQ(access.decide(none.r, Access::kRead), Verdict::kAllow) << from;
    EXPECT_EQ(access.decide(none.r, Access::kPublic), Verdict::kAllow) << from;
  }
}

TEST(AdminAccessTest, BearerHeaderSyntax) {
  AdminAccess access = with_token();
  auto verdict = [&](std::string value) {
    Request r(Method::kPost, "127.0.5.5", {{"Authorization", std::move(value)}});
    return access.decide(r.r, Access::kChange);
  };
  std::string t(kToken);
  EXPECT_EQ(verdict("Bearer " + t), Verdict::kAllow);
  EXPECT_EQ(verdict("bearer " + t), Verdict::kAllow);  // the scheme is case-insensitive
  EXPECT_EQ(verdict("  Bearer   " + t + "  "), Verdict::kAllow);
  EXPECT_EQ(verdict("Bearer"), Verdict::kNoToken);
  EXPECT_EQ(verdict("Bearer "), Verdict::kNoToken);
  EXPECT_EQ(verdict("Basic " + t), Verdict::kNoToken);
  EXPECT_EQ(verdict("Bearer" + t), Verdict::kNoToken);
  EXPECT_EQ(verdict(t), Verdict::kNoToken);
  EXPECT_EQ(verdict("Bearer " + t + "x"), Verdict::kWrongToken);
  EXPECT_EQ(verdict("Bearer " + t.substr(1)), Verdict::kWrongToken);
  EXPECT_EQ(verdict("Bearer " + t + " " + t), Verdict::kWrongToken);
}

TEST(AdminAccessTest, AdminReadTokenGuardsReadsButNeverTheProtocol) {
  AdminAccess access = with_token(/*read_needs_token=*/true);
  Request none(Method::kGet, "127.0.0.1");
  Request right(Method::kGet, "127.0.5.5", bearer(kToken));
  EXPECT_EQ(access.decide(none.r, Access::kRead), Verdict::kNoToken);
  EXPECT_EQ(access.decide(right.r, Access::kRead), Verdict::kAllow);
  EXPECT_EQ(access.decide(none.r, Access::kPublic), Verdict::kAllow);
}

TEST(AdminAccessTest, RefusalsSayWhatToDo) {
  HttpResponse response;
  AdminAccess local_only{AdminAccessOptions{}};
  Request stranger(Method::kDelete, "127.0.5.5");
  EXPECT_FALSE(local_only.admit(stranger.r, Access::kChange, response));
  EXPECT_EQ(response.status, 403);
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_THAT(response.body, HasSubstr("\"error\":"));
  EXPECT_THAT(response.body, HasSubstr("admin_token_file"));
  EXPECT_TRUE(response.extra_headers.empty());

  AdminAccess token = with_token();
  response.reset();
  EXPECT_FALSE(token.admit(stranger.r, Access::kChange, response));
  EXPECT_EQ(response.status, 401);
  EXPECT_EQ(response.extra_headers, "WWW-Authenticate: Bearer realm=\"p2ptracker\"\r\n");
  EXPECT_THAT(response.body, HasSubstr("Authorization: Bearer"));
  EXPECT_THAT(response.body, HasSubstr("--token-file"));

  Request wrong(Method::kDelete, "127.0.5.5", bearer("nope"));
  response.reset();
  EXPECT_FALSE(token.admit(wrong.r, Access::kChange, response));
  EXPECT_EQ(response.status, 401);
  EXPECT_THAT(response.extra_headers, HasSubstr("error=\"invalid_token\""));
  // The secret never appears in a reply.
  EXPECT_THAT(response.body, ::testing::Not(HasSubstr(std::string(kToken))));

  response.reset();
  Request right(Method::kDelete, "127.0.5.5", bearer(kToken));
  EXPECT_TRUE(token.admit(right.r, Access::kChange, response));
  EXPECT_EQ(response.status, 200);
  EXPECT_TRUE(response.body.empty());
}

TEST(AdminAccessTest, ModeIsOneLineNamingTheFileNotTheToken) {
  std::string local = AdminAccess(AdminAccessOptions{}).mode();
  EXPECT_THAT(local, HasSubstr("only from this host"));
  EXPECT_THAT(local, HasSubstr("set admin_token_file"));
  std::string token = with_token(true).mode();
  EXPECT_THAT(token, HasSubstr("bearer token required"));
  EXPECT_THAT(token, HasSubstr("admin_token_file=/etc/p2ptracker/admin.token"));
  EXPECT_THAT(token, HasSubstr("admin_read=token"));
  EXPECT_THAT(token, ::testing::Not(HasSubstr(std::string(kToken))));
  for (const auto& line : {local, token}) EXPECT_EQ(line.find('\n'), std::string::npos);
}

// --- The router asks the handler what a request does -------------------------

class Recorder final : public HttpHandler {
 public:
  explicit Recorder(std::optional<Access> says = std::nullopt) : says_(says) {}
  Placement placement(const HttpRequest&) const override { return Placement::kInline; }
  void handle(const HttpRequest&, HttpResponse& response, WorkerContext&) override {
    ++calls;
    response.status = 200;
  }
  Access access(const HttpRequest& request) const override {
    return says_ ? *says_ : HttpHandler::access(request);
  }
  int calls = 0;

 private:
  std::optional<Access> says_;
};

TEST(RouterAccessTest, MethodDecidesUnlessTheHandlerSays) {
  Recorder admin, tracker(Access::kPublic);
  Router router;
  router.add_prefix("/things/", &admin);  // any endpoint, listed nowhere else
  router.add_exact("/announce", &tracker);
  AdminAccess access{AdminAccessOptions{}};
  router.set_access(&access);
  WorkerContext context(1);

  auto run = [&](Method m, std::string path) {
    Request req(m, "127.0.5.5");
    req.r.target = req.r.path = path;
    HttpResponse response;
    router.handle(req.r, response, context);
    return response.status;
  };
  EXPECT_EQ(run(Method::kGet, "/things/a"), 200);
  EXPECT_EQ(run(Method::kHead, "/things/a"), 200);
  EXPECT_EQ(run(Method::kPost, "/things/a"), 403);
  EXPECT_EQ(run(Method::kPut, "/things/a"), 403);
  EXPECT_EQ(run(Method::kDelete, "/things/a"), 403);
  EXPECT_EQ(run(Method::kOther, "/things/a"), 403);
  EXPECT_EQ(admin.calls, 2);  // refused requests never reach the handler
  // The tracker says "public" whatever the method (it answers 405 itself).
  EXPECT_EQ(run(Method::kPost, "/announce"), 200);
  EXPECT_EQ(tracker.calls, 1);
  EXPECT_EQ(run(Method::kPost, "/nowhere"), 404);

  // The same decision from the header alone, before an upload's body is read.
  Request upload(Method::kPost, "127.0.5.5");
  upload.r.target = upload.r.path = "/things/a";
  HttpResponse response;
  EXPECT_TRUE(router.refuse_early(upload.r, response));
  EXPECT_EQ(response.status, 403);
  Request local(Method::kPost, "127.0.0.1");
  local.r.target = local.r.path = "/things/a";
  response.reset();
  EXPECT_FALSE(router.refuse_early(local.r, response));
  Request announce(Method::kPost, "127.0.5.5");
  announce.r.target = announce.r.path = "/announce";
  EXPECT_FALSE(router.refuse_early(announce.r, response));
  EXPECT_EQ(admin.calls, 2);
}

class Thrower : public HttpHandler {
 public:
  Placement placement(const HttpRequest&) const override { return Placement::kInline; }
  void handle(const HttpRequest&, HttpResponse& response, WorkerContext&) override {
    response.body = "half an answer";
    throw std::runtime_error("a bug");
  }
};

TEST(RouterAccessTest, AHandlerThatThrowsCostsItsRequestNotTheProcess) {
  Thrower thrower;
  Router router;
  router.add_prefix("/things/", &thrower);
  WorkerContext context(1);
  metrics::WorkerCounters counters;
  context.counters = &counters;
  Request req(Method::kGet, "127.0.0.1");
  req.r.target = req.r.path = "/things/a";
  HttpResponse response;
  router.handle(req.r, response, context);
  EXPECT_EQ(counters.get(metrics::Counter::kHttpInternalErrors), 1u);
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_NE(response.body.find("\"error\": \"internal error"), std::string::npos) << response.body;
}

}  // namespace
}  // namespace p2p::net
