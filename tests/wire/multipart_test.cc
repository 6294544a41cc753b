#include "wire/multipart.h"

#include <gtest/gtest.h>

#include <string>

namespace p2p::wire {
namespace {

using namespace std::string_literals;

constexpr char kType[] = "multipart/form-data; boundary=------------------------d74496d66958873e";
constexpr char kDelim[] = "--------------------------d74496d66958873e";

// Data that looks like multipart but is not a delimiter: CRLF, dashes, the
// boundary with a suffix, NUL bytes.
const std::string kTorrent = "d8:announce\r\n--\r\n\0\0\xff\r\n"s + kDelim + "X\r\n" + "e";

// The body curl -F 'comment=hi' -F 'file=@a.torrent' sends.
std::string curl_body() {
  return std::string(kDelim) +
         "\r\n"
         "Content-Disposition: form-data; name=\"comment\"\r\n"
         "\r\n"
         "hi\r\n" +
         kDelim +
         "\r\n"
         "Content-Disposition: form-data; name=\"file\"; filename=\"a.torrent\"\r\n"
         "Content-Type: application/x-bittorrent\r\n"
         "\r\n" +
         kTorrent + "\r\n" + kDelim + "--\r\n";
}

bool inside(std::string_view part, std::string_view whole) {
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

std::string error_of(std::string_view type, std::string_view body) {
  auto r = parse_form_file(type, body);
  if (r) return "";
  EXPECT_EQ(r.error().code, core::ErrorCode::kInvalidArgument);
  return r.error().message;
}

TEST(MultipartTest, FindsTheFilePart) {
  const std::string body = curl_body();
  auto r = parse_form_file(kType, body);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->field_name, "file");
  EXPECT_EQ(r->filename, "a.torrent");
  EXPECT_EQ(r->data, kTorrent);
  EXPECT_TRUE(inside(r->data, body));
  EXPECT_TRUE(inside(r->filename, body));
}

TEST(MultipartTest, QuotedBoundaryCaseAndExtraParameters) {
  std::string body =
      "--abc\r\n"
      "content-disposition: form-data; filename=\"x.torrent\"; name=upload\r\n"
      "\r\n"
      "DATA\r\n"
      "--abc--";
  for (std::string_view type :
       {"multipart/form-data; boundary=\"abc\"", "Multipart/Form-Data;charset=utf-8;BOUNDARY=abc",
        "  multipart/form-data ;  boundary=abc  ",
        "multipart/form-data; x=\"a;b\"; boundary=abc"}) {
    auto r = parse_form_file(type, body);
    ASSERT_TRUE(r) << type << ": " << r.error().message;
    EXPECT_EQ(r->field_name, "upload");
    EXPECT_EQ(r->filename, "x.torrent");
    EXPECT_EQ(r->data, "DATA");
  }
}

TEST(MultipartTest, WithoutAFileReturnsTheFirstPart) {
  std::string body =
      "--b\r\nContent-Disposition: form-data; name=\"one\"\r\n\r\n1\r\n"
      "--b\r\nContent-Disposition: form-data; name=\"two\"\r\n\r\n2\r\n--b--\r\n";
  auto r = parse_form_file("multipart/form-data; boundary=b", body);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->field_name, "one");
  EXPECT_EQ(r->filename, "");
  EXPECT_EQ(r->data, "1");
}

TEST(MultipartTest, EmptyFilenameStillMarksAFileField) {
  std::string body =
      "--b\r\nContent-Disposition: form-data; name=\"one\"\r\n\r\n1\r\n"
      "--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"\"\r\n\r\n"
      "\r\n--b--";
  auto r = parse_form_file("multipart/form-data; boundary=b", body);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->field_name, "f");
  EXPECT_EQ(r->filename, "");
  EXPECT_EQ(r->data, "");
}

TEST(MultipartTest, RealFilenameBeatsAnEmptyFileField) {
  std::string body =
      "--b\r\nContent-Disposition: form-data; name=\"a\"; filename=\"\"\r\n\r\n"
      "\r\n--b\r\nContent-Disposition: form-data; name=\"b\"; filename=\"b.torrent\""
      "\r\n\r\nde\r\n--b--";
  auto r = parse_form_file("multipart/form-data; boundary=b", body);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->field_name, "b");
  EXPECT_EQ(r->filename, "b.torrent");
  EXPECT_EQ(r->data, "de");
}

TEST(MultipartTest, PreambleEpilogueAndPadding) {
  std::string body =
      "preamble text\r\n--b  \r\n"
      "Content-Disposition: form-data; name=\"f\"; filename=\"q\\\"uote\"\r\n\r\n"
      "x\r\n--b--\r\nepilogue";
  auto r = parse_form_file("multipart/form-data; boundary=b", body);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->filename, "q\\\"uote");  // escapes left as sent
  EXPECT_EQ(r->data, "x");
}

TEST(MultipartTest, ContentTypeErrors) {
  const std::string body = curl_body();
  EXPECT_EQ(error_of("application/x-www-form-urlencoded", body),
            "Content-Type must be multipart/form-data, got 'application/x-www-form-urlencoded'");
  EXPECT_EQ(error_of("", body), "Content-Type must be multipart/form-data, got ''");
  EXPECT_EQ(error_of("multipart/form-data", body),
            "Content-Type multipart/form-data has no boundary parameter");
  EXPECT_EQ(error_of("multipart/form-data; boundary=", body),
            "Content-Type multipart/form-data has no boundary parameter");
  EXPECT_EQ(error_of("multipart/form-data; boundary=\"abc", body),
            "Content-Type multipart/form-data has no boundary parameter");
  EXPECT_EQ(error_of("multipart/form-data; boundary=" + std::string(71, 'b'), body),
            "multipart boundary is longer than 70 characters");
}

TEST(MultipartTest, BodyErrors) {
  const std::string type = "multipart/form-data; boundary=b";
  EXPECT_EQ(error_of(type, "hello"), "form body does not contain the boundary '--b'");
  EXPECT_EQ(error_of(type, ""), "form body does not contain the boundary '--b'");
  EXPECT_EQ(error_of(type, "--b--\r\n"), "form body has no parts");
  EXPECT_EQ(error_of(type, "--b\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\ndata"),
            "form body ends without the closing boundary '--b--' (truncated upload?)");
  EXPECT_EQ(error_of(type, "--b\r\n\r\ndata\r\n--b--"), "form part 1 has no headers");
  EXPECT_EQ(error_of(type, "--b\r\nContent-Disposition: form-data\r\n--b--"),
            "form part 1 has no blank line after its headers");
  EXPECT_EQ(error_of(type, "--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--"),
            "form part 1 has no Content-Disposition header");
  // The second part is broken; finding a file first does not hide it.
  EXPECT_EQ(error_of(type,
                     "--b\r\nContent-Disposition: form-data; name=f; filename=a\r\n\r\nx\r\n"
                     "--b\r\nX: y\r\n\r\nz\r\n--b--"),
            "form part 2 has no Content-Disposition header");
  // A delimiter line must be the boundary alone.
  EXPECT_EQ(error_of(type, "--bb\r\n"), "form body does not contain the boundary '--b'");
}

}  // namespace
}  // namespace p2p::wire
