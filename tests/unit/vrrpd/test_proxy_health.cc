// track_proxy's pure logic: health lines, rise/fall, the silence deadline
// and the reconnection backoff, with injected time.
#include "vrrpd/proxy_health.h"

#include <catch2/catch.hpp>

using namespace vrrpd;
using namespace std::chrono_literals;
using Ts = TrackStatus;

namespace {
const common::MonoTime T0{std::chrono::seconds(1000)};
const char* kOk = "health ok backend=app active=2/3 backup=0/1 event=heartbeat";
const char* kFail = "health fail backend=app active=0/3 backup=0/1 event=change";
} // namespace

TEST_CASE("health lines parse in both forms", "[proxy_health]") {
  auto h = parseHealthLine("health ok backend=app active=2/3 backup=0/1 event=initial\r");
  REQUIRE(h);
  CHECK(h->ok);
  CHECK(h->backend == "app");
  CHECK(h->activeUp == 2);
  CHECK(h->activeTotal == 3);
  CHECK(h->backupUp == 0);
  CHECK(h->backupTotal == 1);
  CHECK(h->event == "initial");
  auto g = parseHealthLine("health ok backends=4 down=1 event=heartbeat");
  REQUIRE(g);
  CHECK(g->ok);
  CHECK(g->backend.empty());
  CHECK(g->backends == 4);
  CHECK(g->down == 1);
  auto f = parseHealthLine(kFail);
  REQUIRE(f);
  CHECK_FALSE(f->ok);
  CHECK(parseHealthLine("health ok backends=4 down=1 event=heartbeat future=1"));
}

TEST_CASE("anything else is not a health line", "[proxy_health]") {
  CHECK_FALSE(parseHealthLine(""));
  CHECK_FALSE(parseHealthLine("No such backend."));
  CHECK_FALSE(parseHealthLine("Permission denied"));
  CHECK_FALSE(parseHealthLine("health"));
  CHECK_FALSE(parseHealthLine("health maybe event=change"));
  CHECK_FALSE(parseHealthLine("health ok backend=app"));            // no event
  CHECK_FALSE(parseHealthLine("health ok active=x/3 event=change")); // bad count
  CHECK_FALSE(parseHealthLine("health ok junk event=change"));
}

TEST_CASE("commands sent to proxyd", "[proxy_health]") {
  CHECK(watchCommand("app", 200ms) == "watch health backend app heartbeat 200\n");
  CHECK(watchCommand("", 1s) == "watch health heartbeat 1000\n");
  CHECK(watchCommand("", 1ms) == "watch health heartbeat 10\n");
  CHECK(setVrrpCommand("VI_1", "MASTER", 102) == "set vrrp VI_1 MASTER 102\n");
}

TEST_CASE("instance names reach proxyd's CLI as one word", "[proxy_health]") {
  // `;` would start a second command, `\\` escape the next character and a
  // space split the word: each is escaped as HAProxy's CLI expects.
  CHECK(setVrrpCommand("VI_1;shutdown sessions", "MASTER", 100) ==
        "set vrrp VI_1\\;shutdown\\ sessions MASTER 100\n");
  CHECK(setVrrpCommand("a\\b", "BACKUP", 50) == "set vrrp a\\\\b BACKUP 50\n");
  CHECK(setVrrpCommand("tab\tname", "FAULT", 0) == "set vrrp tab\\\tname FAULT 0\n");
  // A line end can never be carried: the command stays one line.
  CHECK(setVrrpCommand("x\ny", "MASTER", 1) == "set vrrp x?y MASTER 1\n");
  CHECK(watchCommand("a;b", 1s) == "watch health backend a\\;b heartbeat 1000\n");
}

TEST_CASE("INIT until the first line, an ok line makes it OK with rise 1", "[proxy_health]") {
  ProxyHealth h(1, 1, 200ms);
  CHECK(h.status() == Ts::Init);
  h.onConnecting(T0);
  CHECK(h.status() == Ts::Init);
  CHECK(h.onLine(kOk, T0 + 1ms));
  CHECK(h.status() == Ts::Ok);
  CHECK_FALSE(h.onLine(kOk, T0 + 2ms));
}

TEST_CASE("a fail line fails an INIT tracker at once, even with fall 3", "[proxy_health]") {
  ProxyHealth h(2, 3, 200ms);
  h.onConnecting(T0);
  CHECK(h.onLine(kFail, T0));
  CHECK(h.status() == Ts::Failed);
}

TEST_CASE("rise good lines are needed, from INIT and from FAILED", "[proxy_health]") {
  ProxyHealth h(3, 1, 200ms);
  h.onConnecting(T0);
  CHECK_FALSE(h.onLine(kOk, T0));
  CHECK_FALSE(h.onLine(kOk, T0 + 1ms));
  CHECK(h.status() == Ts::Init);
  CHECK(h.onLine(kOk, T0 + 2ms));
  CHECK(h.status() == Ts::Ok);
  CHECK(h.onLine(kFail, T0 + 3ms));
  CHECK(h.status() == Ts::Failed);
  CHECK_FALSE(h.onLine(kOk, T0 + 4ms));
  CHECK_FALSE(h.onLine(kOk, T0 + 5ms));
  CHECK_FALSE(h.onLine(kFail, T0 + 6ms)); // restarts the count
  CHECK_FALSE(h.onLine(kOk, T0 + 7ms));
  CHECK_FALSE(h.onLine(kOk, T0 + 8ms));
  CHECK(h.onLine(kOk, T0 + 9ms));
  CHECK(h.status() == Ts::Ok);
}

TEST_CASE("fall consecutive bad lines fail an OK tracker", "[proxy_health]") {
  ProxyHealth h(1, 3, 200ms);
  h.onConnecting(T0);
  h.onLine(kOk, T0);
  CHECK_FALSE(h.onLine(kFail, T0 + 1ms));
  CHECK_FALSE(h.onLine(kFail, T0 + 2ms));
  CHECK_FALSE(h.onLine(kOk, T0 + 3ms)); // resets
  CHECK_FALSE(h.onLine(kFail, T0 + 4ms));
  CHECK_FALSE(h.onLine("No such backend.", T0 + 5ms)); // any other line is bad
  CHECK(h.onLine(kFail, T0 + 6ms));
  CHECK(h.status() == Ts::Failed);
  CHECK(h.reason().find("active=0/3") != std::string::npos);
}

TEST_CASE("empty lines and prompts are neither good nor bad", "[proxy_health]") {
  ProxyHealth h(1, 1, 200ms);
  h.onConnecting(T0);
  h.onLine(kOk, T0);
  CHECK_FALSE(h.onLine("", T0 + 150ms));
  CHECK_FALSE(h.onLine("\r", T0 + 150ms));
  CHECK(h.status() == Ts::Ok);
  // ...and they do not feed the silence deadline
  CHECK(h.onTick(T0 + 300ms));
}

TEST_CASE("a closed or refused connection fails at once, whatever fall is", "[proxy_health]") {
  ProxyHealth h(1, 5, 200ms);
  h.onConnecting(T0);
  h.onLine(kOk, T0);
  CHECK(h.onClosed(T0 + 1ms, "connection closed"));
  CHECK(h.status() == Ts::Failed);
  CHECK(h.reason() == "connection closed");
  CHECK_FALSE(h.connected());
  CHECK_FALSE(h.deadline());
  ProxyHealth r(1, 1, 200ms);
  CHECK(r.onClosed(T0, "connect: No such file or directory"));
  CHECK(r.status() == Ts::Failed);
  // After reconnection, rise good lines again.
  h.onConnecting(T0 + 100ms);
  CHECK(h.status() == Ts::Failed);
  CHECK(h.onLine(kOk, T0 + 101ms));
  CHECK(h.status() == Ts::Ok);
}

TEST_CASE("silence: heartbeat x fall + min(heartbeat, 100ms)", "[proxy_health]") {
  SECTION("200ms, fall 1: 300ms") {
    ProxyHealth h(1, 1, 200ms);
    CHECK(h.silenceLimit() == 300ms);
    h.onConnecting(T0);
    h.onLine(kOk, T0);
    REQUIRE(h.deadline());
    CHECK(*h.deadline() == T0 + 300ms);
    CHECK_FALSE(h.onTick(T0 + 299ms));
    CHECK(h.onLine(kOk, T0 + 250ms) == false); // re-arms
    CHECK(*h.deadline() == T0 + 550ms);
    CHECK_FALSE(h.onTick(T0 + 549ms));
    CHECK(h.onTick(T0 + 550ms));
    CHECK(h.status() == Ts::Failed);
    CHECK(h.reason().find("300 ms") != std::string::npos);
    CHECK_FALSE(h.deadline()); // fired; waits for lines
    CHECK_FALSE(h.onTick(T0 + 900ms));
    // proxyd resumes: rise lines bring it back
    CHECK(h.onLine(kOk, T0 + 1s));
    CHECK(h.status() == Ts::Ok);
    CHECK(*h.deadline() == T0 + 1300ms);
  }
  SECTION("1s, fall 3: 3.1s") {
    ProxyHealth h(1, 3, 1s);
    CHECK(h.silenceLimit() == 3100ms);
  }
  SECTION("50ms, fall 2: 150ms") {
    ProxyHealth h(1, 2, 50ms);
    CHECK(h.silenceLimit() == 150ms);
  }
  SECTION("a proxy that accepts but never writes: from the connection attempt") {
    ProxyHealth h(1, 1, 200ms);
    h.onConnecting(T0);
    CHECK(*h.deadline() == T0 + 300ms);
    CHECK(h.onTick(T0 + 300ms));
    CHECK(h.status() == Ts::Failed);
  }
  SECTION("not connected: no deadline") {
    ProxyHealth h(1, 1, 200ms);
    CHECK_FALSE(h.deadline());
    CHECK_FALSE(h.onTick(T0 + 10s));
    CHECK(h.status() == Ts::Init);
  }
}

TEST_CASE("reconnection backoff: 100ms doubling to 2s, reset by a line", "[proxy_health]") {
  ProxyHealth h(1, 1, 200ms);
  CHECK(h.nextRetryDelay() == 100ms);
  CHECK(h.nextRetryDelay() == 200ms);
  CHECK(h.nextRetryDelay() == 400ms);
  CHECK(h.nextRetryDelay() == 800ms);
  CHECK(h.nextRetryDelay() == 1600ms);
  CHECK(h.nextRetryDelay() == 2000ms);
  CHECK(h.nextRetryDelay() == 2000ms);
  h.onConnecting(T0);
  h.onLine(kOk, T0);
  CHECK(h.nextRetryDelay() == 100ms);
}

TEST_CASE("the line reader splits lines across chunks", "[proxy_health]") {
  LineReader r;
  std::vector<std::string> lines;
  CHECK_FALSE(r.feed("health ok event=a\nhealth o", T0, lines));
  CHECK_FALSE(r.feed("k event=b\r\n\n", T0, lines));
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == "health ok event=a");
  CHECK(lines[1] == "health ok event=b\r");
  CHECK(lines[2].empty());
}

TEST_CASE("the line reader refuses an over-long line, even without its end", "[proxy_health]") {
  LineReader r;
  std::vector<std::string> lines;
  std::string chunk(1000, 'x');
  std::optional<std::string> bad;
  for (int i = 0; i < 5 && !bad; ++i)
    bad = r.feed(chunk, T0 + std::chrono::seconds(i), lines);
  REQUIRE(bad);
  CHECK(bad->find("line longer than 4096 bytes") != std::string::npos);
  LineReader ok;
  lines.clear();
  CHECK_FALSE(ok.feed(std::string(LineReader::kMaxLine, 'y') + "\n", T0, lines));
  CHECK(lines.size() == 1);
}

TEST_CASE("the line reader refuses control bytes", "[proxy_health]") {
  LineReader r;
  std::vector<std::string> lines;
  auto bad = r.feed(std::string("health ok\0 event=x\n", 19), T0, lines);
  REQUIRE(bad);
  CHECK(*bad == "garbage: control byte 0x00");
  LineReader t;
  CHECK_FALSE(t.feed("a\tb\r\n", T0, lines)); // tab and CR are text
}

TEST_CASE("the line reader refuses a flood of valid lines", "[proxy_health]") {
  LineReader r;
  std::vector<std::string> lines;
  std::string line = std::string(kOk) + "\n";
  std::optional<std::string> bad;
  size_t sent = 0;
  // Within one second: more than 64 KiB is a flood, whatever the lines say.
  for (int i = 0; i < 2000 && !bad; ++i) {
    bad = r.feed(line, T0 + std::chrono::microseconds(i * 100), lines);
    sent += line.size();
  }
  REQUIRE(bad);
  CHECK(bad->find("flood") != std::string::npos);
  CHECK(sent <= LineReader::kMaxBytesPerSecond + line.size());
  // The same volume spread over time (one line per 10 ms) is fine.
  LineReader slow;
  for (int i = 0; i < 2000; ++i)
    REQUIRE_FALSE(slow.feed(line, T0 + std::chrono::milliseconds(i * 10), lines));
}

TEST_CASE("a violation fails the tracker and its lines do not count on probation",
          "[proxy_health]") {
  ProxyHealth h(1, 1, 200ms);
  h.onConnecting(T0);
  CHECK(h.onLine(kOk, T0));
  CHECK(h.status() == Ts::Ok);
  CHECK(h.onViolation(T0 + 1ms, "flood"));
  CHECK(h.status() == Ts::Failed);
  CHECK(h.reason() == "flood");
  CHECK_FALSE(h.connected());
  CHECK(h.nextRetryDelay() == 2s);
  // Reconnected within the probation: good lines are ignored.
  h.onConnecting(T0 + 2s);
  CHECK_FALSE(h.onLine(kOk, T0 + 2s + 1ms));
  CHECK(h.status() == Ts::Failed);
  CHECK(h.nextRetryDelay() == 2s); // the lines did not reset the backoff
  // Another violation renews it.
  CHECK_FALSE(h.onViolation(T0 + 4s, "flood"));
  h.onConnecting(T0 + 8s);
  CHECK_FALSE(h.onLine(kOk, T0 + 8s));
  // After a quiet probation the peer counts again.
  CHECK(h.onLine(kOk, T0 + 9s + 1ms));
  CHECK(h.status() == Ts::Ok);
}
