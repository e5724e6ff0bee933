#include "common/log.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <ctime>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace common {

namespace {

constexpr const char* kSeverityNames[] = {"emerg",   "alert",  "crit", "err",
                                          "warning", "notice", "info", "debug"};

struct FacilityName {
  const char* name;
  int code;
};
constexpr FacilityName kFacilities[] = {
    {"kern", 0},    {"user", 1},    {"mail", 2},    {"daemon", 3},  {"auth", 4},
    {"syslog", 5},  {"lpr", 6},     {"news", 7},    {"uucp", 8},    {"cron", 9},
    {"auth2", 10},  {"ftp", 11},    {"ntp", 12},    {"audit", 13},  {"alert", 14},
    {"cron2", 15},  {"local0", 16}, {"local1", 17}, {"local2", 18}, {"local3", 19},
    {"local4", 20}, {"local5", 21}, {"local6", 22}, {"local7", 23}, {"authpriv", 10},
};

constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

int clampSeverity(int s) {
  return s < kEmerg ? kEmerg : (s > kDebug ? kDebug : s);
}

const char* consoleLabel(int severity) {
  switch (clampSeverity(severity)) {
  case kWarning:
    return "WARNING";
  case kNotice:
    return "NOTICE";
  case kInfo:
    return "INFO";
  case kDebug:
    return "DEBUG";
  default:
    return "ALERT";
  }
}

} // namespace

int parseSeverity(std::string_view s) {
  for (int i = 0; i <= kDebug; ++i) {
    if (s == kSeverityNames[i]) return i;
  }
  return -1;
}

const char* severityName(int severity) {
  return kSeverityNames[clampSeverity(severity)];
}

int parseFacility(std::string_view s) {
  for (const auto& f : kFacilities) {
    if (s == f.name) return f.code;
  }
  return -1;
}

std::string formatSyslog3164(int facility, int severity, std::chrono::system_clock::time_point t,
                             std::string_view tag, int pid, std::string_view msg) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  localtime_r(&tt, &tm);
  char head[64];
  int n = std::snprintf(head, sizeof head, "<%d>%s %2d %02d:%02d:%02d ",
                        facility * 8 + clampSeverity(severity), kMonths[tm.tm_mon % 12], tm.tm_mday,
                        tm.tm_hour, tm.tm_min, tm.tm_sec);
  std::string out(head, n > 0 ? static_cast<size_t>(n) : 0);
  out.append(tag);
  out += '[';
  out += std::to_string(pid);
  out += "]: ";
  out.append(msg);
  return out;
}

std::string formatConsole(int severity, int pid, std::string_view msg) {
  std::string out = "[";
  out += consoleLabel(severity);
  out += ']';
  out.resize(11 > out.size() ? 11 : out.size() + 1, ' ');
  out += '(';
  out += std::to_string(pid);
  out += ") : ";
  out.append(msg);
  return out;
}

// ------------------------------------------------------------------- Logger

struct Logger::Sink {
  LogSinkSpec spec;
  mutable int fd = -1; // Udp/Unix: a connected, non-blocking datagram socket
  mutable bool connected = false;
  mutable MonoTime nextConnect{};
  // Several threads may log through one sink (proxyd's workers).
  mutable std::mutex mu;

  ~Sink() {
    if (fd >= 0) ::close(fd);
  }

  // Connects (or reconnects) the socket; a syslog daemon may start after us
  // or restart, so failures are retried at most once a second.
  bool connect(const Clock& clock) const {
    MonoTime now = clock.now();
    if (now < nextConnect) return false;
    nextConnect = now + std::chrono::seconds(1);
    int rc = -1;
    if (spec.kind == LogSinkSpec::Kind::Udp) {
      rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&spec.addr.ss), spec.addr.len);
    } else {
      sockaddr_un un{};
      un.sun_family = AF_UNIX;
      std::memcpy(un.sun_path, spec.path.data(), spec.path.size());
      rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&un), sizeof un);
    }
    connected = rc == 0;
    return connected;
  }

  void send(const Clock& clock, const std::string& line) const {
    std::lock_guard<std::mutex> g(mu);
    if (!connected && !connect(clock)) return;
    ssize_t n = ::send(fd, line.data(), line.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n >= 0) return;
    // The receiver went away (syslog daemon restarted): reconnect once.
    if (errno == ECONNREFUSED || errno == ENOTCONN || errno == ENOENT) {
      connected = false;
      if (connect(clock)) (void)::send(fd, line.data(), line.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    }
    // EAGAIN and anything else: the line is dropped.
  }
};

Logger::Logger(std::string tag, const Clock& clock) : tag_(std::move(tag)), clock_(clock) {}

Logger::~Logger() = default;

Result<bool> Logger::addSink(const LogSinkSpec& s) {
  auto sink = std::make_unique<Sink>();
  sink->spec = s;
  if (s.kind == LogSinkSpec::Kind::Udp || s.kind == LogSinkSpec::Kind::Unix) {
    int family = AF_UNIX;
    if (s.kind == LogSinkSpec::Kind::Udp) {
      family = s.addr.family();
      if (family != AF_INET && family != AF_INET6) return err("log target: no UDP address given");
    } else {
      if (s.path.empty()) return err("log target: empty socket path");
      if (s.path.size() >= sizeof(sockaddr_un::sun_path)) {
        return err("log target '" + s.path + "': path too long");
      }
    }
    sink->fd = ::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (sink->fd < 0) {
      return err("log target '" + (s.kind == LogSinkSpec::Kind::Udp ? s.addr.str() : s.path) +
                 "': cannot create socket: " + std::strerror(errno));
    }
    // A failed first connect is not fatal: the syslog daemon may come later.
    sink->connect(clock_);
  }
  sinks_.push_back(std::move(sink));
  return true;
}

void Logger::clearSinks() {
  sinks_.clear();
}

size_t Logger::sinkCount() const {
  return sinks_.size();
}

void Logger::log(int severity, std::string_view msg) const {
  severity = clampSeverity(severity);
  // Trailing newlines would produce empty syslog records; drop them.
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == '\0'))
    msg.remove_suffix(1);
  int pid = static_cast<int>(::getpid());
  for (const auto& sink : sinks_) {
    const LogSinkSpec& s = sink->spec;
    if (severity > s.maxLevel || severity < s.minLevel) continue;
    if (s.kind == LogSinkSpec::Kind::Stderr || s.kind == LogSinkSpec::Kind::Stdout) {
      std::string line = s.raw ? std::string(msg) : formatConsole(severity, pid, msg);
      line += '\n';
      int fd = s.kind == LogSinkSpec::Kind::Stderr ? STDERR_FILENO : STDOUT_FILENO;
      (void)!::write(fd, line.data(), line.size()); // one write: lines never interleave
      continue;
    }
    std::string line = formatSyslog3164(s.facility, severity, clock_.wallNow(), tag_, pid, msg);
    if (s.maxLen > 1 && line.size() > s.maxLen - 1) line.resize(s.maxLen - 1);
    line += '\n';
    sink->send(clock_, line);
  }
}

} // namespace common
