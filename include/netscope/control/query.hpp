// Strict parsing of API request parts: query strings, integers, durations, opaque cursors.
// Control plane only; every function validates fully and reports bad input as ApiError.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace netscope::control {

/// A request the API rejects: HTTP status (4xx/5xx), a stable snake_case code, a message.
class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string code, const std::string& message)
      : std::runtime_error(message), status_(status), code_(std::move(code)) {}
  [[nodiscard]] int status() const noexcept { return status_; }
  [[nodiscard]] const std::string& code() const noexcept { return code_; }

 private:
  int status_;
  std::string code_;
};

/// Decodes %XX escapes and '+' (as space). Throws ApiError 400 on a bad escape or NUL.
std::string percent_decode(std::string_view s);

/// Parsed query string: each name at most once. Throws ApiError 400 on bad encoding,
/// an empty name, a repeated name, or more than 32 parameters.
class Query {
 public:
  Query() = default;
  explicit Query(std::string_view raw);

  /// Throws ApiError 400 naming the first parameter not in `allowed`.
  void allow_only(const std::vector<std::string_view>& allowed) const;

  [[nodiscard]] bool has(const std::string& name) const { return items_.count(name) != 0; }
  [[nodiscard]] std::optional<std::string> str(const std::string& name) const;
  /// Unsigned decimal in [min, max]; `def` when absent. Throws ApiError 400 otherwise.
  [[nodiscard]] std::uint64_t u64(const std::string& name, std::uint64_t def, std::uint64_t min = 0,
                                  std::uint64_t max = UINT64_MAX) const;
  [[nodiscard]] std::optional<std::uint64_t> opt_u64(const std::string& name, std::uint64_t min = 0,
                                                     std::uint64_t max = UINT64_MAX) const;
  /// Non-negative finite decimal number, e.g. "1.5e6".
  [[nodiscard]] std::optional<double> opt_number(const std::string& name) const;
  /// One of `choices`; `def` when absent.
  [[nodiscard]] std::string choice(const std::string& name, const std::vector<std::string_view>& choices,
                                   std::string_view def) const;
  /// Duration in whole seconds ("90", "90s", "5m", "2h", "1d") in [min, max]; `def` when absent.
  [[nodiscard]] std::uint64_t seconds(const std::string& name, std::uint64_t def, std::uint64_t min,
                                      std::uint64_t max) const;

 private:
  std::map<std::string, std::string> items_;
};

/// Strict unsigned decimal (no sign, no spaces, no overflow).
[[nodiscard]] std::optional<std::uint64_t> parse_u64(std::string_view s) noexcept;
/// Duration text as above, in seconds.
[[nodiscard]] std::optional<std::uint64_t> parse_duration_s(std::string_view s) noexcept;
/// An id in a path segment: decimal, 1..2^53-1.
[[nodiscard]] std::optional<std::uint64_t> parse_id(std::string_view s) noexcept;

/// Position after the last item of a page, for the next page of a sorted listing.
struct Cursor {
  std::string sort;        ///< sort field the cursor was made for
  bool descending = false;
  double value = 0;        ///< sort value of the last item
  std::uint64_t id = 0;    ///< id of the last item (tie breaker)
};

/// Opaque text (base64url) for a cursor.
[[nodiscard]] std::string encode_cursor(const Cursor& c);
/// Throws ApiError 400 ("bad_cursor") for text that encode_cursor did not make.
[[nodiscard]] Cursor decode_cursor(std::string_view text);

[[nodiscard]] std::string base64url_encode(std::string_view data);
[[nodiscard]] std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace netscope::control
