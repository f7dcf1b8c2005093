#include "netscope/analysis/alert.hpp"

namespace netscope::analysis {

std::string_view to_string(AlertType t) noexcept {
  switch (t) {
#define NETSCOPE_X(name) \
  case AlertType::name:  \
    return #name;
    NETSCOPE_ALERT_TYPES(NETSCOPE_X)
#undef NETSCOPE_X
    case AlertType::count_:
      break;
  }
  return "unknown";
}

std::string_view to_string(Severity s) noexcept {
  switch (s) {
    case Severity::info:
      return "info";
    case Severity::low:
      return "low";
    case Severity::medium:
      return "medium";
    case Severity::high:
      return "high";
    case Severity::critical:
      return "critical";
  }
  return "unknown";
}

}  // namespace netscope::analysis
