#include "common/config_error.h"

#include <utility>

namespace common {

std::string SourceLoc::str() const {
  std::string s = file;
  if (line > 0) {
    s += ':' + std::to_string(line);
    if (col > 0) s += ':' + std::to_string(col);
  }
  return s;
}

namespace {
std::string formatWhat(const SourceLoc& loc, const std::string& message) {
  std::string where = loc.str();
  if (where.empty()) return message;
  return where + ": " + message;
}
} // namespace

ConfigError::ConfigError(SourceLoc loc, std::string message)
    : std::runtime_error(formatWhat(loc, message)), loc_(std::move(loc)),
      message_(std::move(message)) {}

} // namespace common
