#include "netscope/control/query.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace netscope::control {

namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

ApiError bad_param(const std::string& name, const std::string& why) {
  return ApiError(400, "bad_parameter", "query parameter '" + name + "': " + why);
}

constexpr std::string_view kB64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

}  // namespace

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '+') {
      c = ' ';
    } else if (c == '%') {
      if (i + 2 >= s.size()) {
        throw ApiError(400, "bad_query", "truncated percent escape in query string");
      }
      const int hi = hex_value(s[i + 1]);
      const int lo = hex_value(s[i + 2]);
      if (hi < 0 || lo < 0) throw ApiError(400, "bad_query", "bad percent escape in query string");
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    if (c == '\0') throw ApiError(400, "bad_query", "NUL byte in query string");
    out += c;
  }
  return out;
}

Query::Query(std::string_view raw) {
  std::size_t pos = 0;
  while (pos <= raw.size() && !raw.empty()) {
    std::size_t amp = raw.find('&', pos);
    if (amp == std::string_view::npos) amp = raw.size();
    const std::string_view part = raw.substr(pos, amp - pos);
    if (!part.empty()) {
      const std::size_t eq = part.find('=');
      std::string name = percent_decode(part.substr(0, eq));
      std::string value = eq == std::string_view::npos ? std::string() : percent_decode(part.substr(eq + 1));
      if (name.empty()) throw ApiError(400, "bad_query", "empty parameter name in query string");
      if (items_.size() >= 32) throw ApiError(400, "bad_query", "too many query parameters");
      if (!items_.emplace(name, std::move(value)).second) {
        throw ApiError(400, "bad_query", "query parameter '" + name + "' given more than once");
      }
    }
    pos = amp + 1;
  }
}

void Query::allow_only(const std::vector<std::string_view>& allowed) const {
  for (const auto& [k, v] : items_) {
    bool ok = false;
    for (std::string_view a : allowed) ok = ok || a == k;
    if (!ok) throw ApiError(400, "unknown_parameter", "unknown query parameter '" + k + "'");
  }
}

std::optional<std::string> Query::str(const std::string& name) const {
  const auto it = items_.find(name);
  if (it == items_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::uint64_t> Query::opt_u64(const std::string& name, std::uint64_t min, std::uint64_t max) const {
  const auto it = items_.find(name);
  if (it == items_.end()) return std::nullopt;
  const auto v = parse_u64(it->second);
  if (!v) throw bad_param(name, "expected an unsigned integer, got '" + it->second.substr(0, 64) + "'");
  if (*v < min || *v > max) {
    throw bad_param(name, "must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return v;
}

std::uint64_t Query::u64(const std::string& name, std::uint64_t def, std::uint64_t min, std::uint64_t max) const {
  return opt_u64(name, min, max).value_or(def);
}

std::optional<double> Query::opt_number(const std::string& name) const {
  const auto it = items_.find(name);
  if (it == items_.end()) return std::nullopt;
  const std::string& s = it->second;
  double v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size() || !std::isfinite(v) || v < 0) {
    throw bad_param(name, "expected a non-negative number, got '" + s.substr(0, 64) + "'");
  }
  return v;
}

std::string Query::choice(const std::string& name, const std::vector<std::string_view>& choices,
                          std::string_view def) const {
  const auto it = items_.find(name);
  if (it == items_.end()) return std::string(def);
  std::string list;
  for (std::string_view c : choices) {
    if (c == it->second) return it->second;
    list += list.empty() ? "" : ", ";
    list += c;
  }
  throw bad_param(name, "expected one of " + list);
}

std::uint64_t Query::seconds(const std::string& name, std::uint64_t def, std::uint64_t min, std::uint64_t max) const {
  const auto it = items_.find(name);
  if (it == items_.end()) return def;
  const auto v = parse_duration_s(it->second);
  if (!v) throw bad_param(name, "expected a duration such as 300, 90s, 5m, 2h or 1d");
  if (*v < min || *v > max) {
    throw bad_param(name, "must be between " + std::to_string(min) + " and " + std::to_string(max) + " seconds");
  }
  return *v;
}

std::optional<std::uint64_t> parse_u64(std::string_view s) noexcept {
  if (s.empty() || s.size() > 20) return std::nullopt;
  std::uint64_t v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<std::uint64_t> parse_duration_s(std::string_view s) noexcept {
  if (s.empty()) return std::nullopt;
  std::uint64_t mult = 1;
  switch (s.back()) {
    case 's': mult = 1; break;
    case 'm': mult = 60; break;
    case 'h': mult = 3600; break;
    case 'd': mult = 86400; break;
    default: mult = 0;
  }
  if (mult != 0) s.remove_suffix(1);
  else mult = 1;
  const auto v = parse_u64(s);
  if (!v || *v > UINT64_MAX / mult) return std::nullopt;
  return *v * mult;
}

std::optional<std::uint64_t> parse_id(std::string_view s) noexcept {
  const auto v = parse_u64(s);
  if (!v || *v == 0 || *v >= (1ull << 53)) return std::nullopt;
  return v;
}

std::string base64url_encode(std::string_view data) {
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : data) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kB64[(acc >> bits) & 63u];
    }
  }
  if (bits > 0) out += kB64[(acc << (6 - bits)) & 63u];
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const auto p = kB64.find(c);
    if (p == std::string_view::npos) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(p);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFFu);
    }
  }
  if (bits >= 6) return std::nullopt;  // a dangling character cannot come from encode
  return out;
}

// Cursor text before base64url: "c1|<sort>|<a|d>|<value as %a hex float>|<id>".
std::string encode_cursor(const Cursor& c) {
  char value[64];
  std::snprintf(value, sizeof value, "%a", c.value);
  return base64url_encode("c1|" + c.sort + "|" + (c.descending ? "d" : "a") + "|" + value + "|" +
                          std::to_string(c.id));
}

Cursor decode_cursor(std::string_view text) {
  const ApiError bad(400, "bad_cursor", "cursor is not one this server returned");
  if (text.size() > 256) throw bad;
  const auto raw = base64url_decode(text);
  if (!raw) throw bad;
  std::vector<std::string> parts;
  std::size_t pos = 0;
  for (;;) {
    const std::size_t bar = raw->find('|', pos);
    parts.push_back(raw->substr(pos, bar == std::string::npos ? std::string::npos : bar - pos));
    if (bar == std::string::npos) break;
    pos = bar + 1;
  }
  if (parts.size() != 5 || parts[0] != "c1" || parts[1].empty() || (parts[2] != "a" && parts[2] != "d")) throw bad;
  for (char ch : parts[1]) {
    if (!((ch >= 'a' && ch <= 'z') || ch == '_')) throw bad;
  }
  Cursor c;
  c.sort = parts[1];
  c.descending = parts[2] == "d";
  char* end = nullptr;
  c.value = std::strtod(parts[3].c_str(), &end);
  if (parts[3].empty() || end != parts[3].c_str() + parts[3].size() || !std::isfinite(c.value)) throw bad;
  const auto id = parse_u64(parts[4]);
  if (!id) throw bad;
  c.id = *id;
  return c;
}

}  // namespace netscope::control
