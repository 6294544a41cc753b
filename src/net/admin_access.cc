#include "net/admin_access.h"

#include <fmt/format.h>

#include "core/constant_time.h"
#include "net/client_address.h"

namespace p2p::net {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t'; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// The credentials of "Authorization: Bearer <token>" (RFC 6750 section 2.1;
// the scheme name is case-insensitive, RFC 9110 section 11.1); empty when the
// header is absent or of another scheme.
std::string_view bearer_token(const HttpRequest& request) {
  std::string_view v = request.header("Authorization");
  while (!v.empty() && is_space(v.front())) v.remove_prefix(1);
  constexpr std::string_view kScheme = "Bearer";
  if (v.size() <= kScheme.size() || !iequals(v.substr(0, kScheme.size()), kScheme) ||
      !is_space(v[kScheme.size()])) {
    return {};
  }
  v.remove_prefix(kScheme.size());
  while (!v.empty() && is_space(v.front())) v.remove_prefix(1);
  while (!v.empty() && is_space(v.back())) v.remove_suffix(1);
  return v;
}

// Fixed replies: nothing from the request is echoed, and the token never is.
constexpr std::string_view kNoTokenError =
    R"j({"error":"this request needs the tracker's admin token: send Authorization: Bearer )j"
    R"j(<token>, the content of the tracker's admin_token_file (p2ptracker register, deactivate, )j"
    R"j(status and watch: --token-file FILE or P2PTRACKER_TOKEN_FILE); see docs/security.md"})j";
constexpr std::string_view kWrongTokenError =
    R"j({"error":"the bearer token is not the tracker's admin token (its admin_token_file)"})j";
constexpr std::string_view kNotLocalError =
    R"j({"error":"this tracker accepts requests that change its state only from its own host )j"
    R"j((127.0.0.1 or ::1); to allow other hosts, set admin_token_file on the tracker and send )j"
    R"j(Authorization: Bearer <token>; see docs/security.md"})j";

}  // namespace

AdminAccess::AdminAccess(AdminAccessOptions options) : options_(std::move(options)) {}

bool AdminAccess::is_this_host(const core::Address& address) {
  static const core::Address kV4 = *core::Address::parse("127.0.0.1");
  static const core::Address kV6 = *core::Address::parse("::1");
  return address == kV4 || address == kV6;
}

AdminAccess::Verdict AdminAccess::decide(const HttpRequest& request, Access access) const {
  if (access == Access::kPublic) return Verdict::kAllow;
  if (access == Access::kRead && !options_.read_needs_token) return Verdict::kAllow;
  if (!options_.token.empty()) {
    std::string_view presented = bearer_token(request);
    if (presented.empty()) return Verdict::kNoToken;
    return core::constant_time_equal(presented, options_.token) ? Verdict::kAllow
                                                                : Verdict::kWrongToken;
  }
  // No token: reads that need one cannot get here (the config requires a
  // token for admin_read = "token"), so this is a state change.
  const core::Address client = requester_address(options_.trust, request);
  return is_this_host(client) ? Verdict::kAllow : Verdict::kNotLocal;
}

bool AdminAccess::admit(const HttpRequest& request, Access access, HttpResponse& response) const {
  Verdict v = decide(request, access);
  if (v == Verdict::kAllow) return true;
  response.content_type = "application/json";
  if (v == Verdict::kNotLocal) {
    response.status = 403;
    response.body = kNotLocalError;
  } else {
    // RFC 6750 section 3: the challenge, with error="invalid_token" when a
    // token was sent but is not the one.
    response.status = 401;
    response.body = v == Verdict::kNoToken ? kNoTokenError : kWrongTokenError;
    response.extra_headers = v == Verdict::kNoToken
                                 ? "WWW-Authenticate: Bearer realm=\"p2ptracker\"\r\n"
                                 : "WWW-Authenticate: Bearer realm=\"p2ptracker\", "
                                   "error=\"invalid_token\"\r\n";
  }
  response.body.push_back('\n');
  return false;
}

std::string AdminAccess::mode() const {
  if (options_.token.empty()) {
    return "admin API: state-changing requests only from this host (127.0.0.1, ::1); reads "
           "public (set admin_token_file to allow other hosts)";
  }
  return fmt::format(
      "admin API: bearer token required for state-changing requests{} "
      "(admin_token_file={})",
      options_.read_needs_token ? " and reads (admin_read=token)" : "", options_.token_file);
}

}  // namespace p2p::net
