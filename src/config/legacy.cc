// The original p2ptracker's config file: a Flask-style Python module of
// `UPPER_CASE_KEY = value` lines, read without running Python.
//
// Understood values are the ones such files hold: "double" or 'single' quoted
// strings, integers and integer arithmetic (+ - * // and parentheses, as in
// `PASSIVE_INTERVAL = 5 * 60`), True, False, None (the key keeps its default) and
// lists or tuples of those (TRUSTED_NETWORKS = ['10.0.0.0/8']). Each value then goes
// through the same key table and assign() as TOML, so type and range errors read the
// same; the key is named as written (PORT).

#include <fmt/format.h>

#include <limits>
#include <map>
#include <string>
#include <string_view>

#include "config/config.h"
#include "config/keys.h"

namespace p2p::config {
namespace internal {
namespace {

bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_char(char c) {
  return is_upper(c) || (c >= 'a' && c <= 'z') || is_digit(c) || c == '_';
}

// How a string is shown in errors: Python's repr, near enough.
std::string python_repr(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

// Recursive descent over one value; stops at the end or at a `#` comment.
//   expression := term (('+' | '-') term)*
//   term       := unary (('*' | '//') unary)*
//   unary      := ('+' | '-') unary | primary
//   primary    := INTEGER | STRING | True | False | None
//               | '(' expression ')' | '(' items ')' | '[' items ']'
class ValueParser {
 public:
  ValueParser(std::string_view text, int line) : text_(text), line_(line) {}

  // The value, or what is wrong with it in words.
  core::Result<Value> parse() {
    auto value = expression();
    if (!value) return value;
    if (peek() != '\0') return fail(fmt::format("unexpected '{}'", text_[pos_]));
    value->shown = std::string(trim(text_.substr(0, pos_)));
    return value;
  }

 private:
  static core::Error fail(std::string message) {
    return core::invalid_argument(std::move(message));
  }

  // The next significant character, or '\0' at the end or a comment.
  char peek() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
    if (pos_ >= text_.size() || text_[pos_] == '#') return '\0';
    return text_[pos_];
  }

  Value make(Value::Kind kind, std::string shown) const {
    Value v;
    v.kind = kind;
    v.shown = std::move(shown);
    v.line = line_;
    return v;
  }
  Value make_integer(std::int64_t n) const {
    Value v = make(Value::Kind::kInteger, std::to_string(n));
    v.integer = n;
    return v;
  }

  core::Result<Value> expression() {
    auto left = term();
    if (!left) return left;
    for (;;) {
      char op = peek();
      if (op != '+' && op != '-') return left;
      ++pos_;
      auto right = term();
      if (!right) return right;
      auto result = arithmetic(op, *left, *right);
      if (!result) return result;
      left = std::move(result);
    }
  }

  core::Result<Value> term() {
    auto left = unary();
    if (!left) return left;
    for (;;) {
      char op = peek();
      if (op == '/') {
        if (pos_ + 1 >= text_.size() || text_[pos_ + 1] != '/') {
          return fail("'/' gives a float in Python; use // for integer division");
        }
        ++pos_;
      } else if (op != '*') {
        return left;
      }
      ++pos_;
      auto right = unary();
      if (!right) return right;
      auto result = arithmetic(op, *left, *right);
      if (!result) return result;
      left = std::move(result);
    }
  }

  core::Result<Value> unary() {
    char op = peek();
    if (op != '+' && op != '-') return primary();
    ++pos_;
    auto operand = unary();
    if (!operand) return operand;
    return arithmetic(op, make_integer(0), *operand);
  }

  // `left op right` on integers, with Python's floor division.
  core::Result<Value> arithmetic(char op, const Value& left, const Value& right) const {
    if (left.kind != Value::Kind::kInteger || right.kind != Value::Kind::kInteger) {
      return fail(
          fmt::format("'{}' needs integers on both sides", op == '/' ? "//" : std::string(1, op)));
    }
    std::int64_t a = left.integer, b = right.integer, r = 0;
    bool overflow = false;
    switch (op) {
      case '+':
        overflow = __builtin_add_overflow(a, b, &r);
        break;
      case '-':
        overflow = __builtin_sub_overflow(a, b, &r);
        break;
      case '*':
        overflow = __builtin_mul_overflow(a, b, &r);
        break;
      default:  // '/', meaning //
        if (b == 0) return fail("division by zero");
        if (a == std::numeric_limits<std::int64_t>::min() && b == -1) {
          overflow = true;
          break;
        }
        r = a / b;
        if (a % b != 0 && ((a < 0) != (b < 0))) --r;  // floor, not truncation
    }
    if (overflow) return fail("integer too large");
    return make_integer(r);
  }

  core::Result<Value> primary() {
    char c = peek();
    if (c == '\0') return fail("a value is missing");
    if (c == '(' || c == '[') return group(c);
    if (c == '"' || c == '\'') return string(c);
    if (is_digit(c)) return integer();
    if (is_name_char(c)) return name();
    return fail(fmt::format("unexpected '{}'", c));
  }

  // ( expression ), or a tuple or list of items.
  core::Result<Value> group(char open) {
    char close = open == '(' ? ')' : ']';
    ++pos_;
    Value list = make(Value::Kind::kArray, "");
    bool list_syntax = open == '[';
    while (peek() != close) {
      auto item = expression();
      if (!item) return item;
      list.items.push_back(std::move(*item));
      if (peek() == ',') {
        ++pos_;
        list_syntax = true;
      } else if (peek() != close) {
        return fail(fmt::format("expected ',' or '{}'", close));
      }
    }
    ++pos_;
    if (!list_syntax) {
      if (list.items.empty()) return fail("() is an empty tuple; use [] for an empty list");
      return std::move(list.items.front());  // just parentheses
    }
    list.shown = "[";
    for (const Value& item : list.items) {
      if (list.shown.size() > 1) list.shown += ", ";
      list.shown += item.shown;
    }
    list.shown += "]";
    return list;
  }

  core::Result<Value> string(char quote) {
    ++pos_;
    std::string s;
    while (pos_ < text_.size() && text_[pos_] != quote) {
      char c = text_[pos_++];
      if (c == '\\' && pos_ < text_.size()) {
        char e = text_[pos_++];
        switch (e) {
          case 'n':
            s += '\n';
            break;
          case 't':
            s += '\t';
            break;
          case 'r':
            s += '\r';
            break;
          case '\\':
          case '\'':
          case '"':
            s += e;
            break;
          default:  // Python keeps unknown escapes as written
            s += '\\';
            s += e;
        }
        continue;
      }
      s += c;
    }
    if (pos_ >= text_.size()) return fail("unterminated string");
    ++pos_;
    Value v = make(Value::Kind::kString, python_repr(s));
    v.text = std::move(s);
    return v;
  }

  core::Result<Value> integer() {
    std::size_t start = pos_;
    std::int64_t n = 0;
    while (pos_ < text_.size() && (is_digit(text_[pos_]) || text_[pos_] == '_')) {
      char c = text_[pos_++];
      if (c == '_') continue;  // Python allows 1_000_000
      if (__builtin_mul_overflow(n, 10, &n) || __builtin_add_overflow(n, c - '0', &n)) {
        return fail("integer too large");
      }
    }
    if (pos_ < text_.size() && (is_name_char(text_[pos_]) || text_[pos_] == '.')) {
      while (pos_ < text_.size() && (is_name_char(text_[pos_]) || text_[pos_] == '.')) ++pos_;
      return fail(
          fmt::format("'{}' is not a whole decimal number", text_.substr(start, pos_ - start)));
    }
    return make_integer(n);
  }

  core::Result<Value> name() {
    std::size_t start = pos_;
    while (pos_ < text_.size() && is_name_char(text_[pos_])) ++pos_;
    std::string_view word = text_.substr(start, pos_ - start);
    if (word == "True" || word == "False") {
      Value v = make(Value::Kind::kBool, std::string(word));
      v.boolean = word == "True";
      return v;
    }
    if (word == "None") return make(Value::Kind::kNone, "None");
    return fail(
        fmt::format("unknown name '{}' (values are quoted strings, integers, True, "
                    "False or None)",
                    word));
  }

  std::string_view text_;
  int line_;
  std::size_t pos_ = 0;
};

}  // namespace

core::Result<Parsed> parse_legacy_text(std::string_view text, std::string_view source) {
  Parsed parsed;
  std::map<std::string_view, int> first_line;  // table name -> line it was set on
  bool redis_set = false;
  bool store_set = false;
  int line_number = 0;
  while (!text.empty()) {
    auto eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // CRLF files
    ++line_number;
    std::string at = where(source, line_number);
    std::string_view content = trim(line);
    if (content.empty() || content.front() == '#') continue;

    // KEY = value; the key starts the line, as Python requires.
    std::size_t i = 0;
    while (i < line.size() &&
           (is_upper(line[i]) || (i > 0 && (is_digit(line[i]) || line[i] == '_')))) {
      ++i;
    }
    std::string_view name = line.substr(0, i);
    std::size_t eq = i;
    while (eq < line.size() && (line[eq] == ' ' || line[eq] == '\t')) ++eq;
    if (name.empty() || eq >= line.size() || line[eq] != '=' ||
        (eq + 1 < line.size() && line[eq + 1] == '=')) {
      return core::invalid_argument(fmt::format(
          "{}: expected KEY = value with an upper-case KEY (the original p2ptracker's format), "
          "got '{}'",
          at, content));
    }
    std::string_view rest = line.substr(eq + 1);

    const Key* key = find_key(to_lower(name));
    if (key == nullptr) {
      return core::invalid_argument(
          fmt::format("{}: {}", at, unknown_key_message(name, Dialect::kLegacy)));
    }
    if (auto [it, inserted] = first_line.emplace(key->name, line_number); !inserted) {
      return core::invalid_argument(
          fmt::format("{}: key '{}' is set twice (first on line {})", at, name, it->second));
    }
    auto value = ValueParser(rest, line_number).parse();
    if (!value) {
      std::string_view raw = trim(rest);
      if (raw.empty()) {
        return core::invalid_argument(
            fmt::format("{}: key '{}': {}", at, name, value.error().message));
      }
      return core::invalid_argument(
          fmt::format("{}: key '{}': cannot read {}: {}", at, name, raw, value.error().message));
    }
    if (value->kind == Value::Kind::kNone) continue;  // None: the key keeps its default
    auto status = assign(parsed.config, *key, *value, source, name, Dialect::kLegacy);
    if (!status) return status.error();
    parsed.settings.push_back({key->name, std::string(name), line_number});
    if (key->name == "redishost" || key->name == "redisport") redis_set = true;
    if (key->name == "store") store_set = true;
  }
  // The original always stored in Redis; a file that says where Redis is means it.
  if (redis_set && !store_set) parsed.config.store = "redis";
  return parsed;
}

}  // namespace internal

core::Result<Config> parse_legacy(std::string_view text, std::string_view source) {
  auto parsed = internal::parse_legacy_text(text, source);
  if (!parsed) return parsed.error();
  return std::move(parsed->config);
}

}  // namespace p2p::config
