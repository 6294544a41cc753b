#include "wire/bencode.h"

#include <fmt/format.h>

#include <charconv>
#include <cstdint>
#include <limits>
#include <utility>

namespace p2p::wire {

void BencodeWriter::integer(std::int64_t v) {
  // 20 characters hold INT64_MIN; to_chars never allocates.
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out_.push_back('i');
  out_.append(buf, end);
  out_.push_back('e');
}

void BencodeWriter::string(std::string_view s) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, s.size());
  out_.append(buf, end);
  out_.push_back(':');
  out_.append(s);
}

const BValue* BValue::find(std::string_view key) const {
  if (!is_dict()) return nullptr;
  const Dict& d = as_dict();
  auto it = d.find(key);
  return it == d.end() ? nullptr : &it->second;
}

namespace {

// Decodes with an explicit stack of open containers instead of recursion, so
// the C++ stack stays flat whatever the input; kMaxBencodeDepth then bounds
// only the heap used for that stack and the depth of the value's destructor.
class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}

  // Decodes into `root`, which the caller owns.
  core::Status run(BValue& root) {
    bool have_root = false;
    std::vector<Frame> open;
    while (!have_root || !open.empty()) {
      if (pos_ >= in_.size()) return fail("input ends inside a value");
      char c = in_[pos_];

      if (c == 'e') {
        if (open.empty()) return fail("unexpected 'e'");
        if (open.back().has_key) return fail("dictionary key without a value");
        ++pos_;
        open.pop_back();
        continue;
      }

      // Inside a dictionary every other entry is a key: a string that sorts
      // strictly after the previous one (BEP 3), which also rules out duplicates.
      if (!open.empty() && open.back().node->is_dict() && !open.back().has_key) {
        Frame& f = open.back();
        if (!is_digit(c)) return fail("dictionary key is not a string");
        std::size_t at = pos_;
        std::string_view key;
        if (auto st = read_string(key); !st) return st.error();
        const BValue::Dict& d = f.node->as_dict();
        if (!d.empty() && key <= std::string_view(d.rbegin()->first)) {
          return fail_at(at, key == d.rbegin()->first ? "duplicate dictionary key"
                                                      : "dictionary keys out of order");
        }
        f.key = key;
        f.has_key = true;
        continue;
      }

      BValue v;
      bool container = false;
      if (c == 'i') {
        std::int64_t n = 0;
        if (auto st = read_int(n); !st) return st.error();
        v.v = n;
      } else if (is_digit(c)) {
        std::string_view s;
        if (auto st = read_string(s); !st) return st.error();
        v.v = std::string(s);
      } else if (c == 'l' || c == 'd') {
        if (open.size() >= static_cast<std::size_t>(kMaxBencodeDepth)) {
          return fail(fmt::format("nesting deeper than {}", kMaxBencodeDepth));
        }
        ++pos_;
        if (c == 'l') {
          v.v = BValue::List();
        } else {
          v.v = BValue::Dict();
        }
        container = true;
      } else {
        return fail(fmt::format("unexpected byte 0x{:02x}", static_cast<unsigned char>(c)));
      }

      BValue* placed = nullptr;
      if (open.empty()) {
        root = std::move(v);
        have_root = true;
        placed = &root;
      } else if (Frame& f = open.back(); f.node->is_list()) {
        auto& list = std::get<BValue::List>(f.node->v);
        list.push_back(std::move(v));
        placed = &list.back();
      } else {
        auto& dict = std::get<BValue::Dict>(f.node->v);
        // Keys arrive sorted, so each one goes at the end.
        auto it = dict.emplace_hint(dict.end(), std::string(f.key), std::move(v));
        f.has_key = false;
        placed = &it->second;
      }
      // Only the innermost container grows, so pointers to the open ones stay
      // valid: a parent list may reallocate only after its child has closed.
      if (container) open.push_back(Frame{placed, {}, false});
    }
    if (pos_ != in_.size()) return fail("trailing data after the value");
    return {};
  }

 private:
  struct Frame {
    BValue* node;
    std::string_view key;  // the key awaiting its value (dictionaries)
    bool has_key;
  };

  static bool is_digit(char c) { return c >= '0' && c <= '9'; }

  core::Error fail(std::string_view what) const { return fail_at(pos_, what); }
  core::Error fail_at(std::size_t at, std::string_view what) const {
    return core::invalid_argument(fmt::format("bencode: {} at offset {}", what, at));
  }

  // i<decimal>e; no leading zeros, no "-0", within int64.
  core::Status read_int(std::int64_t& out) {
    std::size_t start = pos_;
    ++pos_;  // 'i'
    bool negative = false;
    if (pos_ < in_.size() && in_[pos_] == '-') {
      negative = true;
      ++pos_;
    }
    std::size_t digits_at = pos_;
    // The magnitude of INT64_MIN is one more than INT64_MAX.
    const std::uint64_t limit =
        std::uint64_t{std::numeric_limits<std::int64_t>::max()} + (negative ? 1 : 0);
    std::uint64_t mag = 0;
    while (pos_ < in_.size() && is_digit(in_[pos_])) {
      std::uint64_t d = static_cast<std::uint64_t>(in_[pos_] - '0');
      if (mag > (limit - d) / 10) return fail_at(start, "integer out of 64-bit range");
      mag = mag * 10 + d;
      ++pos_;
    }
    std::size_t ndigits = pos_ - digits_at;
    if (ndigits == 0) return fail_at(start, "integer without digits");
    if (in_[digits_at] == '0' && ndigits > 1) return fail_at(start, "integer with a leading zero");
    if (negative && mag == 0) return fail_at(start, "integer \"-0\"");
    if (pos_ >= in_.size() || in_[pos_] != 'e') return fail("integer not closed by 'e'");
    ++pos_;
    out = negative ? static_cast<std::int64_t>(0 - mag) : static_cast<std::int64_t>(mag);
    return {};
  }

  // <length>:<bytes>; the length has no leading zeros and fits in the input.
  core::Status read_string(std::string_view& out) {
    std::size_t start = pos_;
    std::size_t len = 0;
    while (pos_ < in_.size() && is_digit(in_[pos_])) {
      len = len * 10 + static_cast<std::size_t>(in_[pos_] - '0');
      // Checked per digit, so `len` never overflows and no hostile length is
      // ever allocated.
      if (len > in_.size()) return fail_at(start, "string length larger than the input");
      ++pos_;
    }
    if (in_[start] == '0' && pos_ - start > 1) {
      return fail_at(start, "string length with a leading zero");
    }
    if (pos_ >= in_.size() || in_[pos_] != ':') return fail("string length not followed by ':'");
    ++pos_;
    if (len > in_.size() - pos_) return fail_at(start, "string length larger than the input");
    out = in_.substr(pos_, len);
    pos_ += len;
    return {};
  }

  std::string_view in_;
  std::size_t pos_ = 0;
};

void encode_value(const BValue& value, BencodeWriter& w) {
  if (value.is_int()) {
    w.integer(value.as_int());
  } else if (value.is_string()) {
    w.string(value.as_string());
  } else if (value.is_list()) {
    w.begin_list();
    for (const BValue& item : value.as_list()) encode_value(item, w);
    w.end();
  } else {
    w.begin_dict();
    for (const auto& [key, item] : value.as_dict()) {
      w.string(key);
      encode_value(item, w);
    }
    w.end();
  }
}

}  // namespace

// GCC 12 reports -Wmaybe-uninitialized for the inactive alternatives of a
// BValue moved into a Result (a known false positive with nested variants).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
core::Result<BValue> bdecode(std::string_view in) {
  BValue root;
  if (auto st = Decoder(in).run(root); !st) return st.error();
  return root;
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

std::string bencode(const BValue& value) {
  std::string out;
  BencodeWriter w(out);
  encode_value(value, w);
  return out;
}

}  // namespace p2p::wire
