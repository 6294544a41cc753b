// Fuzz target for the announce path: split_target(), QueryIterator,
// percent_decode() and parse_announce(), then encoding a reply for what was
// parsed (or the failure for what was not) and reading it back.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "wire/announce.h"
#include "wire/bencode.h"
#include "wire/query.h"

namespace {

using namespace p2p;

bool inside(std::string_view part, std::string_view whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

void check_query_helpers(std::string_view in) {
  wire::Target t = wire::split_target(in);
  FUZZ_CHECK(inside(t.path, in) && inside(t.query, in));
  FUZZ_CHECK(t.path.size() + t.query.size() + (t.path.size() < in.size() ? 1 : 0) == in.size());

  wire::QueryIterator it(t.query);
  std::string_view k, v;
  std::string buf;
  while (it.next(k, v)) {
    FUZZ_CHECK(inside(k, t.query) && inside(v, t.query));
    FUZZ_CHECK(!k.empty() || !v.empty() || t.query.find("=") != std::string_view::npos);
    buf.assign(v.size(), '\0');
    auto n = wire::percent_decode(v, buf.data(), buf.size());
    auto size = wire::percent_decoded_size(v);
    FUZZ_CHECK(n.has_value() == size.has_value());
    if (n) {
      FUZZ_CHECK(*n == *size && *n <= v.size());
      // One byte short must not fit, unless there was nothing to decode.
      if (*n > 0) FUZZ_CHECK(!wire::percent_decode(v, buf.data(), *n - 1));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  check_query_helpers(in);

  std::string out;
  auto r = wire::parse_announce(in);
  if (!r) {
    FUZZ_CHECK(r.error().code == core::ErrorCode::kInvalidArgument);
    FUZZ_CHECK(!r.error().message.empty());
    wire::encode_failure(r.error().message, out);
    auto d = wire::bdecode(out);
    FUZZ_CHECK(d && d->find("failure reason")->as_string() == r.error().message);
    return 0;
  }
  FUZZ_CHECK(r->port != 0);
  // Reply with the requester itself as the only peer, both encodings.
  core::Address addr = r->ip.value_or(core::Address::v4(0x7f000001));
  wire::PeerEntry peers[] = {{{addr, r->port}, r->peer_id}};
  wire::AnnounceReply reply;
  reply.interval = 1800;
  reply.peers = peers;
  reply.compact = r->compact;
  reply.no_peer_id = r->no_peer_id;
  reply.external_ip = r->ip;
  wire::encode_announce(reply, out);
  auto d = wire::bdecode(out);
  FUZZ_CHECK(d && d->find("interval") && d->find("peers"));
  if (r->compact) {
    const wire::BValue* p = d->find(addr.is_v4() ? "peers" : "peers6");
    FUZZ_CHECK(p && p->as_string().size() == (addr.is_v4() ? 6u : 18u));
  } else {
    FUZZ_CHECK(d->find("peers")->as_list().size() == 1);
  }
  return 0;
}
