#include "proxyd/admin_server.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace proxyd {

using runtime::CliSession;
using runtime::HealthEvent;
using runtime::HealthSummary;

namespace {
// A command line longer than HAProxy's (runtime::kMaxCommandLine) is never
// run: HAProxy stops reading such a session for good; we close it once the
// output already due is written.
constexpr size_t kMaxLine = runtime::kMaxCommandLine;
// While this much output waits for a client that does not read, no further
// command is run and the socket is not read (HAProxy stops at about its
// buffers' worth too); both resume as the client drains the output. So a
// session holds at most this plus one read burst of input plus one
// command's output.
constexpr size_t kPauseOutput = 64 * 1024;
// A watcher that lets this much pile up is dropped: it is stuck, and a
// heartbeat stream has nothing to pause.
constexpr size_t kMaxWatchPending = 256 * 1024;
constexpr int kAcceptBatch = 16;
} // namespace

struct AdminServer::Conn {
  Conn(common::Loop& loop, runtime::RuntimeControl& ctl, runtime::Level level, int fd)
      : fd(fd), session(ctl, level), idle(std::make_unique<common::Timer>(loop, [] {})) {}
  ~Conn() {
    w.reset();
    if (fd >= 0) ::close(fd);
  }
  int fd;
  common::FdWatcherPtr w;
  CliSession session;
  std::string in;
  std::string out;
  bool closing = false; // close once `out` is written
  bool closed = false;
  bool peerEof = false;
  // watch mode
  std::optional<runtime::WatchRequest> watch;
  std::optional<HealthSummary> last;
  common::TimerPtr idle;      // idle timeout, or the heartbeat in watch mode
  std::optional<common::Micros> timeout; // `set timeout cli`: replaces the socket's
};

common::Result<AdminSocketSpec> parseAdminAddress(std::string_view word) {
  AdminSocketSpec spec;
  std::string w(word);
  if (w.rfind("unix@", 0) == 0) {
    spec.path = w.substr(5);
  } else if (w.rfind("ipv4@", 0) == 0 || w.rfind("ipv6@", 0) == 0 ||
             (!w.empty() && w[0] != '/' && w.find(':') != std::string::npos)) {
    auto a = common::parseHostPort(w, /*portOptional=*/true); // port 0: any (tests)
    if (!a) return common::err(a.error());
    spec.tcp = *a;
  } else {
    spec.path = w;
  }
  if (!spec.tcp && spec.path.empty()) return common::err("missing socket path");
  if (!spec.tcp && spec.path.size() >= sizeof(sockaddr_un{}.sun_path))
    return common::err("socket path '" + spec.path + "' is too long");
  return spec;
}

AdminServer::AdminServer(common::Loop& loop, runtime::RuntimeControl& ctl, AdminSocketSpec spec)
    : loop_(loop), ctl_(ctl), spec_(std::move(spec)) {}

AdminServer::~AdminServer() {
  conns_.clear();
  lw_.reset();
  if (lfd_ >= 0) ::close(lfd_);
  // Only our own socket: another process (a second proxyd on the same
  // configuration) may have replaced the file since.
  struct stat st;
  if (unlinkOnClose_ && ::lstat(spec_.path.c_str(), &st) == 0 && st.st_dev == sockDev_ &&
      st.st_ino == sockIno_)
    ::unlink(spec_.path.c_str());
}

common::Result<bool> AdminServer::listen() {
  std::string what = spec_.tcp ? spec_.tcp->str() : spec_.path;
  std::string tmp; // the unix socket's temporary name, removed on failure
  auto fail = [&](const char* step) {
    std::string msg = std::string("cannot ") + step + " admin socket '" + what +
                      "': " + std::strerror(errno);
    if (lfd_ >= 0) ::close(lfd_);
    lfd_ = -1;
    if (!tmp.empty()) ::unlink(tmp.c_str());
    return common::err(msg);
  };
  int family = spec_.tcp ? spec_.tcp->family() : AF_UNIX;
  lfd_ = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (lfd_ < 0) return fail("create");
  if (spec_.tcp) {
    int one = 1;
    ::setsockopt(lfd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(lfd_, reinterpret_cast<const sockaddr*>(&spec_.tcp->ss), spec_.tcp->len) < 0)
      return fail("bind");
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(lfd_, reinterpret_cast<sockaddr*>(&ss), &len) == 0)
      boundPort_ = common::SockAddr::fromRaw(reinterpret_cast<sockaddr*>(&ss), len).port();
    if (::listen(lfd_, 64) < 0) return fail("listen on");
  } else {
    // As HAProxy: bound under a temporary name in the same directory, given
    // its mode, listening, and only then renamed over the path. No client
    // ever reaches a socket with the umask's mode, the path never goes
    // missing across a restart, and a stale socket is replaced atomically.
    // Anything but a socket at the path is left alone (bind fails).
    struct stat st;
    if (::lstat(spec_.path.c_str(), &st) == 0 && !S_ISSOCK(st.st_mode)) {
      errno = EADDRINUSE;
      return fail("bind");
    }
    std::string name =
        runtime::socketTempName(spec_.path, ::getpid(), sizeof(sockaddr_un{}.sun_path));
    if (name.empty()) {
      errno = ENAMETOOLONG;
      return fail("bind");
    }
    ::unlink(name.c_str()); // left over by a crashed process of this pid
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    std::memcpy(sun.sun_path, name.c_str(), name.size() + 1);
    if (::bind(lfd_, reinterpret_cast<const sockaddr*>(&sun), sizeof sun) < 0) return fail("bind");
    tmp = name;
    if (spec_.mode && ::chmod(tmp.c_str(), spec_.mode) < 0) return fail("chmod");
    if (::listen(lfd_, 64) < 0) return fail("listen on");
    if (::rename(tmp.c_str(), spec_.path.c_str()) < 0) return fail("bind");
    tmp.clear();
    if (::lstat(spec_.path.c_str(), &st) == 0) {
      sockDev_ = st.st_dev;
      sockIno_ = st.st_ino;
      unlinkOnClose_ = true;
    }
  }
  lw_ = std::make_unique<common::FdWatcher>(loop_, lfd_, [this](unsigned) { onAccept(); });
  lw_->want(common::FdWatcher::Read);
  return true;
}

size_t AdminServer::watchers() const {
  size_t n = 0;
  for (const auto& [p, c] : conns_) n += c->watch && !c->closed;
  return n;
}

void AdminServer::onAccept() {
  for (int i = 0; i < kAcceptBatch; ++i) {
    int fd = ::accept4(lfd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return; // EAGAIN, or an error the next readiness retries
    if (conns_.size() >= spec_.maxConnections) {
      ::close(fd);
      continue;
    }
    auto conn = std::make_unique<Conn>(loop_, ctl_, spec_.level, fd);
    Conn* c = conn.get();
    conns_[c] = std::move(conn);
    c->w = std::make_unique<common::FdWatcher>(loop_, fd,
                                               [this, c](unsigned ready) { onEvent(c, ready); });
    c->w->want(common::FdWatcher::Read);
    armIdle(c);
  }
}

void AdminServer::armIdle(Conn* c) {
  if (c->watch) return;
  c->idle = std::make_unique<common::Timer>(loop_, [this, c] { closeConn(c); });
  c->idle->arm(c->timeout.value_or(spec_.timeout));
}

void AdminServer::onEvent(Conn* c, unsigned ready) {
  if (ready & common::FdWatcher::Write) {
    size_t before = c->out.size();
    flush(c);
    if (c->closed) return;
    if (c->out.size() < before) armIdle(c); // a client that reads is not idle
    if (before >= kPauseOutput && c->out.size() < kPauseOutput) process(c); // drained: resume
  }
  if (!c->closed && (ready & common::FdWatcher::Read)) readInput(c);
}

void AdminServer::readInput(Conn* c) {
  char buf[16384];
  for (int rounds = 0; rounds < 4; ++rounds) {
    ssize_t n = ::recv(c->fd, buf, sizeof buf, 0);
    if (n > 0) {
      c->in.append(buf, static_cast<size_t>(n));
      if (static_cast<size_t>(n) < sizeof buf) break;
      continue;
    }
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) c->peerEof = true;
    break;
  }
  armIdle(c);
  process(c);
}

void AdminServer::process(Conn* c) {
  runLines(c);
  if (c->closed) return;
  // After the peer's EOF, whatever complete lines came are run (once the
  // output drains, if it must); a last line without its "\n" is dropped.
  if (c->peerEof && !c->closing && !paused(c) &&
      (c->watch || runtime::findLineEnd(c->in) == std::string::npos))
    c->closing = true;
  flush(c);
}

bool AdminServer::paused(const Conn* c) const {
  return !c->watch && c->out.size() >= kPauseOutput;
}

void AdminServer::runLines(Conn* c) {
  while (!c->closing && !c->closed && !paused(c)) {
    size_t nl = runtime::findLineEnd(c->in);
    if (nl == std::string::npos ? c->in.size() >= kMaxLine : nl >= kMaxLine) {
      c->in.clear(); // HAProxy would never run it; we hang up
      c->closing = true;
      return;
    }
    if (nl == std::string::npos) return;
    std::string line = c->in.substr(0, nl);
    c->in.erase(0, nl + 1);
    if (c->watch) {
      std::string_view l(line);
      if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
      if (l == "quit") c->closing = true;
      continue;
    }
    runtime::LineResult r = c->session.handleLine(line, !c->in.empty());
    c->closing = r.close;
    send(c, r.output);
    if (c->closed) return;
    if (r.timeoutMs) {
      c->timeout = std::chrono::milliseconds(*r.timeoutMs);
      armIdle(c);
    }
    if (r.watch) startWatch(c, *r.watch);
  }
}

void AdminServer::startWatch(Conn* c, const runtime::WatchRequest& w) {
  c->watch = w;
  c->last = runtime::summarizeHealth(ctl_.proxies(), w.backend);
  c->idle = std::make_unique<common::Timer>(loop_, [this, c] { watchTick(c, true); });
  c->idle->arm(std::chrono::milliseconds(w.heartbeatMs));
}

void AdminServer::watchTick(Conn* c, bool heartbeat) {
  if (c->closed || !c->watch) return;
  auto now = runtime::summarizeHealth(ctl_.proxies(), c->watch->backend);
  if (!now) { // the backend went away (a reload): tell and stop
    send(c, "No such backend.\n");
    c->closing = true;
    flush(c);
    return;
  }
  bool changed = !c->last || !(*now == *c->last);
  if (!changed && !heartbeat) return;
  c->last = now;
  send(c, runtime::formatHealthLine(*now, changed ? HealthEvent::Change : HealthEvent::Heartbeat));
  if (!c->closed) c->idle->arm(std::chrono::milliseconds(c->watch->heartbeatMs));
}

void AdminServer::notifyHealthChanged() {
  std::vector<Conn*> ws;
  for (const auto& [p, c] : conns_)
    if (c->watch && !c->closed && !c->closing) ws.push_back(p);
  for (Conn* c : ws) watchTick(c, false);
}

void AdminServer::send(Conn* c, const std::string& bytes) {
  if (c->closed) return;
  c->out += bytes;
  if (c->watch && c->out.size() > kMaxWatchPending) { // a watcher that does not read
    closeConn(c);
    return;
  }
  flush(c);
}

// Writes what the socket takes, closes a session that is done, and sets the
// events wanted: Write while output waits, Read unless the peer has closed,
// the session is closing, or it is paused on a client that does not read.
void AdminServer::flush(Conn* c) {
  while (!c->out.empty()) {
    ssize_t n = ::send(c->fd, c->out.data(), c->out.size(), MSG_NOSIGNAL);
    if (n > 0) {
      c->out.erase(0, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    closeConn(c); // the peer is gone
    return;
  }
  if (c->out.empty() && c->closing) {
    closeConn(c);
    return;
  }
  unsigned want = c->out.empty() ? 0u : unsigned{common::FdWatcher::Write};
  if (!c->peerEof && !c->closing && !paused(c)) want |= common::FdWatcher::Read;
  c->w->want(want);
}

void AdminServer::closeConn(Conn* c) {
  if (c->closed) return;
  c->closed = true;
  c->w->want(0);
  c->idle->cancel();
  auto it = conns_.find(c);
  if (it == conns_.end()) return;
  // Freed after the current callback: `c` may be the one running.
  std::shared_ptr<Conn> dead(std::move(it->second));
  conns_.erase(it);
  loop_.defer([dead] {});
}

} // namespace proxyd
