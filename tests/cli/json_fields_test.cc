// The operator commands read replies from whatever answers at --tracker: a
// field of another type, or asked of something that is not an object, reads
// as absent where nlohmann's value() threw and ended `p2ptracker deactivate`
// with "terminate called".
#include "cli/json_fields.h"

#include <gtest/gtest.h>

#include <limits>

namespace p2p::cli {
namespace {

using nlohmann::json;

TEST(JsonFieldsTest, FieldsOfTheirTypeAreRead) {
  const json j = {{"file", "app.torrent"},
                  {"peers", 12},
                  {"progress", 37.5},
                  {"complete", true},
                  {"global", {{"name", "app"}}}};
  EXPECT_EQ(text_field(j, "file"), "app.torrent");
  EXPECT_EQ(count_field(j, "peers"), 12u);
  EXPECT_DOUBLE_EQ(number_field(j, "progress"), 37.5);
  EXPECT_DOUBLE_EQ(number_field(j, "peers"), 12.0);
  EXPECT_TRUE(flag_field(j, "complete"));
  EXPECT_EQ(text_field(object_field(j, "global"), "name"), "app");
}

TEST(JsonFieldsTest, AFieldOfAnotherTypeReadsAsAbsent) {
  const json j = {{"file", 3},     {"peers", -3},   {"seeders", "4"}, {"progress", "x"},
                  {"complete", 1}, {"global", "x"}, {"size", 1.5},    {"name", json::array()}};
  EXPECT_EQ(text_field(j, "file", "-"), "-");
  EXPECT_EQ(count_field(j, "peers", 7), 7u);
  EXPECT_EQ(count_field(j, "seeders"), 0u);
  EXPECT_EQ(count_field(j, "size"), 0u);
  EXPECT_DOUBLE_EQ(number_field(j, "progress", -1), -1);
  EXPECT_FALSE(flag_field(j, "complete"));
  EXPECT_EQ(object_field(j, "global"), json::object());
  EXPECT_EQ(text_field(j, "name"), "");
  EXPECT_EQ(text_field(j, "missing", "?"), "?");
}

TEST(JsonFieldsTest, AnythingButAnObjectHasNoFields) {
  for (const json& j : {json(nullptr), json(3), json("file"), json::array({"file", 1}),
                        json::array({json{{"file", "x"}}}), json(true)}) {
    EXPECT_EQ(text_field(j, "file", "-"), "-") << j;
    EXPECT_EQ(count_field(j, "file"), 0u) << j;
    EXPECT_DOUBLE_EQ(number_field(j, "file"), 0) << j;
    EXPECT_FALSE(flag_field(j, "file")) << j;
    EXPECT_EQ(object_field(j, "file"), json::object()) << j;
  }
}

TEST(JsonFieldsTest, TheLargestCountIsRead) {
  const json j = {{"n", std::numeric_limits<std::uint64_t>::max()}};
  EXPECT_EQ(count_field(j, "n"), std::numeric_limits<std::uint64_t>::max());
}

}  // namespace
}  // namespace p2p::cli
