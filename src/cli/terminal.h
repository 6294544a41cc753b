// Output helpers for the operator commands: terminal detection, progress bars,
// sizes, aligned tables, and rack-name ordering.
//
// Convention of every command: stdout carries the result (an info-hash, a
// table, JSON) so scripts can capture it; stderr carries progress and notes.
// Pure functions except where they look at a file descriptor; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace p2p::cli {

// True when `fd` is a terminal that understands ANSI escapes (not TERM=dumb).
bool is_terminal(int fd);

// The terminal's columns and rows, or the fallbacks when `fd` is not one.
int terminal_columns(int fd, int fallback = 80);
int terminal_rows(int fd, int fallback = 24);

// "[#####.....]" `width` characters wide (brackets included), filled to
// `percent` (0-100). Unicode blocks when the locale is UTF-8.
std::string progress_bar(double percent, int width);

// 52428800 -> "50 MiB", 1572864 -> "1.5 MiB"; below 1 KiB "123 B".
std::string human_bytes(std::uint64_t bytes);

// Seconds as "42s", "3m07s", "1h02m".
std::string human_duration(std::int64_t seconds);

// Orders rack names as people read them: digit runs by value, so
// "127.0.9.0/24" < "127.0.10.0/24" and "rack2" < "rack10".
bool natural_less(std::string_view a, std::string_view b);

// `text` with every control character but line feed and tab replaced by '?':
// C0 (carriage return and ESC among them), DEL, and C1 (U+0080-U+009F, CSI
// among them). For text from a reply shown on a terminal, so that whatever
// answers at --tracker cannot move the cursor, rewrite what is shown or
// retitle the window.
std::string printable(std::string_view text);

// A text table: columns separated by two spaces, each left- or right-aligned.
class Table {
 public:
  // `right_aligned` marks numeric columns; its size is the column count.
  // Cells are shown printable().
  explicit Table(std::vector<std::string> header, std::vector<bool> right_aligned);
  void add(std::vector<std::string> row);
  std::string render() const;
  std::size_t rows() const { return rows_.size(); }

 private:
  std::vector<std::string> header_;
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> rows_;
};

// Display width of UTF-8 text (code points; what a terminal shows for the
// bars and names used here).
std::size_t display_width(std::string_view text);

}  // namespace p2p::cli
