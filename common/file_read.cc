#include "common/file_read.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace common {

FileRead readRegularFile(const std::string& path, size_t maxBytes) {
  FileRead r;
  // O_NONBLOCK: opening a FIFO must not wait for a writer, nor a read block.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    r.err = errno;
    return r;
  }
  struct stat st {};
  if (::fstat(fd, &st) < 0 || S_ISDIR(st.st_mode)) {
    r.err = errno;
    r.status = ReadStatus::NotRegular;
    ::close(fd);
    return r;
  }
  char buf[8192];
  for (;;) {
    size_t want = sizeof buf;
    if (r.data.size() + want > maxBytes + 1) want = maxBytes + 1 - r.data.size();
    if (want == 0) break;
    ssize_t n = ::read(fd, buf, want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break; // nothing more now
    if (n < 0) {
      r.err = errno;
      r.status = ReadStatus::ReadFailed;
      ::close(fd);
      r.data.clear();
      return r;
    }
    if (n == 0) break;
    r.data.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  r.status = ReadStatus::Ok;
  if (r.data.size() > maxBytes) {
    r.data.resize(maxBytes);
    r.status = ReadStatus::Truncated;
  }
  return r;
}

std::string describe(const FileRead& r) {
  switch (r.status) {
  case ReadStatus::Ok: return "ok";
  case ReadStatus::Truncated: return "file too large";
  case ReadStatus::NotRegular: return "is a directory";
  case ReadStatus::OpenFailed:
  case ReadStatus::ReadFailed: return std::strerror(r.err);
  }
  return "?";
}

} // namespace common
