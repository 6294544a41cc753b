// The topology chain (issue 13): the SMDB answer parser, the answer cache's
// TTLs on a clock the test advances, and ChainLocator placing a host by the
// rest of the chain until its source answers, then moving it.
#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <mutex>

#include "core/clock.h"
#include "topology/answer_cache.h"
#include "topology/chain_locator.h"
#include "topology/dns_source.h"
#include "topology/location_text.h"
#include "topology/smdb_source.h"
#include "topology/subnet_locator.h"

namespace p2p::topology {
namespace {

core::Address addr(const char* s) { return *core::Address::parse(s); }

const std::vector<std::string> kCabinet = {"/cabinet"};

TEST(SmdbAnswerTest, TheOriginalsShapes) {
  auto one = parse_smdb_answer(R"({"web1": {"cabinet": "cab-A12", "name": "web1"}})", kCabinet);
  EXPECT_EQ(one.kind, Answer::Kind::kFound);
  EXPECT_EQ(one.rack, "cab-A12");
  EXPECT_FALSE(one.ambiguous);
  // {}: the inventory does not know the address.
  EXPECT_EQ(parse_smdb_answer("{}", kCabinet).kind, Answer::Kind::kUnknown);
  // Several servers: the last one written, flagged.
  auto two = parse_smdb_answer(R"({"b": {"cabinet": "first"}, "a": {"cabinet": "last"}})",
                               kCabinet);
  EXPECT_EQ(two.rack, "last");
  EXPECT_TRUE(two.ambiguous);
  // A name written twice: its last record, as the original's dict kept it.
  auto twice = parse_smdb_answer(
      R"({"a": {"cabinet": "one"}, "b": {"cabinet": "two"}, "a": {"cabinet": "three"}})", kCabinet);
  EXPECT_EQ(twice.rack, "three");
  EXPECT_TRUE(twice.ambiguous);
  // Another inventory's field, by JSON pointer.
  auto nested = parse_smdb_answer(R"({"d": {"rack": {"name": "r7"}}})", {"/rack/name"});
  EXPECT_EQ(nested.rack, "r7");
  // One pointer per level: the rack is the path of the values found.
  auto levels =
      parse_smdb_answer(R"({"d": {"site": {"name": "ams1"}, "row": "3", "rack": {"name": "r7"}}})",
                        {"/site/name", "/row", "/rack/name"});
  EXPECT_EQ(levels.rack, "ams1/3/r7");
  // A record without one of them is a bad record, not a shorter path: its
  // site would be taken for a row, where its hosts and the site's other
  // rows' do not see each other.
  for (const char* row : {"null", R"("")"}) {
    auto partial = parse_smdb_answer(std::string(R"({"d": {"site": {"name": "ams1"}, "row": )") +
                                         row + R"(, "rack": {"name": "r7"}}})",
                                     {"/site/name", "/row", "/rack/name"});
    EXPECT_EQ(partial.kind, Answer::Kind::kError) << row;
    EXPECT_TRUE(partial.bad_record);
    EXPECT_NE(partial.detail.find("server 'd' has no /row (a record names every one of "
                                  "smdb_fields, or none)"),
              std::string::npos)
        << partial.detail;
  }
  // A server without the field, or an empty one: unknown.
  EXPECT_EQ(parse_smdb_answer(R"({"d": {"name": "x"}})", kCabinet).kind, Answer::Kind::kUnknown);
  EXPECT_EQ(parse_smdb_answer(R"({"d": {"cabinet": ""}})", kCabinet).kind, Answer::Kind::kUnknown);
}

TEST(SmdbAnswerTest, MalformedAnswersSayWhy) {
  auto expect_error = [](std::string_view body, std::string_view says) {
    auto a = parse_smdb_answer(body, kCabinet);
    EXPECT_EQ(a.kind, Answer::Kind::kError) << body;
    EXPECT_NE(a.detail.find(says), std::string::npos) << a.detail;
  };
  expect_error("<html>", "not JSON");
  expect_error("[1, 2]", "a JSON array, not an object of servers");
  expect_error(R"({"a": [1]})", "server 'a' is a JSON array");
  expect_error(R"({"a": {"cabinet": 12}})", "/cabinet of server 'a' is a JSON number");
  expect_error(R"({"a": {"cabinet": "two words"}})", "contains");
  expect_error(R"({"a": {"cabinet": "a/b/c/d/e"}})", "has 5 levels");
  expect_error(R"({"a": {"cabinet": "ams1/"}})", "has an empty level");
  expect_error(std::string(100, '[') + std::string(100, ']'), "nested deeper than 32");
  // A body that is no answer says something of the service; a server's record
  // that is unusable, only of that address.
  EXPECT_FALSE(parse_smdb_answer("<html>", kCabinet).bad_record);
  EXPECT_FALSE(parse_smdb_answer("[1, 2]", kCabinet).bad_record);
  EXPECT_TRUE(parse_smdb_answer(R"({"a": [1]})", kCabinet).bad_record);
  EXPECT_TRUE(parse_smdb_answer(R"({"a": {"cabinet": 12}})", kCabinet).bad_record);
  EXPECT_TRUE(parse_smdb_answer(R"({"a": {"cabinet": "two words"}})", kCabinet).bad_record);
}

TEST(SmdbAnswerTest, BulkInventoryByAddress) {
  std::vector<std::pair<core::Address, Answer>> out;
  std::size_t skipped = 0;
  ASSERT_TRUE(parse_smdb_bulk(
      R"({"10.0.0.1": {"cabinet": "c1"}, "10.0.0.2": {"name": "x"}, "web3": {"cabinet": "c3"},
          "10.0.0.4": [1], "10.0.0.5": {"cabinet": 5}})",
      kCabinet, out, skipped));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].first, addr("10.0.0.1"));
  EXPECT_EQ(out[0].second.rack, "c1");
  EXPECT_EQ(out[1].second.kind, Answer::Kind::kUnknown);
  EXPECT_EQ(out[2].second.kind, Answer::Kind::kError);
  EXPECT_EQ(skipped, 2u);  // a key that is no address, a value that is no record
  EXPECT_FALSE(parse_smdb_bulk("[]", kCabinet, out, skipped));
  EXPECT_FALSE(parse_smdb_bulk("nope", kCabinet, out, skipped));
}

TEST(SmdbAnswerTest, UrlsAreHttpOnlyAndNamePortAndPath) {
  auto t = parse_http_url("http://smdb-api.internal");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->host, "smdb-api.internal");
  EXPECT_EQ(t->port, "80");
  EXPECT_EQ(t->base_path, "");
  t = parse_http_url("http://[::1]:8080/api/");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->host, "::1");
  EXPECT_EQ(t->port, "8080");
  EXPECT_EQ(t->base_path, "/api");
  EXPECT_FALSE(parse_http_url("https://smdb"));
  EXPECT_FALSE(parse_http_url("smdb:80"));
  EXPECT_FALSE(parse_http_url("http://:80"));
  EXPECT_FALSE(parse_http_url("http://h:99999"));
}

TEST(LocationTextTest, KeysAndPaths) {
  const std::vector<std::string> levels = {"dc", "row", "rack"};
  auto a = parse_location_text("dc=ams1 row=3 rack=12\n", levels);
  EXPECT_EQ(a.kind, Answer::Kind::kFound);
  EXPECT_EQ(a.rack, "ams1/3/12");
  // Order of the words does not matter; keys not in levels are ignored.
  EXPECT_EQ(parse_location_text("rack=12 owner=ops row=3 dc=ams1", levels).rack, "ams1/3/12");
  EXPECT_EQ(parse_location_text("ams1/row3/rack12", levels).rack, "ams1/row3/rack12");
  EXPECT_EQ(parse_location_text(" \t\n", levels).kind, Answer::Kind::kUnknown);
  auto expect_error = [&](std::string_view text, std::string_view says) {
    auto e = parse_location_text(text, levels);
    EXPECT_EQ(e.kind, Answer::Kind::kError) << text;
    EXPECT_NE(e.detail.find(says), std::string::npos) << e.detail;
  };
  expect_error("rack=1 rack=2", "'rack'= is given twice");
  expect_error("owner=ops", "none of dc=, row=, rack=");
  expect_error("two words", "'two' is not key=value");
  expect_error("rack=", "has no value");
  expect_error("rack=a!b", "contains '!'");
  // Every level or none: a location without its row would put its
  // datacenter at the rows' level.
  expect_error("rack=12 dc=ams1",
               "no row= in 'rack=12 dc=ams1' (a location names every one of levels)");
  expect_error("ams1/rack12", "'ams1/rack12' has 2 levels, levels has 3");
  expect_error("rack12", "'rack12' has 1 level, levels has 3");
  expect_error("dc=ams1 row=3 rack=a/12", "has 4 levels, levels has 3");
  expect_error("a/b/c/d/e", "has 5 levels");
  expect_error("dc=ams1 rack=r1/", "has an empty level");
  expect_error(std::string(5000, 'x'), "5000 bytes");
}

TEST(DnsSourceTest, QueryNamesAndRecords) {
  const auto v4 = addr("1.2.3.4");
  EXPECT_EQ(dns_query_name("{reverse}.topology.example.", v4), "4.3.2.1.topology.example.");
  EXPECT_EQ(dns_query_name("{ip}.hosts.example.", v4), "1.2.3.4.hosts.example.");
  const auto v6 = addr("2001:db8::1");
  EXPECT_EQ(dns_query_name("{reverse}.t.", v6),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.t.");
  EXPECT_EQ(dns_query_name("{ip}.t.", v6), "2001-db8--1.t.");
  const std::vector<std::string> levels = {"rack"};
  EXPECT_EQ(parse_txt_records({}, levels).kind, Answer::Kind::kUnknown);
  auto two = parse_txt_records({"rack=a", "rack=b"}, levels);
  EXPECT_EQ(two.rack, "b");
  EXPECT_TRUE(two.ambiguous);
}

TEST(AnswerCacheTest, FreshThenStaleAndNegativeUntilRetry) {
  core::ManualClock clock;
  AnswerCache cache(64);
  const auto a = addr("10.0.0.1");
  EXPECT_EQ(cache.get(a, clock.now()).state, AnswerCache::Hit::State::kMiss);
  cache.put_found(a, core::RackId::named(3), clock.now() + core::Seconds(60));
  EXPECT_EQ(cache.get(a, clock.now()).state, AnswerCache::Hit::State::kFresh);
  clock.advance(core::Seconds(61));
  auto hit = cache.get(a, clock.now());
  EXPECT_EQ(hit.state, AnswerCache::Hit::State::kStale);  // still placed there
  EXPECT_EQ(hit.rack, core::RackId::named(3));
  // A failed refresh keeps the rack; an "unknown" forgets it.
  cache.put_negative(a, clock.now() + core::Seconds(10), /*keep_found=*/true);
  EXPECT_EQ(cache.get(a, clock.now()).rack, core::RackId::named(3));
  cache.put_negative(a, clock.now() + core::Seconds(10), /*keep_found=*/false);
  EXPECT_EQ(cache.get(a, clock.now()).state, AnswerCache::Hit::State::kNegative);
  clock.advance(core::Seconds(11));
  EXPECT_EQ(cache.get(a, clock.now()).state, AnswerCache::Hit::State::kMiss);
  // expire_all: found answers turn stale at once.
  cache.put_found(a, core::RackId::named(4), clock.now() + core::Seconds(600));
  cache.expire_all();
  EXPECT_EQ(cache.get(a, clock.now()).state, AnswerCache::Hit::State::kStale);
}

TEST(AnswerCacheTest, BoundedOldestFirst) {
  core::ManualClock clock;
  AnswerCache cache(16);  // one entry per shard
  for (int i = 0; i < 1000; ++i) {
    cache.put_found(addr(("10.1." + std::to_string(i / 256) + "." + std::to_string(i % 256)).c_str()),
                    core::RackId::named(1), clock.now() + core::Seconds(60));
  }
  EXPECT_LE(cache.size(), 16u);
}

// A source the test answers by hand, on the chain's thread.
class ManualSource final : public LookupSource {
 public:
  std::string_view name() const override { return "manual"; }
  void lookup(const core::Address& address, std::function<void(Answer)> done) override {
    std::lock_guard lock(mu);
    asked.push_back(address);
    pending.push_back(std::move(done));
    cv.notify_all();
  }
  // Waits for the next lookup and answers it (on the test's thread: the
  // chain handles answers from any thread the same way).
  void answer(Answer a) {
    std::function<void(Answer)> done;
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return !pending.empty(); });
      done = std::move(pending.front());
      pending.pop_front();
    }
    done(std::move(a));
  }
  std::mutex mu;
  std::condition_variable cv;
  std::vector<core::Address> asked;
  std::deque<std::function<void(Answer)>> pending;
};

Answer found(const char* rack) {
  Answer a;
  a.kind = Answer::Kind::kFound;
  a.rack = rack;
  return a;
}

TEST(ChainLocatorTest, UnprovenAddressesTakeAtMostHalfTheLookups) {
  // A UDP connect can carry any source address: a flood of them must leave
  // lookups for the hosts that announce.
  core::ManualClock clock;
  RackNames names;
  ChainOptions o;
  o.max_in_flight = 4;
  ChainLocator chain(std::make_unique<SubnetLocator>(24, 64), o, clock, names);
  auto source = std::make_unique<ManualSource>();
  ManualSource& manual = *source;
  chain.add_source(std::move(source));
  chain.start();
  for (int i = 1; i <= 10; ++i) chain.prefetch(addr(("10.7.0." + std::to_string(i)).c_str()));
  EXPECT_EQ(chain.source_stats()[0].skipped, 8u);  // two started
  for (int i = 1; i <= 5; ++i) chain.locate(addr(("10.8.0." + std::to_string(i)).c_str()));
  EXPECT_EQ(chain.source_stats()[0].skipped, 11u);  // two more: four in flight
  // An answer frees a place; unproven addresses still stop at half.
  manual.answer(found("cab-1"));
  chain.prefetch(addr("10.7.0.11"));
  EXPECT_EQ(chain.source_stats()[0].skipped, 12u);
  chain.locate(addr("10.8.0.6"));
  EXPECT_EQ(chain.source_stats()[0].skipped, 12u);
}

TEST(ChainLocatorTest, PlacedByTheRestUntilTheAnswerThenMovedAndCachedForTheTtl) {
  core::ManualClock clock;
  RackNames names;
  ChainOptions o;
  o.ttl = core::Seconds(600);
  o.negative_ttl = core::Seconds(30);
  ChainLocator chain(std::make_unique<SubnetLocator>(24, 64), o, clock, names);
  auto source = std::make_unique<ManualSource>();
  ManualSource& manual = *source;
  chain.add_source(std::move(source));
  std::vector<std::tuple<core::Address, core::RackId, core::RackId, bool>> moves;
  chain.on_relocate([&](const core::Address& a, core::RackId from, core::RackId to, bool moved) {
    moves.emplace_back(a, from, to, moved);
  });
  chain.start();

  const auto host = addr("10.2.3.4");
  const core::RackId subnet = subnet_rack(host, 24, 64);
  EXPECT_EQ(chain.locate(host), subnet);  // at once, by the subnet rule
  EXPECT_EQ(chain.locate(host), subnet);  // one lookup running, not two
  manual.answer(found("cab-9"));
  const core::RackId cab = *names.find("cab-9");
  ASSERT_EQ(moves.size(), 1u);
  EXPECT_EQ(std::get<1>(moves[0]), subnet);
  EXPECT_EQ(std::get<2>(moves[0]), cab);
  EXPECT_FALSE(std::get<3>(moves[0]));  // placed by the subnet rule until then
  EXPECT_EQ(chain.locate(host), cab);
  EXPECT_EQ(manual.asked.size(), 1u);

  // Past the TTL: still cab-9 while asked again; a failure keeps it.
  clock.advance(core::Seconds(601));
  EXPECT_EQ(chain.locate(host), cab);
  Answer down;
  down.kind = Answer::Kind::kError;
  down.detail = "connection refused";
  manual.answer(down);
  EXPECT_EQ(chain.locate(host), cab);
  EXPECT_EQ(manual.asked.size(), 2u);
  auto stats = chain.source_stats();
  EXPECT_FALSE(stats[0].up);
  EXPECT_EQ(stats[0].error, "connection refused");
  EXPECT_EQ(moves.size(), 1u);

  // The inventory moved the host: the next refresh moves it.
  clock.advance(core::Seconds(31));
  EXPECT_EQ(chain.locate(host), cab);
  manual.answer(found("cab-10"));
  ASSERT_EQ(moves.size(), 2u);
  EXPECT_EQ(std::get<1>(moves[1]), cab);
  EXPECT_EQ(std::get<2>(moves[1]), *names.find("cab-10"));
  EXPECT_TRUE(std::get<3>(moves[1]));  // the source had placed it: a move
  EXPECT_TRUE(chain.source_stats()[0].up);

  // Unknown: the subnet rule, not asked again within the negative TTL.
  const auto stranger = addr("10.9.9.9");
  chain.locate(stranger);
  manual.answer(Answer{Answer::Kind::kUnknown, {}, {}, false});
  const std::size_t asked = manual.asked.size();
  EXPECT_EQ(chain.locate(stranger), subnet_rack(stranger, 24, 64));
  EXPECT_EQ(manual.asked.size(), asked);
  chain.stop();
}

}  // namespace
}  // namespace p2p::topology
