#pragma once
// Logging to stderr/stdout and to syslog over UDP or a local datagram socket
// (/dev/log). Sends never block: a socket that cannot take a line drops it.
// No globals: each daemon owns its Logger.
#include "common/clock.h"
#include "common/result.h"
#include "common/values.h"

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace common {

// syslog(3) severities.
enum Severity { kEmerg = 0, kAlert, kCrit, kErr, kWarning, kNotice, kInfo, kDebug };

// "emerg".."debug" (as HAProxy and keepalived spell them); -1 if unknown.
int parseSeverity(std::string_view s);
const char* severityName(int severity);
// "kern", "user", ..., "local0".."local7" -> facility number; -1 if unknown.
int parseFacility(std::string_view s);

struct LogSinkSpec {
  enum class Kind { Stderr, Stdout, Udp, Unix } kind = Kind::Stderr;
  SockAddr addr;         // Udp
  std::string path;      // Unix (a datagram socket, e.g. /dev/log)
  int facility = 16;     // local0
  int maxLevel = kDebug; // lines with severity <= maxLevel are sent
  int minLevel = kEmerg; // ... and severity >= minLevel (HAProxy's "min level")
  bool raw = false;      // Stderr/Stdout: the message alone, no "[LEVEL] (pid) : "
  size_t maxLen = 1024;  // syslog line length limit (HAProxy's "len"), header included
};

class Logger {
public:
  // `tag` is the program name shown in syslog lines, e.g. "proxyd".
  Logger(std::string tag, const Clock& clock);
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  // Opens the sink (a non-blocking datagram socket for Udp/Unix). An error
  // names the target and the reason; nothing is added then.
  Result<bool> addSink(const LogSinkSpec& s);
  void clearSinks();
  size_t sinkCount() const;

  // Sends to every sink whose level range contains `severity`. Never blocks
  // on a socket; a full or unreachable socket drops the line.
  void log(int severity, std::string_view msg) const;

  const std::string& tag() const { return tag_; }

private:
  struct Sink;
  std::string tag_;
  const Clock& clock_;
  std::vector<std::unique_ptr<Sink>> sinks_;
};

// RFC 3164 as HAProxy 2.6 sends it by default ("local" format, no hostname):
// "<PRI>Mmm dd hh:mm:ss TAG[PID]: MSG", PRI = facility*8+severity, the day
// padded with a space ("Jan  5"), the time in local time. No trailing newline
// (the sink adds one on the wire, as HAProxy does).
std::string formatSyslog3164(int facility, int severity, std::chrono::system_clock::time_point t,
                             std::string_view tag, int pid, std::string_view msg);

// The console form HAProxy prints: "[WARNING]  (1234) : msg" (the bracketed
// label padded to 11 columns). Emerg..Err print as ALERT. No trailing newline.
std::string formatConsole(int severity, int pid, std::string_view msg);

} // namespace common
