#include "common/log.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

using namespace common;
using namespace std::chrono_literals;

namespace {

// Formats times in UTC for the duration of a test.
struct UtcZone {
  std::string old;
  bool had = false;
  UtcZone() {
    if (const char* tz = std::getenv("TZ")) {
      had = true;
      old = tz;
    }
    ::setenv("TZ", "UTC", 1);
    ::tzset();
  }
  ~UtcZone() {
    if (had) {
      ::setenv("TZ", old.c_str(), 1);
    } else {
      ::unsetenv("TZ");
    }
    ::tzset();
  }
};

struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Receives one datagram, waiting at most `ms`.
std::string recvLine(int fd, int ms = 2000) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, ms) != 1) return "<timeout>";
  char buf[4096];
  ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  return n < 0 ? "<error>" : std::string(buf, static_cast<size_t>(n));
}

bool nothingPending(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 50) == 0;
}

// A UDP receiver on 127.0.0.1 (ephemeral port) and its address as a SockAddr.
struct UdpReceiver {
  Fd sock{::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)};
  SockAddr addr;
  UdpReceiver() {
    REQUIRE(sock.fd >= 0);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(sock.fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) == 0);
    socklen_t len = sizeof sin;
    REQUIRE(::getsockname(sock.fd, reinterpret_cast<sockaddr*>(&sin), &len) == 0);
    std::memcpy(&addr.ss, &sin, sizeof sin);
    addr.len = sizeof sin;
  }
};

// A unix datagram receiver at a fresh temporary path.
struct UnixReceiver {
  std::string dir, path;
  int fd = -1;
  UnixReceiver() {
    char tmpl[] = "/tmp/logtestXXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    path = dir + "/log.sock";
  }
  void bind() {
    fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    std::strcpy(un.sun_path, path.c_str());
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&un), sizeof un) == 0);
  }
  ~UnixReceiver() {
    if (fd >= 0) ::close(fd);
    ::unlink(path.c_str());
    ::rmdir(dir.c_str());
  }
};

// Captures what is written to fd 1 or 2 while it lives.
struct CaptureFd {
  int target, saved, pipeFd[2];
  explicit CaptureFd(int t) : target(t) {
    REQUIRE(::pipe2(pipeFd, O_NONBLOCK) == 0);
    saved = ::dup(target);
    ::dup2(pipeFd[1], target);
  }
  std::string finish() {
    ::dup2(saved, target);
    ::close(saved);
    ::close(pipeFd[1]);
    std::string out;
    char buf[1024];
    ssize_t n;
    while ((n = ::read(pipeFd[0], buf, sizeof buf)) > 0)
      out.append(buf, static_cast<size_t>(n));
    ::close(pipeFd[0]);
    return out;
  }
};

} // namespace

TEST_CASE("formatSyslog3164 matches HAProxy's default (local) format", "[log]") {
  UtcZone utc;
  auto t = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  CHECK(formatSyslog3164(16, kInfo, t, "proxyd", 1234, "hello world") ==
        "<134>Nov 14 22:13:20 proxyd[1234]: hello world");
  CHECK(formatSyslog3164(3, kErr, t, "vrrpd", 7, "x") == "<27>Nov 14 22:13:20 vrrpd[7]: x");
  // Single-digit days are padded with a space; times with zeros.
  auto jan5 = std::chrono::system_clock::time_point(std::chrono::seconds(1704423845));
  CHECK(formatSyslog3164(23, kEmerg, jan5, "p", 1, "m") == "<184>Jan  5 03:04:05 p[1]: m");
}

TEST_CASE("formatConsole pads the label as HAProxy does", "[log]") {
  CHECK(formatConsole(kWarning, 42, "msg") == "[WARNING]  (42) : msg");
  CHECK(formatConsole(kAlert, 42, "msg") == "[ALERT]    (42) : msg");
  CHECK(formatConsole(kErr, 42, "msg") == "[ALERT]    (42) : msg");
  CHECK(formatConsole(kNotice, 1, "m") == "[NOTICE]   (1) : m");
}

TEST_CASE("Severity and facility names", "[log]") {
  CHECK(parseSeverity("warning") == kWarning);
  CHECK(parseSeverity("debug") == kDebug);
  CHECK(parseSeverity("bogus") == -1);
  CHECK(std::string(severityName(kNotice)) == "notice");
  CHECK(parseFacility("local0") == 16);
  CHECK(parseFacility("daemon") == 3);
  CHECK(parseFacility("nope") == -1);
}

TEST_CASE("A UDP sink sends one exact syslog line per message", "[log]") {
  UtcZone utc;
  ManualClock clock; // wall time 1700000000
  UdpReceiver rx;
  Logger logger("proxyd", clock);
  LogSinkSpec spec;
  spec.kind = LogSinkSpec::Kind::Udp;
  spec.addr = rx.addr;
  spec.facility = 16;
  REQUIRE(logger.addSink(spec).ok());
  CHECK(logger.sinkCount() == 1);
  logger.log(kInfo, "Proxy web started.");
  std::string expected =
      "<134>Nov 14 22:13:20 proxyd[" + std::to_string(::getpid()) + "]: Proxy web started.\n";
  CHECK(recvLine(rx.sock.fd) == expected);
  // A trailing newline in the message is not doubled.
  logger.log(kWarning, "line\n");
  CHECK(recvLine(rx.sock.fd) ==
        "<132>Nov 14 22:13:20 proxyd[" + std::to_string(::getpid()) + "]: line\n");
}

TEST_CASE("Sinks filter by level range and truncate to maxLen", "[log]") {
  ManualClock clock;
  UdpReceiver rx;
  Logger logger("p", clock);
  LogSinkSpec spec;
  spec.kind = LogSinkSpec::Kind::Udp;
  spec.addr = rx.addr;
  spec.maxLevel = kWarning;
  spec.maxLen = 40;
  REQUIRE(logger.addSink(spec).ok());
  logger.log(kInfo, "too verbose");
  logger.log(kDebug, "too verbose");
  CHECK(nothingPending(rx.sock.fd));
  logger.log(kErr, std::string(200, 'x'));
  std::string got = recvLine(rx.sock.fd);
  CHECK(got.size() == 40);
  CHECK(got.back() == '\n');

  LogSinkSpec minSpec = spec;
  minSpec.maxLevel = kDebug;
  minSpec.minLevel = kNotice; // only notice..debug
  Logger l2("p", clock);
  REQUIRE(l2.addSink(minSpec).ok());
  l2.log(kErr, "not this");
  CHECK(nothingPending(rx.sock.fd));
  l2.log(kInfo, "this");
  CHECK(recvLine(rx.sock.fd).find("]: this\n") != std::string::npos);
}

TEST_CASE("A unix datagram sink reaches its socket and reconnects later", "[log]") {
  ManualClock clock;
  UnixReceiver rx;
  Logger logger("vrrpd", clock);
  LogSinkSpec spec;
  spec.kind = LogSinkSpec::Kind::Unix;
  spec.path = rx.path;
  spec.facility = 3;
  // The syslog daemon is not there yet: the sink is still added.
  REQUIRE(logger.addSink(spec).ok());
  logger.log(kNotice, "lost"); // dropped, nothing listens
  rx.bind();
  clock.advance(2s); // reconnect attempts are spaced by a second
  logger.log(kNotice, "VRRP_Instance(VI_1) Entering MASTER STATE");
  std::string got = recvLine(rx.fd);
  CHECK(got.rfind("<29>", 0) == 0);
  CHECK(got.find(" vrrpd[" + std::to_string(::getpid()) +
                 "]: VRRP_Instance(VI_1) Entering MASTER STATE\n") != std::string::npos);
}

TEST_CASE("A full unix socket drops lines instead of blocking", "[log]") {
  ManualClock clock;
  UnixReceiver rx;
  rx.bind();
  Logger logger("p", clock);
  LogSinkSpec spec;
  spec.kind = LogSinkSpec::Kind::Unix;
  spec.path = rx.path;
  REQUIRE(logger.addSink(spec).ok());
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 5000; ++i)
    logger.log(kInfo, std::string(500, 'y'));
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  int received = 0;
  while (!nothingPending(rx.fd) && received < 6000) {
    char buf[2048];
    if (::recv(rx.fd, buf, sizeof buf, 0) <= 0) break;
    ++received;
  }
  CHECK(received > 0);
  CHECK(received < 5000);
}

TEST_CASE("Console sinks print HAProxy-style or raw lines", "[log]") {
  ManualClock clock;
  Logger logger("proxyd", clock);
  LogSinkSpec err;
  err.kind = LogSinkSpec::Kind::Stderr;
  err.maxLevel = kNotice;
  REQUIRE(logger.addSink(err).ok());
  std::string pid = std::to_string(::getpid());
  {
    CaptureFd cap(STDERR_FILENO);
    logger.log(kWarning, "Server app/web1 is DOWN.");
    logger.log(kAlert, "config : parsing failed");
    logger.log(kInfo, "filtered out");
    CHECK(cap.finish() == "[WARNING]  (" + pid + ") : Server app/web1 is DOWN.\n[ALERT]    (" +
                              pid + ") : config : parsing failed\n");
  }
  Logger raw("proxyd", clock);
  LogSinkSpec out;
  out.kind = LogSinkSpec::Kind::Stdout;
  out.raw = true;
  REQUIRE(raw.addSink(out).ok());
  CaptureFd cap(STDOUT_FILENO);
  raw.log(kInfo, "just this");
  CHECK(cap.finish() == "just this\n");
}

TEST_CASE("addSink rejects unusable targets with a reason", "[log]") {
  ManualClock clock;
  Logger logger("p", clock);
  LogSinkSpec udp;
  udp.kind = LogSinkSpec::Kind::Udp; // no address
  auto r = logger.addSink(udp);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().find("address") != std::string::npos);
  LogSinkSpec unixSpec;
  unixSpec.kind = LogSinkSpec::Kind::Unix;
  unixSpec.path = std::string(200, 'a');
  auto r2 = logger.addSink(unixSpec);
  REQUIRE_FALSE(r2.ok());
  CHECK(r2.error().find("too long") != std::string::npos);
  CHECK(logger.sinkCount() == 0);
}
