#include "vrrpd/proxy_health.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <vector>

namespace vrrpd {

namespace {

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

bool toInt(std::string_view s, int& v) {
  if (s.empty()) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() && v >= 0;
}

bool fraction(std::string_view s, int& up, int& total) {
  size_t slash = s.find('/');
  return slash != std::string_view::npos && toInt(s.substr(0, slash), up) &&
         toInt(s.substr(slash + 1), total);
}

} // namespace

std::optional<HealthLine> parseHealthLine(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  auto w = words(line);
  if (w.size() < 2 || w[0] != "health" || (w[1] != "ok" && w[1] != "fail")) return std::nullopt;
  HealthLine h;
  h.ok = w[1] == "ok";
  bool haveEvent = false;
  for (size_t i = 2; i < w.size(); ++i) {
    size_t eq = w[i].find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    std::string_view k = w[i].substr(0, eq), v = w[i].substr(eq + 1);
    if (k == "backend") {
      if (v.empty()) return std::nullopt;
      h.backend = std::string(v);
    } else if (k == "active") {
      if (!fraction(v, h.activeUp, h.activeTotal)) return std::nullopt;
    } else if (k == "backup") {
      if (!fraction(v, h.backupUp, h.backupTotal)) return std::nullopt;
    } else if (k == "backends") {
      if (!toInt(v, h.backends)) return std::nullopt;
    } else if (k == "down") {
      if (!toInt(v, h.down)) return std::nullopt;
    } else if (k == "event") {
      h.event = std::string(v);
      haveEvent = true;
    } // other keys: a newer proxyd; ignored
  }
  if (!haveEvent) return std::nullopt;
  return h;
}

std::optional<std::string> LineReader::feed(std::string_view data, common::MonoTime now,
                                            std::vector<std::string>& lines) {
  if (!windowOpen_ || now - windowStart_ >= std::chrono::seconds(1)) {
    windowOpen_ = true;
    windowStart_ = now;
    windowBytes_ = 0;
  }
  windowBytes_ += data.size();
  if (windowBytes_ > kMaxBytesPerSecond)
    return "flood: more than " + std::to_string(kMaxBytesPerSecond) + " bytes in 1 s";
  for (char c : data) {
    auto u = static_cast<unsigned char>(c);
    if (c == '\n') {
      lines.push_back(std::move(partial_));
      partial_.clear();
      continue;
    }
    if ((u < 0x20 && c != '\t' && c != '\r') || u == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02x", u);
      return std::string("garbage: control byte ") + hex;
    }
    if (partial_.size() >= kMaxLine)
      return "line longer than " + std::to_string(kMaxLine) + " bytes";
    partial_ += c;
  }
  return std::nullopt;
}

void LineReader::reset() {
  partial_.clear();
  windowOpen_ = false;
  windowBytes_ = 0;
}

std::string cliWord(std::string_view word) {
  std::string out;
  out.reserve(word.size());
  for (char c : word) {
    if (c == ';' || c == '\\' || c == ' ' || c == '\t') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20 && c != '\t') c = '?';
    out += c;
  }
  return out;
}

std::string watchCommand(const std::string& backend, std::chrono::microseconds heartbeat) {
  long long ms = std::chrono::duration_cast<std::chrono::milliseconds>(heartbeat).count();
  ms = std::clamp<long long>(ms, 10, 3600000);
  std::string c = "watch health";
  if (!backend.empty()) c += " backend " + cliWord(backend);
  return c + " heartbeat " + std::to_string(ms) + "\n";
}

std::string setVrrpCommand(const std::string& instance, const std::string& state, int priority) {
  return "set vrrp " + cliWord(instance) + " " + state + " " + std::to_string(priority) + "\n";
}

ProxyHealth::ProxyHealth(int rise, int fall, Micros heartbeat)
    : rise_(std::max(rise, 1)), fall_(std::max(fall, 1)),
      heartbeat_(std::max(heartbeat, Micros(10000))) {}

ProxyHealth::Micros ProxyHealth::silenceLimit() const {
  return heartbeat_ * fall_ + std::min(heartbeat_, Micros(100000));
}

bool ProxyHealth::set(TrackStatus s, std::string why) {
  reason_ = std::move(why);
  if (s == status_) return false;
  status_ = s;
  return true;
}

void ProxyHealth::onConnecting(common::MonoTime now) {
  connected_ = true;
  silent_ = false;
  lastLine_ = now;
  good_ = bad_ = 0;
}

bool ProxyHealth::onLine(std::string_view line, common::MonoTime now) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty() || line == ">") return false; // end of a command's output, a prompt
  lastLine_ = now;
  silent_ = false;
  if (probationEnd_ && now < *probationEnd_) return false;
  probationEnd_.reset();
  retry_ = Micros(100000);
  auto h = parseHealthLine(line);
  if (h) last_ = h;
  if (h && h->ok) {
    bad_ = 0;
    ++good_;
    if (status_ != TrackStatus::Ok && good_ >= rise_) return set(TrackStatus::Ok, "healthy");
    return false;
  }
  good_ = 0;
  ++bad_;
  constexpr size_t kShown = 200; // of a line in the log
  std::string shown(line.substr(0, kShown));
  if (line.size() > kShown) shown += "...";
  std::string why = h ? "proxy reports: " + shown : "unexpected answer: " + shown;
  if (status_ == TrackStatus::Init || (status_ == TrackStatus::Ok && bad_ >= fall_))
    return set(TrackStatus::Failed, why);
  return false;
}

bool ProxyHealth::onClosed(common::MonoTime, std::string why) {
  connected_ = false;
  silent_ = false;
  good_ = bad_ = 0;
  return set(TrackStatus::Failed, std::move(why));
}

bool ProxyHealth::onViolation(common::MonoTime now, std::string why) {
  connected_ = false;
  silent_ = false;
  good_ = bad_ = 0;
  probationEnd_ = now + std::chrono::duration_cast<common::MonoTime::duration>(kProbation);
  retry_ = Micros(2000000);
  return set(TrackStatus::Failed, std::move(why));
}

bool ProxyHealth::onTick(common::MonoTime now) {
  if (!connected_ || silent_) return false;
  if (now - lastLine_ < silenceLimit()) return false;
  silent_ = true;
  good_ = bad_ = 0;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - lastLine_).count();
  return set(TrackStatus::Failed, "no line for " + std::to_string(ms) + " ms (proxy hung?)");
}

std::optional<common::MonoTime> ProxyHealth::deadline() const {
  if (!connected_ || silent_) return std::nullopt;
  return lastLine_ + std::chrono::duration_cast<common::MonoTime::duration>(silenceLimit());
}

ProxyHealth::Micros ProxyHealth::nextRetryDelay() {
  Micros d = retry_;
  retry_ = std::min(retry_ * 2, Micros(2000000));
  return d;
}

} // namespace vrrpd
