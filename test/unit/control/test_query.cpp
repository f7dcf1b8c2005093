// Strict request parsing: query strings, numbers, durations, ids, cursors.
#include <gtest/gtest.h>

#include <vector>

#include "netscope/control/query.hpp"

namespace netscope::control {
namespace {

TEST(Query, ParsesAndDecodes) {
  const Query q("a=1&b=x%20y+z&empty=&flag");
  EXPECT_EQ(q.str("a"), "1");
  EXPECT_EQ(q.str("b"), "x y z");
  EXPECT_EQ(q.str("empty"), "");
  EXPECT_EQ(q.str("flag"), "");
  EXPECT_FALSE(q.str("missing").has_value());
  EXPECT_EQ(q.u64("a", 9), 1u);
  EXPECT_EQ(q.u64("missing", 9), 9u);
  EXPECT_NO_THROW(Query("").allow_only({}));
  EXPECT_NO_THROW(Query("&&").allow_only({}));
}

TEST(Query, RejectsBadInput) {
  const auto status = [](auto f) {
    try {
      f();
    } catch (const ApiError& e) {
      return e.status();
    }
    return 0;
  };
  EXPECT_EQ(status([] { Query("a=%zz"); }), 400);
  EXPECT_EQ(status([] { Query("a=%4"); }), 400);
  EXPECT_EQ(status([] { Query("a=%00"); }), 400);
  EXPECT_EQ(status([] { Query("a=1&a=2"); }), 400);
  EXPECT_EQ(status([] { Query("=1"); }), 400);
  std::string many;
  for (int i = 0; i < 40; ++i) {
    many += 'p';
    many += std::to_string(i);
    many += "=1&";
  }
  EXPECT_EQ(status([&] { Query q(many); }), 400);
  EXPECT_EQ(status([] { Query("x=1").allow_only({"y"}); }), 400);
  EXPECT_EQ(status([] { (void)Query("n=-1").u64("n", 0); }), 400);
  EXPECT_EQ(status([] { (void)Query("n=1x").u64("n", 0); }), 400);
  EXPECT_EQ(status([] { (void)Query("n=99999999999999999999999").u64("n", 0); }), 400);
  EXPECT_EQ(status([] { (void)Query("n=5").u64("n", 0, 10, 20); }), 400);
  EXPECT_EQ(status([] { (void)Query("n=nan").opt_number("n"); }), 400);
  EXPECT_EQ(status([] { (void)Query("n=inf").opt_number("n"); }), 400);
  EXPECT_EQ(status([] { (void)Query("s=up").choice("s", {"asc", "desc"}, "asc"); }), 400);
  EXPECT_EQ(status([] { (void)Query("d=5x").seconds("d", 1, 1, 100); }), 400);
  EXPECT_EQ(Query("n=2.5e3").opt_number("n").value(), 2500.0);
}

TEST(Query, Durations) {
  EXPECT_EQ(parse_duration_s("300"), 300u);
  EXPECT_EQ(parse_duration_s("90s"), 90u);
  EXPECT_EQ(parse_duration_s("5m"), 300u);
  EXPECT_EQ(parse_duration_s("2h"), 7200u);
  EXPECT_EQ(parse_duration_s("1d"), 86400u);
  EXPECT_FALSE(parse_duration_s("").has_value());
  EXPECT_FALSE(parse_duration_s("m").has_value());
  EXPECT_FALSE(parse_duration_s("1.5h").has_value());
  EXPECT_FALSE(parse_duration_s("99999999999999999999d").has_value());
}

TEST(Query, Ids) {
  EXPECT_EQ(parse_id("1"), 1u);
  EXPECT_EQ(parse_id("9007199254740991"), 9007199254740991u);
  EXPECT_FALSE(parse_id("0").has_value());
  EXPECT_FALSE(parse_id("9007199254740992").has_value());
  EXPECT_FALSE(parse_id("-1").has_value());
  EXPECT_FALSE(parse_id("0x10").has_value());
  EXPECT_FALSE(parse_id("").has_value());
}

TEST(Query, CursorRoundTrip) {
  for (const Cursor& c : {Cursor{"id", false, 17, 17}, Cursor{"bytes", true, 1.5e12, 42},
                         Cursor{"bandwidth", true, 0.1, 9007199254740991ull}}) {
    const Cursor d = decode_cursor(encode_cursor(c));
    EXPECT_EQ(d.sort, c.sort);
    EXPECT_EQ(d.descending, c.descending);
    EXPECT_EQ(d.value, c.value);  // exact: hex float
    EXPECT_EQ(d.id, c.id);
  }
  for (const char* bad : {"", "!!!", "YWJj", "c1|id|a|0x1p+0|", "Zm9v"}) {
    EXPECT_THROW((void)decode_cursor(bad), ApiError) << bad;
  }
  EXPECT_THROW((void)decode_cursor(base64url_encode("c1|id|x|0x1p+0|5")), ApiError);
  EXPECT_THROW((void)decode_cursor(base64url_encode("c1|ID|a|0x1p+0|5")), ApiError);
  EXPECT_THROW((void)decode_cursor(base64url_encode("c1|id|a|inf|5")), ApiError);
  EXPECT_THROW((void)decode_cursor(std::string(300, 'A')), ApiError);
}

TEST(Query, Base64Url) {
  for (const std::string& s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\0\xff\x10", 3)}) {
    EXPECT_EQ(base64url_decode(base64url_encode(s)), s);
  }
  EXPECT_EQ(base64url_encode("foobar"), "Zm9vYmFy");
  EXPECT_FALSE(base64url_decode("Zm9v+").has_value());
  EXPECT_FALSE(base64url_decode("A").has_value());
}

}  // namespace
}  // namespace netscope::control
