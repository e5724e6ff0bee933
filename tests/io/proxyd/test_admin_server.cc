// The admin socket server on a real loop and real sockets, against the fake
// RuntimeControl of the unit tests. Every wait is bounded by a guard timer.
#include "proxyd/admin_server.h"
#include "tests/unit/proxyd/runtime_fake.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <dirent.h>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <vector>

using namespace proxyd;
using namespace std::chrono_literals;
using proxyd::runtime::AdminState;
using proxyd::runtime::testing::FakeControl;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/proxyd-admin-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    ::unlink((path + "/admin.sock").c_str());
    ::rmdir(path.c_str());
  }
};

template <class Pred> bool runUntil(common::Loop& loop, Pred done, std::chrono::milliseconds limit = 2s) {
  bool expired = false;
  common::Timer guard(loop, [&] { expired = true; });
  guard.arm(limit);
  while (!done() && !expired) loop.runOnce(true);
  return done();
}

// A non-blocking client whose input is collected by a watcher on the loop.
class Client {
public:
  Client(common::Loop& loop, const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    std::snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path.c_str());
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&sun), sizeof sun) == 0;
    watch(loop);
  }
  Client(common::Loop& loop, uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&sin), sizeof sin) == 0;
    watch(loop);
  }
  ~Client() {
    w_.reset();
    ::close(fd_);
  }
  bool connected() const { return connected_; }
  void send(const std::string& s) { CHECK(::send(fd_, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size())); }
  void shutWrite() { ::shutdown(fd_, SHUT_WR); }
  std::string got;
  bool eof = false;

private:
  void watch(common::Loop& loop) {
    w_ = std::make_unique<common::FdWatcher>(loop, fd_, [this](unsigned) {
      char buf[65536];
      ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) got.append(buf, static_cast<size_t>(n));
      else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
        eof = true;
        w_->want(0);
      }
    });
    w_->want(common::FdWatcher::Read);
  }
  int fd_ = -1;
  bool connected_ = false;
  common::FdWatcherPtr w_;
};

struct Fixture {
  TempDir dir;
  common::Loop loop;
  FakeControl ctl;
  std::unique_ptr<AdminServer> server;
  std::string path = dir.path + "/admin.sock";

  explicit Fixture(AdminSocketSpec spec = {}) {
    if (!spec.tcp) spec.path = path;
    spec.level = spec.level == runtime::Level::Operator ? runtime::Level::Admin : spec.level;
    server = std::make_unique<AdminServer>(loop, ctl, spec);
    auto ok = server->listen();
    INFO((ok ? std::string() : ok.error()));
    REQUIRE(ok);
  }
};

} // namespace

TEST_CASE("admin socket: one-shot command then close", "[admin_server]") {
  Fixture f;
  Client c(f.loop, f.path);
  REQUIRE(c.connected());
  c.send("show backend\n");
  REQUIRE(runUntil(f.loop, [&] { return c.eof; }));
  CHECK(c.got == "# name\napp\nlst\n\n");
  REQUIRE(runUntil(f.loop, [&] { return f.server->connections() == 0; }));
}

TEST_CASE("admin socket: pipelined lines and ',' in one-shot mode", "[admin_server]") {
  Fixture f;
  Client c(f.loop, f.path);
  c.send("get weight app/web2\nshow backend;show cli level\n");
  REQUIRE(runUntil(f.loop, [&] { return c.eof; }));
  CHECK(c.got == "3 (initial 3)\n\n# name\napp\nlst\n\nadmin\n\n");
}

TEST_CASE("admin socket: interactive prompt mode until quit", "[admin_server]") {
  Fixture f;
  Client c(f.loop, f.path);
  c.send("prompt\n");
  REQUIRE(runUntil(f.loop, [&] { return c.got == "\n> "; }));
  c.got.clear();
  c.send("show backend;get weight app/web2\n");
  REQUIRE(runUntil(f.loop, [&] { return c.got == "# name\napp\nlst\n\n> 3 (initial 3)\n\n> "; }));
  c.got.clear();
  c.send("set server app/web2 state drain\n");
  REQUIRE(runUntil(f.loop, [&] { return c.got == "\n> "; }));
  CHECK(f.ctl.server("app", "web2").admin == AdminState::Drain);
  CHECK_FALSE(c.eof);
  c.send("quit\n");
  REQUIRE(runUntil(f.loop, [&] { return c.eof; }));
}

TEST_CASE("admin socket: a line cut by EOF is dropped while complete ones run", "[admin_server]") {
  Fixture f;
  Client a(f.loop, f.path);
  a.send("show backend");
  a.shutWrite();
  REQUIRE(runUntil(f.loop, [&] { return a.eof; }));
  CHECK(a.got.empty());
  Client b(f.loop, f.path);
  b.send("show backend\nget weight app/web2");
  b.shutWrite();
  REQUIRE(runUntil(f.loop, [&] { return b.eof; }));
  CHECK(b.got == "# name\napp\nlst\n\n");
}

TEST_CASE("admin socket: the socket level limits commands", "[admin_server]") {
  AdminSocketSpec spec;
  spec.level = runtime::Level::User;
  Fixture f(spec);
  Client c(f.loop, f.path);
  c.send("set server app/web2 state maint\n");
  REQUIRE(runUntil(f.loop, [&] { return c.eof; }));
  CHECK(c.got == "Permission denied\n\n");
  CHECK(f.ctl.log.empty());
}

TEST_CASE("admin socket: watch health streams initial and change and heartbeat lines", "[admin_server]") {
  Fixture f;
  Client c(f.loop, f.path);
  c.send("watch health backend app heartbeat 50\n");
  const std::string initial = "health ok backend=app active=1/2 backup=0/1 event=initial\n";
  REQUIRE(runUntil(f.loop, [&] { return c.got == initial; }));
  CHECK(f.server->watchers() == 1);

  // A notification without a change writes nothing; a change writes at once.
  f.server->notifyHealthChanged();
  f.ctl.server("app", "web2").running = false;
  f.server->notifyHealthChanged();
  CHECK(c.got == initial); // not read yet, but written synchronously:
  REQUIRE(runUntil(f.loop, [&] { return c.got.size() > initial.size(); }, 500ms));
  CHECK(c.got == initial + "health fail backend=app active=0/2 backup=0/1 event=change\n");

  // Heartbeats: at least one line every 50 ms, repeating the state.
  c.got.clear();
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE(runUntil(f.loop, [&] { return c.got.find("event=heartbeat\n") != std::string::npos; },
                   1s));
  CHECK(std::chrono::steady_clock::now() - t0 < 500ms);
  CHECK(c.got.rfind("health fail backend=app active=0/2 backup=0/1 event=heartbeat\n", 0) == 0);

  // Input other than quit is ignored; the connection stays.
  c.send("show info\n");
  REQUIRE(runUntil(f.loop, [&] { return c.got.find("heartbeat\nhealth") != std::string::npos; }));
  CHECK(c.got.find("Name:") == std::string::npos);
  c.send("quit\n");
  REQUIRE(runUntil(f.loop, [&] { return c.eof; }));
  REQUIRE(runUntil(f.loop, [&] { return f.server->watchers() == 0; }));
}

TEST_CASE("admin socket: a watcher that goes away is dropped", "[admin_server]") {
  Fixture f;
  {
    Client c(f.loop, f.path);
    c.send("watch health heartbeat 20\n");
    REQUIRE(runUntil(f.loop, [&] { return !c.got.empty(); }));
    CHECK(c.got == "health ok backends=2 down=0 event=initial\n");
  }
  REQUIRE(runUntil(f.loop, [&] { return f.server->connections() == 0; }));
}

TEST_CASE("admin socket: a watcher that never reads is dropped once its lines pile up",
          "[admin_server]") {
  Fixture f;
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0); // never read
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  std::snprintf(sun.sun_path, sizeof sun.sun_path, "%s", f.path.c_str());
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun) == 0);
  std::string cmd = "watch health backend app heartbeat 1000\n";
  REQUIRE(::send(fd, cmd.data(), cmd.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(cmd.size()));
  REQUIRE(runUntil(f.loop, [&] { return f.server->watchers() == 1; }));
  // Each change writes a ~60-byte line: the socket buffer fills, then the
  // server's pending output, then the watcher is closed (not grown further).
  int changes = 0;
  for (; changes < 100000 && f.server->connections() > 0; ++changes) {
    auto& s = f.ctl.server("app", "web2");
    s.running = !s.running;
    f.server->notifyHealthChanged();
  }
  CHECK(f.server->connections() == 0);
  CHECK(changes < 100000);
  ::close(fd);
}

TEST_CASE("admin socket: idle interactive sessions time out", "[admin_server]") {
  AdminSocketSpec spec;
  spec.timeout = 100ms;
  Fixture f(spec);
  Client c(f.loop, f.path);
  c.send("prompt\n");
  REQUIRE(runUntil(f.loop, [&] { return c.got == "\n> "; }));
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE(runUntil(f.loop, [&] { return c.eof; }, 2s));
  CHECK(std::chrono::steady_clock::now() - t0 >= 90ms);
}

TEST_CASE("admin socket: TCP address", "[admin_server]") {
  auto spec = parseAdminAddress("ipv4@127.0.0.1:0");
  REQUIRE(spec);
  Fixture f(*spec);
  REQUIRE(f.server->boundPort() != 0);
  Client c(f.loop, f.server->boundPort());
  REQUIRE(c.connected());
  c.send("show cli level\n");
  REQUIRE(runUntil(f.loop, [&] { return c.eof; }));
  CHECK(c.got == "admin\n\n");
}

TEST_CASE("admin socket: mode is set and a stale socket replaced and the file removed at the end", "[admin_server]") {
  TempDir dir;
  std::string path = dir.path + "/admin.sock";
  common::Loop loop;
  FakeControl ctl;
  AdminSocketSpec spec;
  spec.path = path;
  spec.mode = 0600;
  {
    AdminServer first(loop, ctl, spec);
    REQUIRE(first.listen());
    AdminServer second(loop, ctl, spec); // replaces the socket file, as a restart
    REQUIRE(second.listen());
    struct stat st;
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    // Bound under a temporary name and renamed: nothing else is left.
    std::vector<std::string> names;
    if (DIR* d = ::opendir(dir.path.c_str())) {
      while (dirent* e = ::readdir(d))
        if (std::string(e->d_name) != "." && std::string(e->d_name) != "..")
          names.push_back(e->d_name);
      ::closedir(d);
    }
    CHECK(names == std::vector<std::string>{"admin.sock"});
  }
  struct stat st;
  CHECK(::stat(path.c_str(), &st) != 0);
  // A regular file at the path is not removed: bind fails with a message.
  FILE* fp = std::fopen(path.c_str(), "w");
  REQUIRE(fp);
  std::fclose(fp);
  AdminServer third(loop, ctl, spec);
  auto r = third.listen();
  REQUIRE_FALSE(r);
  CHECK(r.error().find("cannot bind admin socket '" + path + "'") == 0);
}

TEST_CASE("admin socket addresses", "[admin_server]") {
  auto a = parseAdminAddress("/run/proxyd.sock");
  REQUIRE(a);
  CHECK(a->path == "/run/proxyd.sock");
  a = parseAdminAddress("unix@/x.sock");
  REQUIRE(a);
  CHECK(a->path == "/x.sock");
  a = parseAdminAddress("127.0.0.1:9999");
  REQUIRE(a);
  REQUIRE(a->tcp);
  CHECK(a->tcp->str() == "127.0.0.1:9999");
  CHECK_FALSE(parseAdminAddress("ipv4@nohost:1"));
  CHECK_FALSE(parseAdminAddress(""));
}
