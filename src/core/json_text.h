// JSON to text, whatever its strings hold. nlohmann's dump() throws on a
// string that is not UTF-8, and strings reach our JSON from outside: a file
// name in a request path, a .torrent's name, an inventory's answer. Thrown in
// a handler, that stopped the tracker (GET /api/v1/torrents/%ff.torrent).
// Such bytes become U+FFFD instead.
#pragma once

#include <string>

namespace p2p::core {

// nlohmann::json or nlohmann::ordered_json; `indent` as dump()'s.
template <class Json>
std::string json_text(const Json& j, int indent = -1) {
  return j.dump(indent, ' ', /*ensure_ascii=*/false, Json::error_handler_t::replace);
}

}  // namespace p2p::core
