#include "topology/dns_source.h"

#include <arpa/nameser.h>
#include <fmt/format.h>

#include "topology/location_text.h"

namespace p2p::topology {
namespace {

namespace asio = boost::asio;

// c-ares is initialised once per process.
struct AresLibrary {
  AresLibrary() { status = ares_library_init(ARES_LIB_INIT_ALL); }
  ~AresLibrary() { ares_library_cleanup(); }
  int status;
};

int ares_library() {
  static AresLibrary library;
  return library.status;
}

constexpr char kHex[] = "0123456789abcdef";

}  // namespace

struct DnsSource::Query {
  DnsSource* source;
  std::string name;
  std::function<void(Answer)> done;
};

std::string dns_query_name(std::string_view name_template, const core::Address& address) {
  std::string reverse, ip;
  if (address.is_v4()) {
    const std::uint32_t v = address.v4_value();
    reverse = fmt::format("{}.{}.{}.{}", v & 0xFF, (v >> 8) & 0xFF, (v >> 16) & 0xFF, v >> 24);
    ip = address.to_string();
  } else {
    const auto& b = address.bytes();
    for (int i = 15; i >= 0; --i) {
      if (!reverse.empty()) reverse.push_back('.');
      reverse.push_back(kHex[b[static_cast<std::size_t>(i)] & 0xF]);
      reverse.push_back('.');
      reverse.push_back(kHex[b[static_cast<std::size_t>(i)] >> 4]);
    }
    ip = address.to_string();
    for (char& c : ip) {
      if (c == ':') c = '-';
    }
  }
  std::string out;
  for (std::size_t i = 0; i < name_template.size();) {
    if (name_template.substr(i).starts_with("{reverse}")) {
      out += reverse;
      i += 9;
    } else if (name_template.substr(i).starts_with("{ip}")) {
      out += ip;
      i += 4;
    } else {
      out.push_back(name_template[i++]);
    }
  }
  return out;
}

Answer parse_txt_records(const std::vector<std::string>& records,
                         const std::vector<std::string>& levels) {
  Answer a;
  a.kind = Answer::Kind::kUnknown;
  if (records.empty()) return a;
  a = parse_location_text(records.back(), levels);
  if (a.kind == Answer::Kind::kFound) a.ambiguous = records.size() > 1;
  return a;
}

DnsSource::DnsSource(DnsOptions options, boost::asio::io_context& io)
    : options_(std::move(options)), io_(io), ticker_(io) {}

core::Result<std::unique_ptr<DnsSource>> DnsSource::create(DnsOptions options,
                                                           boost::asio::io_context& io) {
  if (options.name_template.find("{reverse}") == std::string::npos &&
      options.name_template.find("{ip}") == std::string::npos) {
    return core::invalid_argument(fmt::format(
        "dns_name '{}' names no address: it needs {{reverse}} or {{ip}}, as in "
        "\"{{reverse}}.topology.example.\"",
        options.name_template));
  }
  if (int st = ares_library(); st != ARES_SUCCESS) {
    return core::unavailable(fmt::format("c-ares: {}", ares_strerror(st)));
  }
  std::unique_ptr<DnsSource> s(new DnsSource(std::move(options), io));
  ares_options opts{};
  opts.sock_state_cb = &DnsSource::on_socket_state;
  opts.sock_state_cb_data = s.get();
  // One try per server within the lookup's deadline.
  opts.timeout = static_cast<int>(std::max<std::int64_t>(1, s->options_.timeout.count()));
  opts.tries = 1;
  int st = ares_init_options(&s->channel_, &opts,
                             ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
  if (st != ARES_SUCCESS) {
    return core::unavailable(fmt::format("c-ares: cannot start: {}", ares_strerror(st)));
  }
  if (!s->options_.server.empty()) {
    st = ares_set_servers_ports_csv(s->channel_, s->options_.server.c_str());
    if (st != ARES_SUCCESS) {
      return core::invalid_argument(fmt::format("dns_server '{}': {} (expected address[:port])",
                                                s->options_.server, ares_strerror(st)));
    }
  }
  return s;
}

DnsSource::~DnsSource() {
  shutting_down_ = true;
  // c-ares closes its sockets itself: asio must only forget them.
  for (auto& [fd, w] : sockets_) {
    if (w.descriptor) w.descriptor->release();
  }
  sockets_.clear();
  if (channel_ != nullptr) ares_destroy(channel_);
}

void DnsSource::lookup(const core::Address& address, std::function<void(Answer)> done) {
  auto* q = new Query{this, dns_query_name(options_.name_template, address), std::move(done)};
  ++pending_;
  ares_query(channel_, q->name.c_str(), ns_c_in, ns_t_txt, &DnsSource::on_reply, q);
  tick();
}

void DnsSource::on_reply(void* arg, int status, int, unsigned char* abuf, int alen) {
  std::unique_ptr<Query> q(static_cast<Query*>(arg));
  DnsSource* self = q->source;
  --self->pending_;
  if (self->shutting_down_ || status == ARES_EDESTRUCTION) return;
  Answer a;
  if (status == ARES_ENOTFOUND || status == ARES_ENODATA) {
    a.kind = Answer::Kind::kUnknown;
  } else if (status != ARES_SUCCESS) {
    a = error_answer(fmt::format("TXT {}: {}", q->name, ares_strerror(status)));
  } else {
    ares_txt_ext* txt = nullptr;
    const int st = ares_parse_txt_reply_ext(abuf, alen, &txt);
    if (st == ARES_ENODATA) {
      a.kind = Answer::Kind::kUnknown;
    } else if (st != ARES_SUCCESS) {
      a = error_answer(fmt::format("TXT {}: malformed answer: {}", q->name, ares_strerror(st)));
    } else {
      std::vector<std::string> records;
      for (ares_txt_ext* t = txt; t != nullptr; t = t->next) {
        if (t->record_start || records.empty()) records.emplace_back();
        records.back().append(reinterpret_cast<const char*>(t->txt), t->length);
      }
      ares_free_data(txt);
      a = parse_txt_records(records, self->options_.levels);
      if (a.kind == Answer::Kind::kError) a.detail = "TXT " + q->name + ": " + a.detail;
    }
  }
  q->done(std::move(a));
}

void DnsSource::on_socket_state(void* data, ares_socket_t fd, int readable, int writable) {
  static_cast<DnsSource*>(data)->watch(fd, readable != 0, writable != 0);
}

void DnsSource::watch(ares_socket_t fd, bool readable, bool writable) {
  if (shutting_down_) return;
  if (!readable && !writable) {
    auto it = sockets_.find(fd);
    if (it != sockets_.end()) {
      // c-ares closes it; a pending wait completes with an error and finds
      // the socket gone.
      it->second.descriptor->release();
      sockets_.erase(it);
    }
    return;
  }
  Watched& w = sockets_[fd];
  if (!w.descriptor) w.descriptor = std::make_unique<asio::posix::stream_descriptor>(io_, fd);
  w.readable = readable;
  w.writable = writable;
  if (readable && !w.read_pending) wait(fd, /*for_read=*/true);
  if (writable && !w.write_pending) wait(fd, /*for_read=*/false);
}

void DnsSource::wait(ares_socket_t fd, bool for_read) {
  Watched& w = sockets_[fd];
  (for_read ? w.read_pending : w.write_pending) = true;
  const auto what = for_read ? asio::posix::stream_descriptor::wait_read
                             : asio::posix::stream_descriptor::wait_write;
  w.descriptor->async_wait(what, [this, fd, for_read,
                                  d = w.descriptor.get()](boost::system::error_code ec) {
    auto it = sockets_.find(fd);
    if (it == sockets_.end() || it->second.descriptor.get() != d) return;
    (for_read ? it->second.read_pending : it->second.write_pending) = false;
    if (ec) return;
    ares_process_fd(channel_, for_read ? fd : ARES_SOCKET_BAD, for_read ? ARES_SOCKET_BAD : fd);
    it = sockets_.find(fd);  // c-ares may have closed it meanwhile
    if (it == sockets_.end()) return;
    const Watched& now = it->second;
    if (for_read ? (now.readable && !now.read_pending) : (now.writable && !now.write_pending)) {
      wait(fd, for_read);
    }
  });
}

void DnsSource::tick() {
  if (ticking_ || pending_ == 0) return;
  ticking_ = true;
  ticker_.expires_after(std::chrono::milliseconds(50));
  ticker_.async_wait([this](boost::system::error_code ec) {
    ticking_ = false;
    if (ec || shutting_down_) return;
    ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    tick();
  });
}

}  // namespace p2p::topology
