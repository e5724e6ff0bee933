#pragma once
// Socket addresses for unit tests (log lines, ACLs): v4("1.2.3.4", 80).
#include "common/values.h"

#include <arpa/inet.h>
#include <cstdint>
#include <netinet/in.h>

namespace proxyd::testing {

inline common::SockAddr v4(const char* ip, uint16_t port) {
  common::SockAddr a;
  auto* s = reinterpret_cast<sockaddr_in*>(&a.ss);
  s->sin_family = AF_INET;
  s->sin_port = htons(port);
  inet_pton(AF_INET, ip, &s->sin_addr);
  a.len = sizeof(sockaddr_in);
  return a;
}

inline common::SockAddr v6(const char* ip, uint16_t port) {
  common::SockAddr a;
  auto* s = reinterpret_cast<sockaddr_in6*>(&a.ss);
  s->sin6_family = AF_INET6;
  s->sin6_port = htons(port);
  inet_pton(AF_INET6, ip, &s->sin6_addr);
  a.len = sizeof(sockaddr_in6);
  return a;
}

} // namespace proxyd::testing
