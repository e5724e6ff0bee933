#pragma once
// Where a configuration problem is, and what it is. what() reads
// "file:line:col: message" (col omitted when 0), the form every diagnostic of
// proxyd -c and vrrpd -t takes.
#include <stdexcept>
#include <string>

namespace common {

struct SourceLoc {
  std::string file;
  int line = 0;
  int col = 0;
  std::string str() const; // "file:line" or "file:line:col"
};

class ConfigError : public std::runtime_error {
public:
  ConfigError(SourceLoc loc, std::string message);
  const SourceLoc& loc() const { return loc_; }
  const std::string& message() const { return message_; }

private:
  SourceLoc loc_;
  std::string message_;
};

} // namespace common
