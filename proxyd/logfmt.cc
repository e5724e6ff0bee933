#include "proxyd/logfmt.h"

#include <arpa/inet.h>
#include <cstdio>
#include <ctime>
#include <netinet/in.h>

namespace proxyd {

std::string formatTermState(TermCode code, TermPhase phase) {
  return std::string{static_cast<char>(code), static_cast<char>(phase)};
}

std::string formatLogDate(std::chrono::system_clock::time_point t, bool utc) {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  // Floor division, so instants before 1970 still get 0..999 ms.
  long long secs = ms / 1000;
  long long rem = ms % 1000;
  if (rem < 0) {
    rem += 1000;
    --secs;
  }
  std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  if (utc)
    gmtime_r(&tt, &tm);
  else
    localtime_r(&tt, &tm);
  static const char* const kMonths[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%02d/%s/%04d:%02d:%02d:%02d.%03lld", tm.tm_mday,
                kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, rem);
  return buf;
}

namespace {

// %ci and %cp, read from the sockaddr directly: IPv6 without brackets, as
// HAProxy prints it ("::1:45678"). Any other family (we only accept TCP over
// IPv4/IPv6) prints "-:-".
std::string clientEndpoint(const common::SockAddr& a) {
  char ip[INET6_ADDRSTRLEN] = "";
  unsigned port = 0;
  if (a.ss.ss_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(&a.ss);
    inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof ip);
    port = ntohs(sin->sin_port);
  } else if (a.ss.ss_family == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&a.ss);
    inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof ip);
    port = ntohs(sin6->sin6_port);
  } else {
    return "-:-";
  }
  return std::string(ip) + ":" + std::to_string(port);
}

} // namespace

std::string formatTcpLog(const TcpLogEntry& e, bool utc) {
  std::string s = clientEndpoint(e.clientAddr);
  s += " [" + formatLogDate(e.acceptTime, utc) + "] ";
  s += e.frontend;
  if (e.frontendTls) s += '~';
  s += ' ';
  s += e.backend.empty() ? e.frontend : e.backend;
  s += '/';
  s += e.server.empty() ? "<NOSRV>" : e.server;
  s += ' ' + std::to_string(e.tw) + '/' + std::to_string(e.tc) + '/';
  if (e.logasap) s += '+';
  s += std::to_string(e.tt) + ' ';
  if (e.logasap) s += '+';
  s += std::to_string(e.bytesRead) + ' ';
  s += e.termState.empty() ? "--" : e.termState;
  s += ' ' + std::to_string(e.actconn) + '/' + std::to_string(e.feconn) + '/' +
       std::to_string(e.beconn) + '/' + std::to_string(e.srvConn) + '/';
  if (e.redispatched) s += '+';
  s += std::to_string(e.retries);
  s += ' ' + std::to_string(e.srvQueue) + '/' + std::to_string(e.backendQueue);
  return s;
}

std::string quoteRequestLine(std::string_view line) {
  if (line.empty()) return "\"<BADREQ>\"";
  static const char kHex[] = "0123456789ABCDEF";
  std::string s = "\"";
  for (unsigned char c : line) {
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '#') {
      s += '#';
      s += kHex[c >> 4];
      s += kHex[c & 15];
    } else {
      s += static_cast<char>(c);
    }
  }
  s += '"';
  return s;
}

std::string formatHttpLog(const HttpLogEntry& e, bool utc) {
  std::string s = clientEndpoint(e.clientAddr);
  s += " [" + formatLogDate(e.requestTime, utc) + "] ";
  s += e.frontend;
  if (e.frontendTls) s += '~';
  s += ' ';
  s += e.backend.empty() ? e.frontend : e.backend;
  s += '/';
  s += e.server.empty() ? "<NOSRV>" : e.server;
  s += ' ' + std::to_string(e.tR) + '/' + std::to_string(e.tw) + '/' + std::to_string(e.tc) + '/' +
       std::to_string(e.tr) + '/';
  if (e.logasap) s += '+';
  s += std::to_string(e.ta) + ' ' + std::to_string(e.status) + ' ';
  if (e.logasap) s += '+';
  s += std::to_string(e.bytesRead);
  s += " - - ";
  s += e.termState.size() == 2 ? e.termState : std::string("--");
  s += e.cookieState.size() == 2 ? e.cookieState : std::string("--");
  s += ' ' + std::to_string(e.actconn) + '/' + std::to_string(e.feconn) + '/' +
       std::to_string(e.beconn) + '/' + std::to_string(e.srvConn) + '/';
  if (e.redispatched) s += '+';
  s += std::to_string(e.retries);
  s += ' ' + std::to_string(e.srvQueue) + '/' + std::to_string(e.backendQueue);
  s += ' ' + quoteRequestLine(e.requestLine);
  return s;
}

} // namespace proxyd
