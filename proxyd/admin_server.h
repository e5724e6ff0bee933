#pragma once
// The admin socket (`stats socket`): HAProxy 2.6's CLI protocol on a unix
// socket or a TCP address, served on a common::Loop. The commands themselves
// are runtime::CliSession's (pure); this class only moves bytes:
//  - one-shot mode (default): the commands of the lines received are run,
//    their output written, and the connection closed once no input is left;
//  - `prompt` switches to interactive mode: "> " after each command, the
//    connection stays until `quit`, EOF or the idle timeout;
//  - each command's output ends with an empty line; `;` separates commands;
//  - `watch health` (ours) turns the connection into a stream of health
//    lines: one at once, one on each change (notifyHealthChanged()), and one
//    at least every heartbeat. Input on it is ignored except `quit`.
// A line without its "\n" when the peer closes is dropped, as HAProxy does.
// Bounded per session, as HAProxy: a command line has at most
// runtime::kMaxCommandLine bytes (a longer one closes the session), and while
// a client leaves output unread no further command runs and nothing more is
// read from it (a watcher that does not read is dropped).
// A unix socket is bound under a temporary name, given its mode and renamed
// over the path (runtime::socketTempName), as HAProxy does.
#include "common/clock.h"
#include "common/loop.h"
#include "common/result.h"
#include "common/values.h"
#include "proxyd/runtime.h"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>

namespace proxyd {

struct AdminSocketSpec {
  std::string path;                    // unix socket path (when tcp is unset)
  std::optional<common::SockAddr> tcp; // "ipv4@ADDR:PORT"
  unsigned mode = 0;                   // unix socket permissions; 0: umask's
  runtime::Level level = runtime::Level::Operator; // HAProxy's default level
  common::Micros timeout = std::chrono::seconds(10); // `stats timeout`: idle sessions
  size_t maxConnections = 100;         // further connections are closed at once
};

// Reads the address word of `stats socket`: "/run/proxyd.sock",
// "unix@/run/proxyd.sock", "ipv4@127.0.0.1:9999", "ipv6@[::1]:9999",
// "127.0.0.1:9999".
common::Result<AdminSocketSpec> parseAdminAddress(std::string_view word);

class AdminServer {
public:
  AdminServer(common::Loop& loop, runtime::RuntimeControl& ctl, AdminSocketSpec spec);
  // Closes every connection and the listener; removes the unix socket file.
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Binds and starts accepting. Error: HAProxy-like text naming the address.
  common::Result<bool> listen();
  // The TCP port actually bound (for port 0 in tests); 0 for unix sockets.
  uint16_t boundPort() const { return boundPort_; }

  // The daemon calls this after any server or backend state change: every
  // watcher whose summary changed gets a line.
  void notifyHealthChanged();

  size_t connections() const { return conns_.size(); }
  size_t watchers() const;

private:
  struct Conn;
  void onAccept();
  void onEvent(Conn* c, unsigned ready);
  void readInput(Conn* c);
  void process(Conn* c);
  bool paused(const Conn* c) const;
  void runLines(Conn* c);
  void startWatch(Conn* c, const runtime::WatchRequest& w);
  void watchTick(Conn* c, bool heartbeat);
  void send(Conn* c, const std::string& bytes);
  void flush(Conn* c);
  void closeConn(Conn* c);
  void armIdle(Conn* c);

  common::Loop& loop_;
  runtime::RuntimeControl& ctl_;
  AdminSocketSpec spec_;
  int lfd_ = -1;
  bool unlinkOnClose_ = false;
  dev_t sockDev_ = 0; // the unix socket file we made (unlinked at the end
  ino_t sockIno_ = 0; // only if the path still names it)
  uint16_t boundPort_ = 0;
  common::FdWatcherPtr lw_;
  std::map<Conn*, std::unique_ptr<Conn>> conns_;
};

} // namespace proxyd
