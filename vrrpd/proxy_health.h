#pragma once
// track_proxy's decisions, pure (no I/O): parsing proxyd's `watch health`
// lines and turning (event, now) into the tracker's status. The I/O client
// (proxy_tracker.h) feeds it and asks it when to look again.
//
// The rules (docs/vrrpd-config.md, track_proxy):
//   - the connection failing (refused, socket missing) or closing (proxyd
//     died, or it answered an error and closed): FAILED at once, whatever
//     `fall` says;
//   - a `health fail ...` line, or any other line that is not a health line
//     (an error such as "No such backend."), is a bad line; `fall`
//     consecutive bad lines make an OK tracker FAILED (an INIT one fails at
//     the first);
//   - `rise` consecutive `health ok ...` lines make it OK (from INIT too);
//   - silence: once connected (or while connecting), no line for longer than
//     silenceLimit() = heartbeat x fall + min(heartbeat, 100 ms) makes it
//     FAILED (a hung, e.g. SIGSTOPped, proxyd). proxyd writes a line every
//     heartbeat, so a hung proxyd is noticed at most
//     heartbeat x fall + min(heartbeat, 100 ms) after it stopped, and the
//     grace absorbs a late heartbeat. The silence deadline is re-armed by
//     every line; after it fired, `rise` good lines bring it back.
//   - reconnect delay: 100 ms, doubling to 2 s; back to 100 ms after a line.
//   - a peer that breaks the protocol (LineReader below: an over-long line,
//     control bytes, a flood) or is not trusted (proxy_trust.h) is dropped:
//     FAILED as a closed connection, then on probation for kProbation
//     (renewed by every violation): its lines do not count and the retry
//     waits the longest delay, so a misbehaving peer never turns OK between
//     two violations.
#include "common/clock.h"
#include "vrrpd/track.h"

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vrrpd {

struct HealthLine {
  bool ok = false;
  std::string backend;  // empty: the proxy-wide form
  int activeUp = 0, activeTotal = 0, backupUp = 0, backupTotal = 0;
  int backends = 0, down = 0; // the proxy-wide form
  std::string event;          // initial, change, heartbeat
};

// One line without its "\n" (a trailing "\r" is ignored). nullopt when it is
// not a health line.
std::optional<HealthLine> parseHealthLine(std::string_view line);

// One word of a command line for proxyd's CLI (HAProxy's rules): `;` would
// end the command, space and tab would split the word and `\` escapes, so
// each of them is preceded by a `\`. A newline or other control character
// cannot be carried by the CLI at all and becomes `?` (keepalived names never
// hold one; the line must stay one line).
std::string cliWord(std::string_view word);

// The command that starts the stream.
std::string watchCommand(const std::string& backend, std::chrono::microseconds heartbeat);
// `set vrrp INST STATE PRIO`, with the line end; INST through cliWord()
// (a keepalived instance name may hold `;`, `\` or, quoted, a space).
std::string setVrrpCommand(const std::string& instance, const std::string& state, int priority);

// The watch stream's framing and limits: bytes in, complete lines out, or the
// reason the peer broke the protocol (the connection must then be dropped).
// proxyd writes short text lines (under 200 bytes) at a change and at each
// heartbeat (>= 10 ms), so the limits are far above what it ever sends.
class LineReader {
public:
  static constexpr size_t kMaxLine = 4096;            // bytes, without the "\n"
  static constexpr size_t kMaxBytesPerSecond = 65536; // over a 1 s window
  // `data` arrived at `now`; complete lines (without "\n") are appended to
  // `lines`. Returns the violation, if any: a line longer than kMaxLine, a
  // control byte (other than tab and CR), more than kMaxBytesPerSecond.
  std::optional<std::string> feed(std::string_view data, common::MonoTime now,
                                  std::vector<std::string>& lines);
  void reset();

private:
  std::string partial_;
  bool windowOpen_ = false;
  common::MonoTime windowStart_{};
  size_t windowBytes_ = 0;
};

class ProxyHealth {
public:
  using Micros = std::chrono::microseconds;
  ProxyHealth(int rise, int fall, Micros heartbeat);

  // Each returns true when status() changed.
  // A connection attempt starts (the silence deadline starts now).
  void onConnecting(common::MonoTime now);
  // A complete line arrived.
  bool onLine(std::string_view line, common::MonoTime now);
  // The connection failed or closed; `why` is kept for the log.
  bool onClosed(common::MonoTime now, std::string why);
  // The peer broke the protocol or is not trusted: the connection is gone
  // and the peer on probation (see above).
  bool onViolation(common::MonoTime now, std::string why);
  static constexpr std::chrono::seconds kProbation{5};
  // Time passed: fails when the silence deadline is reached.
  bool onTick(common::MonoTime now);

  TrackStatus status() const { return status_; }
  const std::string& reason() const { return reason_; }
  // While connected or connecting: when onTick() must run next.
  std::optional<common::MonoTime> deadline() const;
  Micros silenceLimit() const;
  // The delay before the next reconnection; each call doubles the next one.
  Micros nextRetryDelay();
  bool connected() const { return connected_; }
  // The last parsed health line (for logs).
  const std::optional<HealthLine>& last() const { return last_; }

private:
  bool set(TrackStatus s, std::string why);
  int rise_, fall_;
  Micros heartbeat_;
  TrackStatus status_ = TrackStatus::Init;
  std::string reason_;
  int good_ = 0, bad_ = 0;
  bool connected_ = false;
  bool silent_ = false; // the deadline already fired for this silence
  common::MonoTime lastLine_{};
  Micros retry_{100000};
  std::optional<common::MonoTime> probationEnd_;
  std::optional<HealthLine> last_;
};

} // namespace vrrpd
