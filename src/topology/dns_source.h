// DnsSource: locations from DNS TXT records, resolved asynchronously with
// c-ares on the chain's io_context.
//
// The name asked is `dns_name` with {reverse} (4.3.2.1 for 1.2.3.4; IPv6 as
// nibbles, as in ip6.arpa) or {ip} (1.2.3.4; IPv6 with '-' for ':')
// replaced, e.g. "{reverse}.topology.example.". Its TXT record says
// "dc=ams1 row=3 rack=12" (location_text.h). NXDOMAIN or no TXT record: not
// known here (the next source answers). Several TXT records: the last one
// as the resolver returned them, counted as ambiguous. The server is the
// system's resolver (/etc/resolv.conf) unless `dns_server` names one
// ("127.0.0.1:5353").
#pragma once

#include <ares.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "topology/lookup_source.h"

namespace p2p::topology {

struct DnsOptions {
  std::string name_template;  // dns_name
  std::string server;         // dns_server; empty: the system's resolver
  std::vector<std::string> levels;
  std::chrono::milliseconds timeout{2000};
};

// `name_template` with {reverse} / {ip} replaced for `address`.
std::string dns_query_name(std::string_view name_template, const core::Address& address);

// The answer in TXT records `records` (each the concatenation of its
// strings), as parse_location_text() reads one.
Answer parse_txt_records(const std::vector<std::string>& records,
                         const std::vector<std::string>& levels);

class DnsSource final : public LookupSource {
 public:
  // Fails on a template without {reverse} or {ip}, a bad server, or a
  // c-ares that cannot start.
  static core::Result<std::unique_ptr<DnsSource>> create(DnsOptions options,
                                                         boost::asio::io_context& io);
  ~DnsSource() override;

  std::string_view name() const override { return "dns"; }
  void lookup(const core::Address& address, std::function<void(Answer)> done) override;

 private:
  DnsSource(DnsOptions options, boost::asio::io_context& io);
  // c-ares says which sockets it wants watched; asio watches them.
  static void on_socket_state(void* self, ares_socket_t fd, int readable, int writable);
  void watch(ares_socket_t fd, bool readable, bool writable);
  // Waits until `fd` is readable (or writable) and lets c-ares process it.
  void wait(ares_socket_t fd, bool for_read);
  // c-ares's own retries and timeouts advance when it is called: while
  // queries are pending, it is called every 50 ms.
  void tick();

  struct Query;
  static void on_reply(void* arg, int status, int timeouts, unsigned char* abuf, int alen);

  DnsOptions options_;
  boost::asio::io_context& io_;
  ares_channel channel_ = nullptr;
  struct Watched {
    std::unique_ptr<boost::asio::posix::stream_descriptor> descriptor;
    bool readable = false, writable = false;
    bool read_pending = false, write_pending = false;
  };
  std::map<ares_socket_t, Watched> sockets_;
  boost::asio::steady_timer ticker_;
  bool ticking_ = false;
  std::size_t pending_ = 0;
  bool shutting_down_ = false;
};

}  // namespace p2p::topology
