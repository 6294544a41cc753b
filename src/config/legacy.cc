// The original p2ptracker's config file: a Flask-style Python module, read
// without running Python.
//
// Flask's from_pyfile ran the module and kept every UPPER_CASE name, ignoring the
// rest; this loader keeps that rule. A statement may be:
//   - `KEY = value` with an upper-case KEY: a setting. An unknown KEY (the
//     original's FCGI_SOCKET, Flask's own SECRET_KEY) is ignored with a warning,
//     its value unread; so is a name that is not all upper case.
//   - a string on its own: a docstring;
//   - `import ...` / `from ... import ...`: ignored with a warning;
//   - comments and blank lines.
// Anything else (indentation, `if`, `PORT += 1`) is an error naming the line.
// A statement continues over newlines inside brackets or a triple-quoted string
// and after a backslash, as in Python.
//
// Understood values are the ones such files hold: "double", 'single' or
// """triple""" quoted strings, integers and integer arithmetic (+ - * // and
// parentheses, as in `PASSIVE_INTERVAL = 5 * 60`), True, False, None (the key
// keeps its value) and lists or tuples of those (TRUSTED_NETWORKS =
// ['10.0.0.0/8']). An integer key also takes a quoted integer (`PORT = "5000"`):
// the original ran int(PORT). Each value then goes through the same key table
// and assign() as TOML, so type and range errors read the same; the key is named
// as written (PORT).

#include <fmt/format.h>

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <string_view>

#include "config/config.h"
#include "config/keys.h"
#include "core/utf8.h"

namespace p2p::config {
namespace internal {
namespace {

bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_char(char c) {
  return is_upper(c) || (c >= 'a' && c <= 'z') || is_digit(c) || c == '_';
}

// How a string is shown in errors: Python's repr, near enough. (Python 3
// reads a source file as UTF-8 and refuses one that is not; a string that is
// not UTF-8 could not be written back as TOML by --print-config either.)
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
    value->shown = std::string(trim(text_.substr(0, token_end_)));
    return value;
  }

 private:
  static core::Error fail(std::string message) {
    return core::invalid_argument(std::move(message));
  }

  // The next significant character, or '\0' at the end. A value may span lines
  // (a statement joined by split_statements), so newlines, backslash line
  // continuations and comments up to the end of their line are all space.
  char peek() {
    if (pos_ != skipped_to_) token_end_ = pos_;  // something was read since the last skip
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f') {
        ++pos_;
      } else if (c == '\\' && pos_ + 1 < text_.size() &&
                 (text_[pos_ + 1] == '\n' || text_[pos_ + 1] == '\r')) {
        pos_ += 2;
      } else if (c == '#') {
        while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
      } else {
        skipped_to_ = pos_;
        return c;
      }
    }
    skipped_to_ = pos_;
    return '\0';
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

  // A string literal; with `triple`, '\'\'\'...\'\'\'' or """...""", which may span lines.
  core::Result<Value> string(char quote) {
    const bool triple = text_.substr(pos_, 3) == std::string(3, quote);
    pos_ += triple ? 3 : 1;
    auto at_end = [&] {
      if (pos_ >= text_.size()) return true;
      if (!triple) return text_[pos_] == quote || text_[pos_] == '\n';
      return text_.substr(pos_, 3) == std::string(3, quote);
    };
    std::string s;
    while (!at_end()) {
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
    if (pos_ >= text_.size() || text_[pos_] == '\n') return fail("unterminated string");
    if (!core::is_utf8(s))
      return fail("string is not valid UTF-8 (Python reads the file as UTF-8)");
    pos_ += triple ? 3 : 1;
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
  std::size_t skipped_to_ = 0;  // where peek() last stopped skipping
  std::size_t token_end_ = 0;   // just after the last character read as part of the value
};

// One logical line of Python: `text` may span physical lines.
struct Statement {
  std::string_view text;
  int line = 0;  // 1-based line it starts on
};

// Splits `text` into logical lines. A statement goes on past a newline inside
// brackets or a triple-quoted string and after a backslash; `#` starts a comment
// outside strings. Fails only on a triple-quoted string that never ends.
core::Result<std::vector<Statement>> split_statements(std::string_view text,
                                                      std::string_view source) {
  std::vector<Statement> out;
  std::size_t start = 0;
  int line = 1;
  int start_line = 1;
  int depth = 0;   // open brackets
  char quote = 0;  // inside a string opened by this quote
  bool triple = false;
  int quote_line = 0;
  const std::size_t n = text.size();
  for (std::size_t i = 0; i < n; ++i) {
    const char c = text[i];
    if (quote != 0) {
      if (c == '\\' && i + 1 < n) {
        if (text[i + 1] == '\n') ++line;
        ++i;
        continue;
      }
      if (c == quote && (!triple || text.substr(i, 3) == std::string(3, quote))) {
        if (triple) i += 2;
        quote = 0;
        continue;
      }
      if (c != '\n') continue;
      if (triple) {
        ++line;
        continue;
      }
      quote = 0;  // an unterminated string ends with its line; the value parser says so
    }
    if (c == '#') {
      while (i + 1 < n && text[i + 1] != '\n') ++i;
    } else if (c == '"' || c == '\'') {
      quote = c;
      triple = text.substr(i, 3) == std::string(3, c);
      quote_line = line;
      if (triple) i += 2;
    } else if (c == '(' || c == '[' || c == '{') {
      ++depth;
    } else if (c == ')' || c == ']' || c == '}') {
      if (depth > 0) --depth;
    } else if (c == '\\' && i + 1 < n && (text[i + 1] == '\n' || text[i + 1] == '\r')) {
      if (text[i + 1] == '\r' && i + 2 < n && text[i + 2] == '\n') ++i;
      ++i;
      ++line;
    } else if (c == '\n') {
      if (depth == 0) {
        out.push_back({text.substr(start, i - start), start_line});
        start = i + 1;
        start_line = line + 1;
      }
      ++line;
    }
  }
  if (quote != 0 && triple) {
    return core::invalid_argument(fmt::format(
        "{}: a triple-quoted string starts here and never ends", where(source, quote_line)));
  }
  if (start < n) out.push_back({text.substr(start), start_line});
  return out;
}

// Python's str.isupper(): some upper-case letter and no lower-case one. Flask
// keeps exactly these names of a config module.
bool is_upper_name(std::string_view name) {
  bool upper = false;
  for (char c : name) {
    if (c >= 'a' && c <= 'z') return false;
    upper = upper || is_upper(c);
  }
  return upper;
}

// A statement that is only a string (optionally r/u/b-prefixed): a docstring.
bool is_string_statement(std::string_view content) {
  std::size_t i = 0;
  while (i < content.size() && i < 2 &&
         std::string_view("rRuUbB").find(content[i]) != std::string_view::npos) {
    ++i;
  }
  return i < content.size() && (content[i] == '"' || content[i] == '\'');
}

bool starts_with_word(std::string_view content, std::string_view word) {
  return content.substr(0, word.size()) == word && content.size() > word.size() &&
         (content[word.size()] == ' ' || content[word.size()] == '\t');
}

// int(text) in Python for a string of decimal digits: surrounding white space
// and a sign allowed. nullopt if it is not one.
std::optional<std::int64_t> python_int(std::string_view text) {
  text = trim(text);
  bool negative = false;
  if (!text.empty() && (text.front() == '+' || text.front() == '-')) {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  if (text.empty()) return std::nullopt;
  std::int64_t n = 0;
  for (char c : text) {
    if (!is_digit(c)) return std::nullopt;
    if (__builtin_mul_overflow(n, 10, &n) || __builtin_add_overflow(n, c - '0', &n)) {
      return std::nullopt;
    }
  }
  return negative ? -n : n;
}

bool is_integer_key(const Key& key) {
  return std::holds_alternative<int Config::*>(key.member) ||
         std::holds_alternative<std::uint16_t Config::*>(key.member);
}

// Legacy names with no key of their own: what they set instead.
struct Alias {
  std::string_view written;
  std::string_view key;
};
// The original kept uploaded .torrent files in UPLOAD_PATH; ours live in
// data_dir (under torrents/). DATA_DIR in the same file wins.
constexpr Alias kAliases[] = {{"UPLOAD_PATH", "data_dir"}};

}  // namespace

core::Result<Parsed> parse_legacy_text(std::string_view text, std::string_view source,
                                       const Config& base) {
  auto statements = split_statements(text, source);
  if (!statements) return statements.error();
  Parsed parsed;
  parsed.config = base;
  std::map<std::string_view, int> first_line;  // table name -> line it was set on
  struct Pending {
    const Alias* alias;
    Value value;
  };
  std::vector<Pending> aliased;  // applied after the file, unless its key was set
  bool redis_set = false;
  bool store_set = false;
  bool smdb_set = false, topology_set = false;
  int smdb_line = 0;
  std::string smdb_written;
  int redis_line = 0;
  std::string redis_written;
  auto warn = [&](int line, std::string message) {
    parsed.warnings.push_back(fmt::format("{}: {}", where(source, line), message));
  };
  for (const Statement& statement : *statements) {
    std::string_view line = statement.text;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // CRLF files
    std::string at = where(source, statement.line);
    std::string_view content = trim(line);
    if (content.empty() || content.front() == '#') continue;
    auto not_a_statement = [&] {
      return core::invalid_argument(fmt::format(
          "{}: expected KEY = value (the original p2ptracker's format), got '{}'", at, content));
    };
    // Python rejects an indented statement at the top of a module.
    if (line.front() == ' ' || line.front() == '\t') return not_a_statement();

    if (is_string_statement(content)) {
      std::size_t quote = content.find_first_of("\"'");
      auto doc = ValueParser(content.substr(quote), statement.line).parse();
      if (!doc) {
        return core::invalid_argument(
            fmt::format("{}: cannot read {}: {}", at, content, doc.error().message));
      }
      if (doc->kind != Value::Kind::kString) return not_a_statement();
      continue;  // a docstring
    }
    if (starts_with_word(content, "import") || starts_with_word(content, "from")) {
      warn(statement.line,
           fmt::format("'{}' ignored: p2ptracker reads these files without running Python",
                       content));
      continue;
    }

    // NAME = value; the name starts the line, as Python requires.
    std::size_t i = 0;
    while (i < line.size() && (is_name_char(line[i]) && !(i == 0 && is_digit(line[i])))) ++i;
    std::string_view name = line.substr(0, i);
    std::size_t eq = i;
    while (eq < line.size() && (line[eq] == ' ' || line[eq] == '\t')) ++eq;
    if (name.empty() || eq >= line.size() || line[eq] != '=' ||
        (eq + 1 < line.size() && line[eq + 1] == '=')) {
      return not_a_statement();
    }
    std::string_view rest = line.substr(eq + 1);

    if (!is_upper_name(name)) {
      const bool known = find_key(to_lower(name)) != nullptr;
      warn(statement.line,
           fmt::format("'{}' ignored: only UPPER_CASE names are settings (the original read "
                       "this file with Flask's from_pyfile, which keeps only those){}",
                       name, known ? fmt::format("; did you mean '{}'?", to_upper(name)) : ""));
      continue;
    }

    const Alias* alias = nullptr;
    for (const Alias& a : kAliases) {
      if (a.written == name) alias = &a;
    }
    const Key* key = alias != nullptr ? find_key(alias->key) : find_key(to_lower(name));
    if (key == nullptr) {
      const Key* close = closest_key(name);
      warn(statement.line,
           fmt::format(
               "unknown key '{}' ignored{}", name,
               close != nullptr ? fmt::format("; did you mean '{}'?", to_upper(close->name)) : ""));
      continue;
    }
    auto value = ValueParser(rest, statement.line).parse();
    if (!value) {
      std::string_view raw = trim(rest);
      if (raw.empty()) {
        return core::invalid_argument(
            fmt::format("{}: key '{}': {}", at, name, value.error().message));
      }
      return core::invalid_argument(
          fmt::format("{}: key '{}': cannot read {}: {}", at, name, raw, value.error().message));
    }
    if (value->kind == Value::Kind::kNone) continue;  // None: the key keeps its value
    if (value->kind == Value::Kind::kString && is_integer_key(*key)) {
      if (auto n = python_int(value->text)) {
        value->kind = Value::Kind::kInteger;
        value->integer = *n;
      }
    }
    if (alias != nullptr) {
      aliased.push_back({alias, std::move(*value)});
      continue;
    }
    if (auto [it, inserted] = first_line.emplace(key->name, statement.line); !inserted) {
      warn(statement.line,
           fmt::format("key '{}' is set again (first on line {}); the last value counts, as in "
                       "Python",
                       name, it->second));
      it->second = statement.line;
    }
    auto status = assign(parsed.config, *key, *value, source, name, Dialect::kLegacy);
    if (!status) return status.error();
    parsed.settings.push_back({key->name, std::string(name), statement.line});
    if (key->name == "redishost" || key->name == "redisport") {
      if (!redis_set) {
        redis_line = statement.line;
        redis_written = std::string(name);
      }
      redis_set = true;
    }
    if (key->name == "store") store_set = true;
    if (key->name == "topology") topology_set = true;
    if (key->name == "smdb_url") {
      smdb_set = !parsed.config.smdb_url.empty();
      smdb_line = statement.line;
      smdb_written = std::string(name);
    }
  }
  for (const Pending& p : aliased) {
    const Key* key = find_key(p.alias->key);
    if (auto it = first_line.find(key->name); it != first_line.end()) {
      warn(p.value.line, fmt::format("'{}' ignored: {} on line {} sets the same thing",
                                     p.alias->written, to_upper(key->name), it->second));
      continue;
    }
    auto status = assign(parsed.config, *key, p.value, source, p.alias->written, Dialect::kLegacy);
    if (!status) return status.error();
    parsed.settings.push_back({key->name, std::string(p.alias->written), p.value.line});
  }
  // The original asked its SMDB for every rack; a file that names one means it.
  if (smdb_set && !topology_set) {
    parsed.config.topology = {"smdb", "subnet"};
    parsed.settings.push_back({"topology", smdb_written, smdb_line});
  }
  // The original always stored in Redis; a file that says where Redis is means it.
  if (redis_set && !store_set) {
    parsed.config.store = "redis";
    parsed.settings.push_back({"store", redis_written, redis_line});
  }
  return parsed;
}

}  // namespace internal

core::Result<Config> parse_legacy(std::string_view text, std::string_view source) {
  auto parsed = internal::parse_legacy_text(text, source, Config{});
  if (!parsed) return parsed.error();
  return std::move(parsed->config);
}

}  // namespace p2p::config
